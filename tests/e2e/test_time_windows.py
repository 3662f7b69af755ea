"""Event-time windows in SQL: TUMBLE, HOP and SESSION table functions grouped by
window_start/window_end (operators/time_window.h), against DuckDB computing the same
windows by hand, at one and two threads. Over a file the whole input is one bounded
stream: every window fires at its end (the watermark +infinity)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import result_compare

ROWS = 200_000
BASE_US = 1_700_000_000_000_000  # 2023-11-14 22:13:20 UTC


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(11)
    d = tmp_path_factory.mktemp("windows")
    # Two hours of events, in no particular order; a few without a time.
    us = BASE_US + rng.integers(-3_600_000_000, 3_600_000_000, ROWS)
    # A sparse key: its sessions are far apart, the others' run together.
    k = rng.integers(0, 40, ROWS)
    us = np.where(k == 39, BASE_US + rng.integers(0, 200, ROWS) * 37_000_000, us)
    t = pa.table({
        "k": pa.array(k, mask=rng.random(ROWS) < 0.01),
        "s": pa.array([f"key-{x:03d}" for x in rng.integers(0, 300, ROWS)]),
        "v": pa.array(rng.normal(10, 5, ROWS), mask=rng.random(ROWS) < 0.05),
        "ts": pa.array(us, pa.timestamp("us"), mask=rng.random(ROWS) < 0.002),
    })
    t = t.append_column("ts_ms", pa.compute.cast(t["ts"], pa.timestamp("ms"), safe=False))
    pq.write_table(t, d / "t.parquet", row_group_size=25_000)
    return {"t": str(d / "t.parquet")}


AGGS = "count(*) AS n, count(v) AS nv, sum(v) AS sv, min(v) AS lo, max(s) AS hi, avg(v) AS av"


def check(sluice, duck, data, ours_query, duck_query, threads):
    ours = sluice.sql_ok(ours_query, data, threads=threads)
    theirs = result_compare.duckdb_answer(duck, data, duck_query)
    assert ours.num_rows > 0
    # Every result row is one window of one key: the window and key columns are unique.
    keys = [c for c in theirs.column_names
            if c in ("window_start", "window_end", "k", "s", "first")]
    diff = result_compare.compare_keyed(duck, ours, theirs, keys)
    assert diff is None, f"{ours_query}: {diff}"


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("keys", ["k", "k, s", ""])
def test_tumble(sluice, duck, data, threads, keys):
    size = 600_000_000
    sel = f"{keys}, " if keys else ""
    ours = (f"SELECT window_start, window_end, {sel}{AGGS} "
            f"FROM TUMBLE(t, ts, INTERVAL '10' MINUTE) "
            f"GROUP BY window_start, window_end{', ' + keys if keys else ''}")
    theirs = (f"SELECT make_timestamp(w) AS window_start, make_timestamp(w + {size}) AS "
              f"window_end, {sel}{AGGS} FROM (SELECT *, floor(epoch_us(ts) / {size})::BIGINT "
              f"* {size} AS w FROM t WHERE ts IS NOT NULL) GROUP BY w{', ' + keys if keys else ''}")
    check(sluice, duck, data, ours, theirs, threads)


@pytest.mark.parametrize("threads", [1, 2])
def test_tumble_by_window_end_only_and_millisecond_times(sluice, duck, data, threads):
    size = 7_000_000
    ours = (f"SELECT k, window_end, {AGGS} FROM TUMBLE(t, ts_ms, INTERVAL '7' SECOND) "
            "GROUP BY k, window_end")
    theirs = (f"SELECT k, make_timestamp(w + {size}) AS window_end, {AGGS} FROM "
              f"(SELECT *, floor(epoch_us(ts_ms) / {size})::BIGINT * {size} AS w FROM t "
              "WHERE ts_ms IS NOT NULL) GROUP BY k, w")
    check(sluice, duck, data, ours, theirs, threads)


def hop_reference(slide, size, keys):
    sel = f"{keys}, " if keys else ""
    return (f"SELECT make_timestamp(w) AS window_start, make_timestamp(w + {size}) AS "
            f"window_end, {sel}{AGGS} FROM (SELECT *, unnest(generate_series("
            f"floor(epoch_us(ts) / {slide})::BIGINT * {slide} - {size - slide}, "
            f"floor(epoch_us(ts) / {slide})::BIGINT * {slide}, {slide})) AS w "
            f"FROM t WHERE ts IS NOT NULL) GROUP BY w{', ' + keys if keys else ''}")


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("slide_s,size_s,keys", [(60, 300, "k"), (120, 120, "s"),
                                                 (30, 600, ""), (45, 90, "k, s")])
def test_hop(sluice, duck, data, threads, slide_s, size_s, keys):
    sel = f"{keys}, " if keys else ""
    ours = (f"SELECT window_start, window_end, {sel}{AGGS} FROM HOP(t, ts, "
            f"INTERVAL '{slide_s}' SECOND, INTERVAL '{size_s}' SECOND) "
            f"GROUP BY window_start, window_end{', ' + keys if keys else ''}")
    check(sluice, duck, data, ours, hop_reference(slide_s * 10**6, size_s * 10**6, keys),
          threads)


@pytest.mark.parametrize("threads", [1, 2])
def test_hop_rows_without_grouping(sluice, duck, data, threads):
    # A HOP not grouped by its window gives each row once per window it falls in.
    slide, size = 60 * 10**6, 180 * 10**6
    ours = ("SELECT k, count(*) AS n, sum(v) AS sv, min(window_start) AS first, "
            "max(window_end) AS last FROM HOP(t, ts, INTERVAL '1' MINUTE, "
            "INTERVAL '3' MINUTE) WHERE k < 5 GROUP BY k")
    theirs = (f"SELECT k, count(*) AS n, sum(v) AS sv, make_timestamp(min(w)) AS first, "
              f"make_timestamp(max(w) + {size}) AS last FROM (SELECT *, "
              f"unnest(generate_series(floor(epoch_us(ts) / {slide})::BIGINT * {slide} - "
              f"{size - slide}, floor(epoch_us(ts) / {slide})::BIGINT * {slide}, {slide})) "
              "AS w FROM t WHERE ts IS NOT NULL AND k < 5) GROUP BY k")
    check(sluice, duck, data, ours, theirs, threads)


def session_reference(gap, keys):
    part = f"PARTITION BY {keys}" if keys else ""
    sel = f"{keys}, " if keys else ""
    return (f"WITH o AS (SELECT *, epoch_us(ts) AS u FROM t WHERE ts IS NOT NULL), "
            f"f AS (SELECT *, CASE WHEN u - lag(u) OVER ({part} ORDER BY u) < {gap} "
            f"THEN 0 ELSE 1 END AS fresh FROM o), "
            f"g AS (SELECT *, sum(fresh) OVER ({part} ORDER BY u ROWS UNBOUNDED PRECEDING) "
            f"AS sid FROM f) "
            f"SELECT make_timestamp(min(u)) AS window_start, make_timestamp(max(u) + {gap}) "
            f"AS window_end, {sel}{AGGS} FROM g GROUP BY {sel}sid")


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("gap_s,keys", [(40, "k"), (3, "s"), (1, "k, s")])
def test_session(sluice, duck, data, threads, gap_s, keys):
    ours = (f"SELECT window_start, window_end, {keys}, {AGGS} FROM SESSION(t, ts, "
            f"INTERVAL '{gap_s}' SECOND) GROUP BY window_start, window_end, {keys}")
    check(sluice, duck, data, ours, session_reference(gap_s * 10**6, keys), threads)


def test_session_without_keys_is_one_stream(sluice, duck, data):
    ours = (f"SELECT window_start, window_end, {AGGS} FROM SESSION(t, ts, "
            "INTERVAL '30 milliseconds') GROUP BY window_start, window_end")
    check(sluice, duck, data, ours, session_reference(30_000, ""), 2)


@pytest.mark.parametrize("query,message", [
    ("SELECT * FROM SESSION(t, ts, INTERVAL '1' MINUTE)", "SESSION windows without a GROUP BY"),
    ("SELECT * FROM TUMBLE(t, k, INTERVAL '1' MINUTE)", "must be a TIMESTAMP, not int64"),
    ("SELECT * FROM TUMBLE(t, ts, INTERVAL '1' MONTH)", "must be a fixed duration"),
    ("SELECT * FROM TUMBLE(t, nope, INTERVAL '1' MINUTE)", "no column 'nope'"),
    ("SELECT * FROM HOP(t, ts, INTERVAL '7' SECOND, INTERVAL '10' SECOND)",
     "must be a multiple of the slide"),
    ("SELECT * FROM HOP(t, ts, INTERVAL '10' SECOND)", "HOP takes 4 arguments"),
    ("SELECT * FROM TUMBLE(t, ts, INTERVAL '0' SECOND)", "must be positive"),
    ("SELECT median(v) FROM HOP(t, ts, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE) "
     "GROUP BY window_start", "only aggregates that merge"),
    ("SELECT k, count(*) FROM TUMBLE(t, ts, INTERVAL '1' MINUTE) "
     "GROUP BY k, window_start + INTERVAL '1' SECOND", None),
])
def test_errors(sluice, data, query, message):
    r = sluice.sql(query, data)
    if message is None:
        # Grouping by an expression of window_start is a plain aggregate of window rows.
        assert r.ok, r.cli.stderr
        return
    assert not r.ok
    assert message in r.cli.stderr, r.cli.stderr


def test_tumble_median_per_window(sluice, duck, data):
    # Tumbling windows take any aggregate: a window is one pane.
    size = 900_000_000
    ours = ("SELECT window_start, k, median(v) AS m, count(DISTINCT s) AS ds FROM "
            "TUMBLE(t, ts, INTERVAL '15' MINUTE) GROUP BY window_start, k")
    theirs = (f"SELECT make_timestamp(w) AS window_start, k, median(v) AS m, "
              f"count(DISTINCT s) AS ds FROM (SELECT *, floor(epoch_us(ts) / {size})::BIGINT "
              f"* {size} AS w FROM t WHERE ts IS NOT NULL) GROUP BY w, k")
    check(sluice, duck, data, ours, theirs, 2)


@pytest.mark.parametrize("threads", [1, 2])
def test_window_over_a_full_join_waits_for_its_unmatched_rows(sluice, threads):
    # The join's unmatched build rows come out after its probe ended (a drain pipeline):
    # the exchange in front of the window aggregate must wait for them (it hung at one
    # thread and lost them at two).
    join = ("SELECT coalesce(b.date_time, p.date_time) AS date_time FROM "
            "nexmark('bid', events => 20000) b FULL JOIN nexmark('person', events => 20000) p "
            "ON b.bidder = p.id")
    total = sluice.sql_ok(f"SELECT count(*) AS n FROM ({join}) j", threads=threads)
    windows = sluice.sql_ok(f"WITH j AS ({join}) SELECT sum(c) AS n FROM (SELECT "
                            "window_start, count(*) AS c FROM TUMBLE(j, date_time, "
                            "INTERVAL '10' SECOND) GROUP BY window_start) x",
                            threads=threads, timeout=60)
    assert windows.to_pylist() == total.to_pylist()
    assert total.to_pylist()[0]["n"] > 18400  # bids, and people who never bid
