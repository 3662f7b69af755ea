"""Crashes, limits and failures: atomic outputs under kill -9, the memory limit, and
errors that say what went wrong even when several threads fail at once."""

from __future__ import annotations

import signal
import subprocess
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

# 3M rows streamed into a Parquet file: writing starts at once and takes seconds.
BIG_COPY = ("SELECT *, upper(status) || CAST(order_id AS VARCHAR) AS tag "
            "FROM read_parquet('{data}/orders/*.parquet')")


def _wait_for(predicate, timeout: float, interval: float = 0.02) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return False


def test_kill_9_leaves_no_file_under_the_final_name(sluice_bin, sluice, ecommerce_big, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    final = out_dir / "big.parquet"
    proc = subprocess.Popen(
        [str(sluice_bin), "sql", "-q", "--format", "parquet", "--output", str(final),
         BIG_COPY.format(data=ecommerce_big)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # Kill while the output is being written: once a temporary file shows up.
        started = _wait_for(lambda: any(p.name != final.name for p in out_dir.iterdir()), timeout=60)
        assert proc.poll() is None, "the query ended before it could be killed: make it bigger"
        assert started, "no temporary output file appeared within 60 s"
        time.sleep(0.3)
        assert proc.poll() is None, "the query ended before it could be killed: make it bigger"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not final.exists(), "a killed run left a file under the final name"
    leftovers = [p.name for p in out_dir.iterdir()]
    assert all(name.startswith(".") for name in leftovers), leftovers

    # The next run to the same place succeeds, writes the whole result, and cleans up the
    # dead run's temporary file.
    r = sluice.cli(["sql", "-q", "--format", "parquet", "--output", final,
                    "SELECT count(*) AS n FROM read_parquet('" + str(ecommerce_big) + "/orders/*.parquet')"])
    assert r.returncode == 0, r.describe()
    assert pq.read_table(final).num_rows == 1
    assert sorted(p.name for p in out_dir.iterdir()) == [final.name]


def test_failed_query_does_not_replace_existing_output(sluice, tmp_path):
    out = tmp_path / "result.parquet"
    pq.write_table(pa.table({"old": [1, 2, 3]}), out)
    r = sluice.cli(["sql", "-q", "--format", "parquet", "--output", out, "SELECT 1 / 'x' AS broken"])
    assert r.returncode == 1
    assert pq.read_table(out).column_names == ["old"], "a failed run must leave the old file alone"


def test_failed_job_writes_no_sink(sluice, ecommerce_small, tmp_path):
    out = tmp_path / "out"
    job = tmp_path / "job.yaml"
    job.write_text(f"""name: half
sources:
  orders: {{format: parquet, path: "{ecommerce_small}/orders/*.parquet"}}
steps:
  fine: SELECT status, count(*) AS n FROM orders GROUP BY status
  broken: SELECT CAST(status AS INTEGER) AS s FROM orders
sinks:
  - {{from: fine, path: "{out}/fine.parquet"}}
  - {{from: broken, path: "{out}/broken.parquet"}}
""")
    r = sluice.run_job(job)
    assert r.returncode == 1, r.describe()
    assert not (out / "broken.parquet").exists()
    assert not (out / "fine.parquet").exists() or pq.read_table(out / "fine.parquet").num_rows > 0


# Operators that cannot spill (yet): top-k, a join without equal keys, and aggregates that
# keep every value (median, DISTINCT). Sorts, joins on keys and decomposable aggregates
# spill (test_spilling.py and test_spilling_operators_finish_under_a_tiny_limit below).
@pytest.mark.parametrize("query,operator", [
    ("SELECT user_id, median(amount) AS m FROM read_parquet('{data}/orders/*.parquet') GROUP BY user_id",
     "HashAggregate"),
    ("SELECT user_id, count(DISTINCT product_id) AS n FROM read_parquet('{data}/orders/*.parquet') "
     "GROUP BY user_id", "HashAggregate"),
    ("SELECT * FROM read_parquet('{data}/orders/*.parquet') ORDER BY amount LIMIT 2000000", "TopK"),
    ("SELECT count(*) AS n FROM read_parquet('{data}/orders/*.parquet') a "
     "JOIN read_parquet('{data}/orders/*.parquet') b ON a.order_id < b.order_id", "HashJoin"),
])
@pytest.mark.parametrize("threads", [1, 2])
def test_memory_limit_fails_cleanly_naming_the_operator(sluice, ecommerce_big, tmp_path, query, operator, threads):
    out = tmp_path / "r.parquet"
    r = sluice.cli(["sql", "-q", "--memory-limit", "1MiB", "--threads", threads, "--format", "parquet",
                    "--output", out, query.format(data=ecommerce_big)])
    assert r.returncode == 1, r.describe()
    errors = r.error_lines
    assert len(errors) == 1, r.stderr
    assert "memory limit exceeded" in errors[0] and operator in errors[0], errors[0]
    assert not out.exists()


def test_memory_limit_in_job_settings(sluice, ecommerce_big, tmp_path):
    job = tmp_path / "job.yaml"
    job.write_text(f"""name: tight
settings:
  memory_limit: 1MiB
sources:
  orders: {{format: parquet, path: "{ecommerce_big}/orders/*.parquet"}}
steps:
  per_user: SELECT user_id, median(amount) AS m FROM orders GROUP BY user_id
sinks:
  - {{from: per_user, path: "{tmp_path}/per_user.parquet"}}
""")
    r = sluice.run_job(job)
    assert r.returncode == 1, r.describe()
    assert "memory limit exceeded in HashAggregate" in r.stderr, r.stderr


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("query,keys", [
    ("SELECT order_id, count(*) AS n FROM read_parquet('{data}/orders/*.parquet') GROUP BY order_id",
     "order_id"),
    ("SELECT DISTINCT user_id, product_id FROM read_parquet('{data}/orders/*.parquet')",
     "user_id, product_id"),
    ("SELECT * FROM read_parquet('{data}/orders/*.parquet') ORDER BY amount", "order_id"),
    ("SELECT a.order_id, b.amount FROM read_parquet('{data}/orders/*.parquet') a "
     "JOIN read_parquet('{data}/orders/*.parquet') b ON a.order_id = b.order_id", "order_id"),
])
def test_spilling_operators_finish_under_a_tiny_limit(sluice, duck, ecommerce_big, tmp_path, query,
                                                          keys, threads):
    # 1 MiB holds a few thousand of the 3 M (2.4 M) groups: the spilled partitions are
    # split again before they fit. Every group once, as many as DuckDB finds; every row
    # once from the sort (its order: test_spilling.py).
    out = tmp_path / "r.parquet"
    r = sluice.cli(["sql", "--memory-limit", "1MiB", "--threads", threads, "--format", "parquet",
                    "--output", out, query.format(data=ecommerce_big)], timeout=600)
    assert r.returncode == 0, r.describe()
    assert "spilled" in r.stderr, r.stderr
    ours = duck.execute(f"SELECT count(*), count(DISTINCT ({keys})) FROM read_parquet('{out}')").fetchall()
    groups = duck.execute(f"SELECT count(*) FROM (SELECT DISTINCT {keys} "
                          f"FROM read_parquet('{ecommerce_big}/orders/*.parquet'))").fetchall()[0][0]
    assert ours == [(groups, groups)]


def test_enough_memory_succeeds(sluice, ecommerce_big):
    r = sluice.sql(f"SELECT user_id, count(*) AS n FROM read_parquet('{ecommerce_big}/orders/*.parquet') "
                   f"GROUP BY user_id", memory_limit="256MiB", threads=2)
    assert r.ok, r.cli.describe()


@pytest.fixture(scope="module")
def many_bad_groups(tmp_path_factory):
    """200 row groups, each holding a value that fails CAST(s AS INTEGER)."""
    path = tmp_path_factory.mktemp("errors") / "bad_cast.parquet"
    n = 200_000
    values = [str(i) if i % 1000 else f"x{i}" for i in range(1, n + 1)]
    pq.write_table(pa.table({"s": values}), path, row_group_size=1000)
    return path


def test_parallel_failure_reports_the_real_error(sluice, many_bad_groups):
    """With two threads failing at once, the message is the cause, never 'cancelled'."""
    messages = set()
    for _ in range(8):
        r = sluice.sql("SELECT CAST(s AS INTEGER) AS v FROM t", {"t": many_bad_groups}, threads=2)
        assert r.cli.returncode == 1, r.cli.describe()
        messages.add(r.error)
    assert all("cannot cast" in m for m in messages), messages
