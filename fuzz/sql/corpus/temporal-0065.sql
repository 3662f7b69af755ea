SELECT id, strftime(ts, '%Y-%m-%d %H:%M:%S') FROM t
