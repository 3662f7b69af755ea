"""Stream joins (operators/stream_join.h): interval joins, window joins and regular
joins of two event-time streams, against DuckDB over the same rows, at one and two
threads.

Both inputs are files read as streams (event_time/watermark options, watermarks of
1 s bounded out-of-orderness after every 500-row row group). Rows are out of order by
up to 0.9 s, inside the bound, so none of them is late; 1 % of the rows after the first
70 s are delayed by a minute, far past the watermark whatever the batching, so each of
those is late and dropped by a time-bounded join (and counted). DuckDB's reference
reads the on-time rows only (`NOT late`)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import result_compare

BASE_US = 1_700_000_000_000_000


def events(rng, n, spacing_us, keys):
    arrival = BASE_US + np.arange(n, dtype=np.int64) * spacing_us
    ts = arrival - rng.integers(0, 900_000, n)
    late = (rng.random(n) < 0.01) & (arrival - BASE_US >= 70_000_000)
    ts = np.where(late, arrival - 60_000_000, ts)
    return pa.table({
        "id": pa.array(np.arange(n, dtype=np.int64)),
        "k": pa.array(rng.integers(0, keys, n), mask=rng.random(n) < 0.005),
        "v": pa.array(rng.normal(100, 30, n)),
        # A few rows without a time: no bound holds for them, so an outer or anti join
        # emits them unmatched and an inner join drops them.
        "ts": pa.array(ts, pa.timestamp("us"), mask=(rng.random(n) < 0.003) & ~late),
        "late": pa.array(late),
    })


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(29)
    d = tmp_path_factory.mktemp("stream_joins")
    out = {}
    for name, n, spacing in (("l", 20_000, 10_000), ("r", 15_000, 13_000)):
        path = d / f"{name}.parquet"
        pq.write_table(events(rng, n, spacing, 200), path, row_group_size=500)
        out[name] = str(path)
    return out


def streams(data, query):
    if query.startswith("WITH "):
        query = ", " + query[len("WITH "):]
    return (f"WITH l AS (SELECT * FROM read_parquet('{data['l']}', event_time => 'ts', "
            f"watermark => '1s')), r AS (SELECT * FROM read_parquet('{data['r']}', "
            f"event_time => 'ts', watermark => '1s')) {query}")


def reference(duck, data, query, rows="WHERE NOT late"):
    """`query`'s answer in DuckDB over the on-time rows (or `rows`)."""
    if query.startswith("WITH "):
        query = ", " + query[len("WITH "):]
    return duck.sql(f"WITH l AS (SELECT * FROM read_parquet('{data['l']}') {rows}), "
                    f"r AS (SELECT * FROM read_parquet('{data['r']}') {rows}) "
                    f"{query}").to_arrow_table()


def late_rows(result) -> int:
    for part in result.cli.stderr.split("·"):
        if "late rows dropped" in part:
            return int(part.split()[-1].replace(",", ""))
    return 0


def delayed(duck, data, sides="lr"):
    return sum(duck.sql(f"SELECT count(*) FROM read_parquet('{data[s]}') WHERE late")
               .fetchall()[0][0] for s in sides)


def check(sluice, duck, data, query, keys, threads, min_rows=1000, rows="WHERE NOT late",
          ref=None):
    """`query` over the streams against DuckDB's `ref` (default: the same query)."""
    res = sluice.sql(streams(data, query), threads=threads)
    assert res.ok, res.cli.describe()
    theirs = reference(duck, data, ref or query, rows)
    assert theirs.num_rows >= min_rows
    diff = result_compare.compare_keyed(duck, res.table, theirs, keys)
    assert diff is None, f"{query}: {diff}"
    return res


INTERVAL = ("l.k = r.k AND r.ts BETWEEN l.ts - INTERVAL '2' SECOND "
            "AND l.ts + INTERVAL '1' SECOND")


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("join", ["JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"])
def test_interval_join(sluice, duck, data, threads, join):
    query = (f"SELECT l.id AS lid, r.id AS rid, l.k, l.ts AS lts, r.ts AS rts, r.v "
             f"FROM l {join} r ON {INTERVAL}")
    res = check(sluice, duck, data, query, ["lid", "rid"], threads)
    # Every delayed row of either side arrived late and was dropped, none other.
    assert late_rows(res) == delayed(duck, data), res.cli.stderr


@pytest.mark.parametrize("threads", [1, 2])
def test_interval_join_strict_bounds_and_swapped_sides(sluice, duck, data, threads):
    # The bound written from the right side's point of view, with strict comparisons.
    query = ("SELECT l.id AS lid, r.id AS rid FROM l JOIN r ON r.k = l.k "
             "AND l.ts > r.ts - INTERVAL '1.5' SECOND AND l.ts < r.ts")
    check(sluice, duck, data, query, ["lid", "rid"], threads)


@pytest.mark.parametrize("threads", [1, 2])
def test_interval_join_without_equal_keys(sluice, duck, data, threads):
    query = ("SELECT l.id AS lid, r.id AS rid FROM l JOIN r "
             "ON r.ts BETWEEN l.ts AND l.ts + INTERVAL '0.02' SECOND AND l.v < r.v")
    check(sluice, duck, data, query, ["lid", "rid"], threads)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("exists", ["EXISTS", "NOT EXISTS"])
def test_interval_semi_and_anti_join(sluice, duck, data, threads, exists):
    query = (f"SELECT l.id AS lid, l.k, l.ts FROM l WHERE {exists} (SELECT 1 FROM r "
             f"WHERE r.k = l.k AND r.ts BETWEEN l.ts - INTERVAL '2' SECOND "
             f"AND l.ts + INTERVAL '1' SECOND)")
    check(sluice, duck, data, query, ["lid"], threads)


@pytest.mark.parametrize("threads", [1, 2])
def test_windows_over_an_outer_interval_join(sluice, duck, data, threads):
    # The join holds its output watermark back by the bound: its rows, null-padded ones
    # included, are never late for the windows after it.
    query = ("WITH j AS (SELECT l.ts AS lts, r.id AS rid, r.v FROM l LEFT JOIN r ON "
             f"{INTERVAL}) SELECT window_start, count(*) AS n, count(rid) AS matched, "
             "sum(v) AS total FROM TUMBLE(j, lts, INTERVAL '10' SECOND) "
             "GROUP BY window_start")
    size = 10_000_000
    ours = sluice.sql(streams(data, query), threads=threads)
    assert ours.ok, ours.cli.describe()
    theirs = reference(duck, data, (
        f"SELECT make_timestamp(w) AS window_start, count(*) AS n, count(rid) AS matched, "
        f"sum(v) AS total FROM (SELECT floor(epoch_us(l.ts) / {size})::BIGINT * {size} "
        f"AS w, r.id AS rid, r.v FROM l LEFT JOIN r ON {INTERVAL}) WHERE w IS NOT NULL "
        f"GROUP BY w"))
    assert theirs.num_rows >= 15
    diff = result_compare.compare_keyed(duck, ours.table, theirs, ["window_start"])
    assert diff is None, diff
    assert late_rows(ours) == delayed(duck, data), ours.cli.stderr


@pytest.mark.parametrize("threads", [1, 2])
def test_window_join_of_aggregates(sluice, duck, data, threads):
    # Nexmark q8's shape: two windowed aggregates joined on window and key.
    query = ("SELECT a.k, a.window_start, a.n AS ln, b.n AS rn, a.total + b.total AS total "
             "FROM (SELECT k, window_start, count(*) AS n, sum(v) AS total FROM "
             "TUMBLE(l, ts, INTERVAL '5' SECOND) GROUP BY k, window_start) a JOIN "
             "(SELECT k, window_start, count(*) AS n, sum(v) AS total FROM "
             "TUMBLE(r, ts, INTERVAL '5' SECOND) GROUP BY k, window_start) b "
             "ON a.k = b.k AND a.window_start = b.window_start")
    size = 5_000_000
    agg = ("(SELECT k, make_timestamp(floor(epoch_us(ts) / {s})::BIGINT * {s}) AS "
           "window_start, count(*) AS n, sum(v) AS total FROM {t} GROUP BY ALL)")
    ref = (f"SELECT a.k, a.window_start, a.n AS ln, b.n AS rn, a.total + b.total AS total "
           f"FROM {agg.format(s=size, t='l')} a JOIN {agg.format(s=size, t='r')} b "
           "ON a.k = b.k AND a.window_start = b.window_start")
    check(sluice, duck, data, query, ["k", "window_start"], threads, ref=ref)


@pytest.mark.parametrize("threads", [1, 2])
def test_window_join_of_window_rows(sluice, duck, data, threads):
    # Rows of the same tumbling window (equal window_end, a time attribute) and key.
    query = ("SELECT a.id AS lid, b.id AS rid, a.window_end FROM "
             "TUMBLE(l, ts, INTERVAL '2' SECOND) a JOIN TUMBLE(r, ts, INTERVAL '2' SECOND) b "
             "ON a.k = b.k AND a.window_end = b.window_end")
    size = 2_000_000
    ref = ("SELECT l.id AS lid, r.id AS rid, "
           f"make_timestamp(floor(epoch_us(l.ts) / {size})::BIGINT * {size} + {size}) "
           "AS window_end FROM l JOIN r ON l.k = r.k AND "
           f"floor(epoch_us(l.ts) / {size}) = floor(epoch_us(r.ts) / {size})")
    ours = check(sluice, duck, data, query, ["lid", "rid"], threads, ref=ref)
    assert late_rows(ours) == delayed(duck, data), ours.cli.stderr


def test_explain_shows_a_stream_join(sluice, data):
    r = sluice.cli(["explain", streams(data, f"SELECT l.id FROM l JOIN r ON {INTERVAL}")])
    assert r.returncode == 0, r.describe()
    assert "StreamJoin" in r.stdout and "HashJoin" not in r.stdout, r.stdout


@pytest.fixture(scope="module")
def sparse(tmp_path_factory):
    """Per key, bursts of rows a second long, bursts an hour apart: rows of a key are
    either within a second of each other or at least 59 minutes apart."""
    rng = np.random.default_rng(5)
    d = tmp_path_factory.mktemp("ttl")
    out = {}
    for name, n in (("l", 6000), ("r", 5000)):
        burst = np.sort(rng.integers(0, 6, n))
        ts = BASE_US + burst * 3_600_000_000 + np.sort(rng.integers(0, 1_000_000, n))
        t = pa.table({"id": pa.array(np.arange(n, dtype=np.int64)),
                      "k": pa.array(rng.integers(0, 50, n)),
                      "ts": pa.array(ts, pa.timestamp("us")),
                      "late": pa.array(np.zeros(n, dtype=bool))})
        path = d / f"{name}.parquet"
        pq.write_table(t, path, row_group_size=250)
        out[name] = str(path)
    return out


@pytest.mark.parametrize("threads", [1, 2])
def test_regular_join_keeps_rows_for_the_run(sluice, duck, sparse, threads):
    query = "SELECT l.id AS lid, r.id AS rid FROM l JOIN r ON l.k = r.k"
    check(sluice, duck, sparse, query, ["lid", "rid"], threads)


@pytest.mark.parametrize("threads", [1, 2])
def test_regular_join_with_state_ttl(sluice, duck, sparse, threads):
    # With a 10-minute TTL a row meets the other side's rows of its own burst only. The
    # TTL counts on the event time columns: the query uses them.
    query = "SELECT l.id AS lid, r.id AS rid, l.ts AS lts, r.ts AS rts FROM l JOIN r ON l.k = r.k"
    res = sluice.sql(streams(sparse, query), threads=threads,
                     extra=["--state-ttl", "10 minutes"])
    assert res.ok, res.cli.describe()
    theirs = reference(duck, sparse, query + " WHERE abs(epoch_us(l.ts) - epoch_us(r.ts)) "
                       "< 600000000")
    assert theirs.num_rows > 10_000
    diff = result_compare.compare_keyed(duck, res.table, theirs, ["lid", "rid"])
    assert diff is None, diff
    everything = reference(duck, sparse, query)
    assert everything.num_rows > 2 * theirs.num_rows


def test_state_ttl_needs_event_time(sluice, sparse):
    # A GROUP BY without windows has no time attribute left.
    query = streams(sparse, "SELECT * FROM l JOIN (SELECT k, count(*) AS n FROM r "
                    "GROUP BY k) g ON l.k = g.k")
    res = sluice.sql(query, extra=["--state-ttl", "1m"])
    assert not res.ok
    assert "state_ttl" in res.error and "event time" in res.error, res.error
    # Nor do the sources' time columns if the query does not read them.
    res = sluice.sql(streams(sparse, "SELECT l.id, r.id FROM l JOIN r ON l.k = r.k"),
                     extra=["--state-ttl", "1m"])
    assert not res.ok and "select it" in res.error, res.error


@pytest.mark.parametrize("threads", [1, 2])
def test_stream_joined_with_a_table_probes_the_table(sluice, duck, data, tmp_path, threads):
    dim = tmp_path / "dim.parquet"
    pq.write_table(pa.table({"k": pa.array(np.arange(0, 200, 2, dtype=np.int64)),
                             "name": [f"key {i}" for i in range(0, 200, 2)]}), dim)
    query = (f"SELECT l.id AS lid, d.name FROM l JOIN read_parquet('{dim}') d "
             "ON l.k = d.k")
    plan = sluice.cli(["explain", streams(data, query)])
    assert "HashJoin" in plan.stdout and "StreamJoin" not in plan.stdout, plan.stdout
    # A lookup in a table has no time bound: late rows are joined like the others.
    res = check(sluice, duck, data, query, ["lid"], threads, rows="")
    assert late_rows(res) == 0


def read_late_file(path):
    import json
    with open(path) as f:
        return [json.loads(line) for line in f]


@pytest.mark.parametrize("threads", [1, 2])
def test_late_rows_go_to_the_late_data_file(sluice, duck, data, tmp_path, threads):
    late_file = tmp_path / "late.jsonl"
    res = sluice.sql(streams(data, f"SELECT l.id AS lid, r.id AS rid FROM l JOIN r ON {INTERVAL}"),
                     threads=threads, extra=["--late-rows", late_file])
    assert res.ok, res.cli.describe()
    assert f"late rows: {late_file}" in res.cli.stderr
    lines = read_late_file(late_file)
    for side, op in (("l", "StreamJoin left"), ("r", "StreamJoin right")):
        ids = sorted(x["row"]["id"] for x in lines if x["operator"] == op)
        expected = [r[0] for r in duck.sql(f"SELECT id FROM read_parquet('{data[side]}') "
                                           "WHERE late ORDER BY id").fetchall()]
        assert ids == expected and len(ids) > 50
    # Each row is at or below the watermark that made it late.
    for x in lines:
        assert x["row"]["ts"] <= x["watermark"].replace(" ", "T") or \
            x["row"]["ts"].replace("T", " ") <= x["watermark"], x
    assert len(lines) == late_rows(res)


def test_late_rows_of_windows_in_a_job(sluice, duck, data, tmp_path):
    late_file = tmp_path / "late.jsonl"
    out = tmp_path / "out.parquet"
    job = tmp_path / "job.yaml"
    job.write_text(f"""
settings: {{late_rows: "{late_file}"}}
sources:
  l: {{format: parquet, path: "{data['l']}", event_time: ts, watermark: 1s}}
steps:
  w: SELECT window_start, count(*) AS n, max(id) AS top FROM TUMBLE(l, ts, INTERVAL '5' SECOND) GROUP BY window_start
sinks:
  - {{from: w, path: "{out}"}}
""")
    r = sluice.cli(["run", job])
    assert r.returncode == 0, r.describe()
    lines = read_late_file(late_file)
    assert {x["operator"] for x in lines} == {"WindowAggregate"}
    # The rows as the window saw them: the columns the query reads, and the window's.
    assert set(lines[0]["row"]) == {"id", "ts", "window_start", "window_end"}, lines[0]
    ids = sorted(x["row"]["id"] for x in lines)
    expected = [r[0] for r in duck.sql(f"SELECT id FROM read_parquet('{data['l']}') "
                                       "WHERE late ORDER BY id").fetchall()]
    assert ids == expected
    assert f"late rows dropped {len(ids)}" in r.stderr, r.stderr
