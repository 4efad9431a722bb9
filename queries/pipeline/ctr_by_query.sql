-- purpose: The ctr_by_query table: searches, clicked searches, CTR, clicks and mean
--   first-click position per query text.
-- grain: query (a NULL query is a group of its own)
-- reads: searches
-- params: none
--
-- Most searched first, then by query (NULL last). mean_first_click_position averages the
-- non-NULL positions (NULL when there are none).
SELECT
    query,
    count(*) AS searches,
    count(*) FILTER (WHERE clicked) AS clicked_searches,
    count(*) FILTER (WHERE clicked) / count(*) AS ctr,
    sum(n_clicks) AS clicks,
    avg(first_click_position) AS mean_first_click_position
FROM searches
GROUP BY query
ORDER BY searches DESC, query ASC NULLS LAST
