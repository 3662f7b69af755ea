SELECT id, replace(v, 'abc', '') FROM s
