SELECT id FROM s WHERE v LIKE '_______'
