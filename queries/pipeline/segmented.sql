-- purpose: Processable events with their session and search segment: session_start and
--   search_index, plus _ord (1-based position in the user's events ordered by event_time, then
--   _seq: equal times keep input order).
-- grain: processable event
-- reads: flagged
-- params: $gap_us BIGINT (session gap in microseconds, > 0),
--   $exclusive BOOLEAN (false: an event exactly $gap_us after the previous one of its user
--     stays in the session, delta > gap opens one; true: it opens one, delta >= gap)
--
-- A user's first event opens a session. session_start is the first event time of the session
-- (with user_id, the session key); search_index counts the session's searches at or before the
-- event (0 before the first one). Session starts and running search counts never decrease
-- along _ord, so their values at the latest session opening are running maxima.
-- Only key columns: the stages that need query, items or item fetch them from events by _row
-- (the event's row number), so that no sort or aggregation carries the result lists.
WITH valid AS (
    SELECT user_id, event_time, event_type, _seq, _row, epoch_us(event_time) AS t_us
    FROM flagged
    WHERE reason IS NULL
),
stepped AS (
    SELECT *,
        row_number() OVER by_user AS _ord,
        t_us - lag(t_us) OVER by_user AS idle_us,
        count(*) FILTER (WHERE event_type = 'search') OVER (
            by_user ROWS UNBOUNDED PRECEDING
        ) AS searches_so_far
    FROM valid
    WINDOW by_user AS (PARTITION BY user_id ORDER BY event_time, _seq)
),
opened AS (
    SELECT *,
        idle_us IS NULL OR idle_us > $gap_us OR ($exclusive AND idle_us = $gap_us)
            AS opens_session
    FROM stepped
),
SELECT user_id, event_time, event_type, _seq, _row, _ord,
    max(CASE WHEN opens_session THEN event_time END) OVER since_open AS session_start,
    searches_so_far - max(
        CASE WHEN opens_session THEN searches_so_far - (event_type = 'search')::BIGINT END
    ) OVER since_open AS search_index
FROM opened
WINDOW since_open AS (PARTITION BY user_id ORDER BY _ord ROWS UNBOUNDED PRECEDING)
