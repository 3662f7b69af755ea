SELECT dt, count(*) FROM g GROUP BY dt
