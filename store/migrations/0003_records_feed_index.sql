-- Listing pages through a tenant's records of one kind in change-feed order.
CREATE INDEX records_listing ON records (tenant, object, feed_seq);
