#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft mode) on 127.0.0.1 for the tests.
#   scripts/kafka.sh fetch        copy the broker's jars (scripts/kafka/pom.xml) into the
#                                 cache $SLUICE_CACHE/kafka/<version> (default
#                                 ~/.cache/sluice), once
#   scripts/kafka.sh start DIR    start a broker with its data and log in DIR, on free
#                                 ports; prints its bootstrap address (127.0.0.1:PORT)
#                                 once it accepts connections. KAFKA_PORT=N reuses a port
#                                 (a restart of the same broker).
#   scripts/kafka.sh stop DIR     stop it (TERM, then KILL after 20 s); DIR is kept
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/scripts/kafka/pom.xml")
CACHE="${SLUICE_CACHE:-$HOME/.cache/sluice}/kafka/$VERSION"

fetch() {
  if [ -f "$CACHE/.complete" ]; then return 0; fi
  command -v mvn > /dev/null || { echo "kafka.sh: mvn (Maven) is missing" >&2; exit 1; }
  command -v java > /dev/null || { echo "kafka.sh: java is missing" >&2; exit 1; }
  echo "kafka.sh: fetching Kafka $VERSION jars into $CACHE" >&2
  rm -rf "$CACHE.tmp"
  mvn -q -B -f "$ROOT/scripts/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$CACHE.tmp" -DincludeScope=runtime >&2
  rm -rf "$CACHE"
  mv "$CACHE.tmp" "$CACHE"
  touch "$CACHE/.complete"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  local dir="$1"
  fetch
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  local port="${KAFKA_PORT:-$(free_port)}" cport
  cport=$(free_port)
  while [ "$cport" = "$port" ]; do cport=$(free_port); done
  mkdir -p "$dir/data"
  cat > "$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
EOF
  local cp="$CACHE/*"
  if [ ! -f "$dir/data/meta.properties" ]; then
    local id
    id=$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2> /dev/null | tail -1)
    java -cp "$cp" kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" \
      > "$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; exit 1; }
  fi
  nohup java -Xms256m -Xmx768m -XX:+UseSerialGC -cp "$cp" kafka.Kafka "$dir/server.properties" \
    >> "$dir/broker.log" 2>&1 < /dev/null &
  echo $! > "$dir/broker.pid"
  for _ in $(seq 1 240); do
    if (echo > "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
      echo "127.0.0.1:$port"
      return 0
    fi
    if ! kill -0 "$(cat "$dir/broker.pid")" 2> /dev/null; then
      echo "kafka.sh: the broker exited; its log:" >&2
      tail -30 "$dir/broker.log" >&2
      exit 1
    fi
    sleep 0.25
  done
  echo "kafka.sh: the broker did not listen on $port within 60 s" >&2
  stop "$dir"
  exit 1
}

stop() {
  local dir="$1" pid
  [ -f "$dir/broker.pid" ] || return 0
  pid=$(cat "$dir/broker.pid")
  kill "$pid" 2> /dev/null || true
  for _ in $(seq 1 80); do
    kill -0 "$pid" 2> /dev/null || { rm -f "$dir/broker.pid"; return 0; }
    sleep 0.25
  done
  kill -9 "$pid" 2> /dev/null || true
  rm -f "$dir/broker.pid"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start "${2:?usage: kafka.sh start DIR}" ;;
  stop) stop "${2:?usage: kafka.sh stop DIR}" ;;
  *) echo "usage: kafka.sh fetch | start DIR | stop DIR" >&2; exit 2 ;;
esac
