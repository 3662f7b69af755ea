"""Filters a Parquet scan runs itself (late materialization, ParquetScan::TakeFilter):
the filter's columns are read first and the others only at the rows it keeps, pages
with none of them left unread. Required and nullable columns (the selected read and
its fallback), dictionary and plain pages, decimals, dates, strings, booleans, small
pages and row groups, selectivities from no row to every row, a term guarded by an
earlier one, filters reading every column (not taken), a hive partition column, at 1
and 2 threads, against DuckDB; EXPLAIN ANALYZE still counts the filter's rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import result_compare

N = 40_000


def _table(rng, n, required):
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"])
    day0 = dt.date(1995, 1, 1)
    cols = {
        "id": pa.array(np.arange(n, dtype=np.int64)),
        "k": pa.array(rng.integers(-3, 50, n).astype(np.int32)),
        "price": pa.array([Decimal(int(x)) / 100 for x in rng.integers(0, 10**7, n)],
                          pa.decimal128(12, 2)),
        "day": pa.array([day0 + dt.timedelta(days=int(x)) for x in rng.integers(0, 2000, n)],
                        pa.date32()),
        "word": pa.array(words[rng.integers(0, len(words), n)]),
        "note": pa.array([f"note {int(x)} {'x' * int(x % 13)}" for x in rng.integers(0, 10**6, n)]),
        "flag": pa.array(rng.random(n) < 0.3),
        "v": pa.array(rng.normal(size=n)),
    }
    fields = [pa.field(name, a.type, nullable=not required) for name, a in cols.items()]
    if not required:
        # Nulls in every nullable column but the id.
        for name in ("k", "price", "day", "word", "note", "flag", "v"):
            mask = rng.random(n) < 0.07
            a = cols[name]
            cols[name] = pa.array(a.to_pylist(), a.type, mask=mask)
    return pa.Table.from_arrays(list(cols.values()), schema=pa.schema(fields))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(11)
    d = tmp_path_factory.mktemp("scanfilters")
    req = _table(rng, N, required=True)
    pq.write_table(req.slice(0, N // 2), d / "r1.parquet", row_group_size=7_000,
                   data_page_size=2_000, write_batch_size=500)
    pq.write_table(req.slice(N // 2), d / "r2.parquet", row_group_size=9_000,
                   use_dictionary=["word", "k"], compression="zstd")
    opt = _table(rng, N, required=False)
    pq.write_table(opt, d / "o.parquet", row_group_size=8_000, data_page_size=4_000)
    for region, part in (("eu", req.slice(0, 15_000)), ("us", req.slice(15_000, 20_000))):
        (d / "h" / f"region={region}").mkdir(parents=True)
        pq.write_table(part, d / "h" / f"region={region}" / "p.parquet", row_group_size=6_000)
    return {"r": str(d / "r[12].parquet"), "o": str(d / "o.parquet"), "h": str(d / "h")}


QUERIES = [
    # No row, a few, about half, nearly all, every row.
    "SELECT * FROM {t} WHERE k = 1000",
    "SELECT id, price, note FROM {t} WHERE day = DATE '1996-03-01'",
    "SELECT id, word, flag, v FROM {t} WHERE k < 20",
    "SELECT id, note, price FROM {t} WHERE k > -3",
    "SELECT id, day, word FROM {t} WHERE id >= 0",
    # Several terms, strings and decimals in the filter, OR, LIKE, booleans.
    "SELECT id, v, note FROM {t} WHERE word IN ('beta', 'eta') AND price < 5000.00",
    "SELECT id, k, day FROM {t} WHERE note LIKE 'note 12%' OR flag",
    "SELECT id, price FROM {t} WHERE day BETWEEN DATE '1997-01-01' AND DATE '1997-01-31' "
    "AND word <> 'alpha'",
    "SELECT id, word FROM {t} WHERE v > 2.5 AND NOT flag",
    # A term guarded by the one before it: never evaluated where k = 0.
    "SELECT id, note FROM {t} WHERE k <> 0 AND 100 / k > 30",
    # Every column read by the filter: not taken, same answer.
    "SELECT id, k FROM {t} WHERE id % 7 = 3 AND k > 10",
    # The filter under an aggregate, a join and a sort.
    "SELECT word, count(*) AS n, sum(price) AS s FROM {t} WHERE day < DATE '1996-01-01' "
    "GROUP BY word",
    "SELECT a.id, b.note FROM {t} a JOIN {t} b ON a.id = b.id WHERE a.k = 7 AND b.flag",
    "SELECT id, note FROM {t} WHERE k BETWEEN 3 AND 5 ORDER BY id LIMIT 50",
]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("table", ["r", "o"])
@pytest.mark.parametrize("qi", range(len(QUERIES)))
def test_scan_filters_match_duckdb(sluice, duck, data, threads, table, qi):
    query = QUERIES[qi].format(t=table)
    result_compare.assert_matches_duckdb(sluice, duck, {table: data[table]}, query,
                                         threads=threads, ordered="ORDER BY" in query)


@pytest.mark.parametrize("query", [
    "SELECT id, region, note FROM h WHERE region = 'us' AND k = 4",
    "SELECT id, note FROM h WHERE region = 'eu'",
    "SELECT region, count(*) AS n FROM h WHERE day > DATE '1999-06-01' GROUP BY region",
])
def test_scan_filters_with_a_partition_column(sluice, data, query):
    ours = sluice.sql_ok(query, {"h": data["h"] + "/*/*.parquet"}, threads=2)
    con = duckdb.connect()
    con.execute(f"CREATE VIEW h AS SELECT * FROM read_parquet('{data['h']}/*/*.parquet', "
                "hive_partitioning = true)")
    theirs = con.sql(query).to_arrow_table()
    diff = result_compare.compare(ours, theirs)
    assert diff is None, f"{query}: {diff}"


def test_explain_analyze_counts_the_filters_rows(sluice, data):
    query = "SELECT id, note FROM r WHERE day < DATE '1995-03-01'"
    expected = duckdb.sql(f"SELECT count(*) FROM read_parquet('{data['r']}') "
                          "WHERE day < DATE '1995-03-01'").fetchall()[0][0]
    assert 0 < expected < N
    import sluice as sl
    s = sl.Session(threads=2)
    s.register("r", s.read_parquet(data["r"]))
    text = s.sql(query).explain(analyze=True)
    filter_line = next(ln for ln in text.splitlines() if ln.strip().startswith("Filter"))
    assert f"rows={expected} " in filter_line, text
