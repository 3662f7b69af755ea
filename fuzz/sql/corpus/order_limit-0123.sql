SELECT v % 5 AS m, count(*) FROM big GROUP BY m ORDER BY m
