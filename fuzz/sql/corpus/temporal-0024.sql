SELECT id, date_part('year', ts), date_part('month', tz), date_part('hour', tz) FROM t
