-- Times are UTC seconds since the epoch (REAL), so ordering and arithmetic stay in SQL.

CREATE TABLE feeds (
    id              INTEGER PRIMARY KEY,
    url             TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL DEFAULT 'feed' CHECK (kind IN ('feed', 'seed')),
    name            TEXT,
    title           TEXT,
    enabled         INTEGER NOT NULL DEFAULT 1,
    interval_s      REAL    NOT NULL,
    baseline        INTEGER NOT NULL DEFAULT 1,
    baselined_at    REAL,
    etag            TEXT,
    last_modified   TEXT,
    body_digest     TEXT,                 -- of the last parsed body: unchanged → not parsed again
    next_poll_at    REAL    NOT NULL,
    last_polled_at  REAL,
    last_status     INTEGER,
    last_error      TEXT,
    error_count     INTEGER NOT NULL DEFAULT 0,
    created_at      REAL    NOT NULL
);
CREATE INDEX feeds_due ON feeds (next_poll_at) WHERE enabled = 1 AND kind = 'feed';

CREATE TABLE stories (
    id          INTEGER PRIMARY KEY,
    created_at  REAL NOT NULL
);

CREATE TABLE items (
    id              INTEGER PRIMARY KEY,
    feed_id         INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    story_id        INTEGER NOT NULL REFERENCES stories (id),
    entry_key       TEXT    NOT NULL,
    guid            TEXT,
    link            TEXT,
    canonical_link  TEXT,
    content_hash    TEXT,
    title_key       TEXT,
    title           TEXT    NOT NULL,
    summary         TEXT    NOT NULL,
    content         TEXT    NOT NULL,
    author          TEXT,
    published       REAL,
    language        TEXT,
    first_seen_at   REAL    NOT NULL,
    UNIQUE (feed_id, entry_key)
);
CREATE INDEX items_canonical_link ON items (canonical_link) WHERE canonical_link IS NOT NULL;
CREATE INDEX items_content_hash ON items (content_hash) WHERE content_hash IS NOT NULL;
CREATE INDEX items_title_key ON items (title_key) WHERE title_key IS NOT NULL;
CREATE INDEX items_story ON items (story_id);
CREATE INDEX items_first_seen ON items (first_seen_at);

-- The outbox. One alert per (watchlist, story, notifier), ever: the UNIQUE makes a
-- second one impossible whatever crashes or races happen.
CREATE TABLE deliveries (
    id               INTEGER PRIMARY KEY,
    message_id       TEXT    NOT NULL UNIQUE,
    watchlist        TEXT    NOT NULL,
    story_id         INTEGER NOT NULL REFERENCES stories (id),
    item_id          INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    notifier         TEXT    NOT NULL,
    matched          TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'pending'
                             CHECK (status IN ('pending', 'sent', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  REAL    NOT NULL,
    last_error       TEXT,
    created_at       REAL    NOT NULL,
    sent_at          REAL,
    UNIQUE (watchlist, story_id, notifier)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
