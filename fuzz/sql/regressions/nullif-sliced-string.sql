SELECT nullif(s, '') FROM v
