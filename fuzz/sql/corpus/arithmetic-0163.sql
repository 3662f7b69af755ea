SELECT count(*) FROM empty WHERE a + 1 > 0
