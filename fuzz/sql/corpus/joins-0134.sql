SELECT l.id, r.id, l2.id FROM l LEFT JOIN r ON l.k = r.k LEFT JOIN l l2 ON l2.k = r.k
