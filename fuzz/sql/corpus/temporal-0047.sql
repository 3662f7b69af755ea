SELECT id, CAST(date_trunc('month', d) AS DATE) FROM t
