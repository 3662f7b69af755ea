"""Shrink a failing differential case to a small, self-contained tests/sql reproduction.

    .venv/bin/python tests/differential/shrink.py --seed 13 --query 4 [--columns id,k,k2]
    (the fuzzer, fuzz_sql.py, calls minimize() on every mismatch it finds)

A case is a query plus its tables (pyarrow tables with their Parquet layout). minimize()
shrinks it while Sluice still disagrees with DuckDB in the same way (the same error
message, or a wrong result, or a crash, ...), in rounds until nothing changes or the time
budget is spent:
- the layout: one file and default row groups instead of several, if the bug survives;
- the rows (halving chunks, then single rows) of every table;
- the query (sql_reduce.py: drop clauses, joins, CTEs, list elements, AND/OR operands;
  replace expressions by their parts);
- the columns the query no longer names, and tables it no longer reads.
Every candidate runs in DuckDB first (it must still be valid SQL with an answer), then in
Sluice. The result is written as a tests/sql record (as_test_record): `load` blocks with
the remaining rows (and `files=N row_group_rows=M` when the layout matters) and the query
with the `duckdb` flag, which fails until the bug is fixed (verify_record checks that it
does, through the same loader as tests/test_sqllogic.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import math
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import duckdb
import pyarrow as pa

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from random_tables import write_parquet  # noqa: E402
from result_compare import compare, type_family  # noqa: E402
from sluice_cli import Sluice  # noqa: E402
import sql_reduce  # noqa: E402

DUCK_TYPES = {
    "int8": "TINYINT", "int16": "SMALLINT", "int32": "INTEGER", "int64": "BIGINT",
    "uint8": "UTINYINT", "uint16": "USMALLINT", "uint32": "UINTEGER", "uint64": "UBIGINT",
    "double": "DOUBLE", "float": "FLOAT", "string": "VARCHAR", "large_string": "VARCHAR", "bool": "BOOLEAN",
    "date32[day]": "DATE", "timestamp[us]": "TIMESTAMP", "timestamp[us, tz=UTC]": "TIMESTAMPTZ",
}
# DuckDB bugs seen while fuzzing: such a query has no reference answer.
DUCKDB_INTERNAL_ERRORS = ("INTERNAL Error", "BindBuiltinScalarFunction did not return")
MAX_RESULT_ROWS = 200_000


def duck_type(t: pa.DataType) -> str:
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    return DUCK_TYPES.get(str(t), str(t).upper())


# ---------------------------------------------------------------------------------------
# Running one case

@dataclass
class Case:
    sql: str
    ordered: bool
    tables: Dict[str, pa.Table]
    layout: Dict[str, Tuple[int, int]] = field(default_factory=dict)   # name -> (files, row group rows)

    def size(self) -> Tuple[int, int, int]:
        return (sum(t.num_rows for t in self.tables.values()), sql_reduce.measure(self.sql)[0],
                sum(t.num_columns for t in self.tables.values()))


@dataclass
class Outcome:
    """What happened to one query. kind is one of
    ok, unsupported (Sluice: "not supported yet"), both_error (both engines refuse),
    documented (Sluice refuses by a documented rule where DuckDB answers: DOCUMENTED),
    duckdb_error (only DuckDB refuses: a generator problem), duckdb_internal, duckdb_timeout,
    and the mismatches: error (only Sluice fails), crash, timeout, wrong (other rows),
    order (same rows, other order)."""
    kind: str
    detail: str = ""            # error text or diff
    message: str = ""           # normalized error message (part of the signature)
    threads: int = 1            # the Sluice --threads that shows it
    sluice_table: Optional[pa.Table] = None
    duck_table: Optional[pa.Table] = None

    MISMATCHES = ("error", "crash", "timeout", "wrong", "order")

    @property
    def mismatch(self) -> bool:
        return self.kind in self.MISMATCHES


def normalize_error(text: str) -> str:
    """An error message without positions, names and numbers (for grouping)."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    line = re.sub(r"^error:\s*", "", line)
    line = re.sub(r"\s+at line \d+, column \d+.*$", "", line)
    line = re.sub(r"\[at \d+\]", "", line)
    line = re.sub(r"'[^']*'", "'?'", line)
    line = re.sub(r"\"[^\"]*\"", '"?"', line)
    line = re.sub(r"\((\w[\w ]*): .*\)", r"(\1: ...)", line)           # (columns: a, f(b), ...)
    line = re.sub(r"\b[A-Za-z_]\w*\.[A-Za-z_]\w*\b", "?.?", line)       # a.k
    line = re.sub(r"\b\d+(\.\d+)?\b", "N", line)
    return line.strip()


# Errors Sluice raises by design where DuckDB answers (docs/design/expressions.md): not
# mismatches, counted apart.
DOCUMENTED = {
    "integer overflow in sum()": "sum() of integers is exact int64 (DuckDB sums in HUGEINT)",
}


def documented_difference(text: str) -> Optional[str]:
    for needle, why in DOCUMENTED.items():
        if needle in text:
            return why
    return None


def unsupported_kind(text: str) -> str:
    m = re.search(r"not supported( yet)?:?\s*(.*)", text)
    what = m.group(2) if m else text
    return normalize_error(what) or "(unspecified)"


def agreeing_errors(a: str, b: str) -> bool:
    words = ("overflow", "out of range", "not in range", "out of bounds")
    return any(w in a.lower() for w in words) and any(w in b.lower() for w in words)


def duck_connect(paths: Dict[str, os.PathLike], *, in_memory: bool = False, threads: int = 1):
    """DuckDB over the same Parquet files (views), or over in-memory copies of them (a
    cross-check of DuckDB itself: its Parquet reader and scans are not involved then)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET threads = {threads}")
    con.execute("SET memory_limit = '2GB'")
    for name, p in paths.items():
        kind = "TABLE" if in_memory else "VIEW"
        con.execute(f"CREATE {kind} {name} AS SELECT * FROM read_parquet('{p}')")
    return con


def duck_run(con, sql: str, timeout: float):
    """(arrow table, None) or (None, error line); a timeout is an error starting 'TIMEOUT'."""
    timer = threading.Timer(timeout, con.interrupt)
    timer.start()
    try:
        rel = con.sql(sql)
        if rel is None:
            return None, "not a query"
        return rel.to_arrow_table(), None
    except duckdb.InterruptException:
        return None, f"TIMEOUT after {timeout}s"
    except duckdb.Error as e:
        return None, (str(e).splitlines() or ["?"])[0]
    except Exception as e:  # noqa: BLE001 (e.g. a result type pyarrow cannot hold)
        return None, f"{type(e).__name__}: {e}"
    finally:
        timer.cancel()


def sluice_run(sluice: Sluice, sql: str, paths, threads: int, timeout: float, tmp: Optional[Path] = None):
    """('ok', table) | ('unsupported', msg) | ('error', msg) | ('crash', msg) | ('timeout', msg)."""
    try:
        r = sluice.sql(sql, paths, threads=threads, timeout=timeout, extra=["--quiet"], out_dir=tmp)
    except AssertionError as e:
        msg = str(e)
        if "timed out" in msg.splitlines()[0]:
            return "timeout", msg.splitlines()[0]
        m = re.search(r"signal (\d+)", msg)
        return "crash", f"signal {m.group(1) if m else '?'}: " + msg[-1500:]
    if r.ok:
        return "ok", r.table
    if r.not_supported:
        return "unsupported", r.error
    return "error", r.error or r.cli.stderr[-500:]


def evaluate(sluice: Sluice, con, sql: str, paths, ordered: bool, threads: Sequence[int] = (1, 2), *,
             duck_timeout: float = 30, sluice_timeout: float = 60, expected=None, tmp=None) -> Outcome:
    """Run `sql` in DuckDB (con) and in Sluice with each of `threads`; the first problem."""
    if expected is None:
        expected, ref_error = duck_run(con, sql, duck_timeout)
    else:
        ref_error = None
    if ref_error and ref_error.startswith("TIMEOUT"):
        return Outcome("duckdb_timeout", ref_error)
    if expected is not None and expected.num_rows > MAX_RESULT_ROWS:
        return Outcome("duckdb_error", f"result too large ({expected.num_rows} rows)", "result too large")
    for t in threads:
        status, val = sluice_run(sluice, sql, paths, t, sluice_timeout, tmp)
        if status == "unsupported":
            return Outcome("unsupported", val, unsupported_kind(val), t)
        if status in ("crash", "timeout"):
            if ref_error and status == "timeout":
                return Outcome("both_error", f"sluice: {val}\nduckdb: {ref_error}")
            return Outcome(status, val, status if status == "timeout" else val.split(":")[0], t,
                           duck_table=expected)
        if status == "error":
            if ref_error is not None:
                return Outcome("both_error", f"sluice: {val}\nduckdb: {ref_error}", normalize_error(val), t)
            why = documented_difference(val)
            if why:
                return Outcome("documented", val, why, t)
            return Outcome("error", val, normalize_error(val), t, duck_table=expected)
        if ref_error is not None:
            if any(m in ref_error for m in DUCKDB_INTERNAL_ERRORS):
                return Outcome("duckdb_internal", ref_error, normalize_error(ref_error), t)
            return Outcome("duckdb_error", ref_error, normalize_error(ref_error), t, sluice_table=val)
        diff = compare(val, expected, ordered=ordered)
        if diff:
            kind = "order" if "only the order differs" in diff else "wrong"
            return Outcome(kind, diff, kind, t, sluice_table=val, duck_table=expected)
    return Outcome("ok", threads=threads[-1] if threads else 1)


# ---------------------------------------------------------------------------------------
# Minimizing

def referenced(sql: str, name: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}\b", sql) is not None or \
        re.search(rf"\.{re.escape(name)}\b", sql) is not None


class Minimizer:
    """Shrinks a Case while check(outcome) holds; each step runs DuckDB, then Sluice."""

    def __init__(self, sluice: Sluice, original: Outcome, workdir: Path, *, log=None,
                 duck_timeout: float = 10, sluice_timeout: float = 30):
        self.sluice = sluice
        self.original = original
        self.workdir = workdir
        self.log = log or (lambda s: None)
        self.duck_timeout = duck_timeout
        self.sluice_timeout = sluice_timeout
        self.checks = 0
        self.last: Optional[Outcome] = None
        self._n = 0

    def materialize(self, case: Case) -> Dict[str, Path]:
        self._n += 1
        d = self.workdir / f"c{self._n}"
        paths = {}
        for name, t in case.tables.items():
            files, rgs = case.layout.get(name, (1, 0))
            target = d / name if files > 1 else d / f"{name}.parquet"
            paths[name] = write_parquet(t, target, files, rgs)
        old = self.workdir / f"c{self._n - 2}"
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)
        return paths

    def same_bug(self, o: Outcome) -> bool:
        a = self.original
        if a.kind in ("wrong", "order"):
            return o.kind == a.kind
        if a.kind == "error":
            return o.kind == "error" and o.message == a.message
        if a.kind == "crash":
            return o.kind == "crash" and o.message == a.message
        return o.kind == a.kind

    def outcome(self, case: Case) -> Outcome:
        self.checks += 1
        names = [n for n in case.tables if referenced(case.sql, n)]
        try:
            paths = self.materialize(Case(case.sql, case.ordered, {n: case.tables[n] for n in names},
                                          case.layout))
            con = duck_connect(paths)
        except Exception as e:  # noqa: BLE001 (a table DuckDB cannot read: not a candidate)
            return Outcome("duckdb_error", f"setup: {e}")
        expected, err = duck_run(con, case.sql, self.duck_timeout)
        if err is not None:
            con.close()
            return Outcome("duckdb_error", err)
        if expected.num_rows > MAX_RESULT_ROWS:
            con.close()
            return Outcome("duckdb_error", "result too large")
        tries = 3 if self.original.threads > 1 else 1
        o = Outcome("ok")
        for _ in range(tries):
            o = evaluate(self.sluice, con, case.sql, paths, case.ordered, (self.original.threads,),
                         sluice_timeout=self.sluice_timeout, expected=expected, tmp=self.workdir)
            if self.same_bug(o):
                break
        con.close()
        return o

    def check(self, case: Case) -> bool:
        o = self.outcome(case)
        if self.same_bug(o):
            self.last = o
            return True
        return False

    # -- passes ---------------------------------------------------------------------------
    def drop_tables(self, case: Case) -> Case:
        keep = {n: t for n, t in case.tables.items() if referenced(case.sql, n)}
        return replace(case, tables=keep)

    def simplify_layout(self, case: Case, deadline: float) -> Case:
        for name in list(case.tables):
            if time.monotonic() > deadline:
                break
            if case.layout.get(name, (1, 0)) != (1, 0):
                trial = replace(case, layout={**case.layout, name: (1, 0)})
                if self.check(trial):
                    case = trial
                    self.log(f"  layout of {name}: one file")
                else:
                    files, rgs = case.layout[name]
                    if rgs and files > 1:
                        trial = replace(case, layout={**case.layout, name: (files, 0)})
                        if self.check(trial):
                            case = trial
        return case

    def shrink_rows(self, case: Case, deadline: float) -> Case:
        for name in list(case.tables):
            chunk = max(1, case.tables[name].num_rows // 2)
            while chunk >= 1 and time.monotonic() < deadline:
                i = 0
                while i < case.tables[name].num_rows and time.monotonic() < deadline:
                    t = case.tables[name]
                    trial = replace(case, tables={**case.tables,
                                                  name: pa.concat_tables([t.slice(0, i), t.slice(i + chunk)])})
                    if self.check(trial):
                        case = trial
                    else:
                        i += chunk
                chunk //= 2
            self.log(f"  rows of {name}: {case.tables[name].num_rows}")
        return case

    def drop_columns(self, case: Case, deadline: float) -> Case:
        for name in list(case.tables):
            t = case.tables[name]
            unused = [c for c in t.column_names if not referenced(case.sql, c)]
            if len(unused) == t.num_columns:
                unused = unused[1:]          # a Parquet file needs a column
            if unused and "*" not in case.sql:
                trial = replace(case, tables={**case.tables, name: t.drop_columns(unused)})
                if self.check(trial):
                    case = trial
                    continue
            for col in list(case.tables[name].column_names):
                if time.monotonic() > deadline or case.tables[name].num_columns <= 1:
                    break
                if referenced(case.sql, col) and "*" not in case.sql:
                    continue
                trial = replace(case, tables={**case.tables, name: case.tables[name].drop_columns([col])})
                if self.check(trial):
                    case = trial
        return case

    def shrink_sql(self, case: Case, deadline: float) -> Case:
        def interesting(sql: str) -> bool:
            ordered = case.ordered and sql_reduce.top_level_ordered(sql)
            return self.check(replace(case, sql=sql, ordered=ordered))
        sql = sql_reduce.reduce_sql(case.sql, interesting, deadline, self.log)
        return self.drop_tables(replace(case, sql=sql, ordered=case.ordered and sql_reduce.top_level_ordered(sql)))

    def minimize(self, case: Case, budget: float) -> Case:
        deadline = time.monotonic() + budget
        case = self.drop_tables(case)
        if not self.check(case):
            self.log("  does not reproduce in the shrinker's setup (flaky?)")
            return case
        case = self.simplify_layout(case, deadline)
        for _ in range(3):
            before = case.size()
            case = self.shrink_rows(case, deadline)
            case = self.shrink_sql(case, deadline)
            case = self.drop_columns(case, deadline)
            if case.size() == before or time.monotonic() > deadline:
                break
        self.check(case)            # leaves self.last for the final case
        return case


# ---------------------------------------------------------------------------------------
# The tests/sql record

def _csv_value(v) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace('"', '""') + '"'
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (dt.date, decimal.Decimal, int)):
        return str(v)
    return str(v)


def as_load_block(name: str, t: pa.Table, layout: Tuple[int, int] = (1, 0)) -> str:
    cols = ", ".join(f"{f.name} {duck_type(f.type)}" for f in t.schema)
    files, rgs = layout
    opts = (f" files={files}" if files > 1 else "") + (f" row_group_rows={rgs}" if rgs else "")
    lines = [f"load {name}({cols}){opts}"]
    for row in t.to_pylist():
        lines.append(",".join(_csv_value(v) for v in row.values()))
    return "\n".join(lines)


def type_letters(t: Optional[pa.Table]) -> str:
    if t is None:
        return ""
    out = []
    for f in t.schema:
        ty = f.type
        if pa.types.is_integer(ty):
            out.append("I")
        elif pa.types.is_floating(ty):
            out.append("R")
        elif pa.types.is_decimal(ty):
            out.append("N")
        elif type_family(ty) == "string":
            out.append("T")
        elif pa.types.is_boolean(ty):
            out.append("B")
        elif pa.types.is_date(ty):
            out.append("D")
        elif pa.types.is_timestamp(ty):
            out.append("S")
        else:
            out.append("?")
    return "".join(out)


def as_test_record(case: Case, outcome: Outcome, comments: Sequence[str] = ()) -> str:
    """The case as a tests/sql/*.test fragment: comments, load blocks, the query."""
    blocks = []
    head = [f"# {c}" if c else "#" for c in comments]
    for name, t in case.tables.items():
        blocks.append(as_load_block(name, t, case.layout.get(name, (1, 0))))
    letters = type_letters(outcome.sluice_table) or type_letters(outcome.duck_table)
    if outcome.sluice_table is None and outcome.duck_table is not None:
        # Only DuckDB's types are known: its integers may be wider decimals in Sluice.
        letters = "".join("?" if c == "N" else c for c in letters)
    letters = letters or "?"
    sort = "nosort" if case.ordered else "rowsort"
    query = f"query {letters} {sort} duckdb\n{case.sql}"
    return "\n".join(head) + ("\n" if head else "") + "\n\n".join(blocks + [query]) + "\n"


def verify_record(sluice: Sluice, text: str, workdir: Path) -> Tuple[bool, str]:
    """Whether the record fails under tests/test_sqllogic.py's loader and runner checks
    (Sluice with --threads 2, then 1), and why."""
    from sqllogic import check_types, compare_tables, parse_file  # noqa: E402
    from test_sqllogic import THREADS, _Loaded  # noqa: E402
    d = Path(tempfile.mkdtemp(dir=workdir, prefix="verify-"))
    try:
        path = d / "repro.test"
        path.write_text(text, encoding="utf-8")
        tf = parse_file(path)
        loaded = _Loaded(tf, d / "tables")
        rec = tf.records[-1]
        ref = loaded.con.sql(rec.sql).to_arrow_table()
        reasons = []
        for threads in dict.fromkeys([THREADS, 1]):
            status, val = sluice_run(sluice, rec.sql, loaded.tables, threads, 60, d)
            if status != "ok":
                first = re.sub(r"^error:\s*", "", str(val).splitlines()[0] if str(val) else "")
                reasons.append(f"threads={threads}: sluice {status}: {first}")
                continue
            problem = check_types(val, rec.types) or compare_tables(val, ref, rec)
            if problem:
                reasons.append(f"threads={threads}: {problem.splitlines()[0]}")
        return bool(reasons), "; ".join(reasons) or "passes (the record does not reproduce the mismatch)"
    except Exception as e:  # noqa: BLE001
        return False, f"record could not be checked: {type(e).__name__}: {e}"
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------------------------------
# CLI for test_differential failures

def main():
    from query_generator import generate_queries  # noqa: E402
    from random_tables import make_world  # noqa: E402
    from test_differential import QUERIES_PER_SEED  # noqa: E402

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--query", type=int, required=True)
    ap.add_argument("--columns", help="comma-separated columns to keep (default: shrink them too)")
    ap.add_argument("--budget", type=float, default=300, help="seconds to spend shrinking (default 300)")
    ap.add_argument("--keep-sql", action="store_true", help="shrink the tables only, not the query")
    args = ap.parse_args()
    binary = os.environ.get("SLUICE_BIN") or str(HERE.parents[1] / "build/release/tools/sluice/sluice")
    sluice = Sluice(binary)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        world = make_world(args.seed, work / "world")
        q = generate_queries(world, QUERIES_PER_SEED, args.seed)[args.query]
        print(f"query ({q.template}, ordered={q.ordered}):\n  {q.sql}\n")
        tables, layout = {}, {}
        for t in world.tables:
            if t.name not in q.tables:
                continue
            tables[t.name] = t.data.select(args.columns.split(",")) if args.columns else t.data
            layout[t.name] = (t.files, t.row_group_size)
        case = Case(q.sql, q.ordered, tables, layout)
        paths = {n: t.path for n, t in ((t.name, t) for t in world.tables) if n in tables}
        con = duck_connect(paths)
        first = evaluate(sluice, con, q.sql, paths, q.ordered)
        if not first.mismatch:
            sys.exit(f"the engines agree on this case ({first.kind}): nothing to shrink")
        m = Minimizer(sluice, first, work, log=print)
        if args.keep_sql:
            m.shrink_sql = lambda case, deadline: case
        case = m.minimize(case, args.budget)
        final = m.last or first
        text = as_test_record(case, final, [f"differential seed {args.seed} query {args.query}: {final.kind}",
                                            *final.detail.splitlines()[:6]])
        print(text)
        print(verify_record(sluice, text, work)[1])


if __name__ == "__main__":
    main()
