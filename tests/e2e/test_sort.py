"""ORDER BY in memory at two threads: the rows are sorted a slice per thread and the
slices merged (sort.h, SortIndices, from 64 Ki rows). The order must be DuckDB's where
the keys order every row, and the one-thread order (ties in arrival order) where they
do not."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import result_compare

ROWS = 300_000


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(5)
    d = tmp_path_factory.mktemp("sort")
    t = pa.table({
        "id": rng.permutation(ROWS),
        "a": rng.integers(0, 4, ROWS),
        "v": pa.array(rng.normal(0, 1, ROWS), mask=rng.random(ROWS) < 0.05),
        "s": pa.array([f"s{x:05d}" for x in rng.integers(0, 50_000, ROWS)],
                      mask=rng.random(ROWS) < 0.02),
        "d": pa.array(rng.integers(-10**12, 10**12, ROWS) / 100,
                      mask=rng.random(ROWS) < 0.03).cast(pa.decimal128(14, 2)),
        # Wider than 64 bits: the sort's prefix is the high word, ties to the comparator.
        "w": pa.array([x * 10**20 + y for x, y in zip(rng.integers(-5, 5, ROWS).tolist(),
                                                      rng.integers(0, 10**6, ROWS).tolist())],
                      pa.decimal128(38, 0)),
        # One 8-byte prefix for all: the comparator decides every pair.
        "c": pa.array([f"customer-{x:06d}" for x in rng.integers(0, 100_000, ROWS)]),
        "f": pa.array(np.where(rng.random(ROWS) < 0.01, -0.0,
                               np.where(rng.random(ROWS) < 0.01, np.nan,
                                        rng.normal(0, 1, ROWS)))),
    })
    pq.write_table(t, d / "t.parquet", row_group_size=20_000)
    return str(d / "t.parquet")


@pytest.mark.parametrize("order", [
    "s DESC NULLS FIRST, v NULLS LAST, id",
    "v, id DESC",
    "a, s NULLS FIRST, id",
    "d DESC NULLS LAST, id",
    "w, id",
    "c DESC, id",
    "f, id DESC",
])
def test_total_orders_match_duckdb(sluice, duck, data, order):
    query = f"SELECT * FROM t ORDER BY {order}"
    ours = sluice.sql_ok(query, {"t": data}, threads=2)
    theirs = result_compare.duckdb_answer(duck, {"t": data}, query)
    assert ours.num_rows == ROWS
    numbered = [x.append_column("rn", pa.array(range(ROWS), pa.int64())) for x in (ours, theirs)]
    assert result_compare.compare_keyed(duck, numbered[0], numbered[1], ["rn"]) is None


def test_ties_keep_the_one_thread_order(sluice, data):
    # Four values of `a`: ties everywhere; merged slices keep arrival order as one
    # thread's sort does.
    query = "SELECT a, id, s FROM t ORDER BY a DESC"
    two = sluice.sql_ok(query, {"t": data}, threads=2)
    one = sluice.sql_ok(query, {"t": data}, threads=1)
    assert two.equals(one)


@pytest.mark.parametrize("order", ["c, id", "w DESC, id", "s NULLS FIRST, id"])
def test_top_k_matches_duckdb(sluice, duck, data, order):
    query = f"SELECT id, c, w, s FROM t ORDER BY {order} LIMIT 1000"
    ours = sluice.sql_ok(query, {"t": data}, threads=2)
    theirs = result_compare.duckdb_answer(duck, {"t": data}, query)
    assert result_compare.compare(ours, theirs, ordered=True) is None
