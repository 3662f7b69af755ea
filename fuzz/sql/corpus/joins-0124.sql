SELECT l.id, e.id FROM e FULL JOIN l ON l.k = e.k
