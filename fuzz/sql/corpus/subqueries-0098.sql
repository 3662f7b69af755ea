SELECT id, k IN (SELECT k FROM withnull), k NOT IN (SELECT k FROM u) FROM t
