SELECT id FROM e WHERE x >= 0.5 * (SELECT max(x) FROM e e2 WHERE e2.k = e.k AND e2.id <> 99)
