-- The outbox keyed by (destination, seq), the order it is read and deleted in: one b-tree
-- fewer per row than a primary key on `seq` beside an index on (destination, seq), which
-- matters now that published rows are deleted (every row is inserted and removed once).
-- `seq` stays unique: the store hands it out from the `outbox` sequence. The `published`
-- column, unread since 0002, goes.
CREATE TABLE outbox_by_destination (
    destination  TEXT   NOT NULL,
    seq          BIGINT NOT NULL,
    pipeline     TEXT   NOT NULL,
    tenant       TEXT   NOT NULL,
    object       TEXT   NOT NULL,
    id           TEXT   NOT NULL,
    version      BIGINT NOT NULL,
    op           TEXT   NOT NULL,
    body         TEXT   NOT NULL,
    PRIMARY KEY (destination, seq)
);
INSERT INTO outbox_by_destination (destination, seq, pipeline, tenant, object, id, version, op, body)
    SELECT destination, seq, pipeline, tenant, object, id, version, op, body FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_by_destination RENAME TO outbox;
