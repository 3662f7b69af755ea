SELECT x.id, x.k2 FROM (SELECT id, k * 2 AS k2 FROM (SELECT id, k FROM t WHERE id > 1) y) x
