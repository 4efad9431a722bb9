-- purpose: Within each session, search_index runs 1, 2, ..., n without gaps or repeats.
-- grain: session (offending sessions only; zero rows = pass)
-- reads: searches, sessions, run_summary
-- params: none
--
-- n = the session's search rows; a NULL search_index is offending too.
-- In a backfill's OUT (run_summary.layout = 'backfill') the day range has edges: a session that
-- started before the first day (its id ends in its UTC start) has searches here but no session
-- row, and one that ends after the last day has searches beyond OUT. Such edge sessions are
-- exempt; a session missing from inside the range is not.
WITH backfill AS (
    SELECT first_day, last_day, timezone FROM run_summary WHERE layout = 'backfill'
),
edge_sessions AS (
    SELECT q.session_id FROM searches AS q, backfill AS b
    WHERE q.session_id NOT IN (SELECT session_id FROM sessions WHERE session_id IS NOT NULL)
      AND timezone(b.timezone, try_strptime(regexp_extract(q.session_id, '/([^/]*)$', 1),
                                            '%Y-%m-%dT%H:%M:%S.%fZ') AT TIME ZONE 'UTC')::DATE
          < b.first_day
    UNION
    SELECT s.session_id FROM sessions AS s, backfill AS b
    WHERE (timezone(b.timezone, s.session_end))::DATE > b.last_day
      AND s.session_id IS NOT NULL
),
offending AS (
SELECT session_id,
       count(*) AS search_rows,
       count(*) FILTER (WHERE search_index IS NULL) AS null_indexes,
       count(DISTINCT search_index) AS distinct_indexes,
       min(search_index) AS min_index,
       max(search_index) AS max_index
FROM searches
WHERE session_id NOT IN (SELECT session_id FROM edge_sessions)
GROUP BY session_id
HAVING count(*) FILTER (WHERE search_index IS NULL) > 0
    OR count(DISTINCT search_index) <> count(*)
    OR min(search_index) <> 1
    OR max(search_index) <> count(*)
)
SELECT * FROM offending ORDER BY session_id NULLS FIRST
