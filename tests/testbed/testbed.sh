#!/usr/bin/env bash
# The test bed: a real single-node Apache Kafka broker (KRaft) and a real
# redis-server on loopback, for integration tests and for running the
# platform locally.
#
#   testbed.sh run -- COMMAND...   start both on free ports, run COMMAND with
#                                  FLYWHEEL_TEST_KAFKA and FLYWHEEL_TEST_REDIS
#                                  exported, stop both, delete their data, exit
#                                  with COMMAND's code (what tests use)
#   testbed.sh run --state DIR [--clean] -- COMMAND...
#                                  the same for `flywheel dev`, but the broker's
#                                  log dirs, its cluster id and Redis's data
#                                  live in DIR and survive the run (--clean
#                                  wipes DIR first); the usual ports when free
#                                  (Kafka 9092, Redis 6379, else a free one,
#                                  said on stderr; FLYWHEEL_DEV_KAFKA_PORT,
#                                  FLYWHEEL_DEV_KAFKA_CONTROLLER_PORT and
#                                  FLYWHEEL_DEV_REDIS_PORT move them); COMMAND
#                                  also gets FLYWHEEL_DEV_STATE=DIR, and
#                                  Ctrl-C, SIGTERM or SIGHUP reach it as one
#                                  SIGTERM; the servers stop once it has exited
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
# Marks a directory this script made its state directory: --clean wipes only
# such a directory (or an empty one), never a folder given by mistake.
state_marker=".flywheel-state"

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

# port_is_free PORT: nothing listens on 127.0.0.1:PORT. SO_REUSEADDR as the
# servers set it, so connections of an earlier run left in TIME_WAIT do not
# count as in use.
port_is_free() {
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PY
}

# pick_port PREFERRED WHAT: a free port for WHAT. Tests pass no PREFERRED and
# get a random one; dev mode gets PREFERRED unless something listens there.
pick_port() {
  local preferred="$1" what="$2" port
  if [[ -z "$preferred" ]]; then free_port; return; fi
  if port_is_free "$preferred"; then echo "$preferred"; return; fi
  port="$(free_port)"
  log "port $preferred for $what is in use; using $port instead"
  echo "$port"
}

# wait_until DESCRIPTION SECONDS PID COMMAND...: polls COMMAND until it
# succeeds; gives up at once when the server PID has exited.
wait_until() {
  local what="$1" seconds="$2" pid="$3"; shift 3
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then log "$what exited while starting"; return 1; fi
    if ((SECONDS >= deadline)); then log "$what not ready after ${seconds}s"; return 1; fi
    sleep 0.2
  done
}

state=""          # dev mode: where the data lives; empty for tests
clean=""          # dev mode: wipe $state first
workdir=""        # tests: a fresh folder, deleted on exit
kafka_pid=""
redis_pid=""
command_pid=""

# In dev mode every server gets a process group of its own (job control for
# that one start), so a Ctrl-C in the terminal reaches only this script, which
# stops COMMAND first (it drains the services) and the servers after it.
# Tests keep one process group, as they always had.
own_group_in_dev() { if [[ -n "$state" ]]; then set -m; fi; }

stop_all() {
  local pid stop_tenths=100
  # A broker with data to keep gets longer for a clean shutdown.
  [[ -z "$state" ]] || stop_tenths=300
  for pid in $kafka_pid $redis_pid; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $kafka_pid $redis_pid; do
    # A broker shuts down cleanly in a few seconds; do not wait forever.
    for _ in $(seq 1 "$stop_tenths"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n "$state" && -n "$kafka_pid$redis_pid" ]]; then
    log "servers stopped; their data stays in $state"
  fi
  kafka_pid=""; redis_pid=""
  if [[ -n "$workdir" ]]; then rm -rf "$workdir"; workdir=""; fi
}

# open_state: makes $state absolute, takes its lock (one run per state
# directory) and wipes it first when --clean was given.
open_state() {
  mkdir -p "$state"
  state="$(cd "$state" && pwd)"
  # The lock is held by this script and every process it starts, so what is
  # left of a killed run also keeps a second run out.
  exec {lock_fd}>"$state/lock"
  if ! flock -n "$lock_fd"; then
    log "$state is in use by another run, or by what is left of one: stop the processes" \
      "that hold $state/lock first (fuser -v $state/lock lists them)"
    exit 1
  fi
  if [[ -n "$clean" ]]; then
    if [[ ! -e "$state/$state_marker" ]] \
      && [[ -n "$(find "$state" -mindepth 1 -maxdepth 1 ! -name lock -print -quit)" ]]; then
      log "$state is not a flywheel state directory ($state_marker missing): not wiping it"
      exit 1
    fi
    find "$state" -mindepth 1 -maxdepth 1 ! -name lock -exec rm -rf {} +
    log "starting clean: wiped $state"
  fi
  echo "Kafka and Redis data of \`flywheel dev\`; \`./flywheel dev --clean\` wipes it." \
    >"$state/$state_marker"
}

# keep_previous_log FILE: the last run's log stays readable as FILE.previous,
# and the new run's "started" line is not mistaken for an old one.
keep_previous_log() {
  if [[ -f "$1" ]]; then mv -f "$1" "$1.previous"; fi
}

# kafka_storage DIR JAVA...: formats the broker's log dirs once; dev mode
# reuses them with the cluster id kept in DIR/cluster.id.
kafka_storage() {
  local dir="$1"; shift
  local java=("$@") id
  if [[ -n "$state" && -f "$dir/data/meta.properties" ]]; then
    id="$(sed -n 's/^cluster.id=//p' "$dir/data/meta.properties")"
    echo "$id" >"$dir/cluster.id"
    log "reusing Kafka's data in $dir/data (cluster id $id)"
    return 0
  fi
  if [[ -n "$state" && -s "$dir/cluster.id" ]]; then
    id="$(cat "$dir/cluster.id")"
  else
    id="$("${java[@]}" kafka.tools.StorageTool random-uuid)"
  fi
  "${java[@]}" kafka.tools.StorageTool format --ignore-formatted \
    -t "$id" -c "$dir/server.properties" >"$dir/format.log" 2>&1
  if [[ -n "$state" ]]; then
    echo "$id" >"$dir/cluster.id"
    log "formatted new Kafka storage in $dir/data (cluster id $id)"
  fi
}

start_kafka() {
  fetch_kafka
  local dir port controller
  if [[ -n "$state" ]]; then dir="$state/kafka"; else dir="$workdir/kafka"; fi
  port="$(pick_port "${state:+${FLYWHEEL_DEV_KAFKA_PORT:-9092}}" "Kafka")"
  controller="$(pick_port "${state:+${FLYWHEEL_DEV_KAFKA_CONTROLLER_PORT:-9093}}" "Kafka's controller")"
  mkdir -p "$dir"
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
  cat >"$dir/log4j.properties" <<'PROPS'
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${kafka.logs.dir}/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
PROPS
  keep_previous_log "$dir/server.log"
  keep_previous_log "$dir/stdout.log"
  local java=(java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true
    "-Dkafka.logs.dir=$dir"
    "-Dlog4j.configuration=file:$dir/log4j.properties"
    -cp "$jars/*")
  kafka_storage "$dir" "${java[@]}"
  own_group_in_dev
  "${java[@]}" kafka.Kafka "$dir/server.properties" >"$dir/stdout.log" 2>&1 &
  kafka_pid=$!
  set +m
  if ! wait_until "Kafka broker" 120 "$kafka_pid" grep -q 'Kafka Server started' "$dir/server.log"; then
    tail -n 40 "$dir/stdout.log" "$dir/server.log" >&2 || true
    return 1
  fi
  export FLYWHEEL_TEST_KAFKA="127.0.0.1:$port"
  # A test that owns this broker (tests/integration/outage_test.cc) freezes
  # and thaws it by pid to act out an outage.
  export FLYWHEEL_TEST_KAFKA_PID="$kafka_pid"
  log "Kafka $kafka_version (KRaft) on $FLYWHEEL_TEST_KAFKA, pid $kafka_pid"
}

start_redis() {
  command -v redis-server >/dev/null || { log "redis-server not found: apt-get install redis-server"; return 1; }
  local port dir keep
  port="$(pick_port "${state:+${FLYWHEEL_DEV_REDIS_PORT:-6379}}" "Redis")"
  if [[ -n "$state" ]]; then
    dir="$state/redis"
    # Every write goes to the append-only file (fsync once a second), which
    # Redis reads back at the next start.
    keep=(--appendonly yes --appendfsync everysec --save '')
    mkdir -p "$dir"
    keep_previous_log "$dir/redis.log"
  else
    dir="$workdir"
    keep=(--save '' --appendonly no)
  fi
  own_group_in_dev
  redis-server --bind 127.0.0.1 --port "$port" "${keep[@]}" \
    --dir "$dir" --logfile "$dir/redis.log" --daemonize no &
  redis_pid=$!
  set +m
  wait_until "redis-server" 30 "$redis_pid" bash -c "[[ \$(redis-cli -p $port ping) == PONG ]]" || return 1
  export FLYWHEEL_TEST_REDIS="127.0.0.1:$port"
  log "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on $FLYWHEEL_TEST_REDIS, pid $redis_pid"
}

# pass_on: a stop asked of this script goes to COMMAND, which drains; the
# servers are stopped by the EXIT trap once COMMAND has exited.
pass_on() { kill -TERM "$command_pid" 2>/dev/null || true; }

# run_in_dev_mode COMMAND...: runs COMMAND in a process group of its own and
# returns its exit code.
run_in_dev_mode() {
  set -m
  "$@" &
  command_pid=$!
  set +m
  trap pass_on INT TERM HUP
  # A signal ends `wait` early while COMMAND is still draining: wait again.
  while kill -0 "$command_pid" 2>/dev/null; do wait "$command_pid" 2>/dev/null || true; done
  local status=0
  wait "$command_pid" 2>/dev/null || status=$?
  return "$status"
}

usage() {
  echo "usage: testbed.sh run [--state DIR [--clean]] -- COMMAND... | testbed.sh fetch" >&2
  exit 2
}

case "${1:-}" in
  fetch)
    fetch_kafka
    ;;
  run)
    shift
    while [[ $# -gt 0 && "$1" != "--" ]]; do
      case "$1" in
        --state) state="${2:?--state needs a directory}"; shift 2 ;;
        --clean) clean=1; shift ;;
        *) break ;;
      esac
    done
    [[ -z "$clean" || -n "$state" ]] || { log "--clean needs --state DIR"; usage; }
    [[ "${1:-}" == "--" ]] && shift
    [[ $# -gt 0 ]] || usage
    trap stop_all EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    if [[ -n "$state" ]]; then
      open_state
      export FLYWHEEL_DEV_STATE="$state"
    else
      workdir="$(mktemp -d -t flywheel-testbed.XXXXXX)"
    fi
    [[ -n "${FLYWHEEL_TEST_KAFKA:-}" ]] && log "using Kafka at $FLYWHEEL_TEST_KAFKA" || start_kafka
    [[ -n "${FLYWHEEL_TEST_REDIS:-}" ]] && log "using Redis at $FLYWHEEL_TEST_REDIS" || start_redis
    set +e
    if [[ -n "$state" ]]; then
      run_in_dev_mode "$@"
    else
      "$@"
    fi
    status=$?
    set -e
    exit "$status"
    ;;
  *)
    usage
    ;;
esac
