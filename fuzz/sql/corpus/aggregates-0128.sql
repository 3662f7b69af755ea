SELECT ts, count(*) FROM g GROUP BY ts
