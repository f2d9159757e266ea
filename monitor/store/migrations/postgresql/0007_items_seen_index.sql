-- New items per feed and day (the status page's trends) are counted from this index
-- alone (see the SQLite migration 0014).
DROP INDEX items_first_seen;
CREATE INDEX items_seen ON items (first_seen_at, feed_id);
