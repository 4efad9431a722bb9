-- purpose: Each search lies inside its session: same user, search_time within
--   [session_start, session_end], and search times never decrease as search_index grows.
-- grain: search (offending searches only; zero rows = pass)
-- reads: searches, sessions
-- params: none
--
-- Searches whose session_id is not in sessions are reported by segment_counts.sql.
WITH joined AS (
    SELECT q.user_id, q.session_id, q.search_index, q.search_time,
           s.user_id AS session_user_id, s.session_start, s.session_end,
           lag(q.search_time) OVER (
               PARTITION BY q.session_id ORDER BY q.search_index
           ) AS previous_search_time
    FROM searches AS q
    JOIN sessions AS s ON s.session_id = q.session_id
),
flagged AS (
    SELECT *,
           concat_ws(', ',
               CASE WHEN user_id IS DISTINCT FROM session_user_id THEN 'user differs' END,
               CASE WHEN search_time IS NULL THEN 'search_time missing' END,
               CASE WHEN search_time < session_start OR search_time > session_end
                    THEN 'outside the session span' END,
               CASE WHEN search_time < previous_search_time
                    THEN 'earlier than the previous search' END
           ) AS problem
    FROM joined
)
SELECT * FROM flagged WHERE problem <> '' ORDER BY session_id, search_index
