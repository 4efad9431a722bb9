-- purpose: Every input event's key columns with `reason`, why it cannot be processed (NULL when
--   it can): pipeline stage 1 of the SQL engine (ctr_batch.sql.engine), as stages.flag.
-- grain: input event
-- reads: events
-- params: $dedupe BOOLEAN (true: a repeated event_id is a duplicate; false for logs without ids)
--
-- events holds the contract columns plus _seq (BIGINT, global input order), _file and _row
-- (BIGINT, unique: the key that joins columns back, whatever _seq holds). The first
-- reason that applies wins: null_user_id > null_event_time > unknown_event_type (a NULL type
-- included) > duplicate_event_id. A duplicate is a processable row whose event_id an earlier
-- processable row (by _seq) already had: only rows without another reason count as seen ids,
-- so a broken copy never displaces a good row. Only the columns that sessions and segments
-- need are kept: the others (query, items, item) are joined back by _row where needed.
WITH checked AS (
    SELECT
        user_id, event_time, event_type, event_id, _seq, _row,
        CASE
            WHEN user_id IS NULL THEN 'null_user_id'
            WHEN event_time IS NULL THEN 'null_event_time'
            WHEN event_type IS NULL
                OR event_type NOT IN ('app_open', 'search', 'results', 'click', 'app_close')
                THEN 'unknown_event_type'
        END AS problem
    FROM events
),
first_seen AS (  -- ids that repeat: few, so that joining them back is cheap
    SELECT event_id, min(_seq) AS first_seq
    FROM checked
    WHERE $dedupe AND problem IS NULL AND event_id IS NOT NULL
    GROUP BY event_id
    HAVING count(*) > 1
)
SELECT
    c.user_id, c.event_time, c.event_type, c._seq, c._row,
    CASE
        WHEN c.problem IS NOT NULL THEN c.problem
        WHEN c._seq <> f.first_seq THEN 'duplicate_event_id'
    END AS reason
FROM checked AS c
LEFT JOIN first_seen AS f ON c.problem IS NULL AND c.event_id = f.event_id
