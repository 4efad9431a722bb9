-- peer_window: the DuckDB window-SQL job an analyst would write (LAG + SUM OVER).
-- grain: one row per search segment | reads: $events (Parquet glob) | writes: nothing (benchmark peer)
WITH events AS (
    SELECT user_id::VARCHAR AS user_id, event_time, event_type, query, item,
           row_number() OVER () AS seq
    FROM read_parquet($events)
),
gaps AS (
    SELECT *,
           CASE WHEN event_time - lag(event_time) OVER w <= INTERVAL 30 MINUTE THEN 0 ELSE 1 END
               AS opens_session
    FROM events
    WINDOW w AS (PARTITION BY user_id ORDER BY event_time, seq)
),
sessions AS (
    SELECT *,
           sum(opens_session) OVER (PARTITION BY user_id ORDER BY event_time, seq
                                    ROWS UNBOUNDED PRECEDING) AS session_no
    FROM gaps
),
segments AS (
    SELECT *,
           sum((event_type = 'search')::INT) OVER (PARTITION BY user_id, session_no
                                                   ORDER BY event_time, seq
                                                   ROWS UNBOUNDED PRECEDING) AS search_index
    FROM sessions
)
SELECT user_id, session_no, search_index,
       min(event_time) FILTER (WHERE event_type = 'search') AS search_time,
       any_value(query) FILTER (WHERE event_type = 'search') AS query,
       count(*) FILTER (WHERE event_type = 'click') AS n_clicks,
       (count(*) FILTER (WHERE event_type = 'click') > 0)::DOUBLE AS ctr
FROM segments
WHERE search_index > 0
GROUP BY ALL
