-- purpose: Quarantined input rows per day and reason.
-- grain: day and reason
-- reads: quarantine
-- params: $start DATE (first day, inclusive; default none = no lower bound),
--   $end DATE (last day, inclusive; default none = no upper bound)
--
-- The day is the row's home day in a backfill's output (its date= folder); in a run's output,
-- which has no date column, the UTC date of the row's event_time (NULL for a row without
-- one). The bounds apply to that day; rows without a day are kept only without bounds.
-- rows: quarantined rows of that day and reason. Ordered by day (NULL last), then reason.
WITH bounds AS (
    SELECT $start::DATE AS lo, $end::DATE AS hi
),
rows_ AS (
    SELECT coalesce(q.date, (q.event_time AT TIME ZONE 'UTC')::DATE) AS date, q.reason
    FROM (
        SELECT NULL::DATE AS date, NULL::TIMESTAMPTZ AS event_time, NULL::VARCHAR AS reason
        WHERE false
        UNION ALL BY NAME
        SELECT * FROM quarantine
    ) AS q
)
SELECT r.date, r.reason, count(*) AS rows
FROM rows_ AS r, bounds AS b
WHERE (b.lo IS NULL OR r.date >= b.lo) AND (b.hi IS NULL OR r.date <= b.hi)
GROUP BY r.date, r.reason
ORDER BY r.date ASC NULLS LAST, r.reason
