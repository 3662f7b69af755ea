SELECT strptime('31/12/1999', '%d/%m/%Y') FROM t WHERE id = 1
