-- What the servers said, kept with each feed: where a permanent redirect moved it (its
-- configured URL stays its identity), its host (a 429/503 holds every feed of a host),
-- whether it is gone (410: not polled, history kept), the update interval it declares
-- (<ttl>, sy:updatePeriod; remembered across 304s), what set its next poll, and when it
-- last brought a new item.
ALTER TABLE feeds ADD COLUMN fetch_url TEXT;
ALTER TABLE feeds ADD COLUMN host TEXT;
ALTER TABLE feeds ADD COLUMN gone_at REAL;
ALTER TABLE feeds ADD COLUMN declared_interval_s REAL;
ALTER TABLE feeds ADD COLUMN poll_reason TEXT;
ALTER TABLE feeds ADD COLUMN last_new_item_at REAL;
-- defaults.adaptive: how often the feed actually publishes (half its median entry gap)
ALTER TABLE feeds ADD COLUMN learned_interval_s REAL;
-- since when the feed has been silent far longer than usual (reported once)
ALTER TABLE feeds ADD COLUMN stale_since REAL;
CREATE INDEX feeds_host ON feeds (host) WHERE kind = 'feed';

-- A server that answered 429/503 with Retry-After holds every feed of its host.
CREATE TABLE host_holds (
    host        TEXT PRIMARY KEY,
    hold_until  REAL NOT NULL
);
