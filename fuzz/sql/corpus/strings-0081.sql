SELECT id, regexp_matches(v, '^[a-z]+$') FROM s
