-- Sources are more than feeds: feeds.kind says how a body is read ('feed', 'sitemap',
-- 'html'; 'seed' is still the stored sample, never polled).
ALTER TABLE feeds DROP CONSTRAINT feeds_kind_check;
ALTER TABLE feeds ADD CONSTRAINT feeds_kind_check
    CHECK (kind IN ('feed', 'sitemap', 'html', 'seed'));
DROP INDEX feeds_due;
DROP INDEX feeds_host;
CREATE INDEX feeds_due ON feeds (next_poll_at) WHERE enabled AND kind <> 'seed';
CREATE INDEX feeds_host ON feeds (host) WHERE kind <> 'seed';

-- WebSub: the hub and topic a feed names, and until when a hub has confirmed it pushes
-- the feed to us (polling slows down meanwhile).
ALTER TABLE feeds ADD COLUMN hub TEXT;
ALTER TABLE feeds ADD COLUMN topic TEXT;
ALTER TABLE feeds ADD COLUMN push_until DOUBLE PRECISION;

-- One subscription per feed; see the SQLite migration 0009 for the states.
CREATE TABLE subscriptions (
    feed_id          BIGINT  PRIMARY KEY REFERENCES feeds (id) ON DELETE CASCADE,
    hub              TEXT    NOT NULL,
    topic            TEXT    NOT NULL,
    token            TEXT    NOT NULL UNIQUE,
    secret           TEXT    NOT NULL,
    state            TEXT    NOT NULL
                             CHECK (state IN ('requested', 'active', 'denied', 'unsubscribing')),
    requested_at     DOUBLE PRECISION NOT NULL,
    lease_until      DOUBLE PRECISION,
    next_attempt_at  DOUBLE PRECISION NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT
);
CREATE INDEX subscriptions_due ON subscriptions (next_attempt_at);

-- The sitemaps of a sitemap index as last fetched, asked for conditionally next time.
CREATE TABLE sitemap_parts (
    feed_id        BIGINT  NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    url            TEXT    NOT NULL,
    etag           TEXT,
    last_modified  TEXT,
    digest         TEXT,
    fetched_at     DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (feed_id, url)
);
