-- purpose: Queries searched at least $min_searches times whose searches never got a click.
-- grain: query
-- reads: searches
-- params: $min_searches BIGINT (minimum searches of a query to list it; default 5),
--   $start DATE (first search day, inclusive; default none = no lower bound),
--   $end DATE (last search day, inclusive; default none = no upper bound)
--
-- A zero-click query has clicked = false on every one of its searches. zero_result_searches
-- tells the "nothing was found" case (n_results = 0) from "results were shown but ignored";
-- searches_with_results counts the searches whose results list had at least one item.
-- A NULL query (search without text) is one row. Ordered by searches, most first.
WITH bounds AS (
    SELECT $start::DATE AS lo, $end::DATE AS hi
)
SELECT s.query,
       count(*) AS searches,
       count(DISTINCT s.user_id) AS users,
       count(*) FILTER (WHERE s.n_results = 0) AS zero_result_searches,
       count(*) FILTER (WHERE s.n_results > 0) AS searches_with_results,
       avg(s.n_results) AS mean_n_results,
       min(s.search_time) AS first_search_time,
       max(s.search_time) AS last_search_time
FROM searches AS s, bounds AS b
WHERE (b.lo IS NULL OR s.date >= b.lo) AND (b.hi IS NULL OR s.date <= b.hi)
GROUP BY s.query
HAVING count(*) >= $min_searches::BIGINT
   AND count(*) FILTER (WHERE s.clicked) = 0
ORDER BY searches DESC, s.query ASC NULLS LAST
