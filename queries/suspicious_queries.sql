-- purpose: Queries with huge volumes from very few users (scrapers, bots, load tests).
-- grain: query
-- reads: searches
-- params: $min_searches BIGINT (only queries searched at least this often; default 50),
--   $max_users BIGINT (flag a query issued by at most this many distinct users; default 3)
--
--   users                distinct users who issued the query
--   searches_per_user    searches / users
--   top_user             the user with the most searches of the query (smallest id on ties)
--   top_user_share       that user's searches / all searches of the query
--   ctr                  clicked_searches / searches
-- A NULL query (search without text) is one row and can be listed too.
-- Ordered by searches, most first.
WITH per_user AS (
    SELECT query, user_id,
           count(*) AS searches,
           count(*) FILTER (WHERE clicked) AS clicked_searches
    FROM searches
    GROUP BY query, user_id
),
per_query AS (
    SELECT query,
           sum(searches)::BIGINT AS searches,
           count(*) AS users,
           sum(clicked_searches)::BIGINT AS clicked_searches,
           first(user_id ORDER BY searches DESC, user_id) AS top_user,
           max(searches) AS top_user_searches
    FROM per_user
    GROUP BY query
)
SELECT query, searches, users,
       searches::DOUBLE / users AS searches_per_user,
       top_user, top_user_searches,
       top_user_searches::DOUBLE / searches AS top_user_share,
       clicked_searches::DOUBLE / searches AS ctr
FROM per_query
WHERE searches >= $min_searches::BIGINT AND users <= $max_users::BIGINT
ORDER BY searches DESC, query ASC NULLS LAST
