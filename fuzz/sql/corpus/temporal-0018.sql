SELECT id, extract(dow FROM d), extract(isodow FROM d) FROM t
