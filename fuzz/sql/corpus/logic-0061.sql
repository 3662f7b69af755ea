SELECT id, f = 0, f < 1, s < 'b', s >= 'B' FROM v
