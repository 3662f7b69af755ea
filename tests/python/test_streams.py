"""Streams from Python: generator sources, event-time windows, background jobs, a real
Kafka broker; answers against DuckDB over the same events read as a bounded table."""
from __future__ import annotations

import json
import os
import signal
import threading
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from kafka import KafkaConsumer

import sluice as sl
from result_compare import assert_same_rows as assert_same
from result_compare import duckdb_over_arrow as duck

EVENTS = 300_000


@pytest.fixture(scope="module")
def bids() -> pa.Table:
    # The generator's bids with no late events: every window sees all of its rows.
    return sl.nexmark("bid", events=EVENTS, delayed_fraction=0.0).collect()


def test_windows_from_python_match_duckdb(bids):
    s = sl.Session(threads=2)
    stream = s.nexmark("bid", events=EVENTS, delayed_fraction=0.0)
    tumble = (stream.tumble("date_time", "10s").group_by("window_start", "auction")
              .agg(sl.count().alias("n"), sl.col("price").max().alias("top")))
    assert_same(tumble.collect(), duck(
        "SELECT time_bucket(INTERVAL 10 SECOND, date_time) AS window_start, auction, "
        "count(*) n, max(price) top FROM b GROUP BY ALL", b=bids))
    hop = (stream.hop("date_time", "2s", "10s").group_by("window_start")
           .agg(sl.count().alias("n")))
    assert_same(hop.collect(), duck(
        "SELECT s AS window_start, count(*) n FROM b, "
        "unnest(generate_series(time_bucket(INTERVAL 2 SECOND, date_time) - INTERVAL 8 SECOND,"
        " time_bucket(INTERVAL 2 SECOND, date_time), INTERVAL 2 SECOND)) t(s) GROUP BY s",
        b=bids))


def test_a_job_runs_in_the_background_and_stops_gracefully(tmp_path):
    counts = (sl.nexmark("bid", events=-1, rate=100_000).tumble("date_time", "1s")
              .group_by("window_start").agg(sl.count().alias("n")))
    job = counts.start(str(tmp_path / "out") + "/", format="parquet", roll_rows=3)
    deadline = time.monotonic() + 30
    while job.status()["rows_out"] < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    status = job.status()
    assert status["running"] and status["rows_read"] > 0 and status["watermark"] is not None
    job.stop()
    written = job.wait()
    assert written >= 4 and not job.running
    files = sorted((tmp_path / "out").glob("part-*.parquet"))
    table = pa.concat_tables([pq.read_table(f) for f in files])
    assert table.num_rows == written
    # Every window came out once, and every one but the last (cut by the stop) is a
    # full second of a 100,000 events/s stream.
    starts = table.column("window_start").to_pylist()
    assert len(starts) == len(set(starts))
    assert "running" in repr(job) or "finished" in repr(job)


def test_ctrl_c_during_wait_stops_the_job_and_publishes(tmp_path, sigint_raises):
    job = (sl.nexmark("bid", events=-1, rate=50_000).select("auction", "price")
           .start(str(tmp_path / "rows") + "/", format="parquet", roll_rows=10_000))
    threading.Timer(1.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    with pytest.raises(KeyboardInterrupt):
        job.wait()
    assert not job.running
    published = sum(pq.read_metadata(f).num_rows for f in (tmp_path / "rows").glob("*.parquet"))
    assert published == job.status()["rows_out"] > 0


def test_ctrl_c_stops_collect_of_an_endless_stream(sigint_raises):
    endless = sl.nexmark("bid", events=-1, rate=200_000).select("auction")
    threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        endless.collect()
    assert time.monotonic() - started < 30
    assert sl.sql("SELECT 1 AS one").count() == 1


def test_job_errors_are_raised_by_wait(tmp_path):
    with pytest.raises(sl.SluiceError):
        sl.from_arrow(pa.table({"a": [1]})).start(str(tmp_path), format="nope")
    bad = tmp_path / "bad.csv"
    bad.write_text("a\n1\nx\n")
    job = sl.read_csv(bad, dtypes={"a": "bigint"}).start(str(tmp_path / "o.parquet"))
    with pytest.raises(sl.SluiceError, match=r"bad\.csv:3"):
        job.wait()
    assert job.status()["error"] is not None


def test_kafka_out_and_back_in(kafka, bids):
    topic = "py_bids"
    kafka.create_topic(topic, 2)
    rows = sl.from_arrow(bids.slice(0, 5000)).select("auction", "bidder", "price")
    assert rows.write_kafka(topic, brokers=kafka.bootstrap, key="auction") == 5000
    # Read back by Sluice, to the end offsets, and by a second client.
    back = sl.read_kafka(topic, brokers=kafka.bootstrap, stop_at="end",
                         columns={"auction": "bigint", "bidder": "bigint", "price": "bigint"})
    assert_same(back.collect(), bids.slice(0, 5000).select(["auction", "bidder", "price"]))
    consumer = KafkaConsumer(topic, bootstrap_servers=kafka.bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=5000)
    messages = list(consumer)
    consumer.close()
    assert len(messages) == 5000
    m = messages[0]
    assert json.loads(m.value)["auction"] == int(m.key)


def test_ctrl_c_in_one_session_leaves_another_sessions_job_running(tmp_path, sigint_raises):
    background = sl.Session(threads=1)
    job = (background.nexmark("bid", events=-1, rate=20_000).select("auction")
           .start(str(tmp_path / "bg") + "/", format="parquet", roll_rows=5_000))
    threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    with pytest.raises(KeyboardInterrupt):
        sl.nexmark("bid", events=-1, rate=50_000).select("auction").collect()
    time.sleep(0.5)
    assert job.running, job.status()
    job.stop()
    assert job.wait() > 0


def test_interval_join_of_two_streams_from_frames(bids):
    import datetime as dt

    s = sl.Session(threads=2)
    auctions = s.nexmark("auction", events=EVENTS, delayed_fraction=0.0)
    stream_bids = s.nexmark("bid", events=EVENTS, delayed_fraction=0.0)
    joined = (auctions.select("id", "seller", sl.col("date_time").alias("opened"))
              .join(stream_bids.select("auction", "bidder", "price", "date_time"),
                    left_on="id", right_on="auction",
                    condition=sl.col("date_time").is_between(
                        sl.col("opened"), sl.col("opened") + dt.timedelta(seconds=10))))
    assert "StreamJoin" in joined.explain()
    a = sl.nexmark("auction", events=EVENTS, delayed_fraction=0.0).collect()
    assert_same(joined.collect(), duck(
        "SELECT a.id, a.seller, a.date_time AS opened, b.auction, b.bidder, b.price, "
        "b.date_time FROM a JOIN b ON a.id = b.auction AND b.date_time BETWEEN a.date_time "
        "AND a.date_time + INTERVAL 10 SECOND", a=a, b=bids))
