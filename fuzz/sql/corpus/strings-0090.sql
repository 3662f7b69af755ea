SELECT id, regexp_extract(v, '([a-z])([a-z])', 2) FROM s
