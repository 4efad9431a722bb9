-- purpose: The rejected input rows, with their reason and the file and row they came from.
-- grain: rejected input event (in input order)
-- reads: flagged, events, sources
-- params: none
--
-- sources maps _file (UINTEGER) to source_file (VARCHAR) and source_row (BIGINT, the first
-- _seq of that file); it may be empty. source_row is the row's 0-based position within its
-- file; without a matching file, source_file is NULL and source_row the input position _seq.
SELECT
    e.user_id, e.event_time, e.event_type, e.query, e.items, e.item, e.event_id, f.reason,
    s.source_file,
    f._seq - coalesce(s.source_row, 0) AS source_row
FROM flagged AS f
JOIN events AS e ON e._row = f._row
LEFT JOIN sources AS s ON e._file = s._file
WHERE f.reason IS NOT NULL
ORDER BY f._seq
