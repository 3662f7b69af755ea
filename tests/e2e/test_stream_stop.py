"""Stopping a running job with signals (base/interrupt.h): the first SIGINT/SIGTERM ends
an unbounded stream's input gracefully (windows fire, the result is written, exit 0);
a second one aborts; a job over bounded input is cancelled by the first and publishes
nothing."""

from __future__ import annotations

import signal
import subprocess
import time

import pyarrow.parquet as pq

RATE = 20_000  # events a second of wall-clock time: bids 0.92 of them


def start(sluice, query: str, out):
    argv = [str(sluice.binary), "sql", "--threads", "2", "--format", "parquet",
            "--output", str(out), query]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# More splits than threads: an endless split never frees its thread, so each runs on a
# thread of its own (else two of them were never read).
STREAM = (f"WITH bid AS (SELECT * FROM nexmark('bid', events => -1, rate => {RATE}, "
          "splits => 4)) "
          "SELECT window_start, count(*) AS n FROM TUMBLE(bid, date_time, "
          "INTERVAL '1' SECOND) GROUP BY window_start")


def test_first_signal_drains_an_unbounded_stream(sluice, tmp_path):
    out = tmp_path / "w.parquet"
    p = start(sluice, STREAM, out)
    time.sleep(2.5)
    assert p.poll() is None, "an unbounded stream ended by itself"
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    rows = pq.read_table(out).sort_by("window_start").to_pylist()
    # 10,000 events a second of event time: full windows have 9,200 bids; the last one
    # is cut where the input ended; every event read is in some window.
    assert len(rows) >= 2
    assert all(r["n"] == 9200 for r in rows[:-1]), rows
    assert 0 < rows[-1]["n"] <= 9200
    read = int(err.split("rows in ")[1].split(" ")[0].replace(",", ""))
    assert read == sum(r["n"] for r in rows)


def test_second_signal_aborts(sluice, tmp_path):
    # After the first signal the input ends and the job drains: here it sorts the
    # millions of bids read so far and writes them, which takes a while; the second
    # signal aborts that: the job says so and leaves no result.
    out = tmp_path / "sorted.parquet"
    p = start(sluice, "SELECT auction, price FROM nexmark('bid', events => -1) "
                      "ORDER BY price DESC, auction", out)
    time.sleep(2.0)
    p.send_signal(signal.SIGINT)
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode != 0, err
    assert "aborted by a second stop signal" in err, err
    assert not out.exists()


def test_a_bounded_job_is_cancelled_and_publishes_nothing(sluice, tmp_path):
    out = tmp_path / "all.parquet"
    p = start(sluice, "SELECT * FROM nexmark('bid', events => 2000000000)", out)
    time.sleep(1.5)
    assert p.poll() is None
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode != 0
    assert "interrupted: stopped by a signal (nothing written)" in err, err
    assert not out.exists()


def test_live_status_on_a_terminal(sluice, tmp_path):
    # On a terminal an endless job shows its live status: rows in and out with their
    # rates, the watermark that reached the sink and its lag, late rows.
    import os
    import pty
    out = tmp_path / "w.parquet"
    master, slave = pty.openpty()
    argv = [str(sluice.binary), "sql", "--format", "parquet", "--output", str(out), STREAM]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    seen = b""
    deadline = time.time() + 20
    while time.time() < deadline and b"watermark 2015" not in seen:
        import select
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                seen += os.read(master, 4096)
            except OSError:
                break
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=60)
    os.close(master)
    text = seen.decode("utf-8", "replace")
    assert p.returncode == 0, text
    assert "stream " in text and " · in " in text and "/s) · out " in text, text
    assert "watermark 2015-07-15 " in text and "(lag " in text, text


def test_rolling_files_are_published_while_the_stream_runs(sluice, tmp_path):
    # An endless stream into a directory with roll_interval: finished part files appear
    # under their final names while the job runs; the stop publishes the last ones, and
    # together they hold every row read.
    out = tmp_path / "bids"
    query = (f"COPY (SELECT auction, price, date_time FROM nexmark('bid', events => -1, "
             f"rate => {RATE}, splits => 2)) TO '{out}/' (FORMAT parquet, "
             "ROLL_INTERVAL '300ms')")
    p = subprocess.Popen([str(sluice.binary), "sql", query], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 20
    while time.time() < deadline and len(list(out.glob("part-*.parquet"))) < 3:
        time.sleep(0.2)
    during = sorted(out.glob("part-*.parquet"))
    assert len(during) >= 3, (during, p.poll())
    assert p.poll() is None
    # Files already published are complete Parquet files.
    assert sum(pq.read_metadata(f).num_rows for f in during) > 0
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    files = sorted(out.glob("part-*.parquet"))
    assert len(files) >= len(during)  # (the stop may come just after a roll)
    assert not list(out.glob(".sluice-tmp-*"))
    total = sum(pq.read_metadata(f).num_rows for f in files)
    read = int(err.split("rows in ")[1].split(" ")[0].replace(",", ""))
    assert total == read


def test_roll_rows_caps_every_file(sluice, tmp_path):
    out = tmp_path / "parts"
    r = sluice.cli(["sql", "--threads", "2",
                    f"COPY (SELECT * FROM nexmark('bid', events => 200000)) TO '{out}/' "
                    "(FORMAT parquet, ROLL_ROWS 25000)"])
    assert r.returncode == 0, r.describe()
    sizes = [pq.read_metadata(f).num_rows for f in sorted(out.glob("part-*.parquet"))]
    assert sum(sizes) == 184_000 and max(sizes) == 25_000, sizes
    bad = sluice.cli(["sql", f"COPY (SELECT 1 AS x) TO '{tmp_path}/one.parquet' "
                             "(ROLL_ROWS 10)"])
    assert bad.returncode != 0 and "need a directory target" in bad.stderr, bad.stderr
    kafka = sluice.cli(["sql", "COPY (SELECT 1 AS x) TO 't' (FORMAT kafka, BROKERS "
                               "'127.0.0.1:1', ROLL_ROWS 10)"])
    assert kafka.returncode != 0 and "are for files" in kafka.stderr, kafka.stderr
