SELECT count(*) FROM e JOIN l ON l.k = e.k
