#!/usr/bin/env bash
# make bench: the e-commerce report in Sluice, DuckDB, Polars and pandas, side by side.
# SCALE (default 1 = 10 million orders) and RUNS (default 2) can be set.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python bench/ecommerce_report.py --scale "${SCALE:-1}" --runs "${RUNS:-2}"
