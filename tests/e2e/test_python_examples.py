"""The Python examples give the answers of the jobs they mirror.

examples/python/daily_report.py against examples/ecommerce/daily_report.yaml run by the
CLI on the same generated data: every table equal.
"""
from __future__ import annotations

import subprocess
import sys

import pyarrow.parquet as pq

from result_compare import compare

TABLES = ["totals", "top_products", "by_category", "by_country", "new_users",
          "daily_revenue"]


def test_daily_report_in_python_matches_the_job(sluice, ecommerce_small, repo_root,
                                                tmp_path):
    job_out = tmp_path / "job"
    r = sluice.run_job(repo_root / "examples/ecommerce/daily_report.yaml",
                       {"data": str(ecommerce_small), "out": str(job_out)})
    assert r.returncode == 0, r.describe()
    py_out = tmp_path / "py"
    p = subprocess.run([sys.executable, str(repo_root / "examples/python/daily_report.py"),
                        "--data", str(ecommerce_small), "--out", str(py_out), "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "users rejected" in p.stdout
    for name in TABLES:
        want = pq.read_table(job_out / f"{name}.parquet")
        got = pq.read_table(py_out / f"{name}.parquet")
        ordered = name in ("top_products", "daily_revenue")
        diff = compare(got, want, ordered=ordered)
        assert diff is None, f"{name}: {diff}"
    # The same users were rejected, to a file of the same lines.
    assert sorted((py_out / "users.rejects.jsonl").read_text().splitlines()) == sorted(
        (job_out / "users.rejects.jsonl").read_text().splitlines())


def test_nexmark_q5_in_python_matches_the_sql_query(repo_root, tmp_path):
    import io

    import pyarrow.csv as pcsv

    events = 300_000
    run = subprocess.run([str(repo_root / "examples/nexmark/run.sh"), "q5"],
                         env={**__import__("os").environ, "EVENTS": str(events),
                              "SLUICE": str(repo_root / "build/release/tools/sluice/sluice")},
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    want = pcsv.read_csv(io.BytesIO(run.stdout.encode()))
    sys.path.insert(0, str(repo_root / "examples/python"))
    try:
        from nexmark_q5 import hot_items
    finally:
        sys.path.pop(0)
    import sluice as sl

    got = hot_items(sl.nexmark("bid", events=events)).collect()
    assert got.num_rows == want.num_rows > 0
    diff = compare(got, want)
    assert diff is None, diff
