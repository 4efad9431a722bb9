-- purpose: The searches table: one row per search segment (a search plus the events up to
--   the next search of its session), with its clicks, CTR and first results and click.
-- grain: search segment (user_id, session_start, search_index > 0)
-- reads: segmented, events
-- params: $timezone VARCHAR (IANA zone whose calendar date of search_time is `date`)
--
-- The segment's first results list (by _ord) gives n_results; its first click gives
-- time_to_first_click (microseconds, BIGINT: the caller casts it to a duration type; also in
-- seconds as time_to_first_click_s) and
-- first_click_position (1-based rank of the clicked item's first occurrence in that list; NULL
-- when there is no list or click, the item is NULL or not listed). Ordered by the key.
-- The segment's search, first results and first click are found as row numbers (_row); their
-- query, list and item are then fetched from events, once per segment.
WITH per_segment AS (
    SELECT user_id, session_start, search_index,
        min(event_time) AS search_time,  -- the search opens its segment
        arg_min(_row, _ord) FILTER (WHERE event_type = 'search') AS search_row,
        arg_min(_row, _ord) FILTER (WHERE event_type = 'results') AS results_row,
        count(*) FILTER (WHERE event_type = 'click') AS n_clicks,
        min(event_time) FILTER (WHERE event_type = 'click') AS first_click_time,
        arg_min(_row, _ord) FILTER (WHERE event_type = 'click') AS click_row
    FROM segmented
    WHERE search_index > 0
    GROUP BY user_id, session_start, search_index
),
looked_up AS (  -- the query, first results list and first clicked item, by row number
    SELECT p.*, s.query, r.items AS result_items, c.item AS clicked_item
    FROM per_segment AS p
    LEFT JOIN (FROM events WHERE event_type = 'search') AS s ON s._row = p.search_row
    LEFT JOIN (FROM events WHERE event_type = 'results') AS r ON r._row = p.results_row
    LEFT JOIN (FROM events WHERE event_type = 'click') AS c ON c._row = p.click_row
)
SELECT
    user_id,
    user_id || '/' || strftime(timezone('UTC', session_start), '%Y-%m-%dT%H:%M:%S.%fZ')
        AS session_id,
    search_index,
    search_time,
    query,
    len(result_items) AS n_results,
    n_clicks,
    n_clicks > 0 AS clicked,
    CASE WHEN n_clicks > 0 THEN 1.0 ELSE 0.0 END::DOUBLE AS ctr,
    epoch_us(first_click_time) - epoch_us(search_time) AS time_to_first_click,
    (epoch_us(first_click_time) - epoch_us(search_time)) / 1e6 AS time_to_first_click_s,
    -- list_position would find a NULL item at a NULL entry: a NULL item matches nothing.
    CASE WHEN clicked_item IS NOT NULL THEN list_position(result_items, clicked_item) END
        AS first_click_position,
    timezone($timezone, search_time)::DATE AS date
FROM looked_up
ORDER BY user_id, session_start, search_index
