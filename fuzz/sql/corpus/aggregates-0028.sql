SELECT sum(i), sum(d), sum(f), avg(i) FROM g
