SELECT id, date_part('dow', ts) FROM t
