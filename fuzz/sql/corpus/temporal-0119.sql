SELECT id, ts + INTERVAL '1 month', ts - INTERVAL '1 year' FROM t
