SELECT id, date_trunc('hour', ts) FROM t
