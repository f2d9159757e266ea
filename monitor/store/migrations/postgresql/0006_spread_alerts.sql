-- A spread alert (a watchlist's spread:) is a kind of message of its own: one per
-- (watchlist, story, notifier), its sources kept in body as they were when it spread.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_kind_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_kind_check
    CHECK (kind IN ('alert', 'follow_up', 'rollup', 'digest', 'notice', 'spread'));
