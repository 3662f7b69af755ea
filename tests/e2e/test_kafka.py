"""Kafka in and out against a real broker (scripts/kafka.sh, KRaft, 127.0.0.1): COPY ...
TO a topic, read_kafka() of a topic, checked with another client (kafka-python) and
against the same rows computed without Kafka."""

from __future__ import annotations

import json
import uuid

import pyarrow as pa
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

import result_compare

BID_COLUMNS = ("auction bigint, bidder bigint, price bigint, channel varchar, url varchar, "
               "date_time timestamp, extra varchar")


def topic_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def read_all(kafka, topic: str):
    """Every message of `topic` as (partition, offset, key, value) via kafka-python."""
    consumer = KafkaConsumer(bootstrap_servers=kafka.bootstrap, enable_auto_commit=False,
                             auto_offset_reset="earliest", consumer_timeout_ms=5000)
    parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    ends = consumer.end_offsets(parts)
    out = []
    while any(consumer.position(p) < ends[p] for p in parts):
        for records in consumer.poll(timeout_ms=1000).values():
            for m in records:
                out.append((m.partition, m.offset, m.key, m.value))
    consumer.close()
    return out


def produce(kafka, topic: str, messages):
    """(partition, value bytes) pairs, in order."""
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
    for partition, value in messages:
        producer.send(topic, value=value, partition=partition)
    producer.flush()
    producer.close()


def test_copy_to_kafka_writes_every_row_keyed(sluice, kafka):
    topic = topic_name("bids")
    kafka.create_topic(topic, 3)
    r = sluice.cli(["sql", "--threads", "2",
                    f"COPY (SELECT * FROM nexmark('bid', events => 50000)) TO '{topic}' "
                    f"(FORMAT kafka, BROKERS '{kafka.bootstrap}', KEY 'auction')"])
    assert r.returncode == 0, r.describe()
    assert "COPY 46000 rows" in r.stdout + r.stderr
    messages = read_all(kafka, topic)
    assert len(messages) == 46000
    # One auction's bids all in one partition, and the key is the auction.
    where = {}
    for partition, _, key, value in messages:
        row = json.loads(value)
        assert key == str(row["auction"]).encode()
        assert where.setdefault(row["auction"], partition) == partition
    assert len(set(where.values())) == 3
    # The values are the rows.
    ours = sluice.sql_ok("SELECT auction, bidder, price FROM nexmark('bid', events => 50000)")
    expected = sorted(zip(*(ours.column(c).to_pylist() for c in range(3))))
    got = sorted((r["auction"], r["bidder"], r["price"])
                 for r in (json.loads(v) for _, _, _, v in messages))
    assert got == expected


def test_copy_to_a_missing_topic_fails_at_once(sluice, kafka):
    r = sluice.cli(["sql", f"COPY (SELECT 1 AS x) TO 'no-such-topic' (FORMAT kafka, "
                           f"BROKERS '{kafka.bootstrap}')"])
    assert r.returncode != 0
    assert "no-such-topic" in r.stderr and "Unknown topic" in r.stderr, r.stderr


@pytest.fixture(scope="module")
def bid_topic(sluice, kafka):
    topic = topic_name("bid-in")
    kafka.create_topic(topic, 3)
    # One thread: each partition holds its bids in event order.
    r = sluice.cli(["sql", "--threads", "1",
                    f"COPY (SELECT * FROM nexmark('bid', events => 400000, splits => 1)) "
                    f"TO '{topic}' (FORMAT kafka, BROKERS '{kafka.bootstrap}', "
                    "KEY 'bidder')"])
    assert r.returncode == 0, r.describe()
    return topic


@pytest.mark.parametrize("threads", [1, 2])
def test_read_kafka_to_the_end(sluice, duck, kafka, bid_topic, threads):
    q = ("SELECT channel, count(*) AS n, sum(price) AS total, min(date_time) AS first "
         "FROM {src} GROUP BY channel")
    ours = sluice.sql_ok(q.format(src=f"read_kafka('{bid_topic}', brokers => "
                                      f"'{kafka.bootstrap}', columns => '{BID_COLUMNS}', "
                                      "stop_at => 'end')"), threads=threads)
    theirs = sluice.sql_ok(q.format(src="nexmark('bid', events => 400000)"))
    assert result_compare.compare(ours, theirs) is None


@pytest.mark.parametrize("threads", [1, 2])
def test_windows_over_kafka_equal_the_generator(sluice, duck, kafka, bid_topic, threads):
    window = ("SELECT window_start, auction, count(*) AS n, max(price) AS top "
              "FROM TUMBLE(bid, date_time, INTERVAL '10' SECOND) "
              "GROUP BY window_start, auction")
    stream = (f"WITH bid AS (SELECT * FROM read_kafka('{bid_topic}', brokers => "
              f"'{kafka.bootstrap}', columns => '{BID_COLUMNS}', stop_at => 'end', "
              f"event_time => 'date_time', watermark => '2s')) {window}")
    r = sluice.sql(stream, threads=threads)
    assert r.ok, r.cli.describe()
    assert "late rows" not in r.cli.stderr
    theirs = sluice.sql_ok(f"WITH bid AS (SELECT * FROM nexmark('bid', events => 400000)) "
                           f"{window}")
    diff = result_compare.compare_keyed(duck, r.table, theirs, ["window_start", "auction"])
    assert diff is None, diff


def test_bad_messages_name_topic_partition_offset(sluice, kafka, tmp_path):
    topic = topic_name("bad")
    kafka.create_topic(topic, 2)
    good = [json.dumps({"id": i, "v": i * 0.5}).encode() for i in range(10)]
    produce(kafka, topic, [(0, v) for v in good[:5]] +
            [(1, v) for v in good[5:]] +
            [(1, b'{"id": "x", "v": 1}'), (1, b"not json"), (0, b"")])
    src = (f"read_kafka('{topic}', brokers => '{kafka.bootstrap}', columns => 'id bigint, "
           "v double', stop_at => 'end'{extra})")
    r = sluice.sql(f"SELECT count(*) FROM {src.format(extra='')}")
    assert not r.ok
    # The first bad message of some partition stops the job, named by place.
    assert f"{topic}:1:5" in r.cli.stderr or f"{topic}:0:5" in r.cli.stderr, r.cli.stderr
    r = sluice.sql(f"SELECT count(*) AS n, sum(v) AS s FROM "
                   f"{src.format(extra=', on_error => ' + repr('skip'))}")
    assert r.ok, r.cli.describe()
    assert r.table.to_pylist() == [{"n": 10, "s": sum(i * 0.5 for i in range(10))}]
    assert "rejected 3" in r.cli.stderr, r.cli.stderr
    rejects = tmp_path / "rejects.jsonl"
    r = sluice.sql(f"SELECT count(*) AS n FROM {src.format(extra=', on_error => ' + repr('reject') + ', rejects => ' + repr(str(rejects)))}")
    assert r.ok, r.cli.describe()
    lines = [json.loads(l) for l in rejects.read_text().splitlines()]
    places = sorted((l["source"], l["line"]) for l in lines)
    assert places == [(f"{topic}:0", 5), (f"{topic}:1", 5), (f"{topic}:1", 6)]
    assert any("empty message" in l["reason"] for l in lines)
    # A dead-letter topic instead of a file: the same objects, keyed by source partition.
    dlq = topic_name("dlq")
    kafka.create_topic(dlq, 1)
    r = sluice.sql(f"SELECT count(*) AS n FROM {src.format(extra=', on_error => ' + repr('reject') + ', rejects => ' + repr('kafka:' + dlq))}")
    assert r.ok, r.cli.describe()
    assert r.table.to_pylist() == [{"n": 10}]
    assert f"rejects: kafka topic {dlq}" in r.cli.stderr, r.cli.stderr
    dead = read_all(kafka, dlq)
    assert sorted((k.decode(), json.loads(v)["line"]) for _, _, k, v in dead) == places
    assert sorted(json.loads(v)["reason"] for _, _, _, v in dead) == \
        sorted(l["reason"] for l in lines)
    missing = sluice.sql(f"SELECT count(*) FROM {src.format(extra=', on_error => ' + repr('reject') + ', rejects => ' + repr('kafka:no-such-dlq'))}")
    assert not missing.ok and "no-such-dlq" in missing.error, missing.error


def test_group_offsets_resume_after_the_last_run(sluice, kafka):
    topic = topic_name("resume")
    kafka.create_topic(topic, 2)
    produce(kafka, topic, [(i % 2, json.dumps({"id": i}).encode()) for i in range(100)])
    group = topic_name("g")
    q = (f"SELECT count(*) AS n, min(id) AS lo FROM read_kafka('{topic}', brokers => "
         f"'{kafka.bootstrap}', columns => 'id bigint', stop_at => 'end', group_id => "
         f"'{group}', start => 'committed')")
    first = sluice.sql(q)
    assert first.ok, first.cli.describe()
    assert first.table.to_pylist() == [{"n": 100, "lo": 0}]
    produce(kafka, topic, [(i % 2, json.dumps({"id": i}).encode()) for i in range(100, 130)])
    second = sluice.sql(q)
    assert second.ok, second.cli.describe()
    # Only what came after the committed offsets.
    assert second.table.to_pylist() == [{"n": 30, "lo": 100}]
    # A failed run commits nothing: the next one sees the same messages again.
    produce(kafka, topic, [(0, b"broken")])
    failed = sluice.sql(q)
    assert not failed.ok
    produce(kafka, topic, [(1, json.dumps({"id": 500}).encode())])
    again = sluice.sql(q.replace("count(*) AS n", "count(*) AS n").replace(
        "stop_at => 'end'", "stop_at => 'end', on_error => 'skip'"))
    assert again.ok, again.cli.describe()
    assert again.table.to_pylist() == [{"n": 1, "lo": 500}]


def test_unknown_topic_and_unreachable_broker_are_clear_errors(sluice, kafka):
    r = sluice.sql(f"SELECT * FROM read_kafka('nope', brokers => '{kafka.bootstrap}', "
                   "columns => 'id bigint', stop_at => 'end')")
    assert not r.ok
    assert "nope" in r.cli.stderr, r.cli.stderr
    r = sluice.sql("SELECT * FROM read_kafka('t', brokers => '127.0.0.1:1', columns => "
                   "'id bigint', stop_at => 'end', timeout => '2s')", timeout=60)
    assert not r.ok
    assert "127.0.0.1:1" in r.cli.stderr, r.cli.stderr


def test_unbounded_read_stops_gracefully_and_commits(sluice, kafka, tmp_path):
    import signal
    import subprocess
    import time

    import pyarrow.parquet as pq

    topic = topic_name("live")
    kafka.create_topic(topic, 2)
    produce(kafka, topic, [(i % 2, json.dumps({"id": i}).encode()) for i in range(200)])
    group = topic_name("g")
    src = (f"read_kafka('{topic}', brokers => '{kafka.bootstrap}', columns => 'id bigint', "
           f"group_id => '{group}', start => 'committed'")
    out = tmp_path / "live.parquet"
    # The rows themselves: a GROUP BY over an endless read would be an updating result,
    # which a file does not take.
    p = subprocess.Popen([str(sluice.binary), "sql", "--format", "parquet", "--output",
                          str(out), f"SELECT id FROM {src})"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    produce(kafka, topic, [(0, json.dumps({"id": 1000}).encode())])
    time.sleep(2)
    assert p.poll() is None, "an unbounded read ended by itself"
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert sorted(pq.read_table(out)["id"].to_pylist()) == list(range(200)) + [1000]
    # The offsets were committed on the way out: nothing is left for the group.
    after = sluice.sql(f"SELECT count(*) AS n FROM {src}, stop_at => 'end')")
    assert after.ok, after.cli.describe()
    assert after.table.to_pylist() == [{"n": 0}]


def _live_read(sluice, broker, topic, group, out, extra=""):
    import subprocess
    src = (f"read_kafka('{topic}', brokers => '{broker.bootstrap}', columns => 'id bigint', "
           f"group_id => '{group}', start => 'committed'{extra})")
    return subprocess.Popen([str(sluice.binary), "sql", "--format", "parquet", "--output",
                             str(out), f"SELECT id FROM {src}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _own_broker_read(sluice, tmp_path, rows, extra=""):
    """A broker of the test's own (to stop), a one-partition topic of `rows` ids, and an
    endless read of it into n.parquet, running: (broker, topic, process, out)."""
    from kafka_broker import KafkaBroker

    broker = KafkaBroker(tmp_path / "broker")
    broker.start()
    topic = topic_name("outage")
    broker.create_topic(topic, 1)
    produce(broker, topic, [(0, json.dumps({"id": i}).encode()) for i in range(rows)])
    out = tmp_path / "n.parquet"
    return broker, topic, _live_read(sluice, broker, topic, topic_name("g"), out, extra), out


def test_a_broker_away_briefly_is_waited_for(sluice, tmp_path):
    import signal
    import time

    import pyarrow.parquet as pq

    broker, topic, p, out = _own_broker_read(sluice, tmp_path, 100)
    try:
        time.sleep(3)
        broker.stop()
        time.sleep(3)
        broker.start()  # the same port
        produce(broker, topic, [(0, json.dumps({"id": i}).encode()) for i in range(100, 150)])
        time.sleep(6)
        assert p.poll() is None, p.communicate()[1]
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        assert sorted(pq.read_table(out)["id"].to_pylist()) == list(range(150))
    finally:
        broker.stop()


def test_a_broker_gone_for_good_fails_after_broker_timeout(sluice, tmp_path):
    # The broker stops and never comes back: a quiet read notices (its metadata probes
    # fail) and fails with a clear error once broker_timeout has passed.
    import time

    broker, _, p, out = _own_broker_read(sluice, tmp_path, 10, ", broker_timeout => '5s'")
    try:
        time.sleep(3)
        assert p.poll() is None
    finally:
        broker.stop()
    start = time.time()
    _, err = p.communicate(timeout=90)
    assert p.returncode != 0
    assert "stayed unreachable for 5s (broker_timeout)" in err, err
    assert time.time() - start < 60
    assert not out.exists()


def test_a_job_reads_and_writes_kafka(sluice, kafka, tmp_path):
    # Job files: a Kafka source with event time, windows, a Kafka sink.
    src, dst = topic_name("job-in"), topic_name("job-out")
    kafka.create_topic(src, 2)
    kafka.create_topic(dst, 2)
    produce(kafka, src, [(i % 2, json.dumps({"k": i % 3, "ts": f"2026-01-01T00:00:{i % 60:02d}"})
                          .encode()) for i in range(120)])
    job = tmp_path / "job.yaml"
    job.write_text(f"""
sources:
  events:
    format: kafka
    path: {src}
    event_time: ts
    watermark: 1s
    options: {{brokers: "{kafka.bootstrap}", columns: "k bigint, ts timestamp", stop_at: end}}
steps:
  per_window: |
    SELECT window_start, k, count(*) AS n FROM TUMBLE(events, ts, INTERVAL '30' SECOND)
    GROUP BY window_start, k
sinks:
  - {{from: per_window, format: kafka, path: {dst}, brokers: "{kafka.bootstrap}", key: k}}
""")
    r = sluice.cli(["run", str(job)])
    assert r.returncode == 0, r.describe()
    rows = sorted((json.loads(v)["window_start"], json.loads(v)["k"], json.loads(v)["n"], key)
                  for _, _, key, v in read_all(kafka, dst))
    # 120 events over one minute, keys 0..2: two windows of 20 per key.
    assert sorted((k, n) for _, k, n, _ in rows) == [(0, 20), (0, 20), (1, 20), (1, 20),
                                                      (2, 20), (2, 20)]
    assert len({w for w, _, _, _ in rows}) == 2
    assert all(key == str(k).encode() for _, k, _, key in rows)


def test_nexmark_queries_on_kafka_equal_the_generator(sluice, duck, kafka, repo_root,
                                                      tmp_path):
    # examples/nexmark: the events loaded into topics by load_kafka.sh, then q3, q5, q7
    # and q8 (stream joins and windows) read from Kafka, as run.sh --kafka runs them,
    # against the same queries over the generator.
    import csv
    import io
    import os
    import subprocess
    events = 200_000
    for table in ("person", "auction", "bid"):
        kafka.create_topic(f"nexmark-{table}", 2)
    env = dict(os.environ, SLUICE=str(sluice.binary), EVENTS=str(events))
    ex = repo_root / "examples" / "nexmark"
    p = subprocess.run([ex / "load_kafka.sh", kafka.bootstrap, str(events)], env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr

    def run(*args):
        p = subprocess.run([ex / "run.sh", *args, "--threads", "2", "-q"], env=env,
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
        rows = list(csv.reader(io.StringIO(p.stdout)))
        return rows[0], sorted(rows[1:])

    for q in ("q3", "q5", "q7", "q8"):
        on_kafka = run("--kafka", kafka.bootstrap, q)
        on_generator = run(q)
        assert on_kafka == on_generator, q
        assert len(on_kafka[1]) >= 2, (q, on_kafka)  # q7: one row per 10 s window


def test_updating_group_by_over_an_endless_read_upserts_to_kafka(sluice, kafka, tmp_path):
    # A GROUP BY without windows over an endless read: every batch's touched keys come
    # out as upserts keyed by the GROUP BY column; the latest message per key is the
    # count so far, and follows new messages while the job runs.
    import signal
    import subprocess
    import time

    source, sink = topic_name("up-in"), topic_name("up-out")
    kafka.create_topic(source, 2)
    kafka.create_topic(sink, 2)
    produce(kafka, source, [(i % 2, json.dumps({"k": i % 7, "v": i}).encode())
                            for i in range(300)])
    query = (f"COPY (SELECT k, count(*) AS n, sum(v) AS s FROM read_kafka('{source}', "
             f"brokers => '{kafka.bootstrap}', columns => 'k bigint, v bigint') GROUP BY k) "
             f"TO '{sink}' (FORMAT kafka, BROKERS '{kafka.bootstrap}', KEY 'k')")
    p = subprocess.Popen([str(sluice.binary), "sql", query], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)

    def expected(count):
        out = {}
        for i in range(count):
            n, s = out.get(i % 7, (0, 0))
            out[i % 7] = (n + 1, s + i)
        return {str(k): {"k": k, "n": n, "s": s} for k, (n, s) in out.items()}

    def latest():
        rows = {}
        for _, offset, key, value in sorted(read_all(kafka, sink), key=lambda m: m[1]):
            rows[key.decode()] = json.loads(value)
        return rows

    def wait_for(want):
        deadline = time.time() + 60
        while time.time() < deadline:
            assert p.poll() is None, p.communicate()[1]
            if latest() == want:
                return
            time.sleep(1)
        raise AssertionError(f"{latest()} != {want}")

    try:
        wait_for(expected(300))
        produce(kafka, source, [(0, json.dumps({"k": i % 7, "v": i}).encode())
                                for i in range(300, 350)])
        wait_for(expected(350))
    finally:
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert latest() == expected(350)
    # Updates, not one final row per key: the keys came out again after the new rows.
    assert len(read_all(kafka, sink)) > 7


def test_updating_result_to_kafka_needs_the_group_key_as_message_key(sluice, kafka):
    topic = topic_name("up-key")
    kafka.create_topic(topic, 1)
    r = sluice.cli(["sql", f"COPY (SELECT auction, count(*) AS n FROM nexmark('bid', "
                           f"events => -1) GROUP BY auction) TO '{topic}' (FORMAT kafka, "
                           f"BROKERS '{kafka.bootstrap}', KEY 'n')"], timeout=30)
    assert r.returncode != 0
    assert "the message key must be the GROUP BY column (KEY 'auction')" in r.stderr, r.stderr
    # A NULL group key has no message key to upsert by: a clear error, not a keyless row.
    source = topic_name("up-null")
    kafka.create_topic(source, 1)
    produce(kafka, source, [(0, b'{"k": null, "v": 1}')])
    r = sluice.cli(["sql", f"COPY (SELECT k, count(*) AS n FROM read_kafka('{source}', "
                           f"brokers => '{kafka.bootstrap}', columns => 'k bigint, v bigint') "
                           f"GROUP BY k) TO '{topic}' (FORMAT kafka, BROKERS "
                           f"'{kafka.bootstrap}', KEY 'k')"], timeout=60)
    assert r.returncode != 0 and "has a NULL k: upserts need a key" in r.stderr, r.stderr


def test_raw_values_headers_and_a_start_time(sluice, kafka, tmp_path):
    # value_format raw: each message's value as one text column; bytes that are not
    # UTF-8 are a bad row named topic:partition at its offset (or read as binary).
    # metadata headers: a JSON object of the message's headers. start: a time.
    topic = topic_name("raw")
    kafka.create_topic(topic, 1)
    base = 1_700_000_000_000
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
    values = [b"plain text", b"{\"not\": \"parsed\"}", b"", b"\xff\xfe bad", b"line\nbreak"]
    for i, v in enumerate(values):
        producer.send(topic, value=v, partition=0, timestamp_ms=base + i * 1000,
                      headers=[("trace", f"t{i}".encode())] if i % 2 == 0 else None)
    producer.flush()
    producer.close()
    src = (f"read_kafka('{topic}', brokers => '{kafka.bootstrap}', value_format => 'raw', "
           f"stop_at => 'end'")
    rejects = tmp_path / "bad.jsonl"
    r = sluice.sql(f"SELECT value, kafka_offset AS o, kafka_headers AS h FROM {src}, "
                   f"metadata => 'offset,headers', on_error => 'reject', "
                   f"rejects => '{rejects}') ORDER BY o")
    assert r.ok, r.cli.describe()
    assert r.table.to_pylist() == [
        {"value": "plain text", "o": 0, "h": '{"trace":"t0"}'},
        {"value": '{"not": "parsed"}', "o": 1, "h": None},
        {"value": "", "o": 2, "h": '{"trace":"t2"}'},
        {"value": "line\nbreak", "o": 4, "h": '{"trace":"t4"}'},
    ]
    bad = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert len(bad) == 1 and bad[0]["line"] == 3 and "UTF-8" in bad[0]["reason"], bad
    binary = sluice.sql(f"SELECT value FROM {src}, columns => 'value blob')")
    assert binary.ok, binary.cli.describe()
    assert sorted(binary.table["value"].to_pylist()) == sorted(values)
    zoned = sluice.sql(f"SELECT value FROM {src}, start => '2023-11-14 22:13:22+02:00')")
    assert not zoned.ok and "a time ('2024-05-01 12:00:00', UTC)" in zoned.error, zoned.error
    later = sluice.sql(f"SELECT value FROM {src}, start => '2023-11-14 22:13:22', "
                       f"on_error => 'skip')")
    assert later.ok, later.cli.describe()
    # From the message at base + 2 s (22:13:20 UTC is base): offsets 2, 3 (bad), 4.
    assert sorted(later.table["value"].to_pylist()) == ["", "line\nbreak"]


def test_csv_values(sluice, kafka, tmp_path):
    # value_format csv: each message one CSV record (the CSV reader's conversions and
    # quoting); a bad record is named topic:partition at its offset.
    topic = topic_name("csv")
    kafka.create_topic(topic, 1)
    messages = [b'1,plain,2024-01-01 00:00:01', b'2,"quoted, with comma",2024-01-01 00:00:02',
                b'x,not a number,2024-01-01 00:00:03', b'3,too,many,fields',
                b'4,"two\nlines",2024-01-01 00:00:04', b'5,,2024-01-01 00:00:05']
    produce(kafka, topic, [(0, m) for m in messages])
    rejects = tmp_path / "bad.jsonl"
    r = sluice.sql(f"SELECT id, name, ts FROM read_kafka('{topic}', brokers => "
                   f"'{kafka.bootstrap}', value_format => 'csv', columns => 'id bigint, "
                   f"name varchar, ts timestamp', stop_at => 'end', on_error => 'reject', "
                   f"rejects => '{rejects}') ORDER BY id")
    assert r.ok, r.cli.describe()
    rows = [(x["id"], x["name"], str(x["ts"])) for x in r.table.to_pylist()]
    assert rows == [(1, "plain", "2024-01-01 00:00:01"),
                    (2, "quoted, with comma", "2024-01-01 00:00:02"),
                    (5, None, "2024-01-01 00:00:05")]
    bad = sorted((json.loads(l)["line"], json.loads(l)["reason"])
                 for l in rejects.read_text().splitlines())
    assert [b[0] for b in bad] == [2, 3, 4], bad
    assert "one record on one line" in bad[2][1]
    assert "rejected 3" in r.cli.stderr, r.cli.stderr


def test_csv_values_round_trip_through_a_topic(sluice, kafka):
    # COPY ... (VALUE_FORMAT csv) writes CSV records; value_format => 'csv' reads them
    # back: the same rows as the generator's.
    topic = topic_name("csv-out")
    kafka.create_topic(topic, 2)
    gen = "nexmark('bid', events => 20000)"
    r = sluice.cli(["sql", f"COPY (SELECT * FROM {gen}) TO '{topic}' (FORMAT kafka, "
                           f"BROKERS '{kafka.bootstrap}', KEY 'auction', VALUE_FORMAT csv)"])
    assert r.returncode == 0, r.describe()
    first = read_all(kafka, topic)[0][3].decode()
    assert first.count(",") >= 6 and not first.startswith("{"), first
    back = sluice.sql_ok(f"SELECT * FROM read_kafka('{topic}', brokers => "
                         f"'{kafka.bootstrap}', value_format => 'csv', columns => "
                         f"'{BID_COLUMNS}', stop_at => 'end')")
    assert result_compare.compare(back, sluice.sql_ok(f"SELECT * FROM {gen}")) is None
