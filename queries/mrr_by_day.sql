-- purpose: Daily mean reciprocal rank (MRR) of the first click, next to the daily CTR.
-- grain: day (search day)
-- reads: searches
-- params: $start DATE (first day, inclusive; default none = no lower bound),
--   $end DATE (last day, inclusive; default none = no upper bound)
--
-- mrr: over the day's searches that have a results list (n_results NOT NULL), the mean of
-- 1 / first_click_position, counting 0 for a search without a click and for a click on an
-- item outside the list (as in click_position.sql). NULL on a day with no results list.
-- ranked_searches: that denominator. mean_first_click_position: over clicked searches with a
-- known rank. ctr: clicked_searches / searches.
WITH bounds AS (
    SELECT $start::DATE AS lo, $end::DATE AS hi
)
SELECT s.date,
       count(*) AS searches,
       (count(*) FILTER (WHERE s.clicked))::DOUBLE / count(*) AS ctr,
       count(*) FILTER (WHERE s.n_results IS NOT NULL) AS ranked_searches,
       avg(coalesce(1.0 / s.first_click_position, 0.0)) FILTER (WHERE s.n_results IS NOT NULL)
           AS mrr,
       avg(s.first_click_position) AS mean_first_click_position
FROM searches AS s, bounds AS b
WHERE (b.lo IS NULL OR s.date >= b.lo) AND (b.hi IS NULL OR s.date <= b.hi)
GROUP BY s.date
ORDER BY s.date
