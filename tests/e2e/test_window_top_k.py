"""row_number() <= k over a window of row_number()s only: the planner cuts each
partition to its first k rows before the window (WindowNode::top_per_partition,
exec/operators/partition_top_k.h). Random data with ties, NULL and NaN order keys,
-0.0, NULL partition keys, several row groups, at 1 and 2 threads, against DuckDB.
The selected columns are the partition and order keys, whose multiset is the same
whichever of several tied rows an engine keeps."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import result_compare

N = 60_000


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    rng = np.random.default_rng(5)
    d = tmp_path_factory.mktemp("wtopk")
    v = rng.integers(0, 50, N).astype(np.float64)  # many ties
    v[rng.random(N) < 0.01] = np.nan
    v[rng.random(N) < 0.01] = -0.0
    t = pa.table({
        "p": pa.array(rng.integers(0, 3000, N), mask=rng.random(N) < 0.01),
        "q": rng.integers(0, 3, N),
        "v": pa.array(v, mask=rng.random(N) < 0.02),
        "ts": pa.array(rng.integers(0, 10**6, N) * 1000, type=pa.timestamp("us")),
        "i": pa.array(rng.integers(-100, 100, N), type=pa.int32()),
    })
    pq.write_table(t, d / "t.parquet", row_group_size=7_000)
    return str(d / "t.parquet")


def _q(inner_order: str, cond: str, part: str = "PARTITION BY p", cols: str = "p, v"):
    return (f"SELECT {cols} FROM (SELECT *, row_number() OVER ({part} ORDER BY {inner_order}) "
            f"AS rn FROM t) s WHERE {cond}")


QUERIES = [
    _q("v DESC NULLS FIRST", "rn <= 2"),
    _q("v ASC NULLS FIRST", "rn < 4"),
    _q("v DESC NULLS LAST", "rn = 3"),
    _q("ts", "rn <= 5", cols="p, ts"),
    _q("i DESC", "2 >= rn", part="PARTITION BY p, q", cols="p, q, i"),
    _q("v", "rn <= 10", part="", cols="v"),
    _q("i", "rn <= 1 AND i > 0", cols="p, i"),
]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("qi", range(len(QUERIES)))
def test_top_rows_per_partition_match_duckdb(sluice, duck, table, threads, qi):
    query = QUERIES[qi]
    explain = sluice.cli(["explain", "--table", f"t={table}", query])
    assert explain.returncode == 0, explain.describe()
    optimized = explain.stdout.split("Optimized plan:")[1].split("Physical plan:")[0]
    assert " top=" in optimized, optimized
    result_compare.assert_matches_duckdb(sluice, duck, {"t": table}, query, threads=threads)


def test_other_window_functions_keep_the_whole_partition(sluice, table):
    """rank() has ties beyond k, and sum() sees the whole frame: no cut."""
    for query in [
        "SELECT p FROM (SELECT p, rank() OVER (PARTITION BY p ORDER BY v) AS r FROM t) s WHERE r <= 2",
        "SELECT p, s FROM (SELECT p, row_number() OVER (PARTITION BY p ORDER BY v) AS rn, "
        "sum(i) OVER (PARTITION BY p ORDER BY v) AS s FROM t) s WHERE rn <= 2",
        "SELECT p FROM (SELECT p, row_number() OVER (PARTITION BY p ORDER BY v) AS rn FROM t) s "
        "WHERE rn >= 2",
    ]:
        explain = sluice.cli(["explain", "--table", f"t={table}", query])
        assert explain.returncode == 0, explain.describe()
        assert " top=" not in explain.stdout, explain.stdout
