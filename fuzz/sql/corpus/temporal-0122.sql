SELECT id, tz + INTERVAL '1 day' FROM t
