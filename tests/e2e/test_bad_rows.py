"""Bad input rows under each on_error policy, for CSV and JSON, through SQL table
functions and through YAML job sources.

The inputs are written here with their bad lines known in advance (the ground truth);
for CSV, DuckDB's reader with the same explicit types and store_rejects must find the
same bad lines and the same good rows, so the reference is not only this file's idea
of what is bad.

Contract (src/sluice/base/bad_rows.h): fail -> exit 1, "path:line: [column 'c': ]reason";
skip -> the row is dropped and counted; reject -> also appended to a JSON-lines file
with source, line, column, reason, raw. Always: rows in = accepted + rejected.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import pytest

from result_compare import compare
from sluice_cli import parse_summary

CSV_COLUMNS = "id bigint, name varchar, amount double, day date, ok boolean"
DUCK_COLUMNS = "{'id': 'BIGINT', 'name': 'VARCHAR', 'amount': 'DOUBLE', 'day': 'DATE', 'ok': 'BOOLEAN'}"


@dataclass
class BadInput:
    path: Path
    lines: List[str]             # the file's lines, without newlines (line 1 = header for CSV)
    bad: Dict[int, str]          # 1-based line number -> a word the reason must contain
    good_ids: List[int]


def _csv_input(dir_: Path, n: int, seed: int, name: str = "input.csv") -> BadInput:
    rng = random.Random(seed)
    lines = ["id,name,amount,day,ok"]
    bad: Dict[int, str] = {}
    good = []
    for i in range(1, n + 1):
        lineno = len(lines) + 1
        r = rng.random()
        if r < 0.02:
            lines.append(f"{i},n{i},{i}.5")                       # too few fields
            bad[lineno] = "fields"
        elif r < 0.03:
            lines.append(f"{i},n{i},{i}.5,2024-01-01,true,extra")  # too many fields
            bad[lineno] = "fields"
        elif r < 0.04:
            lines.append(f"{i},n{i},1.2.3,2024-01-01,true")       # bad double
            bad[lineno] = "double"
        elif r < 0.05:
            lines.append(f"{i},n{i},7,2024-02-30,false")          # bad date
            bad[lineno] = "date"
        elif r < 0.055:
            lines.append(f"x{i},n{i},7,2024-02-03,false")         # bad integer
            bad[lineno] = "int"
        else:
            text = rng.choice([f"n{i}", f'"quoted, {i}"', f'"say ""hi"" {i}"', "", "héllo"])
            amount = rng.choice([f"{i}.25", "", "-0.5", "1e3"])
            lines.append(f"{i},{text},{amount},2024-0{1 + i % 9}-1{i % 10},{rng.choice(['true', 'false', ''])}")
            good.append(i)
    path = dir_ / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return BadInput(path, lines, bad, good)


def _json_input(dir_: Path, n: int, seed: int) -> BadInput:
    rng = random.Random(seed)
    lines: List[str] = []
    bad: Dict[int, str] = {}
    good = []
    for i in range(1, n + 1):
        lineno = len(lines) + 1
        r = rng.random()
        if r < 0.02:
            lines.append(json.dumps({"id": f"x{i}", "name": "n", "amount": 1.5}))
            bad[lineno] = "expected int64"
        elif r < 0.03:
            lines.append('{"id": %d, "name": "broken' % i)
            bad[lineno] = "JSON"
        elif r < 0.04:
            lines.append(json.dumps([i, "array"]))
            bad[lineno] = "not a JSON object"
        elif r < 0.05:
            lines.append(json.dumps({"id": i, "name": "n", "amount": "lots"}))
            bad[lineno] = "double"
        elif r < 0.06:
            lines.append(json.dumps({"id": i, "name": "n", "amount": 1, "day": "2024-13-01"}))
            bad[lineno] = "date"
        else:
            obj = {"id": i, "name": rng.choice([f"n{i}", "", None, "日本"]), "amount": rng.choice([i + 0.25, None, -1]),
                   "day": rng.choice(["2024-01-02", None]), "ok": rng.choice([True, False, None])}
            if rng.random() < 0.2:
                del obj["ok"]          # a missing key is NULL
            if rng.random() < 0.1:
                obj["unknown"] = {"nested": [1, 2]}
            lines.append(json.dumps(obj, ensure_ascii=False))
            good.append(i)
    path = dir_ / "input.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return BadInput(path, lines, bad, good)


def _read(fmt: str, inp: BadInput, policy: str, rejects: Path) -> str:
    fn = "read_csv" if fmt == "csv" else "read_json"
    opts = f"columns => '{CSV_COLUMNS}', on_error => '{policy}', rejects => '{rejects}'"
    if fmt == "csv":
        opts = "header => true, " + opts
    return f"SELECT * FROM {fn}('{inp.path}', {opts})"


@pytest.fixture(params=["csv", "json"])
def bad_input(request, tmp_path):
    if request.param == "csv":
        return "csv", _csv_input(tmp_path, 3000, seed=1)
    return "json", _json_input(tmp_path, 3000, seed=2)


def test_fail_names_file_line_and_reason(sluice, bad_input, tmp_path):
    fmt, inp = bad_input
    first = min(inp.bad)
    r = sluice.sql(_read(fmt, inp, "fail", tmp_path / "rejects.jsonl"), threads=2)
    assert r.cli.returncode == 1, r.cli.describe()
    errors = r.cli.error_lines
    assert len(errors) == 1, r.cli.stderr
    assert f"{inp.path}:{first}:" in errors[0], f"expected {inp.path.name}:{first} in: {errors[0]}"
    assert inp.bad[first].lower() in errors[0].lower(), errors[0]
    assert not (tmp_path / "rejects.jsonl").exists()


def test_fail_is_the_default(sluice, bad_input):
    fmt, inp = bad_input
    fn = "read_csv" if fmt == "csv" else "read_json"
    extra = "header => true, " if fmt == "csv" else ""
    r = sluice.sql(f"SELECT * FROM {fn}('{inp.path}', {extra}columns => '{CSV_COLUMNS}')")
    assert r.cli.returncode == 1
    assert f"{inp.path}:{min(inp.bad)}:" in r.error, r.error


@pytest.mark.parametrize("policy", ["skip", "reject"])
@pytest.mark.parametrize("threads", [1, 2])
def test_skip_and_reject_drop_exactly_the_bad_rows(sluice, bad_input, tmp_path, policy, threads):
    fmt, inp = bad_input
    rejects = tmp_path / "rejects.jsonl"
    r = sluice.sql(_read(fmt, inp, policy, rejects), threads=threads)
    assert r.ok, r.cli.describe()
    summary = parse_summary(r.cli.stderr)
    data_rows = len(inp.lines) - (1 if fmt == "csv" else 0)
    assert summary.rows_in == data_rows, r.cli.stderr
    assert summary.rejected == len(inp.bad), r.cli.stderr
    assert summary.accepted == len(inp.good_ids), r.cli.stderr
    assert summary.rows_in == summary.accepted + summary.rejected
    assert summary.out == r.table.num_rows == len(inp.good_ids)
    assert sorted(r.table.column("id").to_pylist()) == inp.good_ids
    if policy == "skip":
        assert not rejects.exists(), "skip must not write a rejects file"
        return
    records = [json.loads(l) for l in rejects.read_text(encoding="utf-8").splitlines()]
    assert len(records) == len(inp.bad)
    by_line = {rec["line"]: rec for rec in records}
    assert sorted(by_line) == sorted(inp.bad), "rejected lines differ from the bad lines"
    for line, rec in by_line.items():
        assert set(rec) >= {"source", "line", "column", "reason", "raw"}, rec
        assert rec["source"] == str(inp.path)
        assert rec["raw"] == inp.lines[line - 1], rec
        assert inp.bad[line].lower() in rec["reason"].lower(), rec


def test_csv_good_rows_and_bad_lines_match_duckdb(sluice, tmp_path, duck):
    inp = _csv_input(tmp_path, 3000, seed=3)
    rejects = tmp_path / "rejects.jsonl"
    r = sluice.sql(_read("csv", inp, "reject", rejects) + " ORDER BY id", threads=2)
    assert r.ok, r.cli.describe()
    ref = duck.sql(f"SELECT * FROM read_csv('{inp.path}', header = true, columns = {DUCK_COLUMNS}, "
                   f"auto_detect = false, store_rejects = true) ORDER BY id").to_arrow_table()
    diff = compare(r.table, ref, ordered=True, check_names=True, labels=("sluice", "duckdb"))
    assert diff is None, diff
    duck_lines = sorted(x[0] for x in duck.sql("SELECT DISTINCT line FROM reject_errors").fetchall())
    sluice_lines = sorted(json.loads(l)["line"] for l in rejects.read_text().splitlines())
    assert sluice_lines == duck_lines


def test_line_numbers_across_read_blocks(sluice, tmp_path):
    """A file larger than the reader's 4 MiB blocks: line numbers stay exact."""
    inp = _csv_input(tmp_path, 150_000, seed=4, name="big.csv")
    assert inp.path.stat().st_size > 4 * 1024 * 1024
    rejects = tmp_path / "rejects.jsonl"
    r = sluice.sql(_read("csv", inp, "reject", rejects).replace("SELECT *", "SELECT count(*) AS n"), threads=2)
    assert r.ok, r.cli.describe()
    assert r.table.column("n").to_pylist() == [len(inp.good_ids)]
    lines = sorted(json.loads(l)["line"] for l in rejects.read_text().splitlines())
    assert lines == sorted(inp.bad)


def _job(path: Path, source_yaml: str, out: Path) -> Path:
    job = path / "job.yaml"
    job.write_text(f"""name: bad_rows
sources:
  t:
{source_yaml}
steps:
  counted: SELECT count(*) AS n, sum(amount) AS total FROM t
sinks:
  - {{from: counted, path: "{out}/counted.parquet"}}
  - {{from: t, path: "{out}/rows.parquet"}}
""")
    return job


@pytest.mark.parametrize("policy", ["fail", "skip", "reject"])
def test_job_source_policies(sluice, bad_input, tmp_path, policy):
    fmt, inp = bad_input
    out = tmp_path / "out"
    rejects = tmp_path / "job.rejects.jsonl"
    cols = "{id: bigint, name: varchar, amount: double, day: date, ok: boolean}"
    src = (f"    format: {fmt}\n    path: {inp.path}\n    columns: {cols}\n"
           f"    on_error: {policy}\n    rejects: {rejects}\n")
    if fmt == "csv":
        src += "    options: {header: true}\n"
    r = sluice.run_job(_job(tmp_path, src, out))
    if policy == "fail":
        assert r.returncode == 1, r.describe()
        assert f"{inp.path}:{min(inp.bad)}:" in r.stderr, r.stderr
        assert not (out / "rows.parquet").exists() and not (out / "counted.parquet").exists()
        return
    assert r.returncode == 0, r.describe()
    s = parse_summary(r.stderr)
    assert s.rows_in == s.accepted + s.rejected
    assert s.rejected == len(inp.bad) and s.accepted == len(inp.good_ids), r.stderr
    import pyarrow.parquet as pq
    assert pq.read_table(out / "counted.parquet").column("n").to_pylist() == [len(inp.good_ids)]
    assert sorted(pq.read_table(out / "rows.parquet").column("id").to_pylist()) == inp.good_ids
    if policy == "reject":
        assert len(rejects.read_text().splitlines()) == len(inp.bad)
        assert str(rejects) in r.stderr, "the summary names the rejects file"
    else:
        assert not rejects.exists()


def test_reject_without_path_uses_a_default_file(sluice, tmp_path):
    """No rejects path: the rows go to <input path>.rejects.jsonl, and the summary line
    says where (as `sluice run` does: a rejected row must never vanish silently)."""
    inp = _csv_input(tmp_path, 200, seed=5)
    r = sluice.sql(f"SELECT count(*) AS n FROM read_csv('{inp.path}', header => true, "
                   f"columns => '{CSV_COLUMNS}', on_error => 'reject')")
    assert r.ok, r.cli.describe()
    default = inp.path.parent / "input.csv.rejects.jsonl"
    assert len(default.read_text().splitlines()) == len(inp.bad)
    assert f"rejects: {default}" in r.cli.stderr, r.cli.stderr


def test_unknown_policy_is_an_error(sluice, tmp_path):
    inp = _csv_input(tmp_path, 10, seed=6)
    r = sluice.sql(f"SELECT * FROM read_csv('{inp.path}', on_error => 'ignore')")
    assert r.cli.returncode == 1
    assert "ignore" in r.error and "fail" in r.error, r.error
