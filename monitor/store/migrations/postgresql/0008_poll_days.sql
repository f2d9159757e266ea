-- Each feed's polls per UTC day (see the SQLite migration 0015).
CREATE TABLE IF NOT EXISTS poll_days (
    feed_id   BIGINT  NOT NULL,
    day       INTEGER NOT NULL,
    polls     INTEGER NOT NULL DEFAULT 0,
    failures  INTEGER NOT NULL DEFAULT 0,
    stale     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (feed_id, day)
);
CREATE INDEX IF NOT EXISTS poll_days_day ON poll_days (day);
