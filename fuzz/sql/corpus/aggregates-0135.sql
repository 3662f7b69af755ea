SELECT upper(k) AS uk, count(*) FROM g GROUP BY uk
