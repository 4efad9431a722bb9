-- purpose: Distribution of session duration and of events per session, in fixed buckets.
-- grain: measure and bucket (measure 'duration' or 'n_events'; every bucket listed, also empty)
-- reads: sessions
-- params: $start DATE (first session-start day, inclusive; default none = no lower bound),
--   $end DATE (last session-start day, inclusive; default none = no upper bound)
--
-- duration = session_end - session_start (0 s for a one-event session). Buckets are
-- half-open [lower_bound, upper_bound), in seconds for duration: 0 (exactly 0 s), (0, 10),
-- [10, 60), [60, 300), [300, 900), [900, 1800), [1800, 3600), [3600, 7200), 7200+; in events
-- for n_events: 1, 2, 3-4, 5-9, 10-19, 20-49, 50+. upper_bound NULL = no upper bound.
--   sessions           sessions in the bucket
--   share              sessions / all sessions of the period (NULL when there are none)
--   cumulative_share   share of sessions in this bucket or a lower one
--   mean_n_searches    mean searches per session in the bucket (NULL when empty)
WITH bounds AS (
    SELECT $start::DATE AS lo, $end::DATE AS hi
),
buckets (measure, bucket_order, bucket, lower_bound, upper_bound) AS (
    VALUES ('duration', 1, '0s', 0, 0),
           ('duration', 2, '<10s', 0, 10),
           ('duration', 3, '10s-1m', 10, 60),
           ('duration', 4, '1m-5m', 60, 300),
           ('duration', 5, '5m-15m', 300, 900),
           ('duration', 6, '15m-30m', 900, 1800),
           ('duration', 7, '30m-1h', 1800, 3600),
           ('duration', 8, '1h-2h', 3600, 7200),
           ('duration', 9, '2h+', 7200, NULL),
           ('n_events', 1, '1', 1, 2),
           ('n_events', 2, '2', 2, 3),
           ('n_events', 3, '3-4', 3, 5),
           ('n_events', 4, '5-9', 5, 10),
           ('n_events', 5, '10-19', 10, 20),
           ('n_events', 6, '20-49', 20, 50),
           ('n_events', 7, '50+', 50, NULL)
),
period AS (
    SELECT (epoch_us(s.session_end) - epoch_us(s.session_start)) / 1e6 AS duration_s,
           s.n_events,
           s.n_searches
    FROM sessions AS s, bounds AS b
    WHERE (b.lo IS NULL OR s.date >= b.lo) AND (b.hi IS NULL OR s.date <= b.hi)
),
assigned AS (
    SELECT 'duration' AS measure,
           CASE WHEN duration_s <= 0 THEN 1 WHEN duration_s < 10 THEN 2
                WHEN duration_s < 60 THEN 3 WHEN duration_s < 300 THEN 4
                WHEN duration_s < 900 THEN 5 WHEN duration_s < 1800 THEN 6
                WHEN duration_s < 3600 THEN 7 WHEN duration_s < 7200 THEN 8 ELSE 9 END
               AS bucket_order,
           n_searches
    FROM period
    UNION ALL
    SELECT 'n_events' AS measure,
           CASE WHEN n_events <= 1 THEN 1 WHEN n_events = 2 THEN 2 WHEN n_events < 5 THEN 3
                WHEN n_events < 10 THEN 4 WHEN n_events < 20 THEN 5
                WHEN n_events < 50 THEN 6 ELSE 7 END AS bucket_order,
           n_searches
    FROM period
),
counted AS (
    SELECT k.measure, k.bucket_order, k.bucket, k.lower_bound, k.upper_bound,
           count(a.bucket_order) AS sessions,
           avg(a.n_searches) AS mean_n_searches
    FROM buckets AS k
    LEFT JOIN assigned AS a ON a.measure = k.measure AND a.bucket_order = k.bucket_order
    GROUP BY ALL
)
SELECT measure, bucket_order, bucket, lower_bound, upper_bound, sessions,
       sessions::DOUBLE / nullif(sum(sessions) OVER (PARTITION BY measure), 0) AS share,
       sum(sessions) OVER (
           PARTITION BY measure ORDER BY bucket_order
           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
       )::DOUBLE / nullif(sum(sessions) OVER (PARTITION BY measure), 0) AS cumulative_share,
       mean_n_searches
FROM counted
ORDER BY measure, bucket_order
