"""The CLI's surface: --version, --help of every command, exit statuses, error lines,
output formats of `sluice sql`, `schema`, `explain`."""

from __future__ import annotations

import json
import re

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from result_compare import compare

COMMANDS = ["run", "sql", "explain", "schema", "generate", "generate ecommerce"]


def test_version(sluice):
    r = sluice.cli(["--version"])
    assert r.returncode == 0, r.describe()
    assert re.fullmatch(r"sluice \d+\.\d+\.\d+\S*\n?", r.stdout), r.stdout


def test_top_level_help_lists_every_command(sluice):
    r = sluice.cli(["--help"])
    assert r.returncode == 0, r.describe()
    for cmd in ["run", "sql", "explain", "schema", "generate"]:
        assert re.search(rf"^\s+{cmd}\s", r.stdout, re.M), f"{cmd} missing from --help:\n{r.stdout}"


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help(sluice, command):
    r = sluice.cli(command.split() + ["--help"])
    assert r.returncode == 0, r.describe()
    assert "Usage:" in r.stdout and "--help" in r.stdout, r.stdout


@pytest.mark.parametrize("command,option", [
    ("sql", "--format"), ("sql", "--output"), ("sql", "--table"), ("sql", "--threads"),
    ("sql", "--memory-limit"), ("sql", "--quiet"), ("run", "--set"), ("run", "--threads"),
    ("run", "--memory-limit"), ("explain", "--analyze"), ("generate ecommerce", "--scale"),
    ("generate ecommerce", "--out"), ("generate ecommerce", "--seed"),
])
def test_command_help_documents_option(sluice, command, option):
    r = sluice.cli(command.split() + ["--help"])
    assert option in r.stdout, r.stdout


def _assert_one_line_error(r, *, contains=None):
    assert r.returncode != 0, r.describe()
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    errors = [l for l in lines if l.startswith("error:")]
    assert len(errors) == 1, f"expected exactly one 'error:' line:\n{r.stderr}"
    if contains:
        assert contains.lower() in errors[0].lower(), r.stderr
    assert r.stdout == "", f"nothing on stdout after an error, got:\n{r.stdout}"


@pytest.mark.parametrize("args,contains", [
    (["sql", "SELEC 1"], "syntax error"),
    (["sql", "SELECT nope FROM t", "--table", "t=/nonexistent/t.parquet"], "/nonexistent/t.parquet"),
    (["sql", "SELECT * FROM read_parquet('/nonexistent/*.parquet')"], "nonexistent"),
    (["sql", "SELECT x FROM (SELECT 1 AS y) s"], "x"),
    (["schema", "/nonexistent/file.parquet"], "nonexistent"),
    (["sql", "--format", "parquet", "SELECT 1 AS x"], "--output"),
    (["sql", "--memory-limit", "lots", "SELECT 1 AS x"], "lots"),
])
def test_errors_exit_nonzero_with_one_error_line(sluice, args, contains):
    r = sluice.cli(args)
    _assert_one_line_error(r, contains=contains)


@pytest.mark.parametrize("args,contains", [
    (["run", "/nonexistent/job.yaml"], "/nonexistent/job.yaml"),
    (["sql", "--threads", "abc", "SELECT 1"], "--threads"),
    (["sql", "--bogus", "SELECT 1"], "--bogus"),
    (["sql"], "query"),
])
def test_usage_errors_exit_nonzero_and_name_the_argument(sluice, args, contains):
    # Usage errors (from the argument parser) take the same one-line "error:" form.
    r = sluice.cli(args)
    _assert_one_line_error(r, contains=contains)


def test_sql_error_exit_status_is_one(sluice):
    r = sluice.cli(["sql", "SELECT 1 / 'a'"])
    assert r.returncode == 1, r.describe()


def test_sql_syntax_error_points_at_the_place(sluice):
    r = sluice.cli(["sql", "SELECT 1 FROM t WHERE AND x"])
    assert r.returncode == 1
    assert re.search(r"line 1, column \d+", r.stderr), r.stderr


def test_unknown_subcommand_fails(sluice):
    r = sluice.cli(["frobnicate"])
    assert r.returncode != 0


def test_summary_line_on_stderr_and_quiet(sluice, tmp_path):
    r = sluice.cli(["sql", "SELECT 1 AS x"])
    assert r.returncode == 0
    assert re.search(r"rows in \d+ .* out 1 ·", r.stderr), r.stderr
    assert r.stdout.strip().splitlines()[-1] == "1"
    q = sluice.cli(["sql", "-q", "SELECT 1 AS x"])
    assert q.returncode == 0 and q.stderr == "", q.stderr


@pytest.fixture(scope="module")
def typed_file(tmp_path_factory):
    import datetime as dt
    import decimal
    path = tmp_path_factory.mktemp("formats") / "typed.parquet"
    t = pa.table({
        "i": pa.array([1, -2, None, 2**40], pa.int64()),
        "s": pa.array(["héllo", "", None, 'quote " and, comma'], pa.string()),
        "f": pa.array([1.5, -0.25, None, 1e300], pa.float64()),
        "d": pa.array([decimal.Decimal("12.34"), decimal.Decimal("-0.01"), None, decimal.Decimal("0")],
                      pa.decimal128(12, 2)),
        "b": pa.array([True, False, None, True]),
        "dt": pa.array([dt.date(2024, 2, 29), dt.date(1970, 1, 1), None, dt.date(1900, 1, 1)]),
        "ts": pa.array([dt.datetime(2024, 2, 29, 12, 30, 1, 123456), dt.datetime(1970, 1, 1), None,
                        dt.datetime(1900, 1, 1, 23, 59, 59)], pa.timestamp("us")),
        "tz": pa.array([dt.datetime(2024, 2, 29, 12, 30, 1), dt.datetime(1970, 1, 1), None,
                        dt.datetime(2100, 1, 1)], pa.timestamp("us", tz="UTC")),
    })
    pq.write_table(t, path)
    return path, t


QUERY = "SELECT * FROM t"


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_text_formats_round_trip_through_duckdb(sluice, typed_file, tmp_path, duck, fmt):
    """Sluice writes csv/json; DuckDB reads the file back; the values must survive."""
    path, source = typed_file
    out = tmp_path / f"out.{fmt}"
    r = sluice.cli(["sql", "-q", "--format", fmt, "--output", out, "--table", f"t={path}", QUERY])
    assert r.returncode == 0, r.describe()
    if fmt == "csv":
        back = duck.sql(f"SELECT * FROM read_csv('{out}', header = true, allow_quoted_nulls = false)").to_arrow_table()
    else:
        back = duck.sql(f"SELECT * FROM read_json('{out}')").to_arrow_table()
    expected = duck.sql(f"SELECT * FROM read_parquet('{path}')").to_arrow_table()
    diff = compare(back, expected, ordered=True, check_names=True, labels=(f"{fmt} read back", "source"))
    assert diff is None, diff


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_text_formats_on_stdout_match_file_output(sluice, typed_file, tmp_path, fmt):
    path, _ = typed_file
    out = tmp_path / f"out.{fmt}"
    a = sluice.cli(["sql", "-q", "--format", fmt, "--output", out, "--table", f"t={path}", QUERY])
    b = sluice.cli(["sql", "-q", "--format", fmt, "--table", f"t={path}", QUERY])
    assert a.returncode == 0 and b.returncode == 0
    assert out.read_text(encoding="utf-8") == b.stdout


def test_json_lines_are_objects_with_every_column(sluice, typed_file):
    path, source = typed_file
    r = sluice.cli(["sql", "-q", "--format", "jsonl", "--table", f"t={path}", QUERY])
    rows = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    assert len(rows) == source.num_rows
    assert all(list(row) == source.column_names for row in rows)
    assert rows[2] == {c: None for c in source.column_names}


@pytest.mark.parametrize("fmt", ["arrow", "parquet"])
def test_binary_formats_round_trip_exactly(sluice, typed_file, tmp_path, fmt):
    path, source = typed_file
    out = tmp_path / f"out.{fmt}"
    r = sluice.cli(["sql", "-q", "--format", fmt, "--output", out, "--table", f"t={path}", QUERY])
    assert r.returncode == 0, r.describe()
    if fmt == "arrow":
        with open(out, "rb") as f:
            try:
                back = ipc.open_file(f).read_all()
            except pa.ArrowInvalid:
                f.seek(0)
                back = ipc.open_stream(f).read_all()
    else:
        back = pq.read_table(out)
    assert back.schema.equals(source.schema), f"{back.schema}\nvs\n{source.schema}"
    assert back.equals(source)


def test_schema_command(sluice, typed_file):
    path, source = typed_file
    r = sluice.cli(["schema", path])
    assert r.returncode == 0, r.describe()
    for name in source.column_names:
        assert re.search(rf"^\s+{name}\s", r.stdout, re.M), r.stdout
    assert "decimal128(12, 2)" in r.stdout and "rows: 4" in r.stdout, r.stdout


def test_schema_of_csv_shows_inferred_types(sluice, tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a,b,c,d\n1,2.5,true,2024-01-01\n2,3,false,2024-01-02\n")
    r = sluice.cli(["schema", p])
    assert r.returncode == 0, r.describe()
    assert re.search(r"a\s+int64", r.stdout) and re.search(r"b\s+double", r.stdout), r.stdout
    assert re.search(r"c\s+bool", r.stdout) and re.search(r"d\s+date32", r.stdout), r.stdout


def test_explain_and_analyze(sluice, typed_file):
    path, _ = typed_file
    q = "SELECT b, count(*) AS n FROM t WHERE i > 0 GROUP BY b ORDER BY n"
    r = sluice.cli(["explain", "--table", f"t={path}", q])
    assert r.returncode == 0, r.describe()
    assert "Logical plan" in r.stdout and "Physical plan" in r.stdout, r.stdout
    a = sluice.cli(["explain", "--analyze", "--table", f"t={path}", q])
    assert a.returncode == 0, a.describe()
    assert re.search(r"rows", a.stdout, re.I), a.stdout
