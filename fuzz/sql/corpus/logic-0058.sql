SELECT id, i = 2, i <> 2, i < 2, i <= 2, i > 2, i >= 2 FROM v
