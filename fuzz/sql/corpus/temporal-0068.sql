SELECT id, strftime(tz, '%H:%M:%S') FROM t
