"""GROUP BY string columns read from Parquet dictionary pages: the scan hands the
aggregate dictionary indices (it only groups by those columns) and the key index looks
each dictionary value up once per batch (key_index.h, row_encoding.h). Row groups with
dictionary pages and row groups that fell back to plain pages feed one aggregate;
NULL values, one and several keys, a filter between scan and aggregate, a key column
that is also aggregated (read as plain strings then), DISTINCT; at 1 and 2 threads,
against DuckDB."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import result_compare


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(21)
    d = tmp_path_factory.mktemp("dictkeys")
    n = 40_000
    g = rng.integers(0, 30, n)
    t = pa.table({
        "s": pa.array([f"group-{x}" for x in g], mask=rng.random(n) < 0.03),
        "t": pa.array([f"t{x % 7}" for x in rng.integers(0, 1000, n)]),
        "v": rng.integers(0, 100, n),
        "f": rng.random(n),
    })
    # The second file's dictionary page limit forces plain pages for "s" and "t" after
    # a few values: both page kinds meet in one aggregate.
    pq.write_table(t.slice(0, 20_000), d / "a.parquet", row_group_size=5_000)
    pq.write_table(t.slice(20_000), d / "b.parquet", row_group_size=5_000,
                   dictionary_pagesize_limit=64)
    return str(d / "*.parquet")


QUERIES = [
    "SELECT s, sum(v) AS sv, count(*) AS n FROM t GROUP BY s",
    "SELECT s, t, sum(v) AS sv, avg(f) AS af FROM t GROUP BY s, t",
    "SELECT t, s, count(*) AS n FROM t WHERE v > 40 GROUP BY t, s",
    "SELECT s, min(s) AS m, max(t) AS mt, count(*) AS n FROM t GROUP BY s",
    "SELECT DISTINCT t, s FROM t",
    "SELECT s, v % 3 AS r, count(*) AS n FROM t GROUP BY s, v % 3",
]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("qi", range(len(QUERIES)))
def test_dictionary_encoded_group_keys_match_duckdb(sluice, duck, data, threads, qi):
    query = QUERIES[qi]
    ours = sluice.sql_ok(query, {"t": data}, threads=threads)
    theirs = result_compare.duckdb_answer(duck, {"t": data}, query)
    diff = result_compare.compare(ours, theirs, ordered=False)
    assert diff is None, f"{query}: {diff}"
    for field in ours.schema:
        assert not pa.types.is_dictionary(field.type), ours.schema
