SELECT id, sqrt(f) FROM m WHERE f >= 0
