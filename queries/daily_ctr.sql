-- purpose: Daily search CTR and clicks per search, recomputed from the searches and sessions.
-- grain: day (search figures by search day, session figures by session-start day)
-- reads: searches, sessions
-- params: $start DATE (first day, inclusive; default none = no lower bound),
--   $end DATE (last day, inclusive; default none = no upper bound)
--
-- Same definitions as the ctr_daily table (CONTRACT §4), so the two agree row for row:
--   searches, clicked_searches  searches made that day, and those with at least one click
--   ctr                         clicked_searches / searches; NULL on a day without searches
--   sessions                    sessions starting that day; sessions_with_search: with >= 1 search
--   clicks                      all clicks of the sessions with a search starting that day
--                               (clicks before a session's first search included)
--   clicks_per_search           clicks / searches of those sessions; NULL when they have none
-- A day appears when it has a search or a session start; days with neither are absent.
-- Parameters arrive as strings (NULL when left to their default) and are cast here.
WITH bounds AS (
    SELECT $start::DATE AS lo, $end::DATE AS hi
),
by_search_day AS (
    SELECT s.date,
           count(*) AS searches,
           count(*) FILTER (WHERE s.clicked) AS clicked_searches
    FROM searches AS s, bounds AS b
    WHERE (b.lo IS NULL OR s.date >= b.lo) AND (b.hi IS NULL OR s.date <= b.hi)
    GROUP BY s.date
),
by_session_day AS (
    SELECT s.date,
           count(*) AS sessions,
           count(*) FILTER (WHERE s.n_searches > 0) AS sessions_with_search,
           coalesce(sum(s.n_clicks) FILTER (WHERE s.n_searches > 0), 0)::BIGINT AS clicks,
           coalesce(sum(s.n_searches), 0)::BIGINT AS session_searches
    FROM sessions AS s, bounds AS b
    WHERE (b.lo IS NULL OR s.date >= b.lo) AND (b.hi IS NULL OR s.date <= b.hi)
    GROUP BY s.date
)
SELECT coalesce(q.date, n.date) AS date,
       coalesce(q.searches, 0) AS searches,
       coalesce(q.clicked_searches, 0) AS clicked_searches,
       coalesce(q.clicked_searches, 0)::DOUBLE / nullif(coalesce(q.searches, 0), 0) AS ctr,
       coalesce(n.clicks, 0) AS clicks,
       coalesce(n.clicks, 0)::DOUBLE / nullif(coalesce(n.session_searches, 0), 0)
           AS clicks_per_search,
       coalesce(n.sessions, 0) AS sessions,
       coalesce(n.sessions_with_search, 0) AS sessions_with_search
FROM by_search_day AS q
FULL OUTER JOIN by_session_day AS n ON q.date = n.date
ORDER BY date
