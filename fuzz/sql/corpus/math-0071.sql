SELECT round(2.5), round(-2.5) FROM m WHERE id = 1
