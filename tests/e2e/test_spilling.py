"""GROUP BY under a memory limit far below what its tables need: the hash aggregate
spills partitioned partial states to disk and merges them partition by partition
(docs/design/spilling.md). Answers against DuckDB for keys of every index kind, NULL
keys, every decomposable aggregate, at one and two threads; the summary says how much
spilled; the spill files are gone afterwards; aggregates that cannot spill fail with
the memory error saying so."""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import result_compare

ROWS = 600_000
LIMIT = "20MiB"  # the same queries without a limit account about 300 MiB


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Mostly unique keys (about 500 K groups), a few hot ones repeating all through the
    input so that the same group is in many spilled runs."""
    rng = np.random.default_rng(5)
    d = tmp_path_factory.mktemp("spill")
    k = rng.integers(0, 2_000_000, ROWS)
    hot = rng.random(ROWS) < 0.05
    k[hot] = rng.integers(0, 100, hot.sum())
    nulls = rng.random(ROWS) < 0.002
    t = pa.table({
        "k": pa.array(k, mask=nulls),
        "s": pa.array([f"key-{x:07d}" for x in k], mask=nulls),
        "a": rng.integers(0, 3, ROWS),
        "v": pa.array(rng.normal(100, 30, ROWS), mask=rng.random(ROWS) < 0.05),
        "n": rng.integers(-1000, 1000, ROWS),
        "d": pa.array(rng.integers(0, 10_000_000, ROWS) / 100).cast(pa.decimal128(12, 2)),
        "b": rng.random(ROWS) < 0.5,
        "t": pa.array(rng.integers(0, 10**15, ROWS)).cast(pa.timestamp("us")),
    })
    pq.write_table(t, d / "t.parquet", row_group_size=50_000)
    return str(d / "t.parquet")


AGGS = ("count(*) AS c, count(v) AS cv, sum(n) AS sn, sum(d) AS sd, avg(v) AS av, "
        "avg(d) AS ad, avg(n) AS an, min(s) AS mins, max(s) AS maxs, max(n) AS maxn, "
        "min(d) AS mind, max(t) AS maxt, stddev_samp(v) AS sdv, var_pop(n) AS vn, "
        "bool_or(b) AS bo, bool_and(b) AS ba, covar_pop(v, n) AS r, covar_samp(v, n) AS cs")

QUERIES = [  # (query, its key columns)
    (f"SELECT k, {AGGS} FROM t GROUP BY k", ["k"]),
    (f"SELECT s, {AGGS} FROM t GROUP BY s", ["s"]),
    (f"SELECT k, a, {AGGS} FROM t GROUP BY k, a", ["k", "a"]),
    (f"SELECT s, d, {AGGS} FROM t GROUP BY s, d", ["s", "d"]),
    ("SELECT DISTINCT s, a FROM t", ["s", "a"]),
]


def spilled_bytes(stderr: str) -> float:
    """The MiB the summary line says spilled (0 when it says nothing)."""
    for part in stderr.split("·"):
        part = part.strip()
        if part.startswith("spilled "):
            value, unit = part.split()[1:3]
            scale = {"B": 1 / 2**20, "KiB": 1 / 1024, "MiB": 1, "GiB": 1024}[unit]
            return float(value) * scale
    return 0.0


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("qi", range(len(QUERIES)))
def test_spilled_aggregates_match_duckdb(sluice, duck, data, tmp_path, qi, threads):
    query, keys = QUERIES[qi]
    spill_dir = tmp_path / "spill"
    r = sluice.sql(query, {"t": data}, threads=threads, memory_limit=LIMIT,
                   extra=["--spill-dir", spill_dir])
    assert r.ok, r.cli.describe()
    assert spilled_bytes(r.cli.stderr) > 1, r.cli.stderr
    # The job's own spill directory and its runs went with the job.
    assert list(spill_dir.iterdir()) == []
    theirs = result_compare.duckdb_answer(duck, {"t": data}, query)
    diff = result_compare.compare_keyed(duck, ours := r.table, theirs, keys)
    assert ours.num_rows > 400_000
    assert diff is None, f"{query}: {diff}"


def test_without_a_limit_nothing_spills(sluice, data):
    r = sluice.sql(QUERIES[0][0], {"t": data}, threads=2)
    assert r.ok, r.cli.describe()
    assert spilled_bytes(r.cli.stderr) == 0


def test_spilled_aggregate_feeds_a_join_and_a_sort(sluice, duck, data, tmp_path):
    # The spilled aggregate's output (one morsel per partition) read by the next
    # breakers of the plan.
    query = ("SELECT g.k, g.c, g.sn, u.c AS c2 FROM "
             "(SELECT k, count(*) AS c, sum(n) AS sn FROM t GROUP BY k) g "
             "JOIN (SELECT k, count(DISTINCT a) AS c FROM t WHERE k < 1000 GROUP BY k) u "
             "ON g.k = u.k ORDER BY g.sn DESC, g.k LIMIT 50")
    r = sluice.sql(query, {"t": data}, threads=2, memory_limit="24MiB",
                   extra=["--spill-dir", tmp_path])
    assert r.ok, r.cli.describe()
    assert spilled_bytes(r.cli.stderr) > 1, r.cli.stderr
    theirs = result_compare.duckdb_answer(duck, {"t": data}, query)
    assert result_compare.compare(r.table, theirs, ordered=True) is None


@pytest.mark.parametrize("agg, says", [
    ("median(v)", "median() keeps every value and does not spill"),
    ("count(DISTINCT n)", "count(DISTINCT ...) keeps every value and does not spill"),
    ("string_agg(s, ',')", "string_agg() keeps every value and does not spill"),
])
def test_holistic_aggregates_fail_with_the_memory_error(sluice, data, tmp_path, agg, says):
    r = sluice.sql(f"SELECT k, {agg} FROM t GROUP BY k", {"t": data}, threads=2,
                   memory_limit=LIMIT, extra=["--spill-dir", tmp_path])
    assert not r.ok
    assert "memory limit exceeded in HashAggregate" in r.error, r.cli.describe()
    assert says in r.error, r.error
    assert os.listdir(tmp_path) == []


def test_an_unusable_spill_directory_is_named(sluice, data, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    r = sluice.sql(QUERIES[0][0], {"t": data}, threads=2, memory_limit=LIMIT,
                   extra=["--spill-dir", blocker])
    assert not r.ok
    assert "spill directory" in r.error and "a-file" in r.error, r.cli.describe()


@pytest.fixture(scope="module")
def many_groups(tmp_path_factory):
    """2 M rows of about 1.8 M keys: each of the 256 spilled partitions holds about 7 K
    groups, more than 1 MiB takes, so each is split again."""
    rng = np.random.default_rng(11)
    n = 2_000_000
    k = rng.integers(0, 10_000_000, n)
    t = pa.table({
        "k": k,
        "s": pa.array([f"s{x % 1000:04d}" for x in k]),
        "v": pa.array(rng.normal(0, 1, n), mask=rng.random(n) < 0.1),
        "d": pa.array(rng.integers(0, 1_000_000, n) / 100).cast(pa.decimal128(10, 2)),
    })
    path = tmp_path_factory.mktemp("many_groups") / "t.parquet"
    pq.write_table(t, path, row_group_size=200_000)
    return str(path)


def test_partitions_too_large_for_the_limit_are_split_again(sluice, duck, many_groups, tmp_path):
    query = ("SELECT k, count(*) AS c, sum(d) AS sd, avg(v) AS av, min(s) AS mins, max(s) AS maxs, "
             "stddev_samp(v) AS sdv FROM t GROUP BY k")
    r = sluice.sql(query, {"t": many_groups}, threads=2, memory_limit="1MiB",
                   extra=["--spill-dir", tmp_path], timeout=600)
    assert r.ok, r.cli.describe()
    # Each split partition is written once more: at 16 MiB (no splits) this query spills
    # about 180 MiB, at 1 MiB about 700.
    assert spilled_bytes(r.cli.stderr) > 300, r.cli.stderr
    theirs = result_compare.duckdb_answer(duck, {"t": many_groups}, query)
    assert result_compare.compare_keyed(duck, r.table, theirs, ["k"]) is None


def operators_peak_mib(stderr: str) -> float:
    """The peak of accounted memory the summary line gives: "(operators X MiB)"."""
    for part in stderr.split("·"):
        part = part.strip()
        if part.startswith("peak memory") and "(operators " in part:
            value, unit = part.split("(operators ")[1].rstrip(")").split()
            return float(value) * {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024}[unit]
    raise AssertionError(f"no operators peak in {stderr!r}")


@pytest.fixture(scope="module")
def distinct_rows(tmp_path_factory):
    """6 M rows, every key (a double and a string: row-encoded) different: each worker
    hands its table over every 64 Ki groups (aggregate segments)."""
    n = 6_000_000
    i = np.arange(n)
    t = pa.table({
        "d": i * 0.5,
        "s": pa.array(np.char.add("k", ((i * 7) % 6_000_011).astype(str))),
        "v": i % 100,
    })
    path = tmp_path_factory.mktemp("distinct_rows") / "t.parquet"
    pq.write_table(t, path, row_group_size=250_000)
    return str(path)


def test_handed_over_segments_count_against_the_limit(sluice, duck, distinct_rows, tmp_path):
    # The segments a worker hands over hold the budget; a worker whose own next table
    # is small went on over the limit instead of spilling them (805 MiB accounted under
    # a 256 MiB limit on 8 M such rows). A worker may go over by at most 32 MiB.
    query = ("SELECT count(*) AS groups, sum(c) AS c, sum(sv) AS sv, min(s) AS mins, "
             "max(d) AS maxd FROM (SELECT d, s, count(*) AS c, sum(v) AS sv FROM t "
             "GROUP BY d, s) g")
    r = sluice.sql(query, {"t": distinct_rows}, threads=2, memory_limit="256MiB",
                   extra=["--spill-dir", tmp_path])
    assert r.ok, r.cli.describe()
    assert spilled_bytes(r.cli.stderr) > 1, r.cli.stderr
    assert operators_peak_mib(r.cli.stderr) <= 256 + 2 * 32, r.cli.stderr
    theirs = result_compare.duckdb_answer(duck, {"t": distinct_rows}, query)
    assert result_compare.compare(r.table, theirs, ordered=False) is None


def numbered(table: pa.Table) -> pa.Table:
    return table.append_column("rn", pa.array(range(table.num_rows), pa.int64()))


# ORDER BY with spilled sorted runs merged back (several merge passes at the smaller
# limit). `t` is unique, so the order is total and DuckDB's must be the same.
@pytest.mark.parametrize("limit", ["3MiB", "24MiB"])
@pytest.mark.parametrize("threads", [1, 2])
def test_spilled_sort_matches_duckdb(sluice, duck, data, tmp_path, threads, limit):
    query = "SELECT * FROM t ORDER BY s DESC NULLS FIRST, v NULLS FIRST, d, t"
    r = sluice.sql(query, {"t": data}, threads=threads, memory_limit=limit,
                   extra=["--spill-dir", tmp_path / "spill"])
    assert r.ok, r.cli.describe()
    assert spilled_bytes(r.cli.stderr) > 10, r.cli.stderr
    assert list((tmp_path / "spill").iterdir()) == []
    theirs = result_compare.duckdb_answer(duck, {"t": data}, query)
    assert r.table.num_rows == ROWS
    assert result_compare.compare_keyed(duck, numbered(r.table), numbered(theirs), ["rn"]) is None


def test_spilled_sort_keeps_ties_in_arrival_order(sluice, data, tmp_path):
    # Three values of `a` over 600 K rows: ties everywhere. One thread reads the file in
    # order, so the spilled merge must give exactly the in-memory sort's (stable) order.
    query = "SELECT a, k, n FROM t ORDER BY a DESC"
    spilled = sluice.sql(query, {"t": data}, threads=1, memory_limit="2MiB",
                         extra=["--spill-dir", tmp_path])
    assert spilled.ok, spilled.cli.describe()
    assert spilled_bytes(spilled.cli.stderr) > 1, spilled.cli.stderr
    in_memory = sluice.sql_ok(query, {"t": data}, threads=1)
    assert spilled.table.equals(in_memory)


def test_a_sort_that_fits_once_but_not_twice_spills(sluice, duck, data, tmp_path):
    # The rows fit the limit while collected; sorting them in memory would hold them
    # twice, so Finalize writes runs instead of failing.
    query = "SELECT k, n FROM t ORDER BY n, k NULLS FIRST"
    r = sluice.sql(query, {"t": data}, threads=2, memory_limit="12MiB",
                   extra=["--spill-dir", tmp_path])
    assert r.ok, r.cli.describe()
    theirs = result_compare.duckdb_answer(duck, {"t": data}, query)
    assert result_compare.compare_keyed(duck, numbered(r.table), numbered(theirs), ["rn"]) is None


def test_a_shared_job_step_that_does_not_fit_is_kept_on_disk(sluice, ecommerce_small, repo_root, tmp_path):
    # The nightly report's 'enriched' step (70 K joined orders, about 8 MiB) is used by
    # five steps, so it is materialized; under 2 MiB it goes to an Arrow IPC file in the
    # spill directory instead of failing, and every output is the same as in memory.
    job = repo_root / "examples" / "ecommerce" / "daily_report.yaml"
    outs = {}
    for limit in ("4GiB", "2MiB"):
        out = tmp_path / f"out-{limit}"
        spill = tmp_path / f"spill-{limit}"
        r = sluice.run_job(job, {"data": ecommerce_small, "out": out},
                           extra=["--memory-limit", limit, "--spill-dir", spill])
        assert r.returncode == 0, r.describe()
        assert ("spilled" in r.stderr) == (limit == "2MiB"), r.stderr
        assert not spill.exists() or list(spill.iterdir()) == []
        outs[limit] = {p.name: pq.read_table(p) for p in sorted(out.glob("*.parquet"))}
    assert len(outs["4GiB"]) == 6
    assert outs["2MiB"].keys() == outs["4GiB"].keys()
    for name, table in outs["4GiB"].items():
        assert outs["2MiB"][name].equals(table), name


@pytest.fixture(scope="module")
def join_tables(tmp_path_factory):
    """Two tables with unique row ids and keys that repeat a little, NULL keys on both
    sides: every join's rows are told apart by (lid, rid)."""
    rng = np.random.default_rng(17)
    d = tmp_path_factory.mktemp("join")
    nl, nr = 400_000, 300_000
    lk = rng.integers(0, 600_000, nl)
    rk = rng.integers(0, 600_000, nr)
    left = pa.table({
        "lid": np.arange(nl),
        "lk": pa.array(lk, mask=rng.random(nl) < 0.01),
        "ls": pa.array([f"left-{x}" for x in lk]),
        "lv": rng.integers(0, 100, nl),
    })
    right = pa.table({
        "rid": np.arange(nr),
        "rk": pa.array(rk.astype(np.int32), mask=rng.random(nr) < 0.01),  # int32 against int64
        "rs": pa.array([f"right-{x}" for x in rk]),
        "rv": rng.integers(0, 100, nr),
    })
    pq.write_table(left, d / "l.parquet", row_group_size=50_000)
    pq.write_table(right, d / "r.parquet", row_group_size=50_000)
    return {"l": str(d / "l.parquet"), "r": str(d / "r.parquet")}


JOINS = [  # (query, key columns of its rows)
    ("SELECT lid, rid, ls, rs FROM l JOIN r ON lk = rk", ["lid", "rid"]),
    ("SELECT lid, rid, ls, rs FROM l LEFT JOIN r ON lk = rk", ["lid", "rid"]),
    ("SELECT lid, rid, ls, rs FROM l RIGHT JOIN r ON lk = rk", ["lid", "rid"]),
    ("SELECT lid, rid, ls, rs FROM l FULL JOIN r ON lk = rk", ["lid", "rid"]),
    ("SELECT lid, rid FROM l FULL JOIN r ON lk = rk AND lv < rv", ["lid", "rid"]),
    ("SELECT lid, ls FROM l WHERE EXISTS (SELECT 1 FROM r WHERE rk = lk)", ["lid"]),
    ("SELECT lid, ls FROM l WHERE NOT EXISTS (SELECT 1 FROM r WHERE rk = lk AND rv > lv)", ["lid"]),
    ("SELECT rid, rs FROM r WHERE rk IN (SELECT lk FROM l WHERE lv < 90)", ["rid"]),
    ("SELECT rid, rs FROM r WHERE rk NOT IN (SELECT lk FROM l WHERE lk IS NOT NULL)", ["rid"]),
    # 30 % NULL keys on one side: spread over the partitions, not all in one.
    ("SELECT lid, rid FROM l RIGHT JOIN (SELECT rid, CASE WHEN rv < 30 THEN NULL ELSE rk END AS rk2 "
     "FROM r) r2 ON lk = rk2", ["lid", "rid"]),
]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("qi", range(len(JOINS)))
def test_spilled_joins_match_duckdb(sluice, duck, join_tables, tmp_path, qi, threads):
    # The build side (either table, about 10-15 MiB in memory) goes to 64 partitions on
    # disk, the probe side follows, and the partitions join one at a time.
    query, keys = JOINS[qi]
    r = sluice.sql(query, join_tables, threads=threads, memory_limit="4MiB",
                   extra=["--spill-dir", tmp_path / "spill"])
    assert r.ok, r.cli.describe()
    assert spilled_bytes(r.cli.stderr) > 1, r.cli.stderr
    assert list((tmp_path / "spill").iterdir()) == []
    theirs = result_compare.duckdb_answer(duck, join_tables, query)
    assert result_compare.compare_keyed(duck, r.table, theirs, keys) is None


def test_a_cross_join_does_not_spill(sluice, join_tables, tmp_path):
    r = sluice.sql("SELECT count(*) FROM l, r WHERE lv + rv = 7", join_tables, threads=2,
                   memory_limit="2MiB", extra=["--spill-dir", tmp_path])
    assert not r.ok
    assert "a join without equal keys does not spill" in r.error, r.cli.describe()


def test_spill_folders_of_killed_jobs_are_removed(sluice, data, tmp_path):
    # A job killed by SIGKILL cannot remove its folder; the next job spilling in the same
    # place removes the folders of processes that no longer exist, and no others.
    import subprocess
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f"sluice-spill-{dead.pid}-0"
    stale.mkdir()
    (stale / "HashAggregate-1-0.arrow").write_bytes(b"x" * 1000)
    alive = tmp_path / f"sluice-spill-{os.getpid()}-0"  # this test's own process lives
    alive.mkdir()
    r = sluice.sql(QUERIES[0][0], {"t": data}, threads=2, memory_limit=LIMIT,
                   extra=["--spill-dir", tmp_path])
    assert r.ok, r.cli.describe()
    assert not stale.exists()
    assert alive.exists()
