WITH c AS (SELECT id, k FROM t WHERE v IS NOT NULL) SELECT a.id, b.id, a.k FROM c a JOIN c b ON a.k = b.k
