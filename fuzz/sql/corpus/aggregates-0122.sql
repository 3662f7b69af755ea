SELECT f, count(*) FROM g GROUP BY f
