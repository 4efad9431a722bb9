-- purpose: Distribution of searches per session, with the click figures of each group.
-- grain: searches per session (0 .. max_bucket - 1 each, then one open group max_bucket+)
-- reads: sessions
-- params: $max_bucket BIGINT (sessions with this many searches or more share one row; default 10),
--   $start DATE (first session-start day, inclusive; default none = no lower bound),
--   $end DATE (last session-start day, inclusive; default none = no upper bound)
--
-- Sessions without a search are the n_searches = 0 row (they contribute to no CTR).
--   bucket             label: the count, or e.g. '10+' for the open last group
--   n_searches         lower bound of the group (the count itself except in the last group)
--   sessions           sessions in the group
--   share              sessions / all sessions of the period
--   cumulative_share   share of sessions with at most this many searches (the last group = 1)
--   clicks_per_search  clicks / searches of the group's sessions (CONTRACT §4: all clicks of
--                      the session, also before its first search); NULL for the 0 group
WITH bounds AS (
    SELECT $start::DATE AS lo, $end::DATE AS hi, greatest($max_bucket::BIGINT, 1) AS cap
),
grouped AS (
    SELECT least(s.n_searches::BIGINT, b.cap) AS n_searches,
           any_value(b.cap) AS cap,
           count(*) AS sessions,
           coalesce(sum(s.n_clicks), 0)::BIGINT AS clicks,
           coalesce(sum(s.n_searches), 0)::BIGINT AS searches
    FROM sessions AS s, bounds AS b
    WHERE (b.lo IS NULL OR s.date >= b.lo) AND (b.hi IS NULL OR s.date <= b.hi)
    GROUP BY 1
)
SELECT CASE WHEN n_searches = cap THEN n_searches::VARCHAR || '+' ELSE n_searches::VARCHAR END
           AS bucket,
       n_searches,
       sessions,
       sessions::DOUBLE / sum(sessions) OVER () AS share,
       sum(sessions) OVER (ORDER BY n_searches ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
           ::DOUBLE / sum(sessions) OVER () AS cumulative_share,
       clicks::DOUBLE / nullif(searches, 0) AS clicks_per_search
FROM grouped
ORDER BY n_searches
