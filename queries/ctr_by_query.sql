-- purpose: CTR per query text, for queries searched at least $min_searches times.
-- grain: query
-- reads: searches
-- params: $min_searches BIGINT (minimum support: searches of a query to list it; default 10),
--   $start DATE (first search day, inclusive; default none = no lower bound),
--   $end DATE (last search day, inclusive; default none = no upper bound)
--
-- Same definitions as the ctr_by_query table: ctr = clicked_searches / searches;
-- clicks = all clicks of the query's search segments; mean_first_click_position = mean
-- 1-based rank of the first clicked result, over the searches where it is known (NULL if none).
-- users = distinct users who issued the query. A NULL query (search without text) is one row.
-- Ordered by searches (most first), then query text (NULL last).
-- Parameters arrive as strings (NULL when left to their default) and are cast here.
WITH bounds AS (
    SELECT $start::DATE AS lo, $end::DATE AS hi
)
SELECT s.query,
       count(*) AS searches,
       count(*) FILTER (WHERE s.clicked) AS clicked_searches,
       (count(*) FILTER (WHERE s.clicked))::DOUBLE / count(*) AS ctr,
       coalesce(sum(s.n_clicks), 0)::BIGINT AS clicks,
       avg(s.first_click_position) AS mean_first_click_position,
       count(DISTINCT s.user_id) AS users
FROM searches AS s, bounds AS b
WHERE (b.lo IS NULL OR s.date >= b.lo) AND (b.hi IS NULL OR s.date <= b.hi)
GROUP BY s.query
HAVING count(*) >= $min_searches::BIGINT
ORDER BY searches DESC, s.query ASC NULLS LAST
