"""The Python API (import sluice) against DuckDB and pandas on the same data.

Random data with NULLs, strings, decimals and time-zoned timestamps; every frame query
is compared with the same question asked of DuckDB over the same Arrow table.
"""
from __future__ import annotations

import datetime as dt
import decimal
import random

import duckdb
import pandas as pd
import polars as pl
import polars.testing  # noqa: F401
import pyarrow as pa
import pytest

import sluice as sl
from result_compare import assert_same_rows as assert_tables_equal
from result_compare import duckdb_over_arrow as duck


def _data(n: int = 5000, seed: int = 7) -> pa.Table:
    rng = random.Random(seed)
    base = dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc)
    cities = ["Paris", "Berlin", "Zürich", "São Paulo", "東京", None]
    return pa.table({
        "id": pa.array(range(n), pa.int64()),
        "k": pa.array([rng.randrange(40) if rng.random() > 0.05 else None for _ in range(n)],
                      pa.int32()),
        "city": pa.array([rng.choice(cities) for _ in range(n)], pa.string()),
        "v": pa.array([rng.uniform(-100, 100) if rng.random() > 0.1 else None
                       for _ in range(n)], pa.float64()),
        "price": pa.array([decimal.Decimal(rng.randrange(-99999, 99999)) / 100
                           if rng.random() > 0.05 else None for _ in range(n)],
                          pa.decimal128(9, 2)),
        "ts": pa.array([base + dt.timedelta(seconds=rng.randrange(86400 * 60))
                        if rng.random() > 0.05 else None for _ in range(n)],
                       pa.timestamp("us", tz="UTC")),
    })


@pytest.fixture(scope="module")
def data() -> pa.Table:
    return _data()


def same(frame: sl.Frame, query: str, ordered: bool = False, **tables) -> None:
    got = frame.collect()
    want = duck(query, **tables)
    assert got.num_rows == want.num_rows, (got.num_rows, want.num_rows)
    assert_tables_equal(got, want, ordered=ordered)


def test_filter_select_with_columns(data):
    f = sl.from_arrow(data)
    q = (f.filter((sl.col("v") > 0) & sl.col("city").is_not_null())
         .with_columns((sl.col("v") * 2).alias("v2"), big=sl.col("price") > 100)
         .select("id", "city", "v2", "big"))
    same(q, "SELECT id, city, v * 2 AS v2, price > 100 AS big FROM t "
            "WHERE v > 0 AND city IS NOT NULL", t=data)


def test_group_by_aggregates(data):
    f = sl.from_arrow(data)
    q = f.group_by("k").agg(
        sl.col("v").sum().alias("s"), sl.col("v").mean().alias("a"),
        sl.col("price").max().alias("p"), sl.count().alias("n"),
        sl.col("city").n_unique().alias("cities"), sl.col("ts").min().alias("first_ts"))
    same(q, "SELECT k, sum(v) s, avg(v) a, max(price) p, count(*) n, "
            "count(DISTINCT city) cities, min(ts) first_ts FROM t GROUP BY k", t=data)


def test_join_kinds(data):
    left = data.slice(0, 3000)
    right = pa.table({"k": pa.array(list(range(0, 60, 2)), pa.int32()),
                      "label": [f"L{i}" for i in range(30)]})
    for how, sql_how in [("inner", "INNER"), ("left", "LEFT"), ("full", "FULL")]:
        q = sl.from_arrow(left).join(sl.from_arrow(right), on="k", how=how)
        # USING semantics: the key once (the non-NULL side's for a full join).
        same(q, f"SELECT * FROM l {sql_how} JOIN r USING (k)", l=left, r=right)
    q = sl.from_arrow(left).join(sl.from_arrow(right), on="k", how="anti")
    same(q, "SELECT * FROM l WHERE NOT EXISTS (SELECT 1 FROM r WHERE r.k = l.k)",
         l=left, r=right)


def test_sort_limit_unique_union(data):
    f = sl.from_arrow(data)
    q = f.sort("k", "id", descending=[True, False]).limit(25, offset=5)
    same(q, "SELECT * FROM t ORDER BY k DESC NULLS FIRST, id LIMIT 25 OFFSET 5",
         ordered=True, t=data)
    same(f.select("city").unique(), "SELECT DISTINCT city FROM t", t=data)
    u = f.filter(sl.col("k") < 3).union(f.filter(sl.col("k") < 5))
    same(u, "SELECT * FROM t WHERE k < 3 UNION ALL SELECT * FROM t WHERE k < 5", t=data)
    u = f.select("k").union(f.select("k"), distinct=True)
    same(u, "SELECT k FROM t UNION SELECT k FROM t", t=data)


def test_string_and_datetime_functions(data):
    f = sl.from_arrow(data)
    q = f.select(
        "id",
        sl.col("city").str.lower().alias("lo"),
        sl.col("city").str.len_chars().alias("n"),
        sl.col("city").str.starts_with("S").alias("s"),
        sl.col("city").str.slice(1, 3).alias("mid"),
        sl.col("ts").dt.year().alias("y"),
        sl.col("ts").dt.month().alias("m"),
        sl.col("ts").dt.hour().alias("h"),
        sl.col("ts").dt.truncate("day").alias("d"),
    )
    same(q, "SELECT id, lower(city) lo, length(city) n, starts_with(city, 'S') s, "
            "substr(city, 2, 3) mid, year(ts) y, month(ts) m, hour(ts) h, "
            "date_trunc('day', ts) d FROM t", t=data)


def test_when_cast_fill_null_is_in(data):
    f = sl.from_arrow(data)
    q = f.select(
        "id",
        sl.when(sl.col("v") > 50).then("high").when(sl.col("v") > 0).then("mid")
        .otherwise("low").alias("band"),
        sl.col("k").cast("bigint").alias("k64"),
        sl.col("v").fill_null(0).alias("v0"),
        sl.col("k").is_in([1, 2, 3]).alias("small"),
        sl.col("price").cast(pa.float64()).alias("pf"),
        sl.when(sl.col("k") > 10).then(1).end().alias("big_k"),
    )
    same(q, "SELECT id, CASE WHEN v > 50 THEN 'high' WHEN v > 0 THEN 'mid' ELSE 'low' END "
            "band, CAST(k AS BIGINT) k64, coalesce(v, 0) v0, k IN (1, 2, 3) small, "
            "CAST(price AS DOUBLE) pf, CASE WHEN k > 10 THEN 1 END big_k FROM t", t=data)


def test_literals_of_python_types(data):
    f = sl.from_arrow(data)
    q = f.filter((sl.col("ts") >= dt.datetime(2024, 4, 1, tzinfo=dt.timezone.utc))
                 & (sl.col("price") > decimal.Decimal("12.50")))
    same(q, "SELECT * FROM t WHERE ts >= TIMESTAMPTZ '2024-04-01 00:00:00+00' "
            "AND price > 12.50", t=data)


def test_sql_with_frames_and_arrow_objects(data):
    pdf = pd.DataFrame({"k": [1, 2, 3], "name": ["one", "two", "three"]})
    q = sl.sql("SELECT t.k, names.name, count(*) AS n FROM t JOIN names ON t.k = names.k "
               "GROUP BY t.k, names.name", t=sl.from_arrow(data), names=pdf)
    want = duck("SELECT t.k, names.name, count(*) AS n FROM t JOIN names ON t.k = names.k "
                "GROUP BY t.k, names.name", t=data,
                names=pa.Table.from_pandas(pdf, preserve_index=False))
    assert_tables_equal(q.collect(), want)


def test_conversions_to_pandas_polars_and_protocol(data):
    f = sl.from_arrow(data).filter(sl.col("k") == 3).sort("id")
    want = duck("SELECT * FROM t WHERE k = 3 ORDER BY id", t=data)
    pd.testing.assert_frame_equal(f.to_pandas(), want.to_pandas())
    pl.testing.assert_frame_equal(f.to_polars(), pl.from_arrow(want))
    # The Arrow PyCapsule protocol: other libraries take a frame as it is.
    assert pa.table(f).equals(want)
    pl.testing.assert_frame_equal(pl.DataFrame(f), pl.from_arrow(want))
    # Polars' from_arrow turns any stream that is not pyarrow's into a struct Series.
    pl.testing.assert_frame_equal(pl.from_arrow(f).struct.unnest(), pl.from_arrow(want))
    frame = f  # noqa: F841 - DuckDB finds it by name
    got = duckdb.sql("SELECT count(*) FROM frame").fetchall()[0][0]
    assert got == want.num_rows


def test_from_polars_and_record_batches():
    df = pl.DataFrame({"a": [1, 2, None], "b": ["x", None, "z"]})
    assert_tables_equal(sl.from_arrow(df).collect(), df.to_arrow(), ordered=True)
    rel = duckdb.sql("SELECT range AS x, range % 3 AS k FROM range(10)")
    got = sl.from_arrow(rel).group_by("k").agg(sl.col("x").sum().alias("s")).sort("k")
    assert got.collect().to_pydict() == {"k": [0, 1, 2], "s": [18, 12, 15]}
    batch = pa.record_batch({"a": [1, 2, 3]})
    assert sl.from_arrow(batch).count() == 3
    assert sl.from_arrow({"a": [1, 2]}).agg(sl.sum("a")).collect().column(0)[0].as_py() == 3


def test_files_round_trip(tmp_path, data):
    f = sl.from_arrow(data)
    assert f.write_parquet(tmp_path / "out.parquet") == data.num_rows
    back = sl.read_parquet(tmp_path / "out.parquet")
    assert_tables_equal(back.collect(), data)
    assert f.select("id", "city").write_csv(tmp_path / "out.csv") == data.num_rows
    csv = sl.read_csv(tmp_path / "out.csv", dtypes={"id": "bigint"})
    assert_tables_equal(csv.collect(), data.select(["id", "city"]))
    assert f.select("id", "k").write_json(tmp_path / "out.jsonl") == data.num_rows
    assert sl.read_json(tmp_path / "out.jsonl").count() == data.num_rows


def test_explain_and_schema(data):
    f = sl.from_arrow(data).group_by("k").agg(sl.col("v").sum().alias("s"))
    assert f.columns == ["k", "s"]
    assert f.schema.field("s").type == pa.float64()
    text = f.explain()
    assert "Aggregate" in text
    analyzed = f.explain(analyze=True)
    assert "rows" in analyzed


def test_window_functions_match_duckdb(data):
    f = sl.from_arrow(data)
    ranked = f.window(
        sl.row_number().alias("rn"), sl.rank().alias("r"), sl.dense_rank().alias("dr"),
        sl.percent_rank().alias("pr"), sl.cume_dist().alias("cd"), sl.ntile(4).alias("q"),
        sl.lag("v", 2, 0.0).alias("lag2"), sl.lead("city").alias("next_city"),
        sl.col("v").sum().alias("running"), sl.count().alias("n_so_far"),
        partition_by="k", order_by=["ts", "id"], descending=[True, False])
    same(ranked, "SELECT *, row_number() OVER w rn, rank() OVER w r, dense_rank() OVER w dr, "
                 "percent_rank() OVER w pr, cume_dist() OVER w cd, ntile(4) OVER w q, "
                 "lag(v, 2, 0.0) OVER w lag2, lead(city) OVER w next_city, "
                 "sum(v) OVER w running, count(*) OVER w n_so_far FROM t "
                 "WINDOW w AS (PARTITION BY k ORDER BY ts DESC NULLS FIRST, id)", t=data)
    framed = f.window(
        sl.col("v").mean().alias("avg3"), sl.first_value("id").alias("first_id"),
        sl.last_value("id").alias("last_id"),
        partition_by="city", order_by="id", frame=("rows", -2, 1))
    same(framed, "SELECT *, avg(v) OVER w avg3, first_value(id) OVER w first_id, "
                 "last_value(id) OVER w last_id FROM t WINDOW w AS (PARTITION BY city "
                 "ORDER BY id ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING)", t=data)
    by_time = f.filter(sl.col("ts").is_not_null()).window(
        sl.count().alias("last_day"), partition_by="k", order_by="ts",
        frame=("range", dt.timedelta(days=-1), 0))
    same(by_time, "SELECT *, count(*) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN "
                  "INTERVAL 1 DAY PRECEDING AND CURRENT ROW) last_day FROM t "
                  "WHERE ts IS NOT NULL", t=data)
    with pytest.raises(sl.SluiceError):
        f.window(sl.col("v") + 1, partition_by="k")


def test_cross_join_and_odd_names(data):
    small = data.slice(0, 50).select(["id", "k"])
    other = pa.table({"k": [1, 2, 3], "tag": ["a", "b", "c"]})
    q = sl.from_arrow(small).join(sl.from_arrow(other), how="cross")
    same(q, "SELECT l.id, l.k, r.k AS k_right, r.tag FROM l CROSS JOIN r", l=small, r=other)
    with pytest.raises(TypeError):
        sl.from_arrow(small).join(sl.from_arrow(other), on="k", how="cross")
    # Column names with spaces and quotes survive the SQL the package writes.
    odd = pa.table({'event "time"': pa.array([dt.datetime(2024, 1, 1, 0, 0, s)
                                              for s in range(20)], pa.timestamp("us")),
                    "v": list(range(20))})
    w = (sl.from_arrow(odd).tumble('event "time"', "10s").group_by("window_start")
         .agg(sl.col("v").sum().alias("s")).sort("window_start"))
    assert w.collect().column("s").to_pylist() == [45, 145]


def test_string_slices_count_like_python():
    words = ["sluice", "ab", "", None]
    f = sl.from_arrow(pa.table({"w": pa.array(words, pa.string())}))
    for offset, length in [(0, 2), (1, None), (-3, None), (-3, 2), (-10, 2), (4, 5)]:
        got = f.select(sl.col("w").str.slice(offset, length).alias("s")).collect()
        want = [None if w is None else w[offset:] if length is None else w[offset:][:length]
                for w in words]
        assert got.column("s").to_pylist() == want, (offset, length)


def test_decimal_literals_of_any_exponent(data):
    f = sl.from_arrow(pa.table({"x": pa.array([decimal.Decimal("999.5"),
                                               decimal.Decimal("1000.5")],
                                              pa.decimal128(6, 1))}))
    assert f.filter(sl.col("x") > decimal.Decimal("1E+3")).count() == 1
    assert f.filter(sl.col("x") < decimal.Decimal("0.00001")).count() == 0
    with pytest.raises(ValueError):
        sl.lit(decimal.Decimal("NaN"))
