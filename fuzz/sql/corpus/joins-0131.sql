SELECT l.id, r.id, l2.id FROM l JOIN r ON l.k = r.k JOIN l l2 ON l2.s = r.s
