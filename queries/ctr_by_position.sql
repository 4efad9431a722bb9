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
-- this is the CTR of first clicks; later clicks of the same search are not placed. A first
-- click at position p is on the search's own list, which therefore shows p.
WITH bounds AS (
    SELECT $start::DATE AS lo, $end::DATE AS hi
),
period AS (
    SELECT s.n_results, s.first_click_position
    FROM searches AS s, bounds AS b
    WHERE s.n_results IS NOT NULL
      AND (b.lo IS NULL OR s.date >= b.lo) AND (b.hi IS NULL OR s.date <= b.hi)
),
lengths AS (
    SELECT n_results, count(*) AS searches FROM period GROUP BY n_results
),
first_clicks AS (
    SELECT first_click_position AS position, count(*) AS first_clicks
    FROM period
    WHERE first_click_position IS NOT NULL
    GROUP BY first_click_position
),
positions AS (
    SELECT range AS position FROM range(1, greatest($max_position::BIGINT, 1) + 1)
),
shown AS (
    SELECT p.position, coalesce(sum(l.searches), 0)::BIGINT AS shown_searches
    FROM positions AS p
    LEFT JOIN lengths AS l ON l.n_results >= p.position
    GROUP BY p.position
)
SELECT s.position,
       s.shown_searches,
       coalesce(f.first_clicks, 0) AS first_clicks,
       coalesce(f.first_clicks, 0)::DOUBLE / nullif(s.shown_searches, 0) AS ctr
FROM shown AS s
LEFT JOIN first_clicks AS f ON f.position = s.position
ORDER BY s.position
