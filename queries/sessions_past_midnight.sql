-- purpose: Sessions that continue past midnight, per start day: the sessions a day-by-day
--   backfill must carry into the next day (its lookback bounds how far).
-- grain: day (session-start day)
-- reads: sessions, run_summary
-- params: $start DATE (first day, inclusive; default none = no lower bound),
--   $end DATE (last day, inclusive; default none = no upper bound)
--
-- A session's day is the date of its session_start in the output's time zone (run_summary's
-- timezone, the --timezone of the run); it continues past midnight when its session_end falls
-- on a later date in that zone.
--   sessions            sessions starting that day
--   past_midnight       of those, sessions that end on a later day
--   past_midnight_share past_midnight / sessions
--   longest_s           the longest duration among them, in seconds (NULL when none)
WITH bounds AS (
    SELECT $start::DATE AS lo, $end::DATE AS hi
),
zone AS (
    SELECT coalesce(any_value(timezone), 'UTC') AS name FROM run_summary
),
flagged AS (
    SELECT s.date,
           timezone(z.name, s.session_end)::DATE > s.date AS crosses,
           (epoch_us(s.session_end) - epoch_us(s.session_start)) / 1e6 AS duration_s
    FROM sessions AS s, zone AS z, bounds AS b
    WHERE (b.lo IS NULL OR s.date >= b.lo) AND (b.hi IS NULL OR s.date <= b.hi)
)
SELECT date,
       count(*) AS sessions,
       count(*) FILTER (WHERE crosses) AS past_midnight,
       (count(*) FILTER (WHERE crosses))::DOUBLE / count(*) AS past_midnight_share,
       max(duration_s) FILTER (WHERE crosses) AS longest_s
FROM flagged
GROUP BY date
ORDER BY date
