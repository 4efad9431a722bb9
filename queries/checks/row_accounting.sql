-- purpose: Every input row is processed or quarantined: run_summary's counts match the tables.
-- grain: run (one row when offending; zero rows = pass)
-- reads: run_summary, sessions, quarantine
-- params: none
--
-- run_summary must have exactly one row with
--   rows_read        = sum(sessions.n_events) + count(quarantine)
--   rows_processed   = sum(sessions.n_events)        (each processed event is in one session)
--   rows_quarantined = count(quarantine)
-- table_* columns hold the counts found in the tables; problem names what differs.
-- A backfill's run_summary (layout = 'backfill') is exempt: a day-partitioned OUT covers a
-- range of days, and sessions at its edges hold events whose home day lies outside it; the
-- backfill manifest accounts for each day's rows instead.
WITH processed AS (
    SELECT coalesce(sum(n_events), 0)::BIGINT AS table_rows_processed FROM sessions
),
quarantined AS (
    SELECT count(*) AS table_rows_quarantined FROM quarantine
),
summary AS (
    SELECT count(*) AS summary_rows,
           max(rows_read) AS rows_read,
           max(rows_processed) AS rows_processed,
           max(rows_quarantined) AS rows_quarantined
    FROM run_summary
),
compared AS (
    SELECT s.summary_rows,
           s.rows_read,
           p.table_rows_processed + q.table_rows_quarantined AS table_rows_read,
           s.rows_processed,
           p.table_rows_processed,
           s.rows_quarantined,
           q.table_rows_quarantined
    FROM summary AS s, processed AS p, quarantined AS q
),
flagged AS (
    SELECT *,
           concat_ws(', ',
               CASE WHEN summary_rows <> 1 THEN 'run_summary has ' || summary_rows || ' rows' END,
               CASE WHEN rows_read IS DISTINCT FROM table_rows_read
                    THEN 'rows_read <> processed + quarantined' END,
               CASE WHEN rows_processed IS DISTINCT FROM table_rows_processed
                    THEN 'rows_processed <> sum(sessions.n_events)' END,
               CASE WHEN rows_quarantined IS DISTINCT FROM table_rows_quarantined
                    THEN 'rows_quarantined <> count(quarantine)' END
           ) AS problem
    FROM compared
)
SELECT * FROM flagged
WHERE problem <> ''
  AND NOT EXISTS (SELECT 1 FROM run_summary WHERE layout = 'backfill')
