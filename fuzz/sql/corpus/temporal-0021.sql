SELECT id, extract(hour FROM ts), extract(minute FROM ts), extract(second FROM ts) FROM t
