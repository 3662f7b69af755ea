SELECT count(*), count(i), count(k), count(DISTINCT i), count(DISTINCT k), count(DISTINCT s) FROM g
