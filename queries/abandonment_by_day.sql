-- purpose: Daily abandonment: share of searches without a click, and of sessions with a
--   search but no clicked search.
-- grain: day (search figures by search day, session figures by session-start day)
-- reads: searches, sessions
-- params: $start DATE (first day, inclusive; default none = no lower bound),
--   $end DATE (last day, inclusive; default none = no upper bound)
--
--   abandoned_searches        searches with no click in their segment (clicked = false)
--   search_abandonment        abandoned_searches / searches (= 1 - ctr); NULL without searches
--   abandoned_sessions        sessions with >= 1 search where no search segment got a click;
--                             a click before the session's first search does not count, as it
--                             answers no search
--   session_abandonment       abandoned_sessions / sessions_with_search; NULL when none
-- A day appears when it has a search or a session start.
WITH bounds AS (
    SELECT $start::DATE AS lo, $end::DATE AS hi
),
by_search_day AS (
    SELECT s.date,
           count(*) AS searches,
           count(*) FILTER (WHERE NOT s.clicked) AS abandoned_searches
    FROM searches AS s, bounds AS b
    WHERE (b.lo IS NULL OR s.date >= b.lo) AND (b.hi IS NULL OR s.date <= b.hi)
    GROUP BY s.date
),
clicked_sessions AS (
    SELECT session_id, bool_or(clicked) AS any_clicked
    FROM searches
    GROUP BY session_id
),
by_session_day AS (
    SELECT s.date,
           count(*) FILTER (WHERE s.n_searches > 0) AS sessions_with_search,
           count(*) FILTER (WHERE s.n_searches > 0 AND NOT coalesce(c.any_clicked, false))
               AS abandoned_sessions
    FROM sessions AS s
    CROSS JOIN bounds AS b
    LEFT JOIN clicked_sessions AS c ON c.session_id = s.session_id
    WHERE (b.lo IS NULL OR s.date >= b.lo) AND (b.hi IS NULL OR s.date <= b.hi)
    GROUP BY s.date
)
SELECT coalesce(q.date, n.date) AS date,
       coalesce(q.searches, 0) AS searches,
       coalesce(q.abandoned_searches, 0) AS abandoned_searches,
       q.abandoned_searches::DOUBLE / nullif(q.searches, 0) AS search_abandonment,
       coalesce(n.sessions_with_search, 0) AS sessions_with_search,
       coalesce(n.abandoned_sessions, 0) AS abandoned_sessions,
       n.abandoned_sessions::DOUBLE / nullif(n.sessions_with_search, 0) AS session_abandonment
FROM by_search_day AS q
FULL OUTER JOIN by_session_day AS n ON q.date = n.date
ORDER BY date
