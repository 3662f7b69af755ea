SELECT id, v LIKE 'a%b%' FROM s
