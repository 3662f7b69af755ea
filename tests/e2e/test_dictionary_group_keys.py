"""GROUP BY string columns read from Parquet dictionary pages: the scan hands the
aggregate dictionary indices (it only groups by those columns) and the key index looks
each dictionary value up once per batch (key_index.h, row_encoding.h). Row groups with
dictionary pages and row groups that fell back to plain pages feed one aggregate;
NULL values, one and several keys, a filter between scan and aggregate, a key column
that is also aggregated (read as plain strings then), DISTINCT; at 1 and 2 threads,
against DuckDB. Then tables kept in memory from such files (CREATE TABLE ... AS)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import result_compare


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(21)
    d = tmp_path_factory.mktemp("dictkeys")
    n = 40_000
    g = rng.integers(0, 30, n)
    t = pa.table({
        "s": pa.array([f"group-{x}" for x in g], mask=rng.random(n) < 0.03),
        "t": pa.array([f"t{x % 7}" for x in rng.integers(0, 1000, n)]),
        "v": rng.integers(0, 100, n),
        "f": rng.random(n),
    })
    # The second file's dictionary page limit forces plain pages for "s" and "t" after
    # a few values: both page kinds meet in one aggregate.
    pq.write_table(t.slice(0, 20_000), d / "a.parquet", row_group_size=5_000)
    pq.write_table(t.slice(20_000), d / "b.parquet", row_group_size=5_000,
                   dictionary_pagesize_limit=64)
    # Plain pages only: a table loaded from it encodes its repeated strings itself.
    (d / "plain").mkdir()
    pq.write_table(t, d / "plain" / "c.parquet", row_group_size=7_000, use_dictionary=False)
    return str(d / "*.parquet")


QUERIES = [
    "SELECT s, sum(v) AS sv, count(*) AS n FROM t GROUP BY s",
    "SELECT s, t, sum(v) AS sv, avg(f) AS af FROM t GROUP BY s, t",
    "SELECT t, s, count(*) AS n FROM t WHERE v > 40 GROUP BY t, s",
    "SELECT s, min(s) AS m, max(t) AS mt, count(*) AS n FROM t GROUP BY s",
    "SELECT DISTINCT t, s FROM t",
    "SELECT s, v % 3 AS r, count(*) AS n FROM t GROUP BY s, v % 3",
]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("qi", range(len(QUERIES)))
def test_dictionary_encoded_group_keys_match_duckdb(sluice, duck, data, threads, qi):
    query = QUERIES[qi]
    ours = result_compare.assert_matches_duckdb(sluice, duck, {"t": data}, query, threads=threads)
    for field in ours.schema:
        assert not pa.types.is_dictionary(field.type), ours.schema


# Tables kept in memory (CREATE TABLE ... AS) from such files: a column read as
# dictionary indices in every batch stays encoded in the table (the first file); one
# that met plain pages is kept decoded (both files). Every consumer that does not take
# indices gets strings, so each query answers as DuckDB does over the files.
MEMORY_QUERIES = [
    "SELECT s, sum(v) AS sv, count(*) AS n FROM m GROUP BY s",
    "SELECT s, t, count(*) AS n FROM mm GROUP BY s, t",
    "SELECT v, f, s, t FROM m WHERE s = 'group-3' OR t IN ('t1', 't2')",
    "SELECT upper(s) AS u, length(t) AS l, v FROM m WHERE v < 20",
    "SELECT m.s, count(*) AS n, sum(mm.v) AS sv FROM m JOIN mm ON m.s = mm.s AND m.v = mm.v GROUP BY m.s",
    "SELECT s, t, v FROM m ORDER BY s NULLS FIRST, t, v, f LIMIT 50",
    "SELECT s, row_number() OVER (PARTITION BY t ORDER BY v, f) AS r FROM m",
    "SELECT * FROM m UNION ALL SELECT * FROM mm",
    # p: loaded from plain pages, its repeated strings encoded when loaded.
    "SELECT s, t, sum(v) AS sv, count(*) AS n FROM p GROUP BY s, t",
    "SELECT p.s, count(*) AS n FROM p JOIN m ON p.s = m.s AND p.v = m.v WHERE p.t <> 't3' GROUP BY p.s",
    "SELECT s, t, v, f FROM p WHERE s LIKE 'group-1%' AND v > 90",
]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("qi", range(len(MEMORY_QUERIES)))
def test_tables_in_memory_keep_dictionaries_and_match_duckdb(sluice, duck, data, tmp_path, threads, qi):
    first = data.replace("*.parquet", "a.parquet")
    query = MEMORY_QUERIES[qi]
    out = tmp_path / "out.parquet"
    plain = data.replace("*.parquet", "plain/c.parquet")
    script = (f"CREATE TABLE m AS SELECT * FROM read_parquet('{first}');\n"
              f"CREATE TABLE mm AS SELECT * FROM read_parquet('{data}');\n"
              f"CREATE TABLE p AS SELECT * FROM read_parquet('{plain}');\n"
              f"COPY ({query}) TO '{out}' (FORMAT parquet);\n")
    r = sluice.cli(["sql", "-q", "--threads", threads, script])
    assert r.returncode == 0, r.describe()
    ours = pq.read_table(out)
    theirs = result_compare.duckdb_answer(duck, {"m": first, "mm": data, "p": plain}, query)
    diff = result_compare.compare(ours, theirs, ordered=query.startswith("SELECT s, t, v FROM m ORDER BY"))
    assert diff is None, f"{query}: {diff}"
    for field in ours.schema:
        assert not pa.types.is_dictionary(field.type), ours.schema


def test_insert_into_a_table_with_dictionary_columns(sluice, duck, data, tmp_path):
    first = data.replace("*.parquet", "a.parquet")
    out = tmp_path / "out.parquet"
    script = (f"CREATE TABLE m AS SELECT * FROM read_parquet('{first}');\n"
              f"INSERT INTO m SELECT * FROM read_parquet('{data}') WHERE v < 10;\n"
              f"INSERT INTO m (s, v) VALUES ('new', 1);\n"
              f"COPY (SELECT s, count(*) AS n, sum(v) AS sv FROM m GROUP BY s) TO '{out}';\n")
    r = sluice.cli(["sql", "-q", script])
    assert r.returncode == 0, r.describe()
    theirs = result_compare.duckdb_answer(
        duck, {"m": first, "mm": data},
        "SELECT s, count(*) AS n, sum(v) AS sv FROM (SELECT s, v FROM m UNION ALL "
        "SELECT s, v FROM mm WHERE v < 10 UNION ALL SELECT 'new', 1) GROUP BY s")
    diff = result_compare.compare(pq.read_table(out), theirs, ordered=False)
    assert diff is None, diff


def test_a_loaded_tables_shared_dictionary_counts_once(sluice, tmp_path):
    # 2 M plain strings of 200 K values, encoded when loaded: the chunks share one
    # dictionary, which the table's memory must count once (per chunk, it asked for
    # 133 MiB more than a 100 MB limit).
    rng = np.random.default_rng(3)
    n = 2_000_000
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"s": pa.array([f"value-{x:08d}" for x in rng.integers(0, 200_000, n)]),
                             "v": rng.integers(0, 100, n)}),
                   path, use_dictionary=False, row_group_size=250_000)
    script = (f"CREATE TABLE t AS SELECT * FROM read_parquet('{path}');\n"
              "SELECT count(DISTINCT s) AS d, count(*) AS n FROM t;\n")
    r = sluice.cli(["sql", "-q", "--memory-limit", "100MB", script])
    assert r.returncode == 0, r.describe()
    expected = len(set(pq.read_table(path, columns=["s"])["s"].to_pylist()))
    assert r.stdout.strip().splitlines()[-1] == f"{expected},{n}", r.stdout
