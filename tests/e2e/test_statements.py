"""SQL statements and scripts (`sluice sql -f script.sql`): CREATE VIEW, CREATE TABLE AS,
INSERT INTO ... SELECT / VALUES, COPY ... TO, DROP. Each script also runs in DuckDB;
the files both engines COPY out are read back and compared, as are printed results."""

from __future__ import annotations

import re
import subprocess

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import result_compare

SCRIPT = """
CREATE TABLE t AS SELECT * FROM (VALUES (1, 'a', 1.5), (2, 'b', NULL), (3, NULL, 3.25)) v(id, name, x);
INSERT INTO t SELECT id + 10, name, x * 2 FROM t WHERE id < 3;
INSERT INTO t (name, id) VALUES ('only name', 99);
INSERT INTO t VALUES (100, 'cast', 7);
CREATE VIEW big AS SELECT * FROM t WHERE id > 5;
CREATE OR REPLACE VIEW big AS SELECT id, name FROM t WHERE id > 10;
CREATE TABLE agg(name, n) AS SELECT name, count(*) FROM t GROUP BY name;
COPY (SELECT * FROM t ORDER BY id) TO '{out}/t.parquet' (FORMAT parquet);
COPY (SELECT * FROM big ORDER BY id) TO '{out}/big.csv' (FORMAT csv, HEADER);
COPY agg TO '{out}/agg.parquet';
DROP VIEW big;
DROP VIEW IF EXISTS big;
"""


def run_duckdb(duck, script):
    for stmt in script.split(";"):
        if stmt.strip():
            duck.execute(stmt)


def test_script_matches_duckdb(sluice, duck, tmp_path):
    ours = tmp_path / "sluice"
    theirs = tmp_path / "duckdb"
    ours.mkdir()
    theirs.mkdir()
    path = tmp_path / "script.sql"
    path.write_text(SCRIPT.format(out=ours))
    r = sluice.cli(["sql", "-f", path])
    assert r.returncode == 0, r.describe()
    assert "INSERT INTO t: 2 rows" in r.stderr
    assert "COPY 7 rows to" in r.stderr
    run_duckdb(duck, SCRIPT.format(out=theirs))
    for name in ["t.parquet", "agg.parquet"]:
        diff = result_compare.compare(pq.read_table(ours / name), pq.read_table(theirs / name),
                                      ordered=name == "t.parquet")
        assert diff is None, f"{name}: {diff}"
    diff = result_compare.compare(pacsv.read_csv(ours / "big.csv"),
                                  pacsv.read_csv(theirs / "big.csv"), ordered=True)
    assert diff is None, diff
    # The table keeps its column types: x stays a decimal as VALUES made it in both.
    assert pq.read_table(ours / "t.parquet").schema.field("id").type == pq.read_table(
        theirs / "t.parquet").schema.field("id").type


def test_queries_in_a_script_print_their_rows(sluice, tmp_path):
    r = sluice.cli(["sql", "--format", "csv", "-q",
                    "CREATE VIEW v AS SELECT 1 AS a UNION ALL SELECT 2; "
                    "SELECT sum(a) AS s FROM v; SELECT count(*) AS n FROM v"])
    assert r.returncode == 0, r.describe()
    assert r.stdout.splitlines() == ['"s"', "3", '"n"', "2"]


def test_explain_in_a_script_shows_plans_of_its_tables(sluice, tmp_path):
    src = tmp_path / "src.csv"
    src.write_text("i\n" + "".join(f"{i}\n" for i in range(1000)))
    r = sluice.cli(["sql", "--format", "csv", "--table", f"src={src}",
                    "CREATE TABLE t AS SELECT i % 7 AS k, i FROM src; "
                    "EXPLAIN SELECT k, sum(i) AS s FROM t GROUP BY k; "
                    "EXPLAIN ANALYZE SELECT k, sum(i) AS s FROM t WHERE i > 99 GROUP BY k; "
                    "SELECT count(*) AS n FROM t"], cwd=tmp_path)
    assert r.returncode == 0, r.describe()
    plain, analyzed = r.stdout.split("Logical plan:")[1:]
    assert "Scan table t" in plain and "Analyzed plan" not in plain, r.stdout
    # ANALYZE ran the query: its rows per operator and its wall time, not its answer.
    assert re.search(r"Analyzed plan \(7 rows in [\d.]+ s\)", analyzed), r.stdout
    assert re.search(r"Filter .*\[rows=900 ", analyzed) or re.search(r"Scan table t .*\[rows=900 ", analyzed), r.stdout
    assert r.stdout.rstrip().splitlines()[-2:] == ['"n"', "1000"], r.stdout


@pytest.mark.parametrize("script, message", [
    ("EXPLAIN (FORMAT json) SELECT 1", "EXPLAIN option 'format'"),
    ("EXPLAIN INSERT INTO t SELECT 1", "EXPLAIN of a statement other than a query"),
    ("CREATE VIEW v AS SELECT 1; CREATE VIEW v AS SELECT 2", "statement 2 (line 1): 'v' already exists"),
    ("CREATE TABLE t AS SELECT 1 AS a; INSERT INTO t SELECT 1, 2",
     "the query has 2 columns but the table has 1"),
    ("CREATE TABLE t AS SELECT 1 AS a; INSERT INTO t SELECT 'x'", "statement 2"),
    ("CREATE TABLE t AS SELECT 1 AS a; INSERT INTO t (b) SELECT 1", "no column 'b'"),
    ("INSERT INTO nowhere SELECT 1", "no such table"),
    ("DROP TABLE nothing", "no such table or view"),
    ("COPY (SELECT 1 AS a) TO 'x.unknown'", "add (FORMAT parquet|csv|json|arrow)"),
    ("COPY (SELECT 1 AS a) TO 'x.csv' (FORMAT xml)", "unknown COPY format 'xml'"),
    ("COPY (SELECT 1 AS a) TO 'x.csv' (SPEED 3)", "unknown COPY option 'speed'"),
    ("COPY t FROM 'x.csv'", "not supported yet: COPY ... FROM"),
    ("SELECT * FROM (VALUES (1), (2, 3)) v", "VALUES lists must all be the same length"),
])
def test_statement_errors_are_clear(sluice, tmp_path, script, message):
    r = sluice.cli(["sql", "-q", script], cwd=tmp_path)
    assert r.returncode == 1, r.describe()
    assert message in r.stderr, r.describe()


def test_insert_that_fails_leaves_the_table_unchanged(sluice, tmp_path):
    r = sluice.cli(["sql", "--format", "csv", "-q",
                    "CREATE TABLE t AS SELECT 1 AS a; INSERT INTO t SELECT 'not a number'"],
                   cwd=tmp_path)
    assert r.returncode == 1
    # A cast error names the value; nothing was half-inserted (the process stops here).
    assert "not a number" in r.stderr, r.describe()


def test_copy_partitioned_and_read_back(sluice, duck, tmp_path):
    r = sluice.cli(["sql", "-q",
                    f"COPY (SELECT i % 3 AS k, i FROM (VALUES (1), (2), (3), (4), (5)) v(i)) "
                    f"TO '{tmp_path}/parts' (FORMAT parquet, PARTITION_BY (k))"])
    assert r.returncode == 0, r.describe()
    got = duck.execute(
        f"SELECT k, sum(i) FROM read_parquet('{tmp_path}/parts/**/*.parquet', hive_partitioning=true) "
        "GROUP BY k ORDER BY k").fetchall()
    assert [(int(k), int(s)) for k, s in got] == [(0, 3), (1, 5), (2, 7)]


def test_statements_from_stdin_run_as_each_arrives(sluice, tmp_path):
    """`sluice sql -f -` answers each statement once its ';' arrives, before the next
    one is sent (a program can drive it through a pipe), and keeps the session."""
    p = subprocess.Popen([str(sluice.binary), "sql", "-f", "-", "--format", "jsonl", "-q"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, cwd=tmp_path)
    try:
        p.stdin.write("CREATE TABLE t AS SELECT * FROM (VALUES (1), (2), (3)) v(a);\n")
        p.stdin.write("SELECT sum(a) AS s,\n")  # not complete yet: nothing runs
        p.stdin.write("  'x;y' AS c FROM t;\n")
        p.stdin.flush()
        assert p.stdout.readline().strip() == '{"s":6,"c":"x;y"}'
        p.stdin.write("INSERT INTO t VALUES (10); SELECT count(*) AS n FROM t;\n")
        p.stdin.flush()
        assert p.stdout.readline().strip() == '{"n":4}'
        p.stdin.write("SELECT max(a) AS m FROM t")  # the end of input ends the last one
        p.stdin.close()
        assert p.stdout.read().strip() == '{"m":10}'
        assert p.wait(timeout=60) == 0, p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()


def test_stdin_errors_name_the_input_line(sluice, tmp_path):
    r = subprocess.run([str(sluice.binary), "sql", "-f", "-", "-q"], input="SELECT 1;\n\n\nSELEC 2;\n",
                       capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert r.returncode == 1
    assert "at line 4, column 1" in r.stderr, r.stderr
