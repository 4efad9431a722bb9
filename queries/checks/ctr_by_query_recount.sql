-- purpose: Each ctr_by_query row equals the query recomputed from searches, and every query
--   (NULL included) has exactly one row.
-- grain: query (offending queries only; zero rows = pass)
-- reads: ctr_by_query, searches
-- params: none
--
-- expected_* columns hold the recomputed values: searches, clicked_searches, ctr =
-- clicked_searches / searches, clicks = sum(n_clicks) and mean_first_click_position (mean over
-- the searches where it is known). Ratios match within 1e-9; problem names what differs.
WITH expected AS (
    SELECT query,
           count(*) AS searches,
           count(*) FILTER (WHERE clicked) AS clicked_searches,
           (count(*) FILTER (WHERE clicked))::DOUBLE / count(*) AS ctr,
           coalesce(sum(n_clicks), 0)::BIGINT AS clicks,
           avg(first_click_position) AS mean_first_click_position
    FROM searches
    GROUP BY query
),
found AS (
    SELECT *, count(*) OVER (PARTITION BY query) AS rows_for_query, true AS present
    FROM ctr_by_query
),
compared AS (
    SELECT CASE WHEN f.present THEN f.query ELSE e.query END AS query,
           coalesce(f.rows_for_query, 0) AS rows_for_query,
           f.searches, e.searches AS expected_searches,
           f.clicked_searches, e.clicked_searches AS expected_clicked_searches,
           f.ctr, e.ctr AS expected_ctr,
           f.clicks, e.clicks AS expected_clicks,
           f.mean_first_click_position,
           e.mean_first_click_position AS expected_mean_first_click_position
    FROM found AS f
    FULL OUTER JOIN expected AS e ON f.query IS NOT DISTINCT FROM e.query
),
flagged AS (
    SELECT *,
           concat_ws(', ',
               CASE WHEN rows_for_query <> 1 THEN 'rows for the query: ' || rows_for_query END,
               CASE WHEN searches IS DISTINCT FROM expected_searches THEN 'searches' END,
               CASE WHEN clicked_searches IS DISTINCT FROM expected_clicked_searches
                    THEN 'clicked_searches' END,
               CASE WHEN (ctr IS NULL) <> (expected_ctr IS NULL)
                         OR abs(ctr - expected_ctr) > 1e-9 THEN 'ctr' END,
               CASE WHEN clicks IS DISTINCT FROM expected_clicks THEN 'clicks' END,
               CASE WHEN (mean_first_click_position IS NULL)
                         <> (expected_mean_first_click_position IS NULL)
                         OR abs(mean_first_click_position - expected_mean_first_click_position)
                            > 1e-9
                    THEN 'mean_first_click_position' END
           ) AS problem
    FROM compared
)
SELECT * FROM flagged WHERE problem <> '' ORDER BY searches DESC NULLS FIRST, query
