-- The article behind an item, when its page was read (docs/configuration.md: Full text):
-- its main text, capped, and what became of the attempt (NULL: not tried).
ALTER TABLE items ADD COLUMN fulltext TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN fulltext_note TEXT;
