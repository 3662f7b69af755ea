"""Runs the sqllogictest-style corpus in tests/sql/*.test (format: tests/sql/README.md).

One pytest item per record ("file.test:LINE"). Sluice runs every statement and query
with --threads 2 over Parquet files that DuckDB wrote from the file's `load` blocks; the
expected answer comes from DuckDB over the same files (or from hand-written rows that
DuckDB must agree with), never from Sluice itself.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from sqllogic import (FormatError, Record, SqlTestFile, check_types, compare_tables,
                      compare_with_rows, parse_file)

SQL_DIR = Path(__file__).resolve().parent / "sql"
THREADS = 2


def _files():
    return sorted(SQL_DIR.glob("*.test"))


def _cases():
    cases = []
    for path in _files():
        try:
            tf = parse_file(path)
        except FormatError as e:
            cases.append(pytest.param(path, None, str(e), id=f"{path.name}:parse"))
            continue
        for i, rec in enumerate(tf.records):
            cases.append(pytest.param(path, i, None, id=f"{path.name}:{rec.line}"))
    return cases


def _split_columns(spec: str):
    """'a BIGINT, d DECIMAL(12,2)' -> [('a', 'BIGINT'), ('d', 'DECIMAL(12,2)')]."""
    parts, depth, cur = [], 0, ""
    for ch in spec:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    parts.append(cur)
    out = []
    for p in parts:
        p = p.strip()
        if not p:
            continue
        name, _, typ = p.partition(" ")
        out.append((name.strip('"'), typ.strip()))
    return out


class _Loaded:
    def __init__(self, tf: SqlTestFile, dir_: Path):
        self.tables = {}
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        dir_.mkdir(parents=True, exist_ok=True)
        for load in tf.loads:
            where = f"{tf.path.name}:{load.line}"
            if load.query is not None:
                data = self.con.sql(load.query).to_arrow_table()
            else:
                cols = _split_columns(load.columns)
                csv = dir_ / f"{load.name}.csv"
                csv.write_text("".join(r + "\n" for r in load.rows), encoding="utf-8")
                spec = "{" + ", ".join(f"'{n}': '{t}'" for n, t in cols) + "}"
                if load.rows:
                    data = self.con.sql(
                        f"SELECT * FROM read_csv('{csv}', header = false, columns = {spec}, "
                        f"nullstr = 'NULL', quote = '\"', escape = '\"', delim = ',', "
                        f"allow_quoted_nulls = false, auto_detect = false)").to_arrow_table()
                else:
                    ddl = ", ".join(f'"{n}" {t}' for n, t in cols)
                    self.con.execute(f"CREATE TEMP TABLE __empty_{load.name} ({ddl})")
                    data = self.con.sql(f"SELECT * FROM __empty_{load.name}").to_arrow_table()
            kw = {"row_group_size": load.row_group_rows} if load.row_group_rows else {}
            try:
                if load.files == 1:
                    path = dir_ / f"{load.name}.parquet"
                    pq.write_table(data, path, **kw)
                else:
                    sub = dir_ / load.name
                    sub.mkdir(exist_ok=True)
                    per_file = -(-data.num_rows // load.files)
                    for f in range(load.files):
                        pq.write_table(data.slice(f * per_file, per_file), sub / f"part-{f}.parquet", **kw)
                    path = sub / "*.parquet"
            except Exception as e:  # noqa: BLE001
                raise FormatError(f"{where}: cannot write table {load.name}: {e}") from e
            self.con.execute(f"CREATE OR REPLACE VIEW {load.name} AS SELECT * FROM read_parquet('{path}')")
            self.tables[load.name] = path


@pytest.fixture(scope="session")
def loaded_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("sqllogic")
    cache = {}

    def get(path: Path):
        if path not in cache:
            tf = parse_file(path)
            cache[path] = (tf, _Loaded(tf, root / path.stem))
        return cache[path]
    return get


def _where(path: Path, rec: Record) -> str:
    return f"{path.name}:{rec.line}"


def _duckdb(con, sql):
    try:
        return con.sql(sql).to_arrow_table(), None
    except duckdb.Error as e:
        return None, str(e).splitlines()[0]


@pytest.mark.parametrize("path,index,parse_error", _cases())
def test_sqllogic(path, index, parse_error, loaded_files, sluice):
    if parse_error:
        pytest.fail(parse_error, pytrace=False)
    tf, loaded = loaded_files(path)
    rec = tf.records[index]
    where = _where(path, rec)
    head = f"{where}\n{rec.sql}\n"
    res = sluice.sql(rec.sql, loaded.tables, threads=THREADS)

    if rec.kind == "statement":
        if rec.expect_error:
            if res.ok:
                pytest.fail(f"{head}expected an error, Sluice returned {res.table.num_rows} rows", pytrace=False)
            if res.cli.returncode != 1:
                pytest.fail(f"{head}expected exit status 1, got {res.cli.returncode}", pytrace=False)
            if rec.error_text and rec.error_text.lower() not in res.cli.stderr.lower():
                pytest.fail(f"{head}error message does not contain {rec.error_text!r}:\n{res.cli.stderr}",
                            pytrace=False)
            if rec.reference != "sluice-only":
                _, err = _duckdb(loaded.con, rec.sql)
                if err is None:
                    pytest.fail(f"{head}DuckDB runs this statement without error; mark the record "
                                f"sluice-only with a comment if the difference is intended", pytrace=False)
        else:
            if not res.ok:
                pytest.fail(f"{head}Sluice failed: {res.error}", pytrace=False)
            if rec.reference != "sluice-only":
                _, err = _duckdb(loaded.con, rec.sql)
                if err is not None:
                    pytest.fail(f"{head}DuckDB fails on this statement: {err}", pytrace=False)
        return

    # query
    if not res.ok:
        pytest.fail(f"{head}Sluice failed: {res.error}", pytrace=False)
    problems = []
    type_problem = check_types(res.table, rec.types)
    if type_problem:
        problems.append(f"column types: {type_problem}")
    if rec.has_rows:
        diff = compare_with_rows(res.table, rec)
        if diff:
            problems.append("Sluice differs from the expected rows:\n" + diff)
    if rec.reference != "sluice-only":
        ref, err = _duckdb(loaded.con, rec.sql)
        if err is not None:
            pytest.fail(f"{head}DuckDB (the reference) fails on this query: {err}", pytrace=False)
        if rec.has_rows:
            diff = compare_with_rows(ref, rec)
            if diff:
                problems.append("DuckDB differs from the hand-written expected rows (fix the .test file, "
                                "or mark the block sluice-only with a comment):\n" + diff)
        if rec.reference == "duckdb" or not rec.has_rows:
            diff = compare_tables(res.table, ref, rec)
            if diff:
                problems.append("Sluice differs from DuckDB:\n" + diff)
    if problems:
        pytest.fail(head + "\n".join(problems), pytrace=False)
