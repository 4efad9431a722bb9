-- purpose: session_id is unique and never NULL in sessions.
-- grain: session_id (offending ids only; zero rows = pass)
-- reads: sessions
-- params: none
SELECT session_id, count(*) AS session_rows, count(DISTINCT user_id) AS users
FROM sessions
GROUP BY session_id
HAVING count(*) > 1 OR session_id IS NULL
ORDER BY session_id NULLS FIRST
