SELECT id, date_trunc('day', tz) FROM t
