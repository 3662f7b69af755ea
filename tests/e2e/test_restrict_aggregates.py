"""An aggregate joined with a side of few keys aggregates only the groups that side can
meet (plan/rules/restrict_aggregates.cc: a semi join under the aggregate, on the group
keys, against the smallest subtree of the other side holding its keys). Inner, left,
right, semi and anti joins with the aggregate on the side whose unmatched groups they
drop (and on the side they keep, where the rule must not apply), keys that are
expressions, NULL keys, a filter and a projection between join and aggregate, the key
side being a join; at 1 and 2 threads, against DuckDB."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import result_compare


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(17)
    d = tmp_path_factory.mktemp("restrict")
    n = 60_000
    fact = pa.table({
        "k": pa.array(rng.integers(0, 5_000, n), mask=rng.random(n) < 0.02),
        "s": rng.integers(0, 50, n),
        "v": rng.integers(-100, 1000, n),
    })
    pq.write_table(fact, d / "fact.parquet", row_group_size=10_000)
    m = 5_000
    dim = pa.table({
        "k": pa.array(np.arange(m), mask=np.arange(m) % 997 == 3),
        "kind": [f"kind-{i % 40}" for i in range(m)],
        "w": rng.integers(0, 10, m),
    })
    pq.write_table(dim, d / "dim.parquet")
    return {"fact": str(d / "fact.parquet"), "dim": str(d / "dim.parquet")}


AGG = "(SELECT k, sum(v) AS total, count(*) AS n FROM fact GROUP BY k)"
SMALL = "(SELECT k, w FROM dim WHERE kind = 'kind-7')"
QUERIES = [
    (f"SELECT d.k, d.w, a.total, a.n FROM {SMALL} d JOIN {AGG} a ON d.k = a.k", True),
    (f"SELECT d.k, a.total FROM {SMALL} d LEFT JOIN {AGG} a ON d.k = a.k", True),
    (f"SELECT d.k, a.total FROM {AGG} a RIGHT JOIN {SMALL} d ON d.k = a.k", True),
    (f"SELECT d.k, d.w FROM {SMALL} d WHERE d.k IN (SELECT k FROM {AGG} a WHERE total > 5000)", True),
    (f"SELECT d.k FROM {SMALL} d WHERE NOT EXISTS (SELECT 1 FROM {AGG} a WHERE a.k = d.k AND a.n > 12)", True),
    # The aggregate on the side the join keeps: every group stays.
    (f"SELECT a.k, a.total, d.w FROM {AGG} a LEFT JOIN {SMALL} d ON d.k = a.k", False),
    # Keys as expressions; a filter and projection above the aggregate; two key columns.
    ("SELECT d.k, a.t FROM (SELECT k, w FROM dim WHERE kind = 'kind-3') d JOIN "
     "(SELECT k2, total * 2 AS t FROM (SELECT k + 1 AS k2, sum(v) AS total FROM fact GROUP BY k + 1) g "
     "WHERE total > 0) a ON d.k = a.k2", True),
    ("SELECT d.k, a.s, a.total FROM (SELECT k, w FROM dim WHERE kind = 'kind-9') d JOIN "
     "(SELECT k, s, sum(v) AS total FROM fact GROUP BY k, s) a ON d.k = a.k AND d.w = a.s", True),
    # The key side is a join: its smallest input with the keys is used.
    ("SELECT f.k, f.v, a.total FROM (SELECT fact.k, fact.v FROM fact JOIN dim ON fact.k = dim.k "
     f"WHERE dim.kind = 'kind-11' AND fact.s = 3) f JOIN {AGG} a ON f.k = a.k", True),
    # A key side with a LIMIT is not computed twice (another run could keep other rows).
    (f"SELECT d.k, a.total FROM (SELECT k FROM dim WHERE kind = 'kind-7' ORDER BY k NULLS LAST "
     f"LIMIT 50) d JOIN {AGG} a ON d.k = a.k", False),
    # Correlated subquery (decorrelated into an aggregate joined with the outer side).
    ("SELECT d.k, d.w FROM dim d WHERE d.kind = 'kind-5' AND "
     "d.w * 100 < (SELECT sum(v) FROM fact f WHERE f.k = d.k)", True),
]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("qi", range(len(QUERIES)))
def test_restricted_aggregates_match_duckdb(sluice, duck, data, threads, qi):
    query, _ = QUERIES[qi]
    result_compare.assert_matches_duckdb(sluice, duck, data, query, threads=threads)


@pytest.mark.parametrize("qi", range(len(QUERIES)))
def test_the_rule_applies_where_it_may(sluice, data, qi):
    query, applies = QUERIES[qi]
    args = ["explain"] + sum((["--table", f"{n}={p}"] for n, p in data.items()), []) + [query]
    r = sluice.cli(args)
    assert r.returncode == 0, r.describe()
    optimized = r.stdout.split("Optimized plan:")[1]
    assert ("__restrict" in optimized) == applies, optimized
