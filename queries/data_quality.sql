-- purpose: Row accounting of the output: rows read, processed and quarantined, and sessions
--   cut by a backfill's lookback.
-- grain: output (one row, from run_summary)
-- reads: run_summary
-- params: none
--
--   layout             'run' or 'backfill' (how OUT was written)
--   first_day, last_day  the days the output covers
--   rows_read          rows_processed + rows_quarantined
--   quarantine_share   rows_quarantined / rows_read (NULL without rows)
--   split_sessions     sessions a backfill cut at its lookback (NULL for a run's output)
-- These are whole-output figures: they ignore a report's --start and --end.
WITH summary AS (
    SELECT NULL::BIGINT AS split_sessions WHERE false
    UNION ALL BY NAME
    SELECT * FROM run_summary
)
SELECT layout, first_day, last_day, rows_read, rows_processed, rows_quarantined,
       rows_quarantined::DOUBLE / nullif(rows_read, 0) AS quarantine_share,
       split_sessions
FROM summary
