SELECT ts = tz FROM v
