SELECT id, contains(v, '') FROM s
