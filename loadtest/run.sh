#!/usr/bin/env bash
# Runs every load-test scenario and its limit in one go and regenerates the
# benchmarks page from the results: installs what is missing (./flywheel deps),
# builds the release preset, starts a fresh Kafka broker and redis-server (the
# test bed), runs the services as separate processes (scenarios.py), then
# writes the page and its plots (report.py).
#
#   loadtest/run.sh [--quick] [--only GROUP,...] [--preset PRESET] [--out DIR]
#                   [--report-only]
#
#   --quick        sizes and durations cut about tenfold (5 s per step, a
#                  20,000-event backlog, a 100,000-event topic); also
#                  FLYWHEEL_LOADTEST_QUICK=1. Writes under build/loadtest-quick
#                  unless --out is given, so docs/ keeps the full run's figures.
#   --only         some of: empty,routed,submit,backlog,consume,approval,timers,
#                  leads,reporting; only what they run is built, and the other groups'
#                  results are kept from the existing results
#   --preset       the build to measure (default release)
#   --out DIR      DIR/benchmarks.md and DIR/benchmarks/ (results.jsonl,
#                  machine.json, the PNG plots); default docs, the committed page
#   --report-only  only regenerate the page from DIR/benchmarks/results.jsonl
#
# FLYWHEEL_BUILD_LOCK=FILE holds `flock FILE` around the build only, for
# machines where several builds share the cores.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

quick="${FLYWHEEL_LOADTEST_QUICK:-0}"
only="" preset="release" out="" report_only=0
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --only) only="${2:?--only needs groups}"; shift ;;
    --preset) preset="${2:?--preset needs a name}"; shift ;;
    --out) out="${2:?--out needs a directory}"; shift ;;
    --report-only) report_only=1 ;;
    *) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
  esac
  shift
done
[[ "$quick" == 0 ]] || quick=1
if [[ -z "$out" ]]; then
  if ((quick)); then out="build/loadtest-quick"; else out="docs"; fi
fi
mkdir -p "$out/benchmarks"
out="$(cd "$out" && pwd)"

say() { echo "loadtest: $*" >&2; }

# kcat (the consume limit) and matplotlib (the plots) come with the
# project's other dependencies, installed the one way.
./flywheel deps
python=python3

report() {
  "$python" loadtest/report.py --results "$out/benchmarks/results.jsonl" \
    --machine "$out/benchmarks/machine.json" --doc "$out/benchmarks.md" \
    --plots "$out/benchmarks"
  say "wrote $out/benchmarks.md"
}
if ((report_only)); then report; exit 0; fi

build="build/$preset"
lock=()
[[ -n "${FLYWHEEL_BUILD_LOCK:-}" ]] && lock=(flock "$FLYWHEEL_BUILD_LOCK")
"${lock[@]}" cmake --preset "$preset" >/dev/null
# What each group runs; with --only, only those are built.
declare -A group_targets=(
  [empty]="flywheel-loadtest-submit flywheel-loadtest-empty"
  [routed]="flywheel-intake flywheel-routing flywheel-loadtest-submit"
  [submit]="flywheel-intake flywheel-loadtest-submit"
  [backlog]="flywheel-intake flywheel-routing flywheel-loadtest-submit"
  [consume]="flywheel-loadtest-consume"
  [approval]="flywheel-intake flywheel-routing flywheel-approval flywheel-loadtest-submit
              flywheel-loadtest-empty flywheel-loadtest-approval"
  [timers]="flywheel-scheduler flywheel-loadtest-timers"
  [leads]="flywheel-lead-scoring flywheel-loadtest-leads"
  [reporting]="flywheel-reporting flywheel-loadtest-reporting flywheel-loadtest-submit
               flywheel-loadtest-empty"
)
targets=()
for group in ${only//,/ }; do
  [[ -n "${group_targets[$group]:-}" ]] || { say "unknown group $group"; exit 2; }
done
for group in "${!group_targets[@]}"; do
  if [[ -z "$only" || ",$only," == *",$group,"* ]]; then
    targets+=(${group_targets[$group]})
  fi
done
"${lock[@]}" cmake --build --preset "$preset" --target $(printf '%s\n' "${targets[@]}" | sort -u) >&2

args=(--build "$root/$build" --results "$out/benchmarks" --work "$root/build/loadtest-work")
((quick)) && args+=(--quick)
[[ -n "$only" ]] && args+=(--only "$only")
status=0
tests/testbed/testbed.sh run -- "$python" loadtest/scenarios.py "${args[@]}" || status=$?
report
exit "$status"
