-- purpose: A user's sessions never overlap, and consecutive ones are separated by more than
--   the gap (inclusive rule) or by at least the gap (exclusive rule), unless the later one
--   was opened by the maximum session duration.
-- grain: pair of consecutive sessions of a user (offending pairs only; zero rows = pass)
-- reads: sessions, run_summary
-- params: $gap_us BIGINT (session gap in microseconds; default none = run_summary.gap_us),
--   $exclusive BOOLEAN (true for the exclusive gap rule; default none = whether
--     run_summary.gap_rule is 'exclusive'),
--   $max_session_us BIGINT (maximum session duration in microseconds; default none =
--     run_summary.max_session_us, null when there is none)
--
-- Sessions are ordered per user by (session_start, session_end, session_id); each is compared
-- with the latest-ending of the user's earlier sessions (previous_session_*), so a session
-- inside a long one is caught too. With the inclusive rule (an event exactly gap after the
-- previous one stays in its session) a session must start more than gap after that end:
-- start - previous_end > gap; with the exclusive rule, >= gap. Overlapping sessions
-- (separation <= 0) always fail. With a maximum session duration, a session starting more
-- than that after the earlier one's start was opened by it and may follow closer than the gap.
-- When neither the parameters nor run_summary give the gap, one row says so.
WITH settings AS (
    SELECT coalesce($gap_us::BIGINT, (SELECT max(gap_us) FROM run_summary)) AS gap_us,
           coalesce(
               $exclusive::BOOLEAN,
               (SELECT max(gap_rule) = 'exclusive' FROM run_summary)
           ) AS exclusive,
           coalesce(
               $max_session_us::BIGINT, (SELECT max(max_session_us) FROM run_summary)
           ) AS max_session_us
),
ordered AS (
    SELECT user_id,
           arg_max(session_id, session_end) OVER earlier AS previous_session_id,
           max(session_end) OVER earlier AS previous_session_end,
           arg_max(session_start, session_end) OVER earlier AS previous_session_start,
           session_id,
           session_start
    FROM sessions
    WINDOW earlier AS (
        PARTITION BY user_id ORDER BY session_start, session_end, session_id
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    )
),
pairs AS (
    SELECT o.*,
           epoch_us(o.session_start) - epoch_us(o.previous_session_end) AS separation_us,
           c.gap_us,
           c.exclusive,
           c.max_session_us IS NOT NULL AND separation_us > 0
               AND epoch_us(o.session_start) - epoch_us(o.previous_session_start)
                   > c.max_session_us AS capped
    FROM ordered AS o, settings AS c
    WHERE o.previous_session_id IS NOT NULL
      AND c.gap_us IS NOT NULL AND c.exclusive IS NOT NULL
)
SELECT user_id, previous_session_id, previous_session_end, session_id, session_start,
       separation_us, gap_us, exclusive,
       CASE WHEN separation_us IS NULL THEN 'session times missing'
            WHEN separation_us <= 0 THEN 'sessions overlap'
            WHEN exclusive THEN 'separated by less than the gap'
            ELSE 'separated by no more than the gap'
       END AS problem
FROM pairs
WHERE separation_us IS NULL
   OR (NOT capped AND exclusive AND separation_us < gap_us)
   OR (NOT capped AND NOT exclusive AND separation_us <= gap_us)
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, gap_us, exclusive,
       'gap unknown: pass $gap_us and $exclusive, or add run_summary.gap_us and gap_rule'
FROM settings
WHERE gap_us IS NULL OR exclusive IS NULL
ORDER BY user_id NULLS FIRST, session_start
