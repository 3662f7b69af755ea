SELECT id, extract(year FROM d), extract(month FROM d), extract(day FROM d), extract(quarter FROM d), extract(doy FROM d), extract(week FROM d) FROM t
