SELECT l.id, r.id FROM l, r WHERE l.k = r.k
