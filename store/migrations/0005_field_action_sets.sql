-- A transfer's field actions (path, class, action, rule of each personal field) repeat from
-- record to record: most of a route's records have the same shape. Each distinct list is
-- stored once here, under its id (the first 128 bits of SHA-256 of its JSON, in hex), and a
-- log entry's `fields` column holds that id instead of the JSON. Lists no longer than an id
-- (`[]`) stay inline, as every entry written before this migration does; readers tell the
-- two apart by the JSON's leading `[`.
CREATE TABLE field_action_sets (
    id       TEXT NOT NULL PRIMARY KEY,
    actions  TEXT NOT NULL
);
