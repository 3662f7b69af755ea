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
    f"SELECT s, a, k, {AGGS} FROM t GROUP BY s, a, k",
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


BIG_ROWS = 2_400_000


@pytest.fixture(scope="module")
def sparse(tmp_path_factory):
    """Mostly unique keys over enough rows that each worker decides (after 1 Mi rows,
    hash_aggregate.h) to hand over its table every 64 Ki groups; a few keys repeat all
    through the input, so the same group is in many handed-over tables."""
    rng = np.random.default_rng(7)
    d = tmp_path_factory.mktemp("pagg_sparse")
    k = rng.integers(0, 40_000_000, BIG_ROWS)
    hot = rng.random(BIG_ROWS) < 0.02
    k[hot] = rng.integers(0, 50, hot.sum())
    nulls = rng.random(BIG_ROWS) < 0.001
    t = pa.table({
        "k": pa.array(k, mask=nulls),
        "a": rng.integers(0, 3, BIG_ROWS),
        "v": pa.array(rng.normal(100, 30, BIG_ROWS), mask=rng.random(BIG_ROWS) < 0.05),
        "n": rng.integers(-1000, 1000, BIG_ROWS),
    })
    pq.write_table(t, d / "t.parquet", row_group_size=100_000)
    return str(d / "t.parquet")


# Summaries of the millions of groups (small answers, quick to compare): a group split
# over two handed-over tables, or one lost, changes them.
SPARSE_QUERIES = [
    "SELECT c, count(*) AS groups, sum(sn) AS s, sum(k) AS sk, sum(cv) AS scv, "
    "min(mn) AS mn, max(mv) AS mv, sum(av) AS sav FROM "
    "(SELECT k, count(*) AS c, count(v) AS cv, sum(n) AS sn, avg(v) AS av, min(n) AS mn, "
    "max(v) AS mv FROM t GROUP BY k) g GROUP BY c",
    "SELECT a, count(*) AS groups, sum(c) AS c, sum(sn) AS sn, sum(k * c) AS kc FROM "
    "(SELECT k, a, sum(n) AS sn, count(*) AS c FROM t GROUP BY k, a) g GROUP BY a",
    "SELECT k, c, sn FROM (SELECT k, count(*) AS c, sum(n) AS sn FROM t GROUP BY k) g "
    "WHERE c > 1",
    # Three key columns, one a string: column ids packed into one integer.
    "SELECT a, count(*) AS groups, sum(c) AS c, sum(sn) AS sn, min(ks) AS mk FROM "
    "(SELECT k, a, CAST(k % 1000 AS VARCHAR) AS ks, sum(n) AS sn, count(*) AS c "
    "FROM t GROUP BY k, a, CAST(k % 1000 AS VARCHAR)) g GROUP BY a",
    # Three columns of ~2.4 M values each need 66 bits: later tables pack their keys
    # into two words, and the merge meets both kinds.
    "SELECT count(*) AS groups, sum(c) AS c, sum(sn) AS sn, sum(k3 - 3 * k1) AS z FROM "
    "(SELECT k + 1 AS k1, k * 3 + 3 AS k3, k, sum(n) AS sn, count(*) AS c FROM t "
    "GROUP BY k + 1, k * 3 + 3, k) g",
    # Six such columns need more than two words: row-encoded keys, after one and two
    # words in the first tables.
    "SELECT count(*) AS groups, sum(c) AS c, sum(sn) AS sn, sum(k3 - 3 * k1 + k5 - k7) AS z "
    "FROM (SELECT k + 1 AS k1, k * 3 + 3 AS k3, k, k + 5 AS k5, k * 7 AS k7, k - 9 AS k9, "
    "sum(n) AS sn, count(*) AS c FROM t GROUP BY k + 1, k * 3 + 3, k, k + 5, k * 7, k - 9) g",
]


def check_at_two_threads(sluice, duck, path, query):
    ours = sluice.sql_ok(query, {"t": path}, threads=2)
    theirs = result_compare.duckdb_answer(duck, {"t": path}, query)
    diff = result_compare.compare(ours, theirs, ordered=False)
    assert diff is None, f"{query}: {diff}"


@pytest.mark.parametrize("qi", range(len(SPARSE_QUERIES)))
def test_handed_over_tables_merge_to_duckdbs_groups(sluice, duck, sparse, qi):
    check_at_two_threads(sluice, duck, sparse, SPARSE_QUERIES[qi])


@pytest.fixture(scope="module")
def cycling(tmp_path_factory):
    """Keys that cycle through 2.5 M values: unique over each worker's first 1 Mi rows
    (so it makes segments), repeating later; the worker finds its sample of keys in its
    earlier segments and keeps its table whole from then on (SeenInSegments,
    hash_aggregate.h), so the merge meets segments and whole tables of every key kind."""
    n = 6_000_000
    i = np.arange(n)
    k = (i * 7) % 2_500_000
    t = pa.table({
        "k": k,
        "s": pa.array(np.char.add("s", (k % 1000).astype(str))),
        "x": k / 4,
        "n": (i % 1000) - 500,
    })
    path = tmp_path_factory.mktemp("pagg_cycling") / "t.parquet"
    pq.write_table(t, path, row_group_size=100_000)
    return str(path)


CYCLING_QUERIES = [
    "SELECT c, count(*) AS groups, sum(sn) AS sn, sum(k) AS sk FROM "
    "(SELECT k, count(*) AS c, sum(n) AS sn FROM t GROUP BY k) g GROUP BY c",
    # Packed keys: the segments' Find shares column indexes the worker inserts into.
    "SELECT c, count(*) AS groups, sum(sn) AS sn, min(s) AS ms FROM "
    "(SELECT k, s, count(*) AS c, sum(n) AS sn FROM t GROUP BY k, s) g GROUP BY c",
    "SELECT c, count(*) AS groups, sum(sn) AS sn, sum(x) AS sx FROM "
    "(SELECT x, count(*) AS c, sum(n) AS sn FROM t GROUP BY x) g GROUP BY c",
]


@pytest.mark.parametrize("qi", range(len(CYCLING_QUERIES)))
def test_keys_repeating_after_many_segments_match_duckdb(sluice, duck, cycling, qi):
    check_at_two_threads(sluice, duck, cycling, CYCLING_QUERIES[qi])
