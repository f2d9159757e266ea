-- Until when a claimed feed or delivery is held (NULL: not claimed). A live instance
-- renews its leases; a dead one's work is claimable again when they run out.
ALTER TABLE feeds ADD COLUMN lease_until REAL;
ALTER TABLE deliveries ADD COLUMN lease_until REAL;
UPDATE feeds SET lease_until = next_poll_at WHERE claimed_by IS NOT NULL;
UPDATE deliveries SET lease_until = next_attempt_at WHERE claimed_by IS NOT NULL;
-- How many times each feed has been claimed: a poll's record names the claim it ran
-- under and is refused when the feed was claimed again since.
ALTER TABLE feeds ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;
