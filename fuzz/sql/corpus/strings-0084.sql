SELECT id, regexp_matches(v, 'b.') FROM s
