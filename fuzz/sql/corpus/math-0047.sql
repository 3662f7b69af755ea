SELECT id, sqrt(i) FROM m WHERE i >= 0
