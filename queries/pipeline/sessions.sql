-- purpose: The sessions table: span, event/search/click counts and clicks per search.
-- grain: session (user_id, session_start)
-- reads: segmented
-- params: $timezone VARCHAR (IANA zone whose calendar date of session_start is `date`)
--
-- session_id = user_id/session_start in UTC as ISO-8601 with 6-digit microseconds and a Z.
-- duration is in microseconds (BIGINT): the caller casts it to a duration type; duration_s is
-- the same in seconds.
-- clicks_per_search = n_clicks / n_searches, NULL without a search. Ordered by the key.
WITH per_session AS (
    SELECT user_id, session_start,
        max(event_time) AS session_end,
        count(*) AS n_events,
        count(*) FILTER (WHERE event_type = 'search') AS n_searches,
        count(*) FILTER (WHERE event_type = 'click') AS n_clicks
    FROM segmented
    GROUP BY user_id, session_start
)
SELECT
    user_id,
    user_id || '/' || strftime(timezone('UTC', session_start), '%Y-%m-%dT%H:%M:%S.%fZ')
        AS session_id,
    session_start,
    session_end,
    epoch_us(session_end) - epoch_us(session_start) AS duration,
    (epoch_us(session_end) - epoch_us(session_start)) / 1e6 AS duration_s,
    n_events,
    n_searches,
    n_clicks,
    CASE WHEN n_searches > 0 THEN n_clicks / n_searches END AS clicks_per_search,
    timezone($timezone, session_start)::DATE AS date
FROM per_session
ORDER BY user_id, session_start
