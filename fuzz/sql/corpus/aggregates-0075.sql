SELECT count(*), count(i), sum(i), avg(f), stddev_samp(f), var_pop(f), min(i), max(i), string_agg(s, ','), bool_and(b) FROM e
