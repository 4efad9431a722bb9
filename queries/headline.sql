-- purpose: Headline figures of a period: searches, sessions, CTR, clicks per search,
--   abandonment, zero-result rate, median time to first click and MRR, in one row.
-- grain: period (one row; search figures by search day, session figures by session-start day)
-- reads: searches, sessions
-- params: $start DATE (first day, inclusive; default none = no lower bound),
--   $end DATE (last day, inclusive; default none = no upper bound)
--
-- Same definitions as daily_ctr.sql, abandonment_by_day.sql and click_position.sql, summed
-- over the period instead of per day, so the period's figures equal those of ctr_daily:
--   searches, clicked_searches, ctr    searches of the period; ctr = clicked / searches
--   sessions, sessions_with_search     sessions starting in the period (with >= 1 search)
--   clicks, clicks_per_search          all clicks of the sessions with a search / their searches
--   session_abandonment                sessions with a search but no clicked search /
--                                      sessions_with_search (a session's searches are looked up
--                                      in the whole table, as in abandonment_by_day.sql)
--   zero_result_rate                   searches whose results list was empty (n_results = 0) /
--                                      searches; a search without a results list is not one
--   median_time_to_first_click_s       median seconds from a clicked search to its first click
--   mrr, mrr_searches                  mean 1 / first_click_position over the searches with a
--                                      results list (0 without a click or for an unlisted item)
-- Every ratio is NULL when its denominator is 0. A period without data gives one row of zeros
-- and NULLs.
WITH bounds AS (
    SELECT $start::DATE AS lo, $end::DATE AS hi
),
period_searches AS (
    SELECT s.*
    FROM searches AS s, bounds AS b
    WHERE (b.lo IS NULL OR s.date >= b.lo) AND (b.hi IS NULL OR s.date <= b.hi)
),
period_sessions AS (
    SELECT s.*
    FROM sessions AS s, bounds AS b
    WHERE (b.lo IS NULL OR s.date >= b.lo) AND (b.hi IS NULL OR s.date <= b.hi)
),
clicked_sessions AS (
    SELECT session_id, bool_or(clicked) AS any_clicked
    FROM searches
    GROUP BY session_id
),
search_figures AS (
    SELECT count(*) AS searches,
           count(*) FILTER (WHERE clicked) AS clicked_searches,
           count(*) FILTER (WHERE n_results = 0) AS zero_result_searches,
           quantile_cont(time_to_first_click, 0.5) FILTER (WHERE clicked) / 1e6
               AS median_time_to_first_click_s,
           count(*) FILTER (WHERE n_results IS NOT NULL) AS mrr_searches,
           avg(coalesce(1.0 / first_click_position, 0.0)) FILTER (WHERE n_results IS NOT NULL)
               AS mrr
    FROM period_searches
),
session_figures AS (
    SELECT count(*) AS sessions,
           count(*) FILTER (WHERE s.n_searches > 0) AS sessions_with_search,
           coalesce(sum(s.n_clicks) FILTER (WHERE s.n_searches > 0), 0)::BIGINT AS clicks,
           coalesce(sum(s.n_searches), 0)::BIGINT AS session_searches,
           count(*) FILTER (WHERE s.n_searches > 0 AND NOT coalesce(c.any_clicked, false))
               AS abandoned_sessions
    FROM period_sessions AS s
    LEFT JOIN clicked_sessions AS c ON c.session_id = s.session_id
)
SELECT q.searches,
       q.clicked_searches,
       q.clicked_searches::DOUBLE / nullif(q.searches, 0) AS ctr,
       n.sessions,
       n.sessions_with_search,
       n.clicks,
       n.clicks::DOUBLE / nullif(n.session_searches, 0) AS clicks_per_search,
       n.abandoned_sessions,
       n.abandoned_sessions::DOUBLE / nullif(n.sessions_with_search, 0) AS session_abandonment,
       q.zero_result_searches,
       q.zero_result_searches::DOUBLE / nullif(q.searches, 0) AS zero_result_rate,
       q.median_time_to_first_click_s,
       q.mrr,
       q.mrr_searches
FROM search_figures AS q
CROSS JOIN session_figures AS n
