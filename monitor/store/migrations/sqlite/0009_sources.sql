-- Sources are more than feeds: feeds.kind says how a body is read ('feed', 'sitemap',
-- 'html'; 'seed' is still the stored sample, never polled). SQLite cannot widen a CHECK
-- in place: the column is replaced, and the partial indexes that named it with it.
DROP INDEX feeds_due;
DROP INDEX feeds_host;
ALTER TABLE feeds ADD COLUMN source_kind TEXT NOT NULL DEFAULT 'feed'
    CHECK (source_kind IN ('feed', 'sitemap', 'html', 'seed'));
UPDATE feeds SET source_kind = kind;
ALTER TABLE feeds DROP COLUMN kind;
ALTER TABLE feeds RENAME COLUMN source_kind TO kind;
CREATE INDEX feeds_due ON feeds (next_poll_at) WHERE enabled = 1 AND kind <> 'seed';
CREATE INDEX feeds_host ON feeds (host) WHERE kind <> 'seed';

-- WebSub: the hub and topic a feed names (from its body or its Link header), and until
-- when a hub has confirmed it pushes the feed to us (polling slows down meanwhile).
ALTER TABLE feeds ADD COLUMN hub TEXT;
ALTER TABLE feeds ADD COLUMN topic TEXT;
ALTER TABLE feeds ADD COLUMN push_until REAL;

-- One subscription per feed. The token names the callback URL (/websub/TOKEN), the
-- secret signs what the hub pushes. 'requested': asked, the hub has not verified yet;
-- 'active': verified, until lease_until; 'denied': the hub refused; 'unsubscribing':
-- the feed left the configuration and the hub was asked to stop.
CREATE TABLE subscriptions (
    feed_id          INTEGER PRIMARY KEY REFERENCES feeds (id) ON DELETE CASCADE,
    hub              TEXT    NOT NULL,
    topic            TEXT    NOT NULL,
    token            TEXT    NOT NULL UNIQUE,
    secret           TEXT    NOT NULL,
    state            TEXT    NOT NULL
                             CHECK (state IN ('requested', 'active', 'denied', 'unsubscribing')),
    requested_at     REAL    NOT NULL,
    lease_until      REAL,
    next_attempt_at  REAL    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT
);
CREATE INDEX subscriptions_due ON subscriptions (next_attempt_at);

-- The sitemaps of a sitemap index as last fetched, asked for conditionally next time.
CREATE TABLE sitemap_parts (
    feed_id        INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    url            TEXT    NOT NULL,
    etag           TEXT,
    last_modified  TEXT,
    digest         TEXT,
    fetched_at     REAL    NOT NULL,
    PRIMARY KEY (feed_id, url)
);
