#!/usr/bin/env bash
# Measures intake and routing under load on this machine: builds the release
# preset, starts a fresh broker and redis-server (test bed), runs
# flywheel-intake and flywheel-routing as separate processes, and drives them
# with flywheel-loadtest-submit:
#   1. open loop at 1,000 calls/s: submit -> routed latency (first, while
#      routing has no backlog);
#   2. closed loop, 64 calls in flight: SubmitRequest throughput and latency.
#
#   loadtest/submit.sh [SECONDS] [RATE]   (measured seconds per scenario,
#                                           default 30; open-loop rate, default 1000)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${1:-30}"
rate="${2:-1000}"
cmake --preset release >/dev/null
cmake --build --preset release --target flywheel-intake flywheel-routing flywheel-loadtest-submit >&2

exec tests/testbed/testbed.sh run -- bash -c '
  set -euo pipefail
  build=build/release
  export FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS="$FLYWHEEL_TEST_KAFKA"
  export FLYWHEEL_REDIS_ENDPOINT="$FLYWHEEL_TEST_REDIS"
  export FLYWHEEL_LOG_LEVEL=warn
  FLYWHEEL_GRPC_LISTEN=127.0.0.1:18081 FLYWHEEL_METRICS_LISTEN=127.0.0.1:19461 \
    $build/services/intake/flywheel-intake & intake=$!
  FLYWHEEL_GRPC_LISTEN=127.0.0.1:18082 FLYWHEEL_METRICS_LISTEN=127.0.0.1:19462 \
    $build/services/routing/flywheel-routing & routing=$!
  trap "kill -TERM $intake $routing 2>/dev/null; wait $intake $routing 2>/dev/null || true" EXIT
  # Ready when intake answers: a validate-only call would do, but the load
  # tool itself retries nothing, so wait for the port.
  for _ in $(seq 1 150); do (echo >/dev/tcp/127.0.0.1/18081) 2>/dev/null && break; sleep 0.2; done
  echo "== open loop, '"$rate"'/s, following request.routed =="
  $build/loadtest/flywheel-loadtest-submit --intake=127.0.0.1:18081 --rate='"$rate"' \
    --concurrency=512 --duration='"$seconds"'s --kafka="$FLYWHEEL_TEST_KAFKA"
  echo "== closed loop =="
  $build/loadtest/flywheel-loadtest-submit --intake=127.0.0.1:18081 --concurrency=64 \
    --duration='"$seconds"'s
'
