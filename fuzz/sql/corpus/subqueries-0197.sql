SELECT id FROM t WHERE k IN (SELECT k FROM e WHERE id IN (SELECT id FROM t WHERE v > 2) AND x > (SELECT min(x) FROM e e2 WHERE e2.k = e.k) - 100)
