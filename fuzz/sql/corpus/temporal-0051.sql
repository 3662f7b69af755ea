SELECT date_trunc('month', d) FROM t WHERE id = 1
