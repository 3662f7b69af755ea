SELECT id, date_trunc('minute', ts), date_trunc('day', ts), date_trunc('month', ts), date_trunc('year', ts) FROM t
