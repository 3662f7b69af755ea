"""cut(x, ARRAY[edges], ARRAY[labels]) is Sluice-only (DuckDB has no such function): its
reference is pandas.cut(x, edges, right=True, labels=...), whose semantics it copies:
buckets (a, b], values on the lowest edge or outside every bucket are NULL.

NaN inputs are not covered (the random float columns of the tests have none yet).
"""

from __future__ import annotations

import random

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from result_compare import compare

EDGE_SETS = [
    ([0, 10, 100], None),
    ([0, 10, 100], ["low", "high"]),
    ([-5.5, 0, 2.25, 1000], ["neg", "small", "big"]),
    ([1, 2], ["only"]),
    ([-1e9, 0, 1e9], None),
]


@pytest.fixture(scope="module")
def values_file(tmp_path_factory):
    rng = random.Random(11)
    ints = [rng.choice([None, 0, 10, 100, -5, 101, 1, 2]) if rng.random() < 0.3 else rng.randint(-20, 120)
            for _ in range(500)]
    floats = [None if rng.random() < 0.1 else
              rng.choice([0.0, -5.5, 2.25, 10.0, 1000.0, 1000.5, -5.4999]) if rng.random() < 0.2 else
              round(rng.uniform(-50, 1200), 3) for _ in range(500)]
    path = tmp_path_factory.mktemp("cut") / "v.parquet"
    pq.write_table(pa.table({"id": list(range(500)), "i": pa.array(ints, pa.int64()),
                             "f": pa.array(floats, pa.float64())}), path, row_group_size=128)
    return path, ints, floats


def _sql_array(values, quote=False):
    items = [f"'{v}'" if quote else repr(v) for v in values]
    return "ARRAY[" + ", ".join(items) + "]"


def _pandas_labels(edges, labels, values):
    cats = pd.cut(pd.Series(values, dtype="float64"), bins=edges, right=True,
                  labels=labels if labels is not None else None)
    out = []
    for c in cats:
        if pd.isna(c):
            out.append(None)
        elif labels is not None:
            out.append(str(c))
        else:
            # pandas writes float edges as 0.0; Sluice writes edges as the shortest
            # round-trip number (0, 10, 2.25, 1e+09): compare bucket bounds as numbers.
            out.append(f"({_num(c.left)}, {_num(c.right)}]")
    return out


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def _normalize_default_label(label):
    if label is None:
        return None
    lo, hi = label.strip("(]").split(", ")
    return f"({_num(float(lo))}, {_num(float(hi))}]"


@pytest.mark.parametrize("edges,labels", EDGE_SETS, ids=lambda x: str(x))
@pytest.mark.parametrize("column", ["i", "f"])
def test_cut_matches_pandas(sluice, values_file, column, edges, labels):
    path, ints, floats = values_file
    values = ints if column == "i" else floats
    args = [column, _sql_array(edges)]
    if labels is not None:
        args.append(_sql_array(labels, quote=True))
    got = sluice.sql_ok(f"SELECT id, cut({', '.join(args)}) AS c FROM t ORDER BY id", {"t": path})
    assert pa.types.is_string(got.schema.field("c").type)
    sluice_labels = got.column("c").to_pylist()
    if labels is None:
        sluice_labels = [_normalize_default_label(x) for x in sluice_labels]
    expected = pa.table({"id": list(range(len(values))),
                         "c": pa.array(_pandas_labels(edges, labels, values), pa.string())})
    actual = pa.table({"id": got.column("id"), "c": pa.array(sluice_labels, pa.string())})
    diff = compare(actual, expected, ordered=True, labels=("sluice", "pandas"))
    assert diff is None, diff


@pytest.mark.parametrize("call,message", [
    ("cut(i, ARRAY[10, 0])", "increasing"),
    ("cut(i, ARRAY[1])", "at least two"),
    ("cut(i, ARRAY[0, 1, 2], ARRAY['a'])", "labels"),
    ("cut(CAST(i AS VARCHAR), ARRAY[0, 1])", "number"),
])
def test_cut_rejects_bad_arguments(sluice, values_file, call, message):
    path, _, _ = values_file
    r = sluice.sql(f"SELECT {call} FROM t", {"t": path}, threads=2)
    assert r.cli.returncode == 1, r.cli.describe()
    assert message in r.cli.stderr, r.cli.stderr
