#!/usr/bin/env bash
# Runs the platform's services on this machine against the Kafka broker and
# redis-server of the test bed (FLYWHEEL_TEST_KAFKA, FLYWHEEL_TEST_REDIS),
# until Ctrl-C or SIGTERM; then drains every service and exits.
#
#   deploy/dev/run.sh BUILD_DIR
#
# `./flywheel dev` calls it inside `tests/testbed/testbed.sh run`.
set -euo pipefail

build="${1:?usage: run.sh BUILD_DIR}"
: "${FLYWHEEL_TEST_KAFKA:?run through tests/testbed/testbed.sh run}"
: "${FLYWHEEL_TEST_REDIS:?run through tests/testbed/testbed.sh run}"

export FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS="$FLYWHEEL_TEST_KAFKA"
export FLYWHEEL_REDIS_ENDPOINT="$FLYWHEEL_TEST_REDIS"

# service grpc-port metrics-port
services=(
  "intake 8081 9461"
  "routing 8082 9462"
)

pids=()
stop() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop EXIT
trap 'exit 0' INT TERM

for entry in "${services[@]}"; do
  read -r name grpc metrics <<<"$entry"
  FLYWHEEL_GRPC_LISTEN="127.0.0.1:$grpc" FLYWHEEL_METRICS_LISTEN="127.0.0.1:$metrics" \
    "$build/services/$name/flywheel-$name" &
  pids+=("$!")
  echo "flywheel dev: $name on gRPC 127.0.0.1:$grpc, metrics http://127.0.0.1:$metrics/metrics" >&2
done

# Wait until both answer, then show one request going through.
for port in 8081 8082; do
  for _ in $(seq 1 150); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done
done
"$(dirname "$0")/demo.sh" 127.0.0.1:8081 127.0.0.1:8082 || echo "flywheel dev: the demo request did not go through" >&2

echo "flywheel dev: running; Ctrl-C stops everything" >&2
# Exits as soon as any service exits (a crash should not go unnoticed).
wait -n "${pids[@]}"
echo "flywheel dev: a service exited; stopping the rest" >&2
exit 1
