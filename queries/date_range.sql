-- purpose: First and last day of the output, and how many days have a search.
-- grain: output (one row)
-- reads: ctr_daily
-- params: none
--
-- first_day, last_day: the earliest and latest date of ctr_daily (NULL when it is empty);
-- days_with_searches: its days with at least one search.
SELECT min(date) AS first_day,
       max(date) AS last_day,
       count(*) FILTER (WHERE searches > 0) AS days_with_searches
FROM ctr_daily
