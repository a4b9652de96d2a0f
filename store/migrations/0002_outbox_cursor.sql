-- Publishing moves a per-destination cursor (`checkpoints` row `outbox-published:<dest>`)
-- instead of updating every published row: the outbox becomes append-only, and a batch's
-- pages are written once instead of twice. The `published` column is no longer read.
CREATE INDEX outbox_destination_seq ON outbox (destination, seq);
