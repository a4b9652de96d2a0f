-- The `published` column has not been read since 0002 (publishing moves a cursor), so the
-- index on it only cost a b-tree insert per outbox row.
DROP INDEX outbox_pending;
