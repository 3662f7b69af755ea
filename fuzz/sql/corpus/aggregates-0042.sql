SELECT min(b), max(b) FROM g
