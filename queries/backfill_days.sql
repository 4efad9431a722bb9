-- purpose: A backfill's figures per day, from its manifest: rows read and quarantined, sessions
--   continued from the day before, sessions opened by --max-session, late rows picked up from a
--   later day's folder, and sessions read whole past the lookback.
-- grain: day
-- reads: day_summary
-- params: $start DATE (first day, inclusive; default none = no lower bound),
--   $end DATE (last day, inclusive; default none = no upper bound)
--
-- Only a backfill's output has day_summary (rewritten from _manifest.json at the end of each
-- backfill; a run's output has none).
--   rows_read            input rows whose home day it is (its date= folder, else event date)
--   quarantine_share     rows_quarantined / rows_read (NULL without rows)
--   continued_sessions   sessions begun the day before that go on into the day
--   capped_sessions      sessions opened because the one before reached --max-session
--   late_rows            rows timed on the day that arrived in a later day's folder
--   long_sessions        sessions reaching more than the lookback past the day
-- Ordered by day.
WITH bounds AS (
    SELECT $start::DATE AS lo, $end::DATE AS hi
)
SELECT d.date, d.rows_read, d.rows_quarantined,
       d.rows_quarantined::DOUBLE / nullif(d.rows_read, 0) AS quarantine_share,
       d.continued_sessions, d.capped_sessions, d.late_rows, d.long_sessions
FROM day_summary AS d, bounds AS b
WHERE (b.lo IS NULL OR d.date >= b.lo) AND (b.hi IS NULL OR d.date <= b.hi)
ORDER BY d.date
