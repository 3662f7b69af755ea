"""The cost of the Python layer (issue 5), not a test.

1. The e-commerce daily report run by the CLI (examples/ecommerce/daily_report.yaml)
   and by examples/python/daily_report.py on the same data, best of --runs each: the
   Python layer's overhead as a ratio (goal: within 5 %).
2. A vectorized Python function against the same arithmetic as a built-in expression,
   over --rows rows: the price of calling Python per batch.

    .venv/bin/python bench/python_overhead.py --data data/ecommerce-1 --runs 3
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "examples" / "python"))

import sluice as sl  # noqa: E402
from daily_report import report  # noqa: E402


def best(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="data/ecommerce-1")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--sluice", default=str(REPO / "build/release/tools/sluice/sluice"))
    args = p.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        def cli():
            subprocess.run([args.sluice, "run", str(REPO / "examples/ecommerce/daily_report.yaml"),
                            "--set", f"data={args.data}", "--set", f"out={tmp}/cli", "-q"],
                           check=True, capture_output=True)

        session = sl.Session()

        def python():
            report(args.data, f"{tmp}/py", session)

        cli()  # warm the page cache
        t_cli = best(cli, args.runs)
        t_py = best(python, args.runs)
    print(f"daily report on {args.data}, best of {args.runs}")
    print(f"  CLI     {t_cli:7.3f} s   (process start included)")
    print(f"  Python  {t_py:7.3f} s   ({t_py / t_cli:.3f}x the CLI)")

    n = args.rows
    table = pa.table({"price": pa.array([float(i % 1000) for i in range(n)]),
                      "vat": pa.array([0.2] * n)})

    @sl.udf(return_type=pa.float64())
    def gross_udf(price, vat):
        return pc.multiply(price, pc.add(vat, 1.0))

    f = session.from_arrow(table)
    builtin = f.agg((sl.col("price") * (sl.col("vat") + 1.0)).sum())
    python_fn = f.agg(gross_udf("price", "vat").sum())
    t_builtin = best(builtin.collect, args.runs)
    t_udf = best(python_fn.collect, args.runs)
    batches = -(-n // 65536)
    print(f"sum(price * (1 + vat)) over {n:,} rows, best of {args.runs}")
    print(f"  built-in       {t_builtin:7.3f} s")
    print(f"  Python UDF     {t_udf:7.3f} s   ({t_udf / t_builtin:.2f}x; "
          f"{(t_udf - t_builtin) / batches * 1e6:.0f} us more per batch of 65,536 rows)")


if __name__ == "__main__":
    main()
