SELECT id FROM e WHERE x <= (SELECT max(x) FROM e e2 WHERE e2.k = e.k AND e2.id % 2 = e.id % 2)
