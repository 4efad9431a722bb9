-- purpose: Search rows fit their session: as many rows as n_searches, and no more segment
--   clicks than the session's clicks.
-- grain: session (offending sessions only; zero rows = pass)
-- reads: searches, sessions, run_summary
-- params: none
--
-- Every click lies in exactly one segment, segment 0 (before the first search) included, and
-- segment 0 is not in the searches table; so per session sum(searches.n_clicks) <=
-- sessions.n_clicks (the difference, clicks before the first search, cannot be checked from the
-- outputs alone) and count(searches) = sessions.n_searches. Search rows whose session_id is
-- not in sessions are offending too.
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
segments AS (
    SELECT session_id,
           count(*) AS search_rows,
           coalesce(sum(n_clicks), 0)::BIGINT AS segment_clicks
    FROM searches
    WHERE session_id NOT IN (SELECT session_id FROM edge_sessions)
    GROUP BY session_id
)
SELECT coalesce(s.session_id, g.session_id) AS session_id,
       s.user_id,
       s.n_searches,
       coalesce(g.search_rows, 0) AS search_rows,
       s.n_clicks,
       coalesce(g.segment_clicks, 0) AS segment_clicks,
       CASE WHEN s.session_id IS NULL THEN 'search rows of a session missing from sessions'
            WHEN s.n_searches IS DISTINCT FROM coalesce(g.search_rows, 0)
                THEN 'search rows differ from n_searches'
            ELSE 'segment clicks exceed the session''s n_clicks'
       END AS problem
FROM sessions AS s
FULL OUTER JOIN segments AS g ON g.session_id = s.session_id
WHERE coalesce(s.session_id, g.session_id) NOT IN (SELECT session_id FROM edge_sessions)
  AND (s.session_id IS NULL
   OR s.n_searches IS DISTINCT FROM coalesce(g.search_rows, 0)
   OR s.n_clicks IS NULL
   OR coalesce(g.segment_clicks, 0) > s.n_clicks)
ORDER BY session_id
