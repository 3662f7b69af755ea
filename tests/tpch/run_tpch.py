#!/usr/bin/env python3
"""TPC-H in Sluice and DuckDB: run the 22 queries, time them, check that the answers agree.

    .venv/bin/python tests/tpch/run_tpch.py --sf 0.1                 # all 22, both engines
    .venv/bin/python tests/tpch/run_tpch.py --sf 0.1 --query 5 -q 18  # some of them
    .venv/bin/python tests/tpch/run_tpch.py --sf 1 --engine sluice --repeat 3

prints one line per query (times, rows, agree / DISAGREE / error) and exits 1 if any
query failed or disagreed. The data (Parquet, one directory per table) is generated
into the cache on first use (scripts/tpch_data.py). The binary is --bin, else
$SLUICE_BIN, else build/release/tools/sluice/sluice.

As a module (tests/tpch/test_tpch.py, bench/): ensure_data(sf) -> Path,
query_text(n) -> str, run_sluice(n, sf) -> pyarrow.Table (raises SluiceError),
run_duckdb(n, sf) -> pyarrow.Table, compare(actual, expected, n) -> None or a diff.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

import duckdb
import pyarrow as pa

HERE = Path(__file__).resolve().parent
TESTS_DIR = HERE.parent
REPO_ROOT = TESTS_DIR.parent
for _p in (TESTS_DIR, REPO_ROOT / "scripts"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import result_compare  # noqa: E402
import tpch_data  # noqa: E402
from sluice_cli import Sluice  # noqa: E402

QUERY_DIR = HERE / "queries"
QUERIES = list(range(1, 23))
TABLES = tpch_data.TABLES

# The output columns (0-based) each query's ORDER BY sorts on, in order; every TPC-H sort
# key is an output column (test_tpch.py checks this table against the query texts).
# The rows are compared as multisets, and these columns in order, so rows that tie on
# the sort keys may come in any order (Q11 sorts only by value, Q5 and Q10 only by
# revenue) while any real ordering mistake is still caught. Queries without ORDER BY
# return one row.
ORDER_KEYS: Dict[int, List[int]] = {
    1: [0, 1], 2: [0, 2, 1, 3], 3: [1, 2], 4: [0], 5: [1], 6: [], 7: [0, 1, 2], 8: [0],
    9: [0, 1], 10: [2], 11: [1], 12: [0], 13: [1, 0], 14: [], 15: [0], 16: [3, 0, 1, 2],
    17: [], 18: [4, 3], 19: [], 20: [0], 21: [1, 0], 22: [0],
}

DEFAULT_TIMEOUT = 600.0


class SluiceError(RuntimeError):
    """Sluice exited with an error. str() is its first `error:` line; `details` all of stderr."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


def ensure_data(sf: float) -> Path:
    """The directory holding scale factor `sf` (one subdirectory of Parquet files per table)."""
    return tpch_data.ensure_data(sf)


def query_path(n: int) -> Path:
    return QUERY_DIR / f"q{n:02d}.sql"


def query_text(n: int) -> str:
    if n not in QUERIES:
        raise ValueError(f"no TPC-H query {n} (1..22)")
    return query_path(n).read_text(encoding="utf-8")


def table_paths(sf: float) -> Dict[str, str]:
    """Table name -> Parquet glob, for `sluice sql --table` and DuckDB's read_parquet."""
    root = ensure_data(sf)
    return {t: tpch_data.table_glob(root, t) for t in TABLES}


def sluice_binary() -> Path:
    env = os.environ.get("SLUICE_BIN")
    if env:
        return Path(env).expanduser().resolve()
    return REPO_ROOT / "build" / "release" / "tools" / "sluice" / "sluice"


def sluice_command(n: int, sf: float, *, binary: Optional[os.PathLike] = None,
                   threads: Optional[int] = None) -> str:
    """A shell command line that runs query n in Sluice and prints the result as a table."""
    args = [str(binary or sluice_binary()), "sql", "--format", "table"]
    if threads is not None:
        args += ["--threads", str(threads)]
    for name, path in table_paths(sf).items():
        args += ["--table", f"{name}={path}"]
    args.append(str(query_path(n)))
    # The query is read from the file with $(cat ...), so the line stays short.
    return " ".join(shlex.quote(a) for a in args[:-1]) + f' "$(cat {shlex.quote(args[-1])})"'


def run_sluice(n: int, sf: float, *, binary: Optional[os.PathLike] = None, threads: Optional[int] = None,
               memory_limit: Optional[str] = None, timeout: float = DEFAULT_TIMEOUT,
               extra: Iterable[str] = ()) -> pa.Table:
    """Query n on scale factor sf through the CLI (Parquet output, read back exactly).

    Raises SluiceError for an error exit (the message is the first `error:` line), a
    timeout or a crash."""
    path = Path(binary) if binary is not None else sluice_binary()
    if not path.is_file():
        raise SluiceError(f"sluice binary not found: {path} (build it, or set SLUICE_BIN)")
    try:
        res = Sluice(path).sql(query_text(n), table_paths(sf), threads=threads, memory_limit=memory_limit,
                               timeout=timeout, extra=extra)
    except AssertionError as e:  # sluice_cli's timeout or crash (killed by a signal)
        first = str(e).splitlines()[0]
        details = str(e)
        if "timed out" in first:
            first = f"timed out after {timeout:g} s (killed)"
            details = first
        raise SluiceError(first, details) from None
    if not res.ok:
        raise SluiceError(res.error, res.cli.stderr)
    return res.table


_duck: Dict[float, duckdb.DuckDBPyConnection] = {}


def duckdb_connection(sf: float, threads: Optional[int] = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one view per table over the same Parquet files (cached per sf)."""
    con = _duck.get(sf)
    if con is None:
        con = duckdb.connect()
        for name, path in table_paths(sf).items():
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
        _duck[sf] = con
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    return con


def run_duckdb(n: int, sf: float, *, threads: Optional[int] = None) -> pa.Table:
    """The reference answer: query n in DuckDB over the cached Parquet files."""
    return duckdb_connection(sf, threads).sql(query_text(n)).to_arrow_table()


def compare(actual: pa.Table, expected: pa.Table, n: Optional[int] = None, *,
            order_keys: Optional[Sequence[int]] = None,
            labels: Sequence[str] = ("sluice", "duckdb")) -> Optional[str]:
    """None if the results agree, else a short diff.

    Values are compared by tests/result_compare.py: integers and decimals exactly, a
    float on either side within a relative 1e-9, strings and dates by value, column
    names must match. Rows are compared as multisets; with n given, the ORDER BY columns
    of query n (ORDER_KEYS[n], or `order_keys`) must also come in the same order."""
    labels = tuple(labels)
    diff = result_compare.compare(actual, expected, ordered=False, check_names=True, labels=labels)
    if diff:
        return diff
    keys = list(order_keys) if order_keys is not None else ORDER_KEYS.get(n) if n is not None else None
    if keys:
        diff = result_compare.compare(actual.select(keys), expected.select(keys), ordered=True, labels=labels)
        if diff:
            names = ", ".join(expected.column_names[k] for k in keys)
            return f"same rows, but not in ORDER BY order (sort columns {names}):\n{diff}"
    return None


def _timed(fn, repeat: int):
    best, result = None, None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        result = fn()
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    return result, best


def _parse_queries(values: Optional[List[str]]) -> List[int]:
    if not values:
        return QUERIES
    out: List[int] = []
    for v in values:
        for part in v.split(","):
            part = part.strip().lower().lstrip("q")
            if not part:
                continue
            if "-" in part:
                lo, hi = part.split("-", 1)
                out.extend(range(int(lo), int(hi) + 1))
            else:
                out.append(int(part))
    bad = [q for q in out if q not in QUERIES]
    if bad:
        raise SystemExit(f"error: no TPC-H query {bad[0]} (1..22)")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Run TPC-H queries in Sluice and/or DuckDB and compare the answers.")
    ap.add_argument("--sf", type=float, default=0.1, help="scale factor (default 0.1)")
    ap.add_argument("--query", "-q", action="append", metavar="N",
                    help="query number(s): 5, 1-3, 2,7 (repeatable; default all 22)")
    ap.add_argument("--engine", choices=["sluice", "duckdb", "both"], default="both")
    ap.add_argument("--bin", help="sluice binary (default $SLUICE_BIN, else build/release)")
    ap.add_argument("--threads", type=int, help="threads for both engines (default: their own)")
    ap.add_argument("--memory-limit", help="Sluice's --memory-limit, e.g. 8GiB (default: its own, 80%% of RAM)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per query and engine; the best time is shown")
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per Sluice run")
    ap.add_argument("--show", action="store_true", help="print the results")
    ap.add_argument("--command", action="store_true",
                    help="print the sluice command line of each query instead of running it")
    ap.add_argument("--verbose", "-v", action="store_true", help="print whole diffs and Sluice's stderr")
    args = ap.parse_args(argv)

    queries = _parse_queries(args.query)
    try:
        root = ensure_data(args.sf)
    except tpch_data.DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    binary = Path(args.bin).resolve() if args.bin else sluice_binary()
    if args.command:
        for n in queries:
            print(sluice_command(n, args.sf, binary=binary, threads=args.threads))
        return 0
    print(f"TPC-H SF{args.sf:g}: {root}")
    if args.engine != "duckdb":
        print(f"sluice: {binary}")
    print(f"{'query':<6} {'sluice s':>9} {'duckdb s':>9} {'rows':>6}  result")

    failed = 0
    for n in queries:
        s_tab = d_tab = None
        s_time = d_time = None
        status = ""
        detail = ""
        if args.engine in ("sluice", "both"):
            try:
                s_tab, s_time = _timed(lambda: run_sluice(n, args.sf, binary=binary, threads=args.threads,
                                                          memory_limit=args.memory_limit,
                                                          timeout=args.timeout), args.repeat)
            except SluiceError as e:
                status = f"sluice: {e}"
                detail = e.details
        if args.engine in ("duckdb", "both"):
            try:
                d_tab, d_time = _timed(lambda: run_duckdb(n, args.sf, threads=args.threads), args.repeat)
            except duckdb.Error as e:
                status = (status + "; " if status else "") + f"duckdb error: {str(e).splitlines()[0]}"
        if not status:
            if s_tab is not None and d_tab is not None:
                diff = compare(s_tab, d_tab, n)
                status = "agree" if diff is None else "DISAGREE"
                detail = diff or ""
            else:
                status = "ok"
        if status not in ("agree", "ok"):
            failed += 1
        rows = s_tab.num_rows if s_tab is not None else d_tab.num_rows if d_tab is not None else None
        fmt = lambda t: f"{t:9.3f}" if t is not None else f"{'-':>9}"  # noqa: E731
        print(f"q{n:02d}    {fmt(s_time)} {fmt(d_time)} {rows if rows is not None else '-':>6}  {status}",
              flush=True)
        if detail and (args.verbose or status == "DISAGREE"):
            text = detail if args.verbose else "\n".join(detail.splitlines()[:24])
            print("    " + text.rstrip().replace("\n", "\n    "))
        if args.show:
            for label, tab in (("sluice", s_tab), ("duckdb", d_tab)):
                if tab is not None:
                    print(f"--- {label}\n{tab.to_pandas().to_string(max_rows=40)}")
    print(f"{len(queries) - failed} of {len(queries)} queries "
          f"{'agree' if args.engine == 'both' else 'ran'}, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
