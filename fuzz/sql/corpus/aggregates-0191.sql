SELECT count(DISTINCT v), min(v), max(v), median(v) FROM big
