SELECT id, round(d) FROM m
