-- A feed's most recent entry keys, newest first, without sorting all its items: a poll
-- of a changed feed leaves the entries it already has out of identity and matching.
CREATE INDEX items_feed_recent ON items (feed_id, id);
