-- purpose: Per-search CTR is consistent: ctr in {0, 1}, ctr = clicked::DOUBLE and
--   clicked = (n_clicks > 0).
-- grain: search (offending searches only; zero rows = pass)
-- reads: searches
-- params: none
--
-- A NULL in ctr, clicked or n_clicks is offending too.
SELECT user_id, session_id, search_index, n_clicks, clicked, ctr,
       CASE WHEN ctr IS NULL OR clicked IS NULL OR n_clicks IS NULL THEN 'null value'
            WHEN ctr NOT IN (0.0, 1.0) THEN 'ctr not 0 or 1'
            WHEN ctr <> clicked::DOUBLE THEN 'ctr differs from clicked'
            ELSE 'clicked differs from n_clicks > 0'
       END AS problem
FROM searches
WHERE ctr IS NULL OR clicked IS NULL OR n_clicks IS NULL
   OR ctr NOT IN (0.0, 1.0)
   OR ctr <> clicked::DOUBLE
   OR clicked <> (n_clicks > 0)
ORDER BY session_id, search_index
