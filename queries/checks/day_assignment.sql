-- purpose: The date column of searches and sessions is the calendar date of search_time /
--   session_start in the run's time zone.
-- grain: table and row (offending rows only; zero rows = pass)
-- reads: searches, sessions, run_summary
-- params: $timezone VARCHAR (IANA time zone of the days; default none = run_summary.timezone)
--
-- When neither the parameter nor run_summary gives the time zone, one row says so.
WITH settings AS (
    SELECT coalesce($timezone::VARCHAR, (SELECT max(timezone) FROM run_summary)) AS timezone
),
dated AS (
    SELECT 'searches' AS "table", session_id, search_index, search_time AS event_time, date
    FROM searches
    UNION ALL
    SELECT 'sessions', session_id, NULL, session_start, date
    FROM sessions
)
SELECT d."table", d.session_id, d.search_index, d.event_time, d.date,
       (d.event_time AT TIME ZONE c.timezone)::DATE AS expected_date, c.timezone,
       'date differs from the local date of the time' AS problem
FROM dated AS d, settings AS c
WHERE c.timezone IS NOT NULL
  AND d.date IS DISTINCT FROM (d.event_time AT TIME ZONE c.timezone)::DATE
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       'time zone unknown: pass $timezone or add run_summary.timezone'
FROM settings
WHERE timezone IS NULL
ORDER BY 1 NULLS FIRST, 2, 3
