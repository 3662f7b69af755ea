SELECT min(i), max(i), count(DISTINCT i) FROM x
