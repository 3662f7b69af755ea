SELECT id FROM e WHERE EXISTS (SELECT 1 FROM e e2 WHERE e2.k = e.k AND e2.id <> e.id)
