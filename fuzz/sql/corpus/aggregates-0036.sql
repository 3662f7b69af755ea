SELECT avg(f), avg(d) FROM g
