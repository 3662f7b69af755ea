"""Batch equals stream (docs/design/streams.md): the same windowed query over the Nexmark
generator (a stream: watermarks as it goes, splits in parallel, events out of order
within groups) and over the same events written to a file first (read in order with
event_time/watermark options), at parallelism 1 and 2, gives the same windows; and
those are DuckDB's answer over the file.

Late events: a share of the bids is delayed by a minute, far more than the watermark's
one-second bound, a window (10 s) and the event time a batch covers (about 13 s), so
every one of them arriving after the first watermark is late wherever it runs and is
dropped. Those arriving before any watermark (in the first batch) are not late; they
fall in windows before the stream's start (their time is a minute before it), which
the comparisons leave out. Sessions are compared without delayed events: a delayed
event joining a session that is still open is not late, and whether that session is
still open depends on when the watermark passed it."""

from __future__ import annotations

import pyarrow as pa
import pytest

import result_compare

EVENTS = 2_000_000
START = "TIMESTAMP '2015-07-15 00:00:00'"  # the generator's base time
GEN = "events => 2000000, out_of_order_group => 64"
DELAYED = "delayed_fraction => 0.002, delay => '60s'"


@pytest.fixture(scope="module")
def files(sluice, tmp_path_factory):
    d = tmp_path_factory.mktemp("nexmark")
    out = {}
    for name, extra in (("bid", DELAYED), ("bid_ontime", ""), ("auction", "")):
        table = "bid" if name.startswith("bid") else name
        opts = f"{GEN}, splits => 1" + (f", {extra}" if extra else "")
        path = d / f"{name}.parquet"
        # One thread, one split: the file holds the events in the stream's order.
        r = sluice.cli(["sql", "--threads", "1",
                        f"COPY (SELECT * FROM nexmark('{table}', {opts})) TO '{path}' "
                        "(FORMAT parquet)"])
        assert r.returncode == 0, r.describe()
        out[name] = str(path)
    return out


def run_both(sluice, files, name, table, query, threads, delayed):
    """The query's answer over the stream and over the file, and both runs' stderr."""
    opts = GEN + (f", {DELAYED}" if delayed else "")
    stream = (f"WITH {table} AS (SELECT * FROM nexmark('{table}', {opts}, "
              f"watermark => '1s')) {query}")
    batch = (f"WITH {table} AS (SELECT * FROM read_parquet('{files[name]}', "
             f"event_time => 'date_time', watermark => '1s')) {query}")
    s = sluice.sql(stream, threads=threads)
    b = sluice.sql(batch, threads=threads)
    assert s.ok, s.cli.describe()
    assert b.ok, b.cli.describe()
    return s, b


def late_rows(result) -> int:
    for part in result.cli.stderr.split("·"):
        if "late rows dropped" in part:
            return int(part.split()[-1].replace(",", ""))
    return 0


def assert_same(duck, a: pa.Table, b: pa.Table, keys, labels):
    diff = result_compare.compare_keyed(duck, a, b, keys, labels=labels)
    assert diff is None, diff


def after_start(duck, t: pa.Table) -> pa.Table:
    duck.register("w", t)
    try:
        return duck.sql(f"SELECT * FROM w WHERE window_start >= {START}").to_arrow_table()
    finally:
        duck.unregister("w")


TUMBLE = ("SELECT window_start, window_end, auction, count(*) AS n, sum(price) AS total, "
          "max(price) AS top FROM TUMBLE(bid, date_time, INTERVAL '10' SECOND) "
          "GROUP BY window_start, window_end, auction")
HOP = ("SELECT window_start, window_end, auction, count(*) AS n, avg(price) AS mean "
       "FROM HOP(bid, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND) "
       "GROUP BY window_start, window_end, auction")

# Over the file's on-time rows: a delayed bid is a minute older than the bids around it.
WITH_NEWEST = ("(SELECT *, max(date_time) OVER (ORDER BY file_row_number ROWS UNBOUNDED "
               "PRECEDING) AS newest FROM read_parquet('{path}', file_row_number => true))")
ONTIME = "(SELECT * FROM " + WITH_NEWEST + " WHERE date_time > newest - INTERVAL '30' SECOND)"
DELAYED_ROWS = ("(SELECT * FROM " + WITH_NEWEST +
                " WHERE date_time <= newest - INTERVAL '30' SECOND)")
TUMBLE_REF = ("SELECT make_timestamp(w) AS window_start, make_timestamp(w + 10000000) AS "
              "window_end, auction, count(*) AS n, sum(price) AS total, max(price) AS top "
              "FROM (SELECT *, floor(epoch_us(date_time) / 10000000)::BIGINT * 10000000 AS w "
              "FROM {rows}) GROUP BY w, auction")
HOP_REF = ("SELECT make_timestamp(w) AS window_start, make_timestamp(w + 10000000) AS "
           "window_end, auction, count(*) AS n, avg(price) AS mean FROM (SELECT *, "
           "unnest(generate_series(floor(epoch_us(date_time) / 2000000)::BIGINT * 2000000 "
           "- 8000000, floor(epoch_us(date_time) / 2000000)::BIGINT * 2000000, 2000000)) AS w "
           "FROM {rows}) GROUP BY w, auction")


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("kind", ["tumble", "hop"])
def test_windows_with_late_events(sluice, duck, files, threads, kind):
    query, ref = (TUMBLE, TUMBLE_REF) if kind == "tumble" else (HOP, HOP_REF)
    s, b = run_both(sluice, files, "bid", "bid", query, threads, delayed=True)
    keys = ["window_start", "auction"]
    stream, batch = after_start(duck, s.table), after_start(duck, b.table)
    assert stream.num_rows > 1000
    assert_same(duck, stream, batch, keys, ("stream", "batch"))
    theirs = after_start(duck, duck.sql(
        ref.format(rows=ONTIME.format(path=files["bid"]))).to_arrow_table())
    assert_same(duck, stream, theirs, keys, ("stream", "duckdb"))
    # Every delayed bid is late but those of the first batch (a minute before the start).
    delayed, early = duck.sql(
        f"SELECT count(*), count(*) FILTER (WHERE date_time < {START}) FROM "
        f"{DELAYED_ROWS.format(path=files['bid'])}").fetchall()[0]
    assert delayed > 3000
    for r in (s, b):
        assert delayed - early <= late_rows(r) <= delayed, (delayed, early, r.cli.stderr)


@pytest.mark.parametrize("threads", [1, 2])
def test_sessions(sluice, duck, files, threads):
    query = ("SELECT window_start, window_end, bidder, count(*) AS n, max(price) AS top "
             "FROM SESSION(bid, date_time, INTERVAL '300 milliseconds') "
             "GROUP BY window_start, window_end, bidder")
    s, b = run_both(sluice, files, "bid_ontime", "bid", query, threads, delayed=False)
    keys = ["window_start", "bidder"]
    assert s.table.num_rows > 1000
    assert_same(duck, s.table, b.table, keys, ("stream", "batch"))
    gap = 300_000
    ref = (f"WITH o AS (SELECT *, epoch_us(date_time) AS u FROM "
           f"read_parquet('{files['bid_ontime']}')), "
           f"f AS (SELECT *, CASE WHEN u - lag(u) OVER (PARTITION BY bidder ORDER BY u) "
           f"< {gap} THEN 0 ELSE 1 END AS fresh FROM o), "
           f"g AS (SELECT *, sum(fresh) OVER (PARTITION BY bidder ORDER BY u ROWS "
           f"UNBOUNDED PRECEDING) AS sid FROM f) "
           f"SELECT make_timestamp(min(u)) AS window_start, make_timestamp(max(u) + {gap}) "
           f"AS window_end, bidder, count(*) AS n, max(price) AS top FROM g "
           f"GROUP BY bidder, sid")
    assert_same(duck, s.table, duck.sql(ref).to_arrow_table(), keys, ("stream", "duckdb"))
    assert late_rows(s) == 0 and late_rows(b) == 0


@pytest.mark.parametrize("threads", [1, 2])
def test_exact_watermarks_lose_nothing(sluice, duck, files, threads):
    # The generator's own watermarks (the start of the out-of-order group still to come)
    # never call an on-time event late: the stream's windows are the file's GROUP BY.
    s = sluice.sql(f"WITH bid AS (SELECT * FROM nexmark('bid', {GEN})) {TUMBLE}",
                   threads=threads)
    assert s.ok, s.cli.describe()
    theirs = duck.sql(TUMBLE_REF.format(
        rows=f"read_parquet('{files['bid_ontime']}')")).to_arrow_table()
    assert_same(duck, s.table, theirs, ["window_start", "auction"], ("stream", "duckdb"))
    assert late_rows(s) == 0


JOIN = ("SELECT a.id, count(*) AS n, sum(b.price) AS total, max(b.date_time) AS last "
        "FROM auction a JOIN bid b ON a.id = b.auction AND b.date_time BETWEEN "
        "a.date_time AND a.date_time + INTERVAL '10' SECOND GROUP BY a.id")


@pytest.mark.parametrize("threads", [1, 2])
def test_interval_join(sluice, duck, files, threads):
    # Two generator streams (bounded watermarks, splits in parallel) joined within 10 s
    # of event time, against the same events from files, and DuckDB's join of those.
    gen = f"{GEN}, watermark => '1s'"
    stream = (f"WITH auction AS (SELECT * FROM nexmark('auction', {gen})), bid AS "
              f"(SELECT * FROM nexmark('bid', {gen})) {JOIN}")
    read = "event_time => 'date_time', watermark => '1s'"
    batch = (f"WITH auction AS (SELECT * FROM read_parquet('{files['auction']}', {read})), "
             f"bid AS (SELECT * FROM read_parquet('{files['bid_ontime']}', {read})) {JOIN}")
    s = sluice.sql(stream, threads=threads)
    b = sluice.sql(batch, threads=threads)
    assert s.ok, s.cli.describe()
    assert b.ok, b.cli.describe()
    assert s.table.num_rows > 10_000
    assert_same(duck, s.table, b.table, ["id"], ("stream", "batch"))
    theirs = duck.sql(JOIN.replace("FROM auction a", f"FROM read_parquet('{files['auction']}') a")
                      .replace("JOIN bid b", f"JOIN read_parquet('{files['bid_ontime']}') b")
                      ).to_arrow_table()
    assert_same(duck, s.table, theirs, ["id"], ("stream", "duckdb"))
    assert late_rows(s) == 0 and late_rows(b) == 0


@pytest.mark.parametrize("threads", [1, 2])
def test_allowed_lateness_takes_the_delayed_events(sluice, duck, files, threads):
    # Windows wait 90 s of event time past their end: the bids delayed by a minute are
    # no longer late, and the windows are DuckDB's over every row of the file.
    query = TUMBLE.replace("INTERVAL '10' SECOND)",
                           "INTERVAL '10' SECOND, allowed_lateness => INTERVAL '90' SECOND)")
    assert query != TUMBLE
    s, b = run_both(sluice, files, "bid", "bid", query, threads, delayed=True)
    keys = ["window_start", "auction"]
    assert_same(duck, s.table, b.table, keys, ("stream", "batch"))
    theirs = duck.sql(TUMBLE_REF.format(
        rows=f"read_parquet('{files['bid']}')")).to_arrow_table()
    assert_same(duck, s.table, theirs, keys, ("stream", "duckdb"))
    assert late_rows(s) == 0 and late_rows(b) == 0


def test_allowed_lateness_errors(sluice):
    for arg, message in (("allowed_lateness => INTERVAL '-1' SECOND", "must not be negative"),
                         ("lateness => INTERVAL '1' SECOND", "unknown option 'lateness'")):
        r = sluice.sql(f"WITH bid AS (SELECT * FROM nexmark('bid', events => 10)) "
                       f"SELECT window_start, count(*) FROM TUMBLE(bid, date_time, "
                       f"INTERVAL '1' SECOND, {arg}) GROUP BY window_start")
        assert not r.ok and message in r.error, r.error
