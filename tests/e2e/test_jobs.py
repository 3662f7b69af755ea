"""YAML jobs: spec errors name the file and line, --set, sinks (formats, partitioning,
compression), checked by reading the outputs back with DuckDB/pyarrow."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from result_compare import compare
from sluice_cli import parse_summary

ORDERS = "{data}/orders/*.parquet"


def write_job(dir_: Path, text: str, name: str = "job.yaml") -> Path:
    p = dir_ / name
    p.write_text(textwrap.dedent(text).lstrip("\n"))
    return p


GOOD_JOB = """
name: small
settings:
  threads: 2
vars:
  data: unset
  out: unset
  min_qty: "1"
sources:
  orders:
    format: parquet
    path: ${data}/orders/*.parquet
  products:
    format: parquet
    path: ${data}/products.parquet
steps:
  big: |
    SELECT o.order_id, o.product_id, p.category, o.quantity, o.amount, o.status
    FROM orders o JOIN products p ON o.product_id = p.product_id
    WHERE o.quantity >= ${min_qty}
  per_category: |
    SELECT category, status, count(*) AS orders, sum(amount) AS revenue
    FROM big GROUP BY category, status
sinks:
  - {from: per_category, path: "${out}/per_category.parquet"}
  - {from: per_category, path: "${out}/per_category.csv", format: csv}
  - {from: per_category, path: "${out}/per_category.jsonl", format: jsonl}
  - {from: per_category, path: "${out}/per_category.arrow", format: arrow}
  - {from: big, path: "${out}/by_status", format: parquet, partition_by: [status], compression: zstd}
"""

REFERENCE = """
SELECT p.category, o.status, count(*) AS orders, sum(o.amount) AS revenue
FROM read_parquet('{data}/orders/*.parquet') o JOIN read_parquet('{data}/products.parquet') p
  ON o.product_id = p.product_id
WHERE o.quantity >= {min_qty}
GROUP BY p.category, o.status
"""


@pytest.fixture(scope="module")
def job_run(sluice, ecommerce_small, tmp_path_factory):
    dir_ = tmp_path_factory.mktemp("job")
    job = write_job(dir_, GOOD_JOB)
    out = dir_ / "out"
    r = sluice.run_job(job, {"data": ecommerce_small, "out": out, "min_qty": "2"})
    assert r.returncode == 0, r.describe()
    return r, out


def test_job_outputs_match_duckdb(job_run, ecommerce_small, duck):
    r, out = job_run
    ref = duck.sql(REFERENCE.format(data=ecommerce_small, min_qty=2)).to_arrow_table()
    got = pq.read_table(out / "per_category.parquet")
    assert compare(got, ref, check_names=True) is None


@pytest.mark.parametrize("fmt,reader", [
    ("csv", "read_csv('{p}', header = true)"),
    ("jsonl", "read_json('{p}')"),
])
def test_text_sinks_read_back_by_duckdb(job_run, ecommerce_small, duck, fmt, reader):
    _, out = job_run
    ref = duck.sql(REFERENCE.format(data=ecommerce_small, min_qty=2)).to_arrow_table()
    back = duck.sql("SELECT * FROM " + reader.format(p=out / f"per_category.{fmt}")).to_arrow_table()
    diff = compare(back, ref, check_names=True, labels=(fmt, "duckdb"))
    assert diff is None, diff


def test_arrow_sink_is_exactly_the_parquet_sink(job_run):
    import pyarrow as pa
    import pyarrow.ipc as ipc
    _, out = job_run
    with open(out / "per_category.arrow", "rb") as f:
        try:
            arrow = ipc.open_file(f).read_all()
        except pa.ArrowInvalid:
            f.seek(0)
            arrow = ipc.open_stream(f).read_all()
    parquet = pq.read_table(out / "per_category.parquet")
    assert arrow.schema.equals(parquet.schema)
    assert compare(arrow, parquet, labels=("arrow", "parquet")) is None


def test_partitioned_sink_is_hive_layout_readable_by_duckdb(job_run, ecommerce_small, duck):
    _, out = job_run
    root = out / "by_status"
    dirs = sorted(p.name for p in root.iterdir() if p.is_dir())
    statuses = [x[0] for x in duck.sql(
        f"SELECT DISTINCT status FROM read_parquet('{ecommerce_small}/orders/*.parquet') WHERE quantity >= 2 "
        f"ORDER BY 1").fetchall()]
    assert dirs == [f"status={s}" for s in statuses]
    back = duck.sql(f"SELECT order_id, product_id, category, quantity, amount, status "
                    f"FROM read_parquet('{root}/**/*.parquet', hive_partitioning = true)").to_arrow_table()
    ref = duck.sql(f"""SELECT o.order_id, o.product_id, p.category, o.quantity, o.amount, o.status
        FROM read_parquet('{ecommerce_small}/orders/*.parquet') o
        JOIN read_parquet('{ecommerce_small}/products.parquet') p ON o.product_id = p.product_id
        WHERE o.quantity >= 2""").to_arrow_table()
    diff = compare(back, ref, labels=("partitioned", "duckdb"))
    assert diff is None, diff
    # The partition column lives in the path, not in the files (hive convention).
    some_file = next(root.glob("status=*/*.parquet"))
    assert "status" not in pq.read_schema(some_file).names


def test_parquet_compression_option(job_run):
    _, out = job_run
    for f in (out / "by_status").glob("*/*.parquet"):
        meta = pq.ParquetFile(f).metadata
        codecs = {meta.row_group(i).column(j).compression
                  for i in range(meta.num_row_groups) for j in range(meta.num_columns)}
        assert codecs == {"ZSTD"}, (f, codecs)


def test_summary_counts(job_run, ecommerce_small, duck):
    r, out = job_run
    s = parse_summary(r.stderr)
    n_orders = duck.sql(f"SELECT count(*) FROM read_parquet('{ecommerce_small}/orders/*.parquet')").fetchall()[0][0]
    n_products = duck.sql(f"SELECT count(*) FROM read_parquet('{ecommerce_small}/products.parquet')").fetchall()[0][0]
    assert s.rows_in == n_orders + n_products, r.stderr


def test_set_overrides_vars_and_settings(sluice, ecommerce_small, tmp_path, duck):
    job = write_job(tmp_path, GOOD_JOB)
    out = tmp_path / "out"
    r = sluice.run_job(job, {"data": ecommerce_small, "out": out, "min_qty": "4", "settings.threads": "1"})
    assert r.returncode == 0, r.describe()
    ref = duck.sql(REFERENCE.format(data=ecommerce_small, min_qty=4)).to_arrow_table()
    assert compare(pq.read_table(out / "per_category.parquet"), ref) is None


def test_set_a_setting_the_file_does_not_have(sluice, ecommerce_small, tmp_path):
    """`--set settings.threads=1` (the example in `sluice run --help`) on a job without a
    settings section."""
    job = write_job(tmp_path, GOOD_JOB.replace("settings:\n  threads: 2\n", ""))
    r = sluice.run_job(job, {"data": ecommerce_small, "out": tmp_path / "o", "settings.threads": "1"})
    assert r.returncode == 0, r.describe()


def test_set_unknown_variable_or_bad_setting_fails(sluice, ecommerce_small, tmp_path):
    job = write_job(tmp_path, GOOD_JOB)
    r = sluice.run_job(job, {"data": ecommerce_small, "out": tmp_path / "o", "settings.threads": "many"})
    assert r.returncode == 1, r.describe()
    assert "threads" in r.stderr


def test_undefined_variable_is_an_error(sluice, tmp_path):
    job = write_job(tmp_path, """
        name: x
        sources:
          t: {format: parquet, path: "${nowhere}/t.parquet"}
        steps:
          s: SELECT 1 AS x FROM t
        sinks:
          - {from: s, path: out.parquet}
        """)
    r = sluice.run_job(job)
    assert r.returncode == 1, r.describe()
    assert "nowhere" in r.stderr, r.stderr


# Spec errors: each must name the file and the line of the problem.
SPEC_ERRORS = [
    ("unknown top-level key", """
        name: x
        sorces: {}
        """, 2, "sorces"),
    ("unknown source key", """
        name: x
        sources:
          t:
            format: csv
            path: x.csv
            on_eror: skip
        steps:
          s: SELECT 1 AS x FROM t
        sinks:
          - {from: s, path: o.parquet}
        """, 6, "on_eror"),
    ("unknown sink key", """
        name: x
        sources:
          t: {format: csv, path: x.csv}
        steps:
          s: SELECT 1 AS x FROM t
        sinks:
          - from: s
            path: o.parquet
            compresion: zstd
        """, 9, "compresion"),
    ("wrong type for a setting", """
        name: x
        settings:
          threads: many
        sources:
          t: {format: csv, path: x.csv}
        steps:
          s: SELECT 1 AS x FROM t
        sinks:
          - {from: s, path: o.parquet}
        """, 3, "threads"),
    ("wrong type for a path", """
        name: x
        sources:
          t: {format: csv, path: x.csv}
        steps:
          s: SELECT 1 AS x FROM t
        sinks:
          - from: s
            path: [1, 2]
        """, 8, "path"),
    ("bad on_error value", """
        name: x
        sources:
          t:
            format: csv
            path: x.csv
            on_error: ignore
        steps:
          s: SELECT 1 AS x FROM t
        sinks:
          - {from: s, path: o.parquet}
        """, 6, "on_error"),
    ("options not a mapping", """
        name: x
        sources:
          t:
            format: csv
            path: x.csv
            options: [1]
        steps:
          s: SELECT 1 AS x FROM t
        sinks:
          - {from: s, path: o.parquet}
        """, 6, "options"),
    ("invalid YAML", """
        name: x
        sources:
          t: {format: csv, path: x.csv
        steps: {}
        """, None, ""),
]


@pytest.mark.parametrize("what,text,line,word", SPEC_ERRORS, ids=[e[0] for e in SPEC_ERRORS])
def test_spec_errors_name_file_and_line(sluice, tmp_path, what, text, line, word):
    (tmp_path / "x.csv").write_text("a\n1\n")
    job = write_job(tmp_path, text, name="broken.yaml")
    r = sluice.run_job(job, cwd=tmp_path)
    assert r.returncode == 1, r.describe()
    errors = r.error_lines
    assert len(errors) == 1, r.stderr
    m = re.search(r"broken\.yaml:(\d+)", errors[0])
    assert m, f"error does not name broken.yaml:LINE: {errors[0]}"
    if line is not None:
        assert int(m.group(1)) == line, errors[0]
    assert word in errors[0], errors[0]


def test_sql_error_in_a_step_names_the_step(sluice, ecommerce_small, tmp_path):
    job = write_job(tmp_path, """
        name: x
        sources:
          orders: {format: parquet, path: "${data}/orders/*.parquet"}
        steps:
          broken: SELECT no_such_column FROM orders
        sinks:
          - {from: broken, path: o.parquet}
        """)
    r = sluice.run_job(job, {"data": ecommerce_small}, cwd=tmp_path)
    assert r.returncode == 1
    assert "broken" in r.stderr and "no_such_column" in r.stderr, r.stderr
    assert not (tmp_path / "o.parquet").exists()


def test_explain_a_job(sluice, ecommerce_small, tmp_path):
    job = write_job(tmp_path, GOOD_JOB)
    r = sluice.cli(["explain", job, "--set", f"data={ecommerce_small}", "--set", f"out={tmp_path}/o"])
    assert r.returncode == 0, r.describe()
    assert "per_category" in r.stdout
    assert not (tmp_path / "o").exists(), "explain must not run the job"
