-- purpose: Distribution of the first clicked position, with the mean reciprocal rank (MRR)
--   of the period.
-- grain: first click position (NULL = a clicked search whose first clicked item is not in
--   its results list, or that has no results list)
-- reads: searches
-- params: $start DATE (first search day, inclusive; default none = no lower bound),
--   $end DATE (last search day, inclusive; default none = no upper bound)
--
-- One row per first_click_position among clicked searches:
--   clicked_searches      clicked searches whose first click was at that 1-based rank
--   share                 clicked_searches / all clicked searches of the period
--   cumulative_share      share of clicked searches with a first click at this rank or better
--                         (NULL row last, so its cumulative_share is 1)
-- MRR, the same on every row: over the searches that have a results list (n_results NOT
-- NULL), the mean of 1 / first_click_position, counting 0 for a search without a click and for
-- a click on an item outside the list. Searches without a results list have no rank and are
-- left out; mrr is NULL when no search has a list. mrr_searches is that denominator.
WITH bounds AS (
    SELECT $start::DATE AS lo, $end::DATE AS hi
),
period AS (
    SELECT s.*
    FROM searches AS s, bounds AS b
    WHERE (b.lo IS NULL OR s.date >= b.lo) AND (b.hi IS NULL OR s.date <= b.hi)
),
mrr AS (
    SELECT count(*) AS mrr_searches,
           avg(coalesce(1.0 / first_click_position, 0.0)) AS mrr
    FROM period
    WHERE n_results IS NOT NULL
),
positions AS (
    SELECT first_click_position, count(*) AS clicked_searches
    FROM period
    WHERE clicked
    GROUP BY first_click_position
)
SELECT p.first_click_position,
       p.clicked_searches,
       p.clicked_searches::DOUBLE / sum(p.clicked_searches) OVER () AS share,
       sum(p.clicked_searches) OVER (
           ORDER BY p.first_click_position ASC NULLS LAST
           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
       )::DOUBLE / sum(p.clicked_searches) OVER () AS cumulative_share,
       m.mrr,
       m.mrr_searches
FROM positions AS p
CROSS JOIN mrr AS m
ORDER BY p.first_click_position ASC NULLS LAST
