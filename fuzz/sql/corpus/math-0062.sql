SELECT id, sqrt(d) FROM m WHERE d >= 0
