SELECT sqrt(16) + ln(1) + pow(2, 10) FROM m WHERE id = 1
