-- purpose: First-click CTR by result position: of the searches that showed a position,
--   the share whose first click was there.
-- grain: result position (1 .. $max_position)
-- reads: searches
-- params: $max_position BIGINT (last position listed; default 10),
--   $start DATE (first search day, inclusive; default none = no lower bound),
--   $end DATE (last search day, inclusive; default none = no upper bound)
--
--   position           1-based rank in the results list
--   shown_searches     searches whose first results list had at least `position` items
--   first_clicks       searches whose first clicked item was at `position`
--   ctr                first_clicks / shown_searches; NULL when no search showed the position
-- Only the first click of a search has a position in the tables (first_click_position), so
-- this is the CTR of first clicks; later clicks of the same search are not placed.
WITH bounds AS (
    SELECT $start::DATE AS lo, $end::DATE AS hi
),
period AS (
    SELECT s.n_results, s.first_click_position
    FROM searches AS s, bounds AS b
    WHERE (b.lo IS NULL OR s.date >= b.lo) AND (b.hi IS NULL OR s.date <= b.hi)
),
positions AS (
    SELECT range AS position FROM range(1, greatest($max_position::BIGINT, 1) + 1)
)
SELECT p.position,
       count(s.n_results) AS shown_searches,
       count(s.n_results) FILTER (WHERE s.first_click_position = p.position) AS first_clicks,
       (count(s.n_results) FILTER (WHERE s.first_click_position = p.position))::DOUBLE
           / nullif(count(s.n_results), 0) AS ctr
FROM positions AS p
LEFT JOIN period AS s ON s.n_results >= p.position
GROUP BY p.position
ORDER BY p.position
