SELECT id, CAST(d / i AS DOUBLE) FROM wide WHERE i <> 0
