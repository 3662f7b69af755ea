"""Semi and anti joins that read one input of the inner join below them move below it
(plan/rules/push_down_semi_joins.cc). Random fact/dimension data with NULL keys and
duplicates; IN, EXISTS and NOT EXISTS with and without extra conditions, keys on either
input of the join; at 1 and 2 threads, against DuckDB. The first query's plan is checked
to have moved, so the test cannot pass through the unchanged plan."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import result_compare


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    rng = np.random.default_rng(11)
    d = tmp_path_factory.mktemp("semipush")
    n = 50_000
    fact = pa.table({
        "fk": pa.array(rng.integers(0, 5000, n), mask=rng.random(n) < 0.02),
        "dk": rng.integers(0, 50, n),
        "v": rng.integers(0, 1000, n),
    })
    orders = pa.table({"ok": np.arange(5000), "c": rng.integers(0, 20, 5000)})
    dim = pa.table({"dk": np.arange(50), "name": [f"d{i % 7}" for i in range(50)]})
    pick = pa.table({"k": pa.array(rng.integers(0, 5000, 40), mask=rng.random(40) < 0.1),
                     "w": rng.integers(0, 1000, 40)})
    out = {}
    for name, t in {"fact": fact, "orders": orders, "dim": dim, "pick": pick}.items():
        pq.write_table(t, d / f"{name}.parquet", row_group_size=8000)
        out[name] = str(d / f"{name}.parquet")
    return out


QUERIES = [
    "SELECT f.v, o.c FROM fact f JOIN orders o ON f.fk = o.ok WHERE o.ok IN (SELECT k FROM pick)",
    "SELECT f.v, o.c FROM fact f JOIN orders o ON f.fk = o.ok WHERE f.fk IN (SELECT k FROM pick)",
    "SELECT f.v, o.c, d.name FROM fact f JOIN orders o ON f.fk = o.ok JOIN dim d ON f.dk = d.dk "
    "WHERE o.ok NOT IN (SELECT k FROM pick WHERE k IS NOT NULL)",
    "SELECT f.v, o.c FROM fact f JOIN orders o ON f.fk = o.ok "
    "WHERE EXISTS (SELECT 1 FROM pick p WHERE p.k = o.ok AND p.w > o.c * 40)",
    "SELECT f.v, o.c FROM fact f JOIN orders o ON f.fk = o.ok "
    "WHERE NOT EXISTS (SELECT 1 FROM pick p WHERE p.k = o.ok AND p.w < 500)",
    "SELECT count(*) AS n, sum(f.v) AS s FROM fact f JOIN dim d ON f.dk = d.dk "
    "WHERE d.name = 'd3' AND EXISTS (SELECT 1 FROM pick p WHERE p.k = f.fk)",
]


def _args(tables):
    return sum((["--table", f"{n}={p}"] for n, p in tables.items()), [])


def _assert_semi_below_inner(sluice, tables, query):
    explain = sluice.cli(["explain"] + _args(tables) + [query])
    assert explain.returncode == 0, explain.describe()
    optimized = explain.stdout.split("Optimized plan:")[1].split("Physical plan:")[0]
    lines = optimized.splitlines()
    inner = next(i for i, l in enumerate(lines) if "Join inner" in l)
    semi = next(i for i, l in enumerate(lines) if "Join semi" in l)
    assert semi > inner, optimized


def test_the_semi_join_moves_below_the_inner_join(sluice, tables):
    _assert_semi_below_inner(sluice, tables, QUERIES[0])


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("qi", range(len(QUERIES)))
def test_pushed_semi_and_anti_joins_match_duckdb(sluice, duck, tables, threads, qi):
    query = QUERIES[qi]
    result_compare.assert_matches_duckdb(sluice, duck, tables, query, threads=threads)


def test_a_selective_semi_join_moves_below_a_shrinking_inner_join(sluice, duck, tables):
    # The dimension filter keeps about a seventh of fact; the semi join keeps under 1 %
    # of it, so probing it first is cheaper (TPC-H Q2's restricted partsupp).
    query = ("SELECT f.v, d.name FROM fact f JOIN dim d ON f.dk = d.dk "
             "WHERE d.name = 'd3' AND f.fk IN (SELECT k FROM pick)")
    _assert_semi_below_inner(sluice, tables, query)
    for threads in (1, 2):
        result_compare.assert_matches_duckdb(sluice, duck, tables, query, threads=threads)
