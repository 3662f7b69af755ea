SELECT id, id IN (SELECT t.id FROM t WHERE t.k = e.k) FROM e
