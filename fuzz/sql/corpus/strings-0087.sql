SELECT id, regexp_extract(v, '[a-z]+') FROM s
