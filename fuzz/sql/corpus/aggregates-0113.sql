SELECT i % 2, count(*) FROM g GROUP BY i % 2
