SELECT sum(a * 2), sum(d * 2) FROM empty
