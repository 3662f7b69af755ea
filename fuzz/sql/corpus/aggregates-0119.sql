SELECT b, count(*) FROM g GROUP BY b
