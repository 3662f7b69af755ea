SELECT id FROM v WHERE s IN ('a', 'B', '')
