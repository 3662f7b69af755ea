SELECT id FROM e WHERE id IN (SELECT t.id FROM t WHERE t.k = e.k)
