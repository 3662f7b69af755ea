SELECT to_timestamp(1.5) FROM t WHERE id = 1
