-- purpose: Daily CTR with its Wilson score interval, and searches per day.
-- grain: day (search day; days of ctr_daily with at least one search)
-- reads: ctr_daily
-- params: $start DATE (first day, inclusive; default none = no lower bound),
--   $end DATE (last day, inclusive; default none = no upper bound),
--   $z DOUBLE (normal quantile of the interval; default 1.96 = 95 %)
--
-- ctr = clicked_searches / searches (as ctr_daily). ctr_low and ctr_high bound the Wilson
-- score interval of that proportion: with p = ctr, n = searches,
--   centre = (p + z^2 / 2n) / (1 + z^2 / n)
--   half   = z * sqrt(p (1 - p) / n + z^2 / 4n^2) / (1 + z^2 / n)
-- so the band stays inside [0, 1] and widens on days with few searches. (zq, not z: a column
-- named like a parameter would shadow it in export-duckdb's table macro.)
WITH bounds AS (
    SELECT $start::DATE AS lo, $end::DATE AS hi, $z::DOUBLE AS zq
),
days AS (
    SELECT d.date, d.searches, d.clicked_searches,
           d.clicked_searches::DOUBLE / d.searches AS p,
           b.zq
    FROM ctr_daily AS d, bounds AS b
    WHERE d.searches > 0
      AND (b.lo IS NULL OR d.date >= b.lo) AND (b.hi IS NULL OR d.date <= b.hi)
)
SELECT date,
       searches,
       clicked_searches,
       p AS ctr,
       (p + zq * zq / (2 * searches)) / (1 + zq * zq / searches)
           - zq * sqrt(p * (1 - p) / searches + zq * zq / (4.0 * searches * searches))
             / (1 + zq * zq / searches) AS ctr_low,
       (p + zq * zq / (2 * searches)) / (1 + zq * zq / searches)
           + zq * sqrt(p * (1 - p) / searches + zq * zq / (4.0 * searches * searches))
             / (1 + zq * zq / searches) AS ctr_high
FROM days
ORDER BY date
