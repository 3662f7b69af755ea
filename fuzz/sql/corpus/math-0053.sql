SELECT id, exp(f) FROM m WHERE abs(f) < 700
