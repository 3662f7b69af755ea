SELECT id, strftime(d, '%d/%m/%Y') FROM t
