-- The third wave of story rules (see monitor/dedupe.py and monitor/alerting.py).
--
-- Identity keys become 64-bit integers in one table keyed by (key, item), so each key
-- is one B-tree entry: exact keys (canonical link, text and title hashes) are the first
-- 8 bytes of the MD5 of the old text keys (news_monitor_key, registered by the store
-- while it migrates), near-duplicate anchors are 32-bit shingle hashes (lead anchors
-- with bit 32 set), so they all lie in [0, 2^33) and are pruned by key range. The old
-- band keys cannot be converted: the store re-keys the items of the story window from
-- their text after this migration (items whose fingerprint is not NULL yet).
CREATE TABLE story_keys (
    key       INTEGER NOT NULL,
    item_id   INTEGER NOT NULL,
    kind      TEXT    NOT NULL CHECK (kind IN ('link', 'text', 'title', 'near', 'lead')),
    story_id  INTEGER NOT NULL,
    seen_at   REAL    NOT NULL,
    PRIMARY KEY (key, item_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO story_keys (key, item_id, kind, story_id, seen_at)
    SELECT news_monitor_key(key), item_id, kind, story_id, seen_at
    FROM identity_keys WHERE kind IN ('link', 'text', 'title');
DROP TABLE identity_keys;

-- A story is compared by its first item (its representative), and knows whether the
-- stored sample holds it (a known story never alerts).
ALTER TABLE stories ADD COLUMN first_item_id INTEGER;
ALTER TABLE stories ADD COLUMN seeded INTEGER NOT NULL DEFAULT 0;
UPDATE stories SET first_item_id = (SELECT MIN(id) FROM items WHERE items.story_id = stories.id);
UPDATE stories SET seeded = 1 WHERE id IN (
    SELECT i.story_id FROM items i JOIN feeds f ON f.id = i.feed_id WHERE f.kind = 'seed');

-- An item's sketch (the fingerprint before it is kept only until the item is re-keyed),
-- the digest of the version stored (an entry edited in place keeps its key, not its
-- digest), the watchlists that version matched, the item it was compared with when it
-- joined its story, and when it was last revised.
ALTER TABLE items ADD COLUMN sketch BLOB;
ALTER TABLE items ADD COLUMN entry_digest INTEGER;
ALTER TABLE items ADD COLUMN watchlists TEXT;
ALTER TABLE items ADD COLUMN compared_with INTEGER;
ALTER TABLE items ADD COLUMN revised_at REAL;

-- What each watchlist decided about each story: 'alerted' (final; reason 'update' for an
-- entry edited to match) or 'silent' with the reason (until it alerts). Existing alerts
-- become its first rows.
CREATE TABLE story_watch (
    story_id    INTEGER NOT NULL,
    watchlist   TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('alerted', 'silent')),
    item_id     INTEGER NOT NULL,
    feed_id     INTEGER NOT NULL,
    reason      TEXT,
    decided_at  REAL    NOT NULL,
    PRIMARY KEY (story_id, watchlist)
);
INSERT OR IGNORE INTO story_watch (story_id, watchlist, state, item_id, feed_id, decided_at)
    SELECT d.story_id, d.watchlist, 'alerted', d.item_id, i.feed_id, d.created_at
    FROM deliveries d JOIN items i ON i.id = d.item_id
    WHERE d.kind = 'alert' ORDER BY d.id;

-- An alert about an entry edited in place to match its watchlist.
ALTER TABLE deliveries ADD COLUMN is_update INTEGER NOT NULL DEFAULT 0;

-- The sketches of new stories, one row per saved batch, from which every instance
-- learns which shingles are common (see monitor/templates.py).
CREATE TABLE shingle_log (
    id       INTEGER PRIMARY KEY,
    owner    TEXT,
    at       REAL    NOT NULL,
    stories  INTEGER NOT NULL,
    hashes   BLOB    NOT NULL
);

-- The items still to re-key (or, outside the story window, to clear): each leaves this
-- index when its fingerprint is cleared.
CREATE INDEX items_unsketched ON items (id) WHERE fingerprint IS NOT NULL;
