SELECT extract(year FROM d) AS y, count(*), max(CAST(d AS VARCHAR)) FROM t GROUP BY y
