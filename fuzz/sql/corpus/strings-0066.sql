SELECT id, starts_with(v, 'ab'), ends_with(v, 'bc'), contains(v, 'b') FROM s
