"""The demo: `sluice generate ecommerce --scale 0.01`, then
examples/ecommerce/daily_report.yaml, and every output table recomputed by DuckDB from
the same generated files.

users.csv has malformed lines on purpose; the job rejects them. For the reference they
are filtered here in Python by the job's own rules (4 fields, an integer user_id, an ISO
date), and DuckDB's CSV reader with the same explicit types and store_rejects must agree
on which lines are bad.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from result_compare import compare
from sluice_cli import parse_summary

JOB = Path(__file__).resolve().parents[2] / "examples" / "ecommerce" / "daily_report.yaml"


def _good_user(line: str):
    parts = line.split(",")
    if len(parts) != 4:
        return None
    try:
        uid = int(parts[0])
        day = dt.date.fromisoformat(parts[1]) if len(parts[1]) == 10 else None
    except ValueError:
        return None
    if day is None:
        return None
    return uid, day, parts[2], parts[3]


@pytest.fixture(scope="module")
def demo(sluice, tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    data, out = root / "data", root / "out"
    g = sluice.cli(["generate", "ecommerce", "--scale", "0.01", "--out", data, "-q"])
    assert g.returncode == 0, g.describe()
    r = sluice.run_job(JOB, {"data": data, "out": out})
    assert r.returncode == 0, r.describe()
    return data, out, r


@pytest.fixture(scope="module")
def reference(demo):
    """DuckDB with the job's sources and steps (the step SQL runs unchanged)."""
    import duckdb
    data, out, _ = demo
    spec = yaml.safe_load(JOB.read_text())
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    lines = (data / "users.csv").read_text().splitlines()
    good, bad_lines = [], []
    for i, line in enumerate(lines[1:], start=2):
        u = _good_user(line)
        (good.append(u) if u else bad_lines.append(i))
    users = pa.table({"user_id": pa.array([u[0] for u in good], pa.int64()),
                      "signup_date": pa.array([u[1] for u in good], pa.date32()),
                      "country": [u[2] for u in good], "user_type": [u[3] for u in good]})
    con.register("users_arrow", users)
    con.execute("CREATE VIEW users AS SELECT * FROM users_arrow")
    con.execute(f"CREATE VIEW orders AS SELECT * FROM read_parquet('{data}/orders/*.parquet')")
    con.execute(f"CREATE VIEW products AS SELECT * FROM read_parquet('{data}/products.parquet')")
    for name, sql in spec["steps"].items():
        con.execute(f"CREATE VIEW {name} AS {sql}")
    return con, spec, bad_lines, len(lines) - 1


def test_demo_users_bad_lines_agree_with_duckdb(demo, reference):
    data, out, r = demo
    con, _, bad_lines, _ = reference
    # SELECT * (not count(*)): DuckDB only converts, and so only rejects, what it reads.
    duck_good = con.sql(f"""SELECT * FROM read_csv('{data}/users.csv', header = true, auto_detect = false,
        columns = {{'user_id': 'BIGINT', 'signup_date': 'DATE', 'country': 'VARCHAR', 'user_type': 'VARCHAR'}},
        store_rejects = true)""").fetchall()
    duck_lines = sorted(x[0] for x in con.sql("SELECT DISTINCT line FROM reject_errors").fetchall())
    assert duck_lines == bad_lines, "the Python filter and DuckDB disagree on the bad lines"
    rejects = [json.loads(l) for l in (out / "users.rejects.jsonl").read_text().splitlines()]
    assert sorted(r["line"] for r in rejects) == bad_lines
    assert len(duck_good) == con.sql("SELECT count(*) FROM users").fetchall()[0][0]


def test_demo_summary_reconciles(demo, reference):
    data, out, r = demo
    con, _, bad_lines, user_lines = reference
    s = parse_summary(r.stderr)
    n_orders = con.sql("SELECT count(*) FROM orders").fetchall()[0][0]
    n_products = con.sql("SELECT count(*) FROM products").fetchall()[0][0]
    assert s.rejected == len(bad_lines)
    assert s.rows_in == n_orders + n_products + user_lines, r.stderr
    assert s.rows_in == s.accepted + s.rejected
    assert f"rejects: {out}/users.rejects.jsonl" in r.stderr


SINKS = ["totals", "top_products", "by_category", "by_country", "new_users", "daily_revenue"]


@pytest.mark.parametrize("name", SINKS)
def test_demo_output_matches_duckdb(demo, reference, name):
    data, out, _ = demo
    con, spec, _, _ = reference
    got = pq.read_table(out / f"{name}.parquet")
    ref = con.sql(f"SELECT * FROM {name}").to_arrow_table()
    ordered = "ORDER BY" in spec["steps"][name].upper()
    diff = compare(got, ref, ordered=ordered, check_names=True)
    assert diff is None, f"{name}:\n{diff}"
    assert got.num_rows > 0


def test_demo_terminal_tables(demo, reference):
    _, _, r = demo
    con, _, _, _ = reference
    for title in ["Completed orders", "Top 10 products by revenue", "Revenue by category",
                  "Revenue by country", "New users (signed up this year)"]:
        assert title in r.stdout, f"{title!r} missing from the printed report"
    orders = con.sql("SELECT orders FROM totals").fetchall()[0][0]
    assert str(orders) in r.stdout
