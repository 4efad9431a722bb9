-- purpose: Each session row is consistent in itself: keys present, end >= start, duration =
--   end - start, n_searches + n_clicks <= n_events, and clicks_per_search = n_clicks / n_searches.
-- grain: session (offending sessions only; zero rows = pass)
-- reads: sessions
-- params: none
--
-- duration is stored in microseconds. clicks_per_search must be NULL exactly when the
-- session has no search, and match n_clicks / n_searches within 1e-9 otherwise. Searches and
-- clicks are events of the session, so together they cannot outnumber its events; a session
-- has at least one event.
WITH flagged AS (
    SELECT user_id, session_id, session_start, session_end, duration, n_events, n_searches,
           n_clicks, clicks_per_search,
           concat_ws(', ',
               CASE WHEN user_id IS NULL OR session_id IS NULL OR session_start IS NULL
                         OR session_end IS NULL OR n_events IS NULL OR n_searches IS NULL
                         OR n_clicks IS NULL OR date IS NULL
                    THEN 'null value' END,
               CASE WHEN session_end < session_start THEN 'ends before it starts' END,
               CASE WHEN duration IS DISTINCT FROM
                         epoch_us(session_end) - epoch_us(session_start)
                    THEN 'duration <> session_end - session_start' END,
               CASE WHEN n_events < 1 THEN 'no events' END,
               CASE WHEN n_searches + n_clicks > n_events
                    THEN 'more searches and clicks than events' END,
               CASE WHEN (clicks_per_search IS NULL) <> (n_searches = 0)
                         OR abs(clicks_per_search - n_clicks::DOUBLE / n_searches) > 1e-9
                    THEN 'clicks_per_search <> n_clicks / n_searches' END
           ) AS problem
    FROM sessions
)
SELECT * FROM flagged WHERE problem <> '' ORDER BY session_id NULLS FIRST
