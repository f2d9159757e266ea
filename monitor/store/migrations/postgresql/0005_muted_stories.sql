-- A story someone muted (stories mute): from when, and until when (NULL: until unmuted).
-- While muted, no further watchlist is alerted and no follow-up is sent for it.
ALTER TABLE stories ADD COLUMN IF NOT EXISTS muted_at DOUBLE PRECISION;
ALTER TABLE stories ADD COLUMN IF NOT EXISTS muted_until DOUBLE PRECISION;
