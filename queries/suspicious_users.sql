-- purpose: Users with bot-like search volumes: a day far above the p99 of user-days, or too
--   many searches within an hour.
-- grain: user
-- reads: searches
-- params: $max_searches_per_hour BIGINT (flag a user with more searches than this in any
--     60-minute window; default 60),
--   $p99_factor DOUBLE (flag a user with a day above this many times the p99 of searches per
--     user-day; default 3)
--
-- A user-day is one user's searches on one day (the searches table's date). p99_per_day is
-- the 99th percentile (interpolated) of searches over all user-days of the log. A 60-minute
-- window is [t, t + 1 h) starting at any of the user's searches t (sliding, not clock hours).
--   max_searches_per_day / busiest_day     the user's largest day (earliest on ties)
--   max_searches_per_hour / busiest_hour_start  the largest window and when it starts
--   ctr                                    clicked_searches / searches (bots rarely click)
--   reasons                                why the user is listed, '; '-separated
-- Ordered by max_searches_per_hour, then max_searches_per_day, most first.
WITH per_day AS (
    SELECT user_id, date, count(*) AS searches
    FROM searches
    GROUP BY user_id, date
),
threshold AS (
    SELECT quantile_cont(searches, 0.99) AS p99_per_day FROM per_day
),
windows AS (
    SELECT user_id, search_time,
           count(*) OVER (
               PARTITION BY user_id ORDER BY search_time
               RANGE BETWEEN CURRENT ROW
                     AND INTERVAL 1 HOUR - INTERVAL 1 MICROSECOND FOLLOWING
           ) AS searches_in_hour
    FROM searches
),
per_user AS (
    SELECT user_id,
           count(*) AS searches,
           count(*) FILTER (WHERE clicked) AS clicked_searches,
           count(DISTINCT date) AS days_active
    FROM searches
    GROUP BY user_id
),
busiest_day AS (
    SELECT user_id,
           max(searches) AS max_searches_per_day,
           first(date ORDER BY searches DESC, date) AS busiest_day
    FROM per_day
    GROUP BY user_id
),
busiest_hour AS (
    SELECT user_id,
           max(searches_in_hour) AS max_searches_per_hour,
           first(search_time ORDER BY searches_in_hour DESC, search_time) AS busiest_hour_start
    FROM windows
    GROUP BY user_id
),
flagged AS (
    SELECT u.user_id, u.searches, u.days_active,
           d.max_searches_per_day, d.busiest_day, t.p99_per_day,
           h.max_searches_per_hour, h.busiest_hour_start,
           u.clicked_searches::DOUBLE / u.searches AS ctr,
           d.max_searches_per_day > $p99_factor::DOUBLE * t.p99_per_day AS daily_flag,
           h.max_searches_per_hour > $max_searches_per_hour::BIGINT AS hourly_flag
    FROM per_user AS u
    JOIN busiest_day AS d USING (user_id)
    JOIN busiest_hour AS h USING (user_id)
    CROSS JOIN threshold AS t
)
SELECT f.user_id, f.searches, f.days_active, f.max_searches_per_day, f.busiest_day,
       f.p99_per_day, f.max_searches_per_hour, f.busiest_hour_start, f.ctr,
       concat_ws('; ',
           CASE WHEN f.daily_flag THEN 'day above ' || $p99_factor::DOUBLE || ' x p99' END,
           CASE WHEN f.hourly_flag
                THEN 'more than ' || $max_searches_per_hour::BIGINT || ' searches in an hour'
           END
       ) AS reasons
FROM flagged AS f
WHERE f.daily_flag OR f.hourly_flag
ORDER BY f.max_searches_per_hour DESC, f.max_searches_per_day DESC, f.user_id
