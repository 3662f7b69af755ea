SELECT d, count(*) FROM g GROUP BY d
