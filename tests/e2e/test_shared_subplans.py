"""A subtree whose result the plan needs twice (a CTE or view read twice, TPC-H Q15's
revenue view) is computed once when it ends in an aggregate: the physical planner
reads the same aggregate's result again (plan::SameResult). A join read twice (a CTE
over a join, TPC-H Q2's join that also restricts its aggregate) is spooled: computed
once, kept, read by both. Subtrees that differ in anything (a constant, a column, a
join side) are computed separately. Against DuckDB at 1 and 2 threads, and EXPLAIN
ANALYZE shows which occurrence was read again."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import result_compare


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(8)
    d = tmp_path_factory.mktemp("shared")
    n = 20_000
    pq.write_table(pa.table({"k": rng.integers(0, 300, n), "g": rng.integers(0, 5, n),
                             "v": rng.integers(-50, 100, n)}), d / "t.parquet", row_group_size=3000)
    pq.write_table(pa.table({"k": np.arange(300), "w": rng.integers(0, 40, 300),
                             "name": [f"n{i % 17}" for i in range(300)]}), d / "d.parquet")
    return {"t": str(d / "t.parquet"), "d": str(d / "d.parquet")}


SHARED = ("WITH s AS (SELECT k, sum(v) AS total FROM t WHERE g <> 2 GROUP BY k) "
          "SELECT k, total FROM s WHERE total = (SELECT max(total) FROM s) "
          "OR total = (SELECT min(total) FROM s)")
QUERIES = [
    SHARED,
    # The same text but a different constant, or another aggregate: not shared.
    "WITH a AS (SELECT k, sum(v) AS total FROM t WHERE g <> 2 GROUP BY k), "
    "b AS (SELECT k, sum(v) AS total FROM t WHERE g <> 3 GROUP BY k) "
    "SELECT a.k, a.total, b.total AS other FROM a JOIN b ON a.k = b.k AND a.total > b.total",
    "WITH a AS (SELECT k, sum(v) AS total FROM t GROUP BY k), "
    "b AS (SELECT k, max(v) AS total FROM t GROUP BY k) "
    "SELECT a.k, a.total - b.total AS d FROM a JOIN b USING (k)",
    "SELECT x.g, x.n, y.n AS m FROM (SELECT g, count(*) AS n FROM t GROUP BY g) x "
    "JOIN (SELECT g, count(*) AS n FROM t GROUP BY g) y ON x.g = y.g + 1",
]
# A join read twice (the same columns of it: column pruning makes copies that read
# fewer columns different subtrees): spooled once.
SPOOLED = ("WITH j AS (SELECT t.k, t.v FROM t JOIN d ON t.k = d.k WHERE d.w < 10) "
           "SELECT j.k, j.v FROM j JOIN (SELECT k, max(v) AS mv FROM j GROUP BY k) m "
           "ON j.k = m.k AND j.v = m.mv")
QUERIES += [
    SPOOLED,
    # Twice, but under another filter: separate.
    "WITH j AS (SELECT t.k, t.v, d.name FROM t JOIN d ON t.k = d.k) "
    "SELECT a.name, count(*) AS n FROM j a JOIN (SELECT k FROM j WHERE v > 90) b ON a.k = b.k "
    "GROUP BY a.name",
    # A join read three times, once through an aggregate.
    "WITH j AS (SELECT t.k, t.v, d.w FROM t JOIN d ON t.k = d.k WHERE t.g = 1) "
    "SELECT (SELECT count(*) FROM j) AS n, (SELECT sum(v) FROM j WHERE w > 20) AS s, "
    "(SELECT max(w) FROM j) AS mw",
]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("qi", range(len(QUERIES)))
def test_queries_reading_a_result_twice_match_duckdb(sluice, duck, data, threads, qi):
    query = QUERIES[qi]
    result_compare.assert_matches_duckdb(sluice, duck, data, query, threads=threads)


@pytest.mark.parametrize("query, reused", [(SHARED, 2), (QUERIES[1], 0), (QUERIES[2], 0),
                                           (QUERIES[3], 1), (SPOOLED, 1), (QUERIES[5], 0)])
def test_explain_shows_the_result_read_again(sluice, data, query, reused):
    r = sluice.cli(["explain", "--analyze", "--table", f"t={data['t']}",
                    "--table", f"d={data['d']}", query])
    assert r.returncode == 0, r.describe()
    assert r.stdout.count("read again") == reused, r.stdout


def test_a_spool_larger_than_the_memory_limit_spills(sluice, duck, tmp_path):
    # The join is estimated small (a.k's min/max says it is nearly unique) and spooled,
    # but one key matches 20,000 x 1,000 rows: the spool goes to disk instead of failing.
    ka = np.zeros(20_000, dtype=np.int64)
    ka[-1] = 10**6
    kb = np.zeros(1_000, dtype=np.int64)
    kb[-1] = 10**6
    pq.write_table(pa.table({"k": ka, "x": np.arange(20_000)}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"k": kb, "y": np.arange(1_000)}), tmp_path / "b.parquet")
    tables = {"a": str(tmp_path / "a.parquet"), "b": str(tmp_path / "b.parquet")}
    query = ("WITH j AS (SELECT a.k, a.x, b.y FROM a JOIN b ON a.k = b.k) "
             "SELECT count(*) AS n, sum(x) AS sx, sum(y) AS sy FROM j "
             "UNION ALL SELECT count(*), sum(x + y), max(y) FROM j")
    r = sluice.sql(query, tables, threads=2, memory_limit="300MB")
    assert r.ok, r.cli.describe()
    assert "spilled" in r.cli.stderr, r.cli.stderr
    theirs = result_compare.duckdb_answer(duck, tables, query)
    assert result_compare.compare(r.table, theirs) is None
