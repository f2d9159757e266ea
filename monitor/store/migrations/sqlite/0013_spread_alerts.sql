-- A spread alert (a watchlist's spread:) is a kind of message of its own: one per
-- (watchlist, story, notifier), its sources kept in body as they were when it spread.
-- SQLite cannot widen a CHECK in place, so the table is copied. Its parent_id names the
-- new table until the rename, so dropping the old one orphans no folded row.
CREATE TABLE deliveries_next (
    id               INTEGER PRIMARY KEY,
    message_id       TEXT    NOT NULL UNIQUE,
    kind             TEXT    NOT NULL DEFAULT 'alert'
                             CHECK (kind IN ('alert', 'follow_up', 'rollup', 'digest', 'notice',
                                             'spread')),
    slot             INTEGER NOT NULL DEFAULT 0,
    watchlist        TEXT    NOT NULL,
    story_id         INTEGER REFERENCES stories (id),
    item_id          INTEGER REFERENCES items (id) ON DELETE CASCADE,
    notifier         TEXT    NOT NULL,
    matched          TEXT    NOT NULL DEFAULT '[]',
    body             TEXT,
    parent_id        INTEGER REFERENCES deliveries_next (id),
    status           TEXT    NOT NULL DEFAULT 'pending'
                             CHECK (status IN ('pending', 'sent', 'dead', 'folded')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  REAL    NOT NULL,
    last_error       TEXT,
    created_at       REAL    NOT NULL,
    sent_at          REAL,
    claimed_by       TEXT,
    lease_until      REAL,
    is_update        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (kind, watchlist, story_id, notifier, slot)
);
INSERT INTO deliveries_next (id, message_id, kind, slot, watchlist, story_id, item_id,
        notifier, matched, body, parent_id, status, attempts, next_attempt_at, last_error,
        created_at, sent_at, claimed_by, lease_until, is_update)
    SELECT id, message_id, kind, slot, watchlist, story_id, item_id, notifier, matched, body,
        parent_id, status, attempts, next_attempt_at, last_error, created_at, sent_at,
        claimed_by, lease_until, is_update
    FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_next RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_parent ON deliveries (parent_id) WHERE parent_id IS NOT NULL;
