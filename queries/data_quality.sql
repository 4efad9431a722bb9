-- purpose: Row accounting of the output: rows read, processed and quarantined, and the
--   sessions a backfill read whole past its lookback.
-- grain: output (one row, from run_summary)
-- reads: run_summary
-- params: none
--
--   layout             'run' or 'backfill' (how OUT was written)
--   first_day, last_day  the days the output covers
--   rows_read          rows_processed + rows_quarantined
--   quarantine_share   rows_quarantined / rows_read (NULL without rows)
--   long_sessions      sessions reaching past a backfill's lookback, read whole from a wider
--     window (NULL for a run's output)
-- These are whole-output figures: they ignore a report's --start and --end.
WITH summary AS (
    SELECT NULL::BIGINT AS long_sessions WHERE false
    UNION ALL BY NAME
    SELECT * FROM run_summary
)
SELECT layout, first_day, last_day, rows_read, rows_processed, rows_quarantined,
       rows_quarantined::DOUBLE / nullif(rows_read, 0) AS quarantine_share,
       long_sessions
FROM summary
