-- Identity is rows, not columns: every key an item is known by across feeds (its
-- canonical link, text hash, long title, and the band keys of its near-duplicate
-- fingerprint) is one row here, so a new kind of key needs no new column or query.
-- ``key`` has no declared type: exact keys are text, band keys 64-bit integers.
-- Rows are appended in the order items arrive, so the oldest are the lowest ids: pruning
-- walks id ranges and needs no index of its own (an index on seen_at halved the insert
-- rate, measured).
CREATE TABLE identity_keys (
    id        INTEGER PRIMARY KEY,
    key       NOT NULL,
    kind      TEXT    NOT NULL CHECK (kind IN ('link', 'text', 'title', 'band', 'lead')),
    item_id   INTEGER NOT NULL REFERENCES items (id),
    story_id  INTEGER NOT NULL,
    feed_id   INTEGER NOT NULL,
    seen_at   REAL    NOT NULL
);
CREATE INDEX identity_keys_key ON identity_keys (key);

INSERT INTO identity_keys (key, item_id, kind, story_id, feed_id, seen_at)
    SELECT canonical_link, id, 'link', story_id, feed_id, first_seen_at
    FROM items WHERE canonical_link IS NOT NULL;
INSERT INTO identity_keys (key, item_id, kind, story_id, feed_id, seen_at)
    SELECT content_hash, id, 'text', story_id, feed_id, first_seen_at
    FROM items WHERE content_hash IS NOT NULL;
INSERT INTO identity_keys (key, item_id, kind, story_id, feed_id, seen_at)
    SELECT title_key, id, 'title', story_id, feed_id, first_seen_at
    FROM items WHERE title_key IS NOT NULL;

DROP INDEX items_canonical_link;
DROP INDEX items_content_hash;
DROP INDEX items_title_key;
ALTER TABLE items DROP COLUMN canonical_link;
ALTER TABLE items DROP COLUMN content_hash;
ALTER TABLE items DROP COLUMN title_key;

-- The near-duplicate signatures (compared when a band key is shared), and why the item
-- joined its story: link, text, near (with the estimated similarity) or title; NULL
-- for the item that started it.
ALTER TABLE items ADD COLUMN fingerprint BLOB;
ALTER TABLE items ADD COLUMN joined_by TEXT;
ALTER TABLE items ADD COLUMN similarity REAL;
