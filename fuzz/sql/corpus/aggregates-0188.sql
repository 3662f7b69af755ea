SELECT k, count(*), sum(v), avg(f), stddev_samp(v) FROM big GROUP BY k
