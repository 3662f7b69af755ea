SELECT strptime('2024-03-01 10:20:30', '%Y-%m-%d %H:%M:%S') FROM t WHERE id = 1
