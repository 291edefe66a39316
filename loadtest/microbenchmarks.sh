#!/usr/bin/env bash
# Builds the release preset and runs the Google Benchmark microbenchmarks of
# the kafka and redis libraries against a fresh broker and redis-server from
# the test bed. Prints the results as JSON to stdout and a table to stderr.
#
#   loadtest/microbenchmarks.sh [--benchmark_filter=REGEX ...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cmake --preset release >/dev/null
cmake --build --preset release --target kafka_benchmark redis_benchmark >&2
exec tests/testbed/testbed.sh run -- bash -c '
  set -e
  for bench in build/release/libs/kafka/kafka_benchmark build/release/libs/redis/redis_benchmark; do
    "$bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
      --benchmark_format=console "$@" >&2
  done' bash "$@"
