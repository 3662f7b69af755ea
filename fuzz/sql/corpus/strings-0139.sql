SELECT id, CASE WHEN v = '' THEN 'empty' WHEN v IS NULL THEN 'null' ELSE 'text' END FROM s
