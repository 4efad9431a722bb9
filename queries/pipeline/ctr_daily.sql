-- purpose: The ctr_daily table: search CTR by search day, clicks per search by
--   session-start day.
-- grain: day
-- reads: searches, sessions
-- params: none
--
-- Both inputs already carry `date` in the run's time zone. A day appears when a search or a
-- session starts on it. clicks and clicks_per_search use the sessions starting that day that
-- have a search (the per-session figure summed over the day); ratios are NULL where their
-- denominator is 0.
WITH by_search_day AS (
    SELECT date, count(*) AS searches, count(*) FILTER (WHERE clicked) AS clicked_searches
    FROM searches
    GROUP BY date
),
by_session_day AS (
    SELECT date,
        count(*) AS sessions,
        count(*) FILTER (WHERE n_searches > 0) AS sessions_with_search,
        coalesce(sum(n_clicks) FILTER (WHERE n_searches > 0), 0) AS clicks,
        sum(n_searches) AS session_searches
    FROM sessions
    GROUP BY date
),
days AS (
    SELECT
        coalesce(q.date, s.date) AS date,
        coalesce(q.searches, 0) AS searches,
        coalesce(q.clicked_searches, 0) AS clicked_searches,
        coalesce(s.clicks, 0) AS clicks,
        coalesce(s.session_searches, 0) AS session_searches,
        coalesce(s.sessions, 0) AS sessions,
        coalesce(s.sessions_with_search, 0) AS sessions_with_search
    FROM by_search_day AS q
    FULL OUTER JOIN by_session_day AS s ON q.date = s.date
)
SELECT
    date,
    searches,
    clicked_searches,
    CASE WHEN searches > 0 THEN clicked_searches / searches END AS ctr,
    clicks,
    CASE WHEN session_searches > 0 THEN clicks / session_searches END AS clicks_per_search,
    sessions,
    sessions_with_search
FROM days
ORDER BY date
