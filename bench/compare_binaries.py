#!/usr/bin/env python3
"""Two Sluice binaries on the TPC-H queries, run alternately (A, B, A, B, ...) so that
both see the same machine load: best wall time of --runs per query and binary, and
B's time over A's. For before/after figures of a change; not a test.

    .venv/bin/python bench/compare_binaries.py OLD_BINARY NEW_BINARY [--sf 1] [--queries 3,5]

The data comes from the TPC-H cache that bench/tpch.py and the tests fill
(~/.cache/sluice/tpch/sf<SF>)."""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLES = "lineitem orders customer part partsupp supplier nation region".split()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--sf", default="1")
    p.add_argument("--queries", default="1-22", help="e.g. 1-22, 3,5,9")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    data = Path.home() / ".cache" / "sluice" / "tpch" / f"sf{args.sf}"
    tables = []
    for t in TABLES:
        tables += ["--table", f"{t}={data / t}/*.parquet"]
    queries = []
    for part in args.queries.split(","):
        lo, _, hi = part.partition("-")
        queries += range(int(lo), int(hi or lo) + 1)
    total = [0.0, 0.0]
    print(f"{'query':6} {'A s':>8} {'B s':>8} {'B/A':>6}")
    for q in queries:
        text = (ROOT / "tests" / "tpch" / "queries" / f"q{q:02d}.sql").read_text()
        sql = "".join(l for l in text.splitlines(keepends=True) if not l.startswith("--"))
        best = [float("inf"), float("inf")]
        for _ in range(args.runs):
            for i, binary in enumerate((args.a, args.b)):
                start = time.perf_counter()
                subprocess.run([binary, "sql", "-q", "--threads", str(args.threads)] +
                               tables + [sql], stdout=subprocess.DEVNULL, check=True)
                best[i] = min(best[i], time.perf_counter() - start)
        total[0] += best[0]
        total[1] += best[1]
        print(f"q{q:02d}    {best[0]:8.3f} {best[1]:8.3f} {best[1] / best[0]:6.2f}")
    print(f"total  {total[0]:8.3f} {total[1]:8.3f} {total[1] / total[0]:6.3f}")


if __name__ == "__main__":
    main()
