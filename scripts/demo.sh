#!/usr/bin/env bash
# make demo: generate the e-commerce data set (once per scale) and run the nightly
# report job on it. SCALE=1 gives 10 million orders; the default 0.1 gives 1 million.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/release/tools/sluice/sluice
SCALE=${SCALE:-0.1}
DATA=data/ecommerce-$SCALE
OUT=out/daily_report
if [ ! -f "$DATA/.complete" ]; then
  "$BIN" generate ecommerce --scale "$SCALE" --out "$DATA"
  touch "$DATA/.complete"
fi
echo "Running examples/ecommerce/daily_report.yaml on $DATA (scale $SCALE) -> $OUT" >&2
"$BIN" run examples/ecommerce/daily_report.yaml --set data="$DATA" --set out="$OUT"
echo >&2
echo "Parquet results in $OUT/; bad user rows in $OUT/users.rejects.jsonl" >&2
