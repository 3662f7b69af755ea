SELECT sum(i) FROM x WHERE id <> 3
