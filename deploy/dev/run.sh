#!/usr/bin/env bash
# Runs the platform's services on this machine against the Kafka broker and
# redis-server of the test bed (FLYWHEEL_TEST_KAFKA, FLYWHEEL_TEST_REDIS) and
# looks after them until Ctrl-C or SIGTERM; then drains every service and
# exits 0.
#
#   deploy/dev/run.sh BUILD_DIR
#
# A service that exits on its own is named with its exit code or signal and
# started again after a pause (1 s, doubling up to 16 s). After
# FLYWHEEL_DEV_MAX_CRASHES (5) crashes in a row, each within 30 s of its
# start, or on a configuration error (exit code 2), it stops the rest and
# exits 1. Once every service answers it prints one banner with every address.
#
# FLYWHEEL_DEV_FEEDS_PORT (8184) moves the scheduler's calendar feeds.
# FLYWHEEL_DEV_<SERVICE>_GRPC_PORT and FLYWHEEL_DEV_<SERVICE>_METRICS_PORT
# move a service (FLYWHEEL_DEV_ROUTING_GRPC_PORT=9082); FLYWHEEL_DEV_DEMO=0
# skips the demo request; FLYWHEEL_DEV_STATE (set by the test bed) is shown.
#
# `./flywheel dev` calls it inside `tests/testbed/testbed.sh run --state DIR`.
set -euo pipefail

build="${1:?usage: run.sh BUILD_DIR}"
: "${FLYWHEEL_TEST_KAFKA:?run through tests/testbed/testbed.sh run}"
: "${FLYWHEEL_TEST_REDIS:?run through tests/testbed/testbed.sh run}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

export FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS="$FLYWHEEL_TEST_KAFKA"
export FLYWHEEL_REDIS_ENDPOINT="$FLYWHEEL_TEST_REDIS"
# No identity provider on a laptop: every call is taken without a token.
# The services refuse this unless they listen on loopback (they do here),
# log it as a warning and export flywheel_<service>_auth_dev_mode 1.
export FLYWHEEL_AUTH_DEV_MODE=true

# The scheduler serves iCalendar feeds of the publishing calendar at signed
# addresses; the secret that signs them is kept with the state, so an
# address subscribed to in a calendar app keeps working across runs.
feeds_port="${FLYWHEEL_DEV_FEEDS_PORT:-8184}"
feeds_secret="${FLYWHEEL_DEV_STATE:-${TMPDIR:-/tmp}}/scheduler-feeds.secret"
if [[ ! -s "$feeds_secret" ]]; then
  (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$feeds_secret")
fi
export FLYWHEEL_SCHEDULER_FEEDS_LISTEN="127.0.0.1:$feeds_port"
export FLYWHEEL_SCHEDULER_FEEDS_SECRET_FILE="$feeds_secret"

# Every service, one line each: name, gRPC port, metrics port. The binary is
# BUILD_DIR/services/NAME/flywheel-NAME; a new service is one more line.
services=(
  "intake 8081 9461"
  "routing 8082 9462"
  "approval 8083 9463"
  "scheduler 8084 9464"
  "lead-scoring 8085 9465"
  "reporting 8086 9466"
)

max_crashes="${FLYWHEEL_DEV_MAX_CRASHES:-5}"
quick_seconds=30   # a crash this soon after a start counts towards giving up
max_pause=16       # seconds between restarts, at most
ready_seconds=120  # a (re)started service must answer within this
drain_seconds=40   # services drain gRPC for 20 s; then they are killed

names=()
declare -A grpc_port metrics_port pid started_at crashes
stopping=""

# `|| true`: a closed terminal must not stop the drain half-way.
say() { echo "flywheel dev: $*" >&2 || true; }

load_services() {
  local entry name grpc metrics var upper
  for entry in "${services[@]}"; do
    read -r name grpc metrics <<<"$entry"
    upper="${name^^}"
    var="FLYWHEEL_DEV_${upper//-/_}_GRPC_PORT"
    grpc_port[$name]="${!var:-$grpc}"
    var="FLYWHEEL_DEV_${upper//-/_}_METRICS_PORT"
    metrics_port[$name]="${!var:-$metrics}"
    crashes[$name]=0
    names+=("$name")
    if [[ ! -x "$build/services/$name/flywheel-$name" ]]; then
      say "no $build/services/$name/flywheel-$name: build first (./flywheel build)"
      exit 1
    fi
  done
}

start_service() {
  local name="$1"
  # Job control for this one start gives the service a process group of its
  # own: a Ctrl-C in the terminal then reaches only this script, which drains
  # the services itself, instead of racing it.
  set -m
  FLYWHEEL_GRPC_LISTEN="127.0.0.1:${grpc_port[$name]}" \
    FLYWHEEL_METRICS_LISTEN="127.0.0.1:${metrics_port[$name]}" \
    "$build/services/$name/flywheel-$name" &
  pid[$name]=$!
  set +m
  started_at[$name]=$SECONDS
  say "started $name (pid ${pid[$name]})"
}

alive() { kill -0 "${pid[$1]}" 2>/dev/null; }

# nap SECONDS: a short sleep in a polling loop. A service that dies meanwhile
# makes bash print a "Killed" line of its own; ours says more.
nap() { sleep "$1"; } 2>/dev/null

port_open() { (: >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# answers NAME: gRPC and /metrics both accept connections (a service binds
# /metrics only once it is fully started).
answers() { port_open "${grpc_port[$1]}" && port_open "${metrics_port[$1]}"; }

# exit_reason STATUS: what a shell exit status means, for a person.
exit_reason() {
  local status="$1"
  if ((status > 128)); then
    echo "was killed by SIG$(kill -l "$((status - 128))") (exit status $status)"
  elif ((status == 2)); then
    echo "exited with code 2, a configuration error (its last log line names the key)"
  else
    echo "exited with code $status"
  fi
}

# pause SECONDS: sleeps, but a stop signal ends it at once.
pause() {
  sleep "$1" &
  local sleeper=$!
  wait "$sleeper" 2>/dev/null || true
  kill "$sleeper" 2>/dev/null || true
}

# wait_ready NAME: until NAME answers. Fails when it exits first, when a stop
# is asked for, or after ready_seconds.
wait_ready() {
  local name="$1" deadline=$((SECONDS + ready_seconds))
  until answers "$name"; do
    if [[ -n "$stopping" ]] || ! alive "$name"; then return 1; fi
    if ((SECONDS >= deadline)); then
      say "$name (pid ${pid[$name]}) does not answer after ${ready_seconds}s"
      return 1
    fi
    nap 0.2
  done
}

# restart_or_give_up NAME STATUS: NAME has exited with STATUS without being
# asked to. Says so and starts it again after a pause; fails when restarting
# will not help.
restart_or_give_up() {
  local name="$1" status="$2" ran=$((SECONDS - started_at[$1]))
  say "$name (pid ${pid[$name]}) $(exit_reason "$status") after ${ran}s"
  if ((status == 2)); then
    say "a restart would fail the same way: giving up on $name, stopping the rest"
    return 1
  fi
  if ((ran < quick_seconds)); then crashes[$name]=$((crashes[$name] + 1)); else crashes[$name]=1; fi
  if ((crashes[$name] >= max_crashes)); then
    say "$name crashed ${crashes[$name]} times in a row, each within ${quick_seconds}s of its start: giving up, stopping the rest"
    return 1
  fi
  local delay=$((1 << (crashes[$name] - 1)))
  if ((delay > max_pause)); then delay=$max_pause; fi
  say "restarting $name in ${delay}s (crash ${crashes[$name]} in a row; giving up at $max_crashes)"
  pause "$delay"
  if [[ -n "$stopping" ]]; then return 0; fi
  start_service "$name"
  if wait_ready "$name"; then
    say "$name is back on gRPC 127.0.0.1:${grpc_port[$name]} (pid ${pid[$name]})"
  fi
}

# handle_exits: deals with every service that has exited since the last look.
handle_exits() {
  local name status
  for name in "${names[@]}"; do
    if alive "$name"; then continue; fi
    status=0
    # 2>/dev/null: bash's own "Killed" line would only repeat ours.
    { wait "${pid[$name]}" || status=$?; } 2>/dev/null
    restart_or_give_up "$name" "$status" || return 1
  done
}

# wait_all_ready: until every service answers; a service that exits meanwhile
# is restarted like any crash.
wait_all_ready() {
  local name waiting deadline=$((SECONDS + ready_seconds))
  while [[ -z "$stopping" ]]; do
    handle_exits || return 1
    waiting=()
    for name in "${names[@]}"; do
      if ! answers "$name"; then waiting+=("$name"); fi
    done
    ((${#waiting[@]})) || return 0
    if ((SECONDS >= deadline)); then
      say "${waiting[*]} not answering after ${ready_seconds}s: stopping"
      return 1
    fi
    nap 0.2
  done
  return 1
}

# supervise: until a stop is asked for (returns 0) or a service is given up
# on (returns 1).
supervise() {
  local name pids tick
  while [[ -z "$stopping" ]]; do
    pids=()
    for name in "${names[@]}"; do pids+=("${pid[$name]}"); done
    # Wakes when a service exits or a signal arrives, and at least once a
    # second, so a signal that lands just before `wait` is not missed. Its
    # status is read by handle_exits; `|| true` because under `set -e` a
    # crashed service's status would end this script.
    sleep 1 &
    tick=$!
    { wait -n "${pids[@]}" "$tick" || true; } 2>/dev/null
    kill "$tick" 2>/dev/null || true
    if [[ -n "$stopping" ]]; then return 0; fi
    # Killed with -9, the test bed cannot pass a stop on, and its broker and
    # Redis are gone with it: services left running would hold their ports.
    if ! kill -0 "$PPID" 2>/dev/null; then
      say "the process that started this one (pid $PPID) is gone: stopping"
      return 1
    fi
    handle_exits || return 1
  done
}

# drain: asks every running service to stop, waits for its drain, kills what
# is still there after drain_seconds.
drain() {
  local name live=() status deadline
  for name in "${names[@]}"; do
    if [[ -n "${pid[$name]:-}" ]] && alive "$name"; then live+=("$name"); fi
  done
  ((${#live[@]})) || return 0
  say "draining ${live[*]}"
  for name in "${live[@]}"; do kill -TERM "${pid[$name]}" 2>/dev/null || true; done
  deadline=$((SECONDS + drain_seconds))
  for name in "${live[@]}"; do
    while alive "$name" && ((SECONDS < deadline)); do nap 0.2; done
    if alive "$name"; then
      say "$name (pid ${pid[$name]}) still running after ${drain_seconds}s: killing it"
      kill -KILL "${pid[$name]}" 2>/dev/null || true
    fi
    status=0
    { wait "${pid[$name]}" || status=$?; } 2>/dev/null
    if ((status == 0)); then say "$name stopped"; else say "$name $(exit_reason "$status") while draining"; fi
  done
}

# run_demo: one request through intake, routing and approval, when grpcurl
# is there.
run_demo() {
  if [[ "${FLYWHEEL_DEV_DEMO:-1}" == 0 ]]; then return 0; fi
  local gopath
  gopath="$(go env GOPATH 2>/dev/null)" || true
  if [[ ! -x "$gopath/bin/grpcurl" ]]; then
    say "no grpcurl (./flywheel dev installs it): skipping the demo request"
    return 0
  fi
  # In the background so that Ctrl-C does not wait for it.
  "$here/demo.sh" "127.0.0.1:${grpc_port[intake]}" "127.0.0.1:${grpc_port[routing]}" \
    "127.0.0.1:${grpc_port[approval]}" "127.0.0.1:${grpc_port[scheduler]}" \
    "127.0.0.1:${grpc_port[lead-scoring]}" "$FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS" \
    "127.0.0.1:${grpc_port[reporting]}" &
  local demo=$! status=0
  wait "$demo" || status=$?
  if [[ -n "$stopping" ]]; then
    kill -TERM "$demo" 2>/dev/null || true
    wait "$demo" 2>/dev/null || true
  elif ((status != 0)); then
    say "the demo request did not go through"
  fi
}

banner() {
  local name
  {
    echo "flywheel dev: ready"
    for name in "${names[@]}"; do
      printf '  %-12s gRPC 127.0.0.1:%-5s  metrics http://127.0.0.1:%s/metrics\n' \
        "$name" "${grpc_port[$name]}" "${metrics_port[$name]}"
    done
    printf '  %-12s http://127.0.0.1:%s (GetCalendarFeed gives each feed'"'"'s signed address)\n' \
      feeds "$feeds_port"
    printf '  %-12s bootstrap %s\n' kafka "$FLYWHEEL_TEST_KAFKA"
    printf '  %-12s %s\n' redis "$FLYWHEEL_TEST_REDIS"
    if [[ -n "${FLYWHEEL_DEV_STATE:-}" ]]; then
      printf '  %-12s %s (kept across runs; ./flywheel dev --clean starts empty)\n' \
        state "$FLYWHEEL_DEV_STATE"
    fi
    echo "  Ctrl-C drains the services and stops Kafka and Redis"
  } >&2
}

main() {
  local name
  load_services
  trap 'stopping=1' INT TERM HUP
  # Also on an unexpected error: no service outlives this script.
  trap drain EXIT
  for name in "${names[@]}"; do start_service "$name"; done
  local outcome=0
  if wait_all_ready; then
    run_demo
    if [[ -z "$stopping" ]]; then
      banner
      supervise || outcome=1
    fi
  elif [[ -z "$stopping" ]]; then
    outcome=1
  fi
  drain
  return "$outcome"
}

main
