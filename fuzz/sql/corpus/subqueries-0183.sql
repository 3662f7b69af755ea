SELECT id, id NOT IN (SELECT t.id + 1 FROM t WHERE t.k = e.k) FROM e
