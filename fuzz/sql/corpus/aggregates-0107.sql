SELECT k, count(*) FROM g GROUP BY k HAVING count(*) > 1
