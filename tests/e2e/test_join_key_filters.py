"""Joins whose probe side is a Parquet scan hand the scan their keys (ProbeKeyFilter,
ParquetScan::TakeKeyFilter): the scan reads the key columns first, drops the rows whose
keys the build side lacks, and reads the other columns only for the rest. Inner, semi
(IN and EXISTS) and right joins take it; left, full and anti joins keep probe rows
without a match and must not. Integer, string and two-column keys, keys through a cast,
NULL keys, a filter on the scan as well, a build side that spills under a small memory
limit, at 1 and 2 threads, against DuckDB; EXPLAIN ANALYZE shows the scan's rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import result_compare

N = 60_000


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(31)
    d = tmp_path_factory.mktemp("keyfilters")
    fact = pa.table({
        "id": pa.array(np.arange(N, dtype=np.int64)),
        "k": pa.array(rng.integers(0, 5000, N), mask=rng.random(N) < 0.02),
        "k32": pa.array(rng.integers(0, 5000, N).astype(np.int32)),
        "s": pa.array([f"name-{x}" for x in rng.integers(0, 800, N)]),
        "v": rng.normal(size=N),
        "note": pa.array([f"n{int(x)}" for x in rng.integers(0, 10**6, N)]),
    })
    pq.write_table(fact, d / "f.parquet", row_group_size=9_000, data_page_size=4_000)
    dim = pa.table({
        "k": pa.array(np.arange(0, 5000, 37, dtype=np.int64)),
        "s": pa.array([f"name-{x}" for x in range(0, 5000, 37)]),
        "w": rng.integers(0, 10, len(range(0, 5000, 37))),
    })
    pq.write_table(dim, d / "d.parquet")
    return {"f": str(d / "f.parquet"), "d": str(d / "d.parquet")}


QUERIES = [
    # Inner joins: integer key, a key through a cast, a string key, two columns.
    "SELECT f.id, f.v, f.note, d.w FROM f JOIN d ON f.k = d.k",
    "SELECT f.id, f.note FROM f JOIN d ON f.k32 = d.k WHERE d.w > 3",
    "SELECT f.id, f.v FROM f JOIN d ON f.s = d.s",
    "SELECT f.id, f.note FROM f JOIN d ON f.k = d.k AND f.s = d.s",
    # A filter on the scan and the join's keys both.
    "SELECT f.id, f.note, d.w FROM f JOIN d ON f.k = d.k WHERE f.v > 0.5",
    # Semi joins.
    "SELECT id, note FROM f WHERE k IN (SELECT k FROM d WHERE w < 5)",
    "SELECT id, v FROM f WHERE EXISTS (SELECT 1 FROM d WHERE d.k = f.k AND d.w = 2)",
    # Right join: the probe's rows without a match go; the build's come out unmatched.
    "SELECT f.id, d.k, d.w FROM d RIGHT JOIN f ON f.k = d.k",
    # Joins that keep probe rows without a match: no key filter.
    "SELECT f.id, f.note, d.w FROM f LEFT JOIN d ON f.k = d.k",
    "SELECT id, note FROM f WHERE k NOT IN (SELECT k FROM d WHERE k IS NOT NULL)",
    "SELECT f.id, d.w FROM f FULL JOIN d ON f.k = d.k",
    # Everything read by the keys: nothing to leave unread.
    "SELECT f.k FROM f JOIN d ON f.k = d.k",
    "SELECT d.w, count(*) AS n, sum(f.v) AS sv FROM f JOIN d ON f.k = d.k GROUP BY d.w",
]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("qi", range(len(QUERIES)))
def test_join_key_filters_match_duckdb(sluice, duck, data, threads, qi):
    result_compare.assert_matches_duckdb(sluice, duck, data, QUERIES[qi], threads=threads)


def test_a_spilled_build_keeps_every_probe_row(sluice, duck, data, tmp_path):
    # A build side that spills has no index in memory: the scan must not filter by it.
    query = ("SELECT f.id, f.note, g.v FROM f JOIN (SELECT id, v, note FROM f WHERE id % 3 = 0) g "
             "ON f.id = g.id")
    ours = sluice.sql_ok(query, data, threads=2, memory_limit="3MiB")
    theirs = result_compare.duckdb_answer(duck, data, query)
    assert result_compare.compare(ours, theirs) is None


def test_explain_shows_the_rows_the_scan_kept(sluice, data):
    query = "SELECT f.id, f.note, d.w FROM f JOIN d ON f.k = d.k"
    r = sluice.cli(["explain", "--analyze", "--table", f"f={data['f']}", "--table",
                    f"d={data['d']}", query])
    assert r.returncode == 0, r.describe()
    analyzed = [ln for ln in r.stdout.splitlines() if "rows=" in ln]
    scan = next(ln for ln in analyzed if "Scan parquet" in ln and "f.parquet" in ln)
    join = next(ln for ln in analyzed if ln.strip().startswith("Join inner"))
    rows = lambda ln: int(ln.split("rows=")[1].split()[0])  # noqa: E731
    assert rows(scan) == rows(join) < N, r.stdout
