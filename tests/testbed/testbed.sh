#!/usr/bin/env bash
# The test bed: a real single-node Apache Kafka broker (KRaft) and a real
# redis-server, both on free loopback ports, for integration tests and for
# running the platform locally.
#
#   testbed.sh run -- COMMAND...   start both, run COMMAND with
#                                  FLYWHEEL_TEST_KAFKA and FLYWHEEL_TEST_REDIS
#                                  exported, stop both, exit with COMMAND's code
#   testbed.sh fetch               only resolve the broker's jars into the cache
#
# When FLYWHEEL_TEST_KAFKA or FLYWHEEL_TEST_REDIS is already set, that server
# is used as it is and nothing is started for it. Whatever this script starts
# it stops on exit, also when COMMAND fails or the script is interrupted.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${FLYWHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flywheel}"
kafka_version="$(sed -n 's|.*<kafka.version>\(.*\)</kafka.version>.*|\1|p' "$here/pom.xml")"
jars="$cache/kafka-$kafka_version"

log() { echo "testbed: $*" >&2; }

fetch_kafka() {
  if [[ -f "$jars/.complete" ]]; then return 0; fi
  command -v mvn >/dev/null || { log "mvn not found: install Maven (apt-get install maven)"; return 1; }
  log "resolving Apache Kafka $kafka_version from Maven Central into $jars"
  rm -rf "$jars"
  mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$jars" -DincludeScope=runtime >&2
  touch "$jars/.complete"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_until DESCRIPTION SECONDS COMMAND...: polls COMMAND until it succeeds.
wait_until() {
  local what="$1" seconds="$2"; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then log "$what not ready after ${seconds}s"; return 1; fi
    sleep 0.2
  done
}

workdir=""
kafka_pid=""
redis_pid=""

stop_all() {
  local pid
  for pid in $kafka_pid $redis_pid; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $kafka_pid $redis_pid; do
    # A broker shuts down cleanly in a few seconds; do not wait forever.
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  kafka_pid=""; redis_pid=""
  if [[ -n "$workdir" ]]; then rm -rf "$workdir"; workdir=""; fi
}

start_kafka() {
  fetch_kafka
  local port controller
  port="$(free_port)"; controller="$(free_port)"
  mkdir -p "$workdir/kafka"
  cat >"$workdir/kafka/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$workdir/kafka/data
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
  cat >"$workdir/kafka/log4j.properties" <<'PROPS'
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${kafka.logs.dir}/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
PROPS
  local java=(java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true
    "-Dkafka.logs.dir=$workdir/kafka"
    "-Dlog4j.configuration=file:$workdir/kafka/log4j.properties"
    -cp "$jars/*")
  "${java[@]}" kafka.tools.StorageTool format --ignore-formatted \
    -t "$("${java[@]}" kafka.tools.StorageTool random-uuid)" \
    -c "$workdir/kafka/server.properties" >"$workdir/kafka/format.log" 2>&1
  "${java[@]}" kafka.Kafka "$workdir/kafka/server.properties" >"$workdir/kafka/stdout.log" 2>&1 &
  kafka_pid=$!
  if ! wait_until "Kafka broker" 120 grep -q 'Kafka Server started' "$workdir/kafka/server.log"; then
    tail -n 40 "$workdir/kafka/stdout.log" "$workdir/kafka/server.log" >&2 || true
    return 1
  fi
  export FLYWHEEL_TEST_KAFKA="127.0.0.1:$port"
  log "Kafka $kafka_version (KRaft) on $FLYWHEEL_TEST_KAFKA, pid $kafka_pid"
}

start_redis() {
  command -v redis-server >/dev/null || { log "redis-server not found: apt-get install redis-server"; return 1; }
  local port
  port="$(free_port)"
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
    --dir "$workdir" --logfile "$workdir/redis.log" --daemonize no &
  redis_pid=$!
  wait_until "redis-server" 30 bash -c "[[ \$(redis-cli -p $port ping) == PONG ]]" || return 1
  export FLYWHEEL_TEST_REDIS="127.0.0.1:$port"
  log "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on $FLYWHEEL_TEST_REDIS, pid $redis_pid"
}

case "${1:-}" in
  fetch)
    fetch_kafka
    ;;
  run)
    shift
    [[ "${1:-}" == "--" ]] && shift
    [[ $# -gt 0 ]] || { log "usage: testbed.sh run -- COMMAND..."; exit 2; }
    workdir="$(mktemp -d -t flywheel-testbed.XXXXXX)"
    trap stop_all EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    [[ -n "${FLYWHEEL_TEST_KAFKA:-}" ]] && log "using Kafka at $FLYWHEEL_TEST_KAFKA" || start_kafka
    [[ -n "${FLYWHEEL_TEST_REDIS:-}" ]] && log "using Redis at $FLYWHEEL_TEST_REDIS" || start_redis
    set +e
    "$@"
    status=$?
    set -e
    exit "$status"
    ;;
  *)
    echo "usage: testbed.sh run -- COMMAND... | testbed.sh fetch" >&2
    exit 2
    ;;
esac
