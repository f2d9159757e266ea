-- The outbox carries kinds of message, not only alerts. An alert stays unique per
-- (watchlist, story, notifier), ever (slot 0); a follow-up ("also reported by …") is
-- unique per (watchlist, story, notifier) and hour (slot = hours since the epoch).
-- SQLite cannot change a table constraint in place, hence the copy.
CREATE TABLE deliveries_new (
    id               INTEGER PRIMARY KEY,
    message_id       TEXT    NOT NULL UNIQUE,
    kind             TEXT    NOT NULL DEFAULT 'alert' CHECK (kind IN ('alert', 'follow_up')),
    slot             INTEGER NOT NULL DEFAULT 0,
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
    claimed_by       TEXT,
    UNIQUE (kind, watchlist, story_id, notifier, slot)
);
INSERT INTO deliveries_new (id, message_id, watchlist, story_id, item_id, notifier, matched,
        status, attempts, next_attempt_at, last_error, created_at, sent_at, claimed_by)
    SELECT id, message_id, watchlist, story_id, item_id, notifier, matched, status, attempts,
        next_attempt_at, last_error, created_at, sent_at, claimed_by
    FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
