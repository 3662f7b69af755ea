"""GROUP BY with many groups at 2 threads: each worker's table is split into hash
partitions and the partitions merge on both threads (hash_aggregate.h, at least
kParallelMergeGroups = 32,768 groups over all workers). Keys of every index kind (one
integer column, one string column, several columns), NULL keys, every decomposable
aggregate, and a holistic one (median) that makes the merge fall back to one thread;
answers against DuckDB."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import result_compare

ROWS = 100_000


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(99)
    d = tmp_path_factory.mktemp("pagg")
    k = rng.integers(0, 40_000, ROWS)
    nulls = rng.random(ROWS) < 0.01
    t = pa.table({
        "k": pa.array(k, mask=nulls),
        "s": pa.array([f"key-{x:06d}" for x in k], mask=nulls),
        "a": rng.integers(0, 2, ROWS),
        "v": pa.array(rng.normal(100, 30, ROWS), mask=rng.random(ROWS) < 0.05),
        "n": rng.integers(-1000, 1000, ROWS),
        "d": pa.array(rng.integers(0, 10_000_000, ROWS) / 100).cast(pa.decimal128(12, 2)),
        "b": rng.random(ROWS) < 0.5,
    })
    # Many row groups, so that both workers see most keys.
    pq.write_table(t, d / "t.parquet", row_group_size=10_000)
    return str(d / "t.parquet")


AGGS = ("count(*) AS c, count(v) AS cv, sum(n) AS sn, sum(d) AS sd, avg(v) AS av, "
        "min(s) AS mins, max(n) AS maxn, stddev_samp(v) AS sdv, bool_or(b) AS bo, "
        "covar_pop(v, n) AS r")

QUERIES = [
    f"SELECT k, {AGGS} FROM t GROUP BY k",
    f"SELECT s, {AGGS} FROM t GROUP BY s",
    f"SELECT k, a, {AGGS} FROM t GROUP BY k, a",
    "SELECT k, median(v) AS m, count(*) AS c FROM t GROUP BY k",
    "SELECT DISTINCT s, a FROM t",
]


@pytest.mark.parametrize("qi", range(len(QUERIES)))
def test_many_groups_at_two_threads_match_duckdb(sluice, duck, data, qi):
    query = QUERIES[qi]
    ours = sluice.sql_ok(query, {"t": data}, threads=2)
    theirs = result_compare.duckdb_answer(duck, {"t": data}, query)
    assert ours.num_rows > 32_768
    diff = result_compare.compare(ours, theirs, ordered=False)
    assert diff is None, f"{query}: {diff}"
