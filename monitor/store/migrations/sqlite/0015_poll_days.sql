-- Each feed's polls per UTC day (numbered from the epoch): how many, how many failed,
-- and whether the feed was stale that day; the status page draws a feed's health over
-- time from them. Written in batches every few minutes (summed into the row), pruned
-- after 90 days. No foreign key: a batch must not fail for a feed removed meanwhile;
-- housekeeping drops the rows of feeds that are gone.
CREATE TABLE poll_days (
    feed_id   INTEGER NOT NULL,
    day       INTEGER NOT NULL,
    polls     INTEGER NOT NULL DEFAULT 0,
    failures  INTEGER NOT NULL DEFAULT 0,
    stale     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (feed_id, day)
);
CREATE INDEX poll_days_day ON poll_days (day);
