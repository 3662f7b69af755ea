SELECT id, to_timestamp(e) FROM t
