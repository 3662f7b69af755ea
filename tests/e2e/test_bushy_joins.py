"""A dimension joined only to another dimension that it filters is joined inside that
dimension's build side (plan/rules/reorder_joins.cc): fact JOIN (dim JOIN subdim)
instead of (fact JOIN dim) JOIN subdim. Random snowflake data with NULL and dangling
keys and duplicate dimension keys; filters on the outer dimensions; at 1 and 2 threads,
against DuckDB. The plans are checked to be bushy, so the answers cannot pass through the
left-deep order."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import result_compare


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    rng = np.random.default_rng(5)
    d = tmp_path_factory.mktemp("bushy")
    n = 60_000
    fact = pa.table({
        "sk": pa.array(rng.integers(0, 2200, n), mask=rng.random(n) < 0.02),
        "pk": rng.integers(0, 3000, n),
        "v": rng.integers(0, 1000, n),
    })
    # Supplier keys 0..1999 with a few duplicated; fact has keys past the end.
    skeys = np.concatenate([np.arange(2000), rng.integers(0, 2000, 30)])
    supplier = pa.table({
        "s_key": skeys,
        "s_nation": pa.array(rng.integers(0, 26, len(skeys)), mask=rng.random(len(skeys)) < 0.03),
    })
    nation = pa.table({"n_key": np.arange(25), "n_name": [f"n{i}" for i in range(25)],
                       "n_region": np.arange(25) % 5})
    region = pa.table({"r_key": np.arange(5), "r_name": ["AF", "AM", "AS", "EU", "ME"]})
    part = pa.table({"p_key": np.arange(3000), "p_size": rng.integers(1, 50, 3000)})
    # Four suppliers per part (TPC-H's partsupp), some pairs twice.
    ps_pk = np.concatenate([np.repeat(np.arange(3000), 4), rng.integers(0, 3000, 50)])
    partsupp = pa.table({"ps_pk": ps_pk, "ps_sk": rng.integers(0, 2200, len(ps_pk)),
                         "ps_cost": rng.integers(1, 100, len(ps_pk))})
    out = {}
    for name, t in {"fact": fact, "supplier": supplier, "nation": nation,
                    "region": region, "part": part, "partsupp": partsupp}.items():
        pq.write_table(t, d / f"{name}.parquet", row_group_size=10_000)
        out[name] = str(d / f"{name}.parquet")
    return out


QUERIES = [
    # Q11's shape: fact, supplier, one nation.
    "SELECT f.pk, sum(f.v) AS s FROM fact f JOIN supplier s ON f.sk = s.s_key "
    "JOIN nation n ON s.s_nation = n.n_key WHERE n.n_name = 'n7' GROUP BY f.pk",
    # Q2's shape: region under nation under supplier, and a filtered part.
    "SELECT f.v, s.s_key, n.n_name FROM fact f JOIN part p ON f.pk = p.p_key "
    "JOIN supplier s ON f.sk = s.s_key JOIN nation n ON s.s_nation = n.n_key "
    "JOIN region r ON n.n_region = r.r_key WHERE r.r_name = 'EU' AND p.p_size = 15",
    # A filter the folded join does not see, above the whole tree.
    "SELECT count(*) AS c, sum(f.v) AS s FROM fact f JOIN supplier s ON f.sk = s.s_key "
    "JOIN nation n ON s.s_nation = n.n_key WHERE n.n_name IN ('n1', 'n2') AND f.v > s.s_key % 500",
    # Q9's shape: part and partsupp are each joined to the fact only, on one key whose
    # equality between them is implied (ps_pk = f.pk = p_key).
    "SELECT p.p_size, sum(f.v * ps.ps_cost) AS s, count(*) AS c FROM fact f, part p, partsupp ps, "
    "supplier s WHERE f.pk = p.p_key AND f.pk = ps.ps_pk AND f.sk = ps.ps_sk AND f.sk = s.s_key "
    "AND p.p_size < 4 GROUP BY p.p_size",
]


def _args(tables):
    return sum((["--table", f"{n}={p}"] for n, p in tables.items()), [])


def _optimized(sluice, tables, query):
    explain = sluice.cli(["explain"] + _args(tables) + [query])
    assert explain.returncode == 0, explain.describe()
    return explain.stdout.split("Optimized plan:")[1].split("Physical plan:")[0]


def _depth(line):
    return len(line) - len(line.lstrip())


def _subtree(lines, i):
    """The lines of the plan node at line i and of everything below it."""
    out = [lines[i]]
    for line in lines[i + 1:]:
        if _depth(line) <= _depth(lines[i]):
            break
        out.append(line)
    return out


@pytest.mark.parametrize("qi", [0, 1])
def test_the_filtered_dimension_joins_inside_the_build_side(sluice, tables, qi):
    plan = _optimized(sluice, tables, QUERIES[qi])
    lines = plan.splitlines()
    # The join of supplier with nation has no fact rows below it.
    at = next(i for i, l in enumerate(lines) if "[s.s_nation] = [n.n_key]" in l)
    below = "\n".join(_subtree(lines, at))
    assert "supplier.parquet" in below and "nation.parquet" in below, plan
    assert "fact.parquet" not in below, plan


def test_an_implied_equality_joins_two_dimensions_first(sluice, tables):
    plan = _optimized(sluice, tables, QUERIES[3])
    lines = plan.splitlines()
    # part joins partsupp (on the implied ps_pk = p_key) below any join with the fact.
    at = next(i for i, l in enumerate(lines) if "[ps.ps_pk] = [p.p_key]" in l)
    below = "\n".join(_subtree(lines, at))
    assert "partsupp.parquet" in below and "part.parquet" in below, plan
    assert "fact.parquet" not in below, plan
    # The fact meets that join on both its columns at once.
    assert ("[f.pk, f.sk] = [ps.ps_pk, ps.ps_sk]" in plan
            or "[f.sk, f.pk] = [ps.ps_sk, ps.ps_pk]" in plan), plan


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("qi", range(len(QUERIES)))
def test_bushy_plans_match_duckdb(sluice, duck, tables, threads, qi):
    result_compare.assert_matches_duckdb(sluice, duck, tables, QUERIES[qi], threads=threads)


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """A fact and three dimensions on one dense key, each dimension filtered to about
    1,000 of its 200,000 rows: every dimension links to every other one through the
    key's class, so each could join inside another's build side."""
    rng = np.random.default_rng(11)
    d = tmp_path_factory.mktemp("chain")
    n = 200_000
    out = {}
    out_tables = {"f": pa.table({"id": rng.integers(0, n, 100_000), "x": rng.integers(0, 100, 100_000)})}
    for name, col in [("a", "v"), ("b", "w"), ("c", "u")]:
        out_tables[name] = pa.table({"id": np.arange(n), col: rng.integers(0, 1000, n)})
    for name, t in out_tables.items():
        pq.write_table(t, d / f"{name}.parquet", row_group_size=50_000)
        out[name] = str(d / f"{name}.parquet")
    return out


@pytest.mark.parametrize("threads", [1, 2])
def test_dimensions_linked_to_each_other_keep_every_leaf(sluice, duck, chain, threads):
    # Folding each dimension into the next must not close a cycle (a -> b -> c -> a),
    # which would leave them out of the plan.
    query = ("SELECT count(*) AS n, sum(f.x) AS s, min(a.v + b.w + c.u) AS m "
             "FROM f, a, b, c WHERE f.id = a.id AND a.id = b.id AND b.id = c.id "
             "AND a.v < 5 AND b.w < 5 AND c.u < 5")
    result_compare.assert_matches_duckdb(sluice, duck, chain, query, threads=threads)
