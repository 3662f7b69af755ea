SELECT id, ts + INTERVAL '1 day', ts - INTERVAL '3 hours', ts + INTERVAL '90 minutes' FROM t
