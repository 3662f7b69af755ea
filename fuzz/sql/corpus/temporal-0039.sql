SELECT id, date_trunc('quarter', ts), date_trunc('week', ts) FROM t
