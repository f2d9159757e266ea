-- Every kind of message travels through the outbox: alerts and follow-ups (one item
-- each), rollups and digests (containers: the alerts they carry point at them through
-- parent_id and become 'folded'), and operator notices (text, no item). Notifiers that
-- a receiver said are gone (410) are remembered as disabled, with the reason.
CREATE TABLE deliveries_new (
    id               INTEGER PRIMARY KEY,
    message_id       TEXT    NOT NULL UNIQUE,
    kind             TEXT    NOT NULL DEFAULT 'alert'
                             CHECK (kind IN ('alert', 'follow_up', 'rollup', 'digest', 'notice')),
    slot             INTEGER NOT NULL DEFAULT 0,
    watchlist        TEXT    NOT NULL,
    story_id         INTEGER REFERENCES stories (id),
    item_id          INTEGER REFERENCES items (id) ON DELETE CASCADE,
    notifier         TEXT    NOT NULL,
    matched          TEXT    NOT NULL DEFAULT '[]',
    body             TEXT,
    parent_id        INTEGER REFERENCES deliveries (id),
    status           TEXT    NOT NULL DEFAULT 'pending'
                             CHECK (status IN ('pending', 'sent', 'dead', 'folded')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  REAL    NOT NULL,
    last_error       TEXT,
    created_at       REAL    NOT NULL,
    sent_at          REAL,
    claimed_by       TEXT,
    UNIQUE (kind, watchlist, story_id, notifier, slot)
);
INSERT INTO deliveries_new (id, message_id, kind, slot, watchlist, story_id, item_id,
        notifier, matched, status, attempts, next_attempt_at, last_error, created_at,
        sent_at, claimed_by)
    SELECT id, message_id, kind, slot, watchlist, story_id, item_id, notifier, matched,
        status, attempts, next_attempt_at, last_error, created_at, sent_at, claimed_by
    FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_parent ON deliveries (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE notifier_state (
    name          TEXT PRIMARY KEY,
    disabled_at   REAL,
    reason        TEXT,
    settings_key  TEXT      -- a digest of the settings it was disabled under
);

-- An item first seen longer than this after it was published is recorded, not alerted.
ALTER TABLE feeds ADD COLUMN max_alert_age_s REAL;
