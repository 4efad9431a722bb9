-- purpose: Queries that returned an empty results list (n_results = 0) at least
--   $min_searches times.
-- grain: query
-- reads: searches
-- params: $min_searches BIGINT (minimum zero-result searches of a query to list it; default 1),
--   $start DATE (first search day, inclusive; default none = no lower bound),
--   $end DATE (last search day, inclusive; default none = no upper bound)
--
-- A zero-result search has a results event with an empty list (n_results = 0). A search
-- without any results event has n_results NULL and is NOT a zero-result search.
-- zero_result_share = zero_result_searches / searches of that query (all its searches).
-- Ordered by zero_result_searches, most first.
WITH bounds AS (
    SELECT $start::DATE AS lo, $end::DATE AS hi
),
per_query AS (
    SELECT s.query,
           count(*) AS searches,
           count(*) FILTER (WHERE s.n_results = 0) AS zero_result_searches,
           count(DISTINCT s.user_id) FILTER (WHERE s.n_results = 0) AS zero_result_users,
           count(*) FILTER (WHERE s.clicked) AS clicked_searches,
           max(s.search_time) FILTER (WHERE s.n_results = 0) AS last_zero_result_time
    FROM searches AS s, bounds AS b
    WHERE (b.lo IS NULL OR s.date >= b.lo) AND (b.hi IS NULL OR s.date <= b.hi)
    GROUP BY s.query
)
SELECT query,
       zero_result_searches,
       searches,
       zero_result_searches::DOUBLE / searches AS zero_result_share,
       zero_result_users,
       clicked_searches,
       last_zero_result_time
FROM per_query
WHERE zero_result_searches > 0 AND zero_result_searches >= $min_searches::BIGINT
ORDER BY zero_result_searches DESC, query ASC NULLS LAST
