-- Who holds a claimed feed or delivery. A claim left behind by a run that died is taken
-- back at once by the next run (which holds the instance lock, so it knows the previous
-- one is gone) instead of waiting out its lease.
ALTER TABLE feeds ADD COLUMN claimed_by TEXT;
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
