SELECT l.id, r.id FROM l INNER JOIN r ON l.k = r.k AND l.s = r.s
