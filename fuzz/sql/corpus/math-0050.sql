SELECT id, ln(f) FROM m WHERE f > 0
