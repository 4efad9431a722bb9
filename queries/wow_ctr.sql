-- purpose: Week-over-week CTR: each week's CTR next to the previous week's, with the change.
-- grain: week (ISO week, Monday to Sunday, by search day)
-- reads: ctr_daily
-- params: none
--
--   week_start, week_end     Monday and Sunday of the week
--   days_with_searches       days of the week with at least one search (7 = a full week)
--   ctr                      clicked_searches / searches of the week; NULL without searches
--   previous_ctr             ctr of the calendar week before (NULL when that week has no data,
--                            also when the log skips a week: weeks are matched by date, not rank)
--   ctr_change               ctr - previous_ctr, in CTR units (0.01 = one percentage point)
--   ctr_change_relative      ctr / previous_ctr - 1; NULL when previous_ctr is 0 or NULL
--   partial                  true when this week or the previous one has fewer than 7 days with
--                            searches (the first and last week of a log usually are): read
--                            those changes with care
WITH weekly AS (
    SELECT date_trunc('week', date)::DATE AS week_start,
           count(*) FILTER (WHERE searches > 0) AS days_with_searches,
           coalesce(sum(searches), 0)::BIGINT AS searches,
           coalesce(sum(clicked_searches), 0)::BIGINT AS clicked_searches
    FROM ctr_daily
    GROUP BY 1
),
rated AS (
    SELECT *, clicked_searches::DOUBLE / nullif(searches, 0) AS ctr
    FROM weekly
)
SELECT w.week_start,
       w.week_start + 6 AS week_end,
       w.days_with_searches,
       w.searches,
       w.clicked_searches,
       w.ctr,
       p.ctr AS previous_ctr,
       w.ctr - p.ctr AS ctr_change,
       w.ctr / nullif(p.ctr, 0) - 1 AS ctr_change_relative,
       w.days_with_searches < 7 OR coalesce(p.days_with_searches, 0) < 7 AS partial
FROM rated AS w
LEFT JOIN rated AS p ON p.week_start = w.week_start - 7
ORDER BY w.week_start
