SELECT id, regexp_replace(v, '[aeiou]', '*') FROM s
