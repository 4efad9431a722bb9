-- purpose: Distribution of the time from a search to its first click, in fixed buckets.
-- grain: bucket (every bucket listed, also empty)
-- reads: searches
-- params: $start DATE (first search day, inclusive; default none = no lower bound),
--   $end DATE (last search day, inclusive; default none = no upper bound)
--
-- Over clicked searches with a time_to_first_click (microseconds in the table). Buckets are
-- half-open [lower_bound_s, upper_bound_s) in seconds: <1s, 1-2s, 2-5s, 5-10s, 10-30s, 30s-1m,
-- 1-2m, 2-5m, 5m+ (upper_bound_s NULL = no upper bound).
--   clicked_searches   clicked searches whose first click came within the bucket
--   share              clicked_searches / all counted searches (NULL when there are none)
--   cumulative_share   share of first clicks in this bucket or a faster one
WITH bounds AS (
    SELECT $start::DATE AS lo, $end::DATE AS hi
),
buckets (bucket_order, bucket, lower_bound_s, upper_bound_s) AS (
    VALUES (1, '<1s', 0, 1), (2, '1-2s', 1, 2), (3, '2-5s', 2, 5), (4, '5-10s', 5, 10),
           (5, '10-30s', 10, 30), (6, '30s-1m', 30, 60), (7, '1-2m', 60, 120),
           (8, '2-5m', 120, 300), (9, '5m+', 300, NULL)
),
period AS (
    SELECT s.time_to_first_click / 1e6 AS seconds
    FROM searches AS s, bounds AS b
    WHERE s.clicked AND s.time_to_first_click IS NOT NULL
      AND (b.lo IS NULL OR s.date >= b.lo) AND (b.hi IS NULL OR s.date <= b.hi)
),
counted AS (
    SELECT k.bucket_order, k.bucket, k.lower_bound_s, k.upper_bound_s,
           count(p.seconds) AS clicked_searches
    FROM buckets AS k
    LEFT JOIN period AS p
        ON p.seconds >= k.lower_bound_s AND (k.upper_bound_s IS NULL OR p.seconds < k.upper_bound_s)
    GROUP BY ALL
)
SELECT bucket_order, bucket, lower_bound_s, upper_bound_s, clicked_searches,
       clicked_searches::DOUBLE / nullif(sum(clicked_searches) OVER (), 0) AS share,
       sum(clicked_searches) OVER (ORDER BY bucket_order
                                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)::DOUBLE
           / nullif(sum(clicked_searches) OVER (), 0) AS cumulative_share
FROM counted
ORDER BY bucket_order
