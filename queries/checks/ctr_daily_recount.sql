-- purpose: Each ctr_daily row equals the day recomputed from searches and sessions, and every
--   day with a search or a session start has exactly one row.
-- grain: day (offending days only; zero rows = pass)
-- reads: ctr_daily, searches, sessions
-- params: none
--
-- Recomputed as CONTRACT §4 defines the day: searches and clicked_searches by search day;
-- sessions, sessions_with_search and clicks (all clicks of the sessions with a search) by
-- session-start day; ctr = clicked_searches / searches and clicks_per_search = clicks /
-- searches of those sessions, NULL when the denominator is 0. Ratios match within 1e-9.
-- expected_* columns hold the recomputed values; problem names the columns that differ.
WITH by_search_day AS (
    SELECT date,
           count(*) AS searches,
           count(*) FILTER (WHERE clicked) AS clicked_searches
    FROM searches
    GROUP BY date
),
by_session_day AS (
    SELECT date,
           count(*) AS sessions,
           count(*) FILTER (WHERE n_searches > 0) AS sessions_with_search,
           coalesce(sum(n_clicks) FILTER (WHERE n_searches > 0), 0)::BIGINT AS clicks,
           coalesce(sum(n_searches), 0)::BIGINT AS session_searches
    FROM sessions
    GROUP BY date
),
expected AS (
    SELECT coalesce(q.date, n.date) AS date,
           coalesce(q.searches, 0) AS searches,
           coalesce(q.clicked_searches, 0) AS clicked_searches,
           q.clicked_searches::DOUBLE / nullif(q.searches, 0) AS ctr,
           coalesce(n.clicks, 0) AS clicks,
           n.clicks::DOUBLE / nullif(n.session_searches, 0) AS clicks_per_search,
           coalesce(n.sessions, 0) AS sessions,
           coalesce(n.sessions_with_search, 0) AS sessions_with_search
    FROM by_search_day AS q
    FULL OUTER JOIN by_session_day AS n ON q.date = n.date
),
found AS (
    SELECT *, count(*) OVER (PARTITION BY date) AS rows_for_date
    FROM ctr_daily
),
compared AS (
    SELECT coalesce(f.date, e.date) AS date,
           coalesce(f.rows_for_date, 0) AS rows_for_date,
           f.searches, e.searches AS expected_searches,
           f.clicked_searches, e.clicked_searches AS expected_clicked_searches,
           f.ctr, e.ctr AS expected_ctr,
           f.clicks, e.clicks AS expected_clicks,
           f.clicks_per_search, e.clicks_per_search AS expected_clicks_per_search,
           f.sessions, e.sessions AS expected_sessions,
           f.sessions_with_search, e.sessions_with_search AS expected_sessions_with_search
    FROM found AS f
    FULL OUTER JOIN expected AS e ON f.date = e.date
),
flagged AS (
    SELECT *,
           concat_ws(', ',
               CASE WHEN rows_for_date <> 1 THEN 'rows for the date: ' || rows_for_date END,
               CASE WHEN searches IS DISTINCT FROM expected_searches THEN 'searches' END,
               CASE WHEN clicked_searches IS DISTINCT FROM expected_clicked_searches
                    THEN 'clicked_searches' END,
               CASE WHEN (ctr IS NULL) <> (expected_ctr IS NULL)
                         OR abs(ctr - expected_ctr) > 1e-9 THEN 'ctr' END,
               CASE WHEN clicks IS DISTINCT FROM expected_clicks THEN 'clicks' END,
               CASE WHEN (clicks_per_search IS NULL) <> (expected_clicks_per_search IS NULL)
                         OR abs(clicks_per_search - expected_clicks_per_search) > 1e-9
                    THEN 'clicks_per_search' END,
               CASE WHEN sessions IS DISTINCT FROM expected_sessions THEN 'sessions' END,
               CASE WHEN sessions_with_search IS DISTINCT FROM expected_sessions_with_search
                    THEN 'sessions_with_search' END
           ) AS problem
    FROM compared
)
SELECT *
FROM flagged
WHERE problem <> '' OR date IS NULL
ORDER BY date NULLS FIRST
