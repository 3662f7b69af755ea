SELECT min(i), max(i), min(f), max(f), min(d), max(d), min(s), max(s), min(dt), max(dt), min(ts), max(ts) FROM g
