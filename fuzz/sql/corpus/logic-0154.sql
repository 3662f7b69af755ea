SELECT id, greatest(i, id, 0), least(i, id) FROM v
