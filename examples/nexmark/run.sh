#!/usr/bin/env bash
# Runs one Nexmark query of this folder, on the built-in generator or on Kafka topics
# written by load_kafka.sh, printing its result as CSV:
#   examples/nexmark/run.sh q5                      # the generator (sources.sql)
#   examples/nexmark/run.sh --kafka HOST:PORT q5    # Kafka (sources_kafka.sql)
# Extra arguments after the query go to `sluice sql` (e.g. --threads 2). EVENTS=N sets
# the generator's event count (default 10 million).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../../build/release/tools/sluice/sluice}
sources=$here/sources.sql
brokers=
if [[ ${1:-} == --kafka ]]; then
  brokers=${2:?--kafka needs HOST:PORT}
  shift 2
  sources=$here/sources_kafka.sql
fi
query=${1:?usage: run.sh [--kafka HOST:PORT] qN [sluice sql options]}
shift
[[ -f $here/$query.sql ]] || { echo "no query $here/$query.sql" >&2; exit 2; }
script=$(sed -e "s/BROKERS/$brokers/g" -e "s/10000000/${EVENTS:-10000000}/g" "$sources"
  cat "$here/$query.sql")
# Statements from standard input: the views, then the query, whose rows come out as CSV.
printf '%s\n' "$script" | "$sluice" sql --format csv "$@" -f -
