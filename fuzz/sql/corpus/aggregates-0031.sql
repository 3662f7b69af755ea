SELECT avg(f), avg(d) FROM g WHERE id < 10
