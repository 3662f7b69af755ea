SELECT count(*) FROM tv WHERE p OR NOT p
