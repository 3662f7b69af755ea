#!/usr/bin/env bash
# make bench: Sluice side by side with DuckDB, Polars and pandas.
#   SUITES  which suites, comma-separated (default ecommerce,groupby,join,tpch)
#           ecommerce  the nightly e-commerce report (bench/ecommerce_report.py)
#           groupby    db-benchmark groupby q1-q10 (bench/dbbench.py)
#           join       db-benchmark join q1-q5 (bench/dbbench.py)
#           tpch       TPC-H q1-q22 (bench/tpch.py)
#   SCALE   e-commerce scale (default 1 = 10 million orders)
#   SIZE    db-benchmark rows (default 1e7; 1e8 needs ~10x the time, disk and memory)
#   TPCH_SF TPC-H scale factor (default 1; 10 generates ~3.5 GB of Parquet first, once)
#   RUNS    runs of each query (default 2; every run is recorded)
# Each suite prints its table and writes bench/results/; a failing suite (for example an
# answer disagreement) does not stop the others, but the script exits non-zero.
set -uo pipefail
cd "$(dirname "$0")/.."
SUITES=${SUITES:-ecommerce,groupby,join,tpch}
SCALE=${SCALE:-1}
SIZE=${SIZE:-1e7}
TPCH_SF=${TPCH_SF:-1}
RUNS=${RUNS:-2}
PY=.venv/bin/python

failed=()
db_suites=()
IFS=, read -ra wanted <<< "$SUITES"
for suite in "${wanted[@]}"; do
  case "$suite" in
    ecommerce)
      echo "== ecommerce (scale $SCALE, $RUNS runs)"
      $PY bench/ecommerce_report.py --scale "$SCALE" --runs "$RUNS" || failed+=(ecommerce) ;;
    groupby|join)
      db_suites+=("$suite") ;;
    tpch)
      if [ -f bench/tpch.py ]; then
        echo "== tpch (SF $TPCH_SF, $RUNS runs)"
        $PY bench/tpch.py --sf "$TPCH_SF" --runs "$RUNS" || failed+=(tpch)
      else
        echo "== tpch: no bench/tpch.py yet, skipped"
      fi ;;
    "") ;;
    *)
      echo "unknown suite '$suite' (suites: ecommerce, groupby, join, tpch)" >&2
      failed+=("$suite") ;;
  esac
done
if [ ${#db_suites[@]} -gt 0 ]; then
  joined=$(IFS=,; echo "${db_suites[*]}")
  echo "== db-benchmark $joined (size $SIZE, $RUNS runs)"
  $PY bench/dbbench.py --suites "$joined" --size "$SIZE" --runs "$RUNS" || failed+=("$joined")
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "bench: failed: ${failed[*]}" >&2
  exit 1
fi
