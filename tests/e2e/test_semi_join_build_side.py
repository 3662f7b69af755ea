"""Semi and anti joins that build their preserved (left) side: when the left input is
much smaller than the subquery's, the planner builds the left rows and lets the right
side mark the ones it matches (src/sluice/exec/operators/hash_join.h). Random data with
NULL keys and duplicates on both sides, EXISTS / NOT EXISTS / IN with and without an
extra condition, at 1 and 2 threads, against DuckDB. The plan is checked to really use
that form, so the test cannot pass through the other one."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import result_compare


def _keys(rng, n, domain, null_share):
    k = rng.integers(0, domain, n)
    mask = rng.random(n) < null_share
    return pa.array(k, type=pa.int64(), mask=mask)


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    rng = np.random.default_rng(2026)
    d = tmp_path_factory.mktemp("semi")
    small = pa.table({"k": _keys(rng, 300, 400, 0.1), "a": rng.integers(0, 5, 300),
                      "s": pa.array([f"r{i}" for i in range(300)])})
    big = pa.table({"k": _keys(rng, 40000, 400, 0.05), "b": rng.integers(0, 5, 40000)})
    # Several row groups, so two workers probe concurrently.
    pq.write_table(small, d / "small.parquet")
    pq.write_table(big, d / "big.parquet", row_group_size=5000)
    return {"small": d / "small.parquet", "big": d / "big.parquet"}


QUERIES = [
    "SELECT * FROM small WHERE EXISTS (SELECT 1 FROM big WHERE big.k = small.k)",
    "SELECT * FROM small WHERE NOT EXISTS (SELECT 1 FROM big WHERE big.k = small.k)",
    "SELECT * FROM small WHERE k IN (SELECT k FROM big WHERE b > 2)",
    "SELECT * FROM small WHERE EXISTS (SELECT 1 FROM big WHERE big.k = small.k AND big.b > small.a)",
    "SELECT * FROM small WHERE NOT EXISTS (SELECT 1 FROM big WHERE big.k = small.k AND big.b <> small.a)",
    "SELECT a, count(*) AS n FROM small WHERE EXISTS (SELECT 1 FROM big WHERE big.k = small.k AND big.b = 4) GROUP BY a",
]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("qi", range(len(QUERIES)))
def test_semi_anti_building_left_matches_duckdb(sluice, duck, tables, threads, qi):
    query = QUERIES[qi]
    tabs = {name: str(path) for name, path in tables.items()}
    explain = sluice.cli(["explain"] + sum((["--table", f"{n}={p}"] for n, p in tabs.items()), [])
                         + [query])
    assert explain.returncode == 0, explain.describe()
    assert "build=left" in explain.stdout and ("Join semi" in explain.stdout
                                               or "Join anti" in explain.stdout), explain.stdout
    result_compare.assert_matches_duckdb(sluice, duck, tabs, query, threads=threads)


@pytest.fixture(scope="module")
def star(tmp_path_factory):
    """A fact table with a foreign key into a dimension of 10,000 keys (Parquet min/max
    say so), and a large table for the subquery."""
    rng = np.random.default_rng(7)
    d = tmp_path_factory.mktemp("star")
    fact = pa.table({"k": rng.integers(0, 10000, 200000), "v": rng.integers(0, 100, 200000)})
    dim = pa.table({"k": np.arange(10000), "name": pa.array([f"n{i % 10}" for i in range(10000)])})
    big = pa.table({"k": rng.integers(0, 10000, 200000)})
    for name, t in {"fact": fact, "dim": dim, "big": big}.items():
        pq.write_table(t, d / f"{name}.parquet", row_group_size=50000)
    return {name: str(d / f"{name}.parquet") for name in ("fact", "dim", "big")}


def test_filtered_dimension_shrinks_the_estimate_of_a_key_join(sluice, duck, star):
    """fact ⋈ dim with a filter on dim keeps about a tenth of fact: the estimate uses the
    distinct keys of the unfiltered dimension (Parquet statistics), so the semi join
    above it sees a small left side and builds it. Without distinct counts the join
    would be estimated at fact's 200,000 rows and the semi join would build `big`."""
    query = ("SELECT f.k, f.v FROM fact f JOIN dim d ON f.k = d.k "
             "WHERE d.name = 'n3' AND f.k IN (SELECT k FROM big)")
    args = sum((["--table", f"{n}={p}"] for n, p in star.items()), [])
    explain = sluice.cli(["explain"] + args + [query])
    assert explain.returncode == 0, explain.describe()
    optimized = explain.stdout.split("Optimized plan:")[1].split("Physical plan:")[0]
    semi = [line for line in optimized.splitlines() if "Join semi" in line]
    assert semi and all("build=left" in line for line in semi), explain.stdout
    ours = sluice.sql_ok(query, star, threads=2)
    theirs = result_compare.duckdb_answer(duck, star, query)
    assert result_compare.compare(ours, theirs, ordered=False) is None
