#!/usr/bin/env bash
# Writes the Nexmark events into Kafka topics nexmark-person, nexmark-auction and
# nexmark-bid (which must exist), keyed by id, id and auction:
#   examples/nexmark/load_kafka.sh HOST:PORT [EVENTS]
# One thread and one split: each partition holds its events in generation order.
set -euo pipefail
brokers=${1:?usage: load_kafka.sh HOST:PORT [EVENTS]}
events=${2:-10000000}
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../../build/release/tools/sluice/sluice}
for spec in person:id auction:id bid:auction; do
  table=${spec%%:*}
  key=${spec#*:}
  "$sluice" sql -q --threads 1 "COPY (SELECT * FROM nexmark('$table', events => $events, \
splits => 1)) TO 'nexmark-$table' (FORMAT kafka, BROKERS '$brokers', KEY '$key')"
done
