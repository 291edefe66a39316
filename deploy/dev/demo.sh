#!/usr/bin/env bash
# Shows the running platform at work: submits one request to intake with
# grpcurl (through server reflection) and waits until routing has given it a
# team, an owner and an approval tier. Called by run.sh once the services
# answer; safe to run again by hand while `./flywheel dev` is up.
#
#   deploy/dev/demo.sh [INTAKE_ADDR] [ROUTING_ADDR]
set -euo pipefail

intake="${1:-127.0.0.1:8081}"
routing="${2:-127.0.0.1:8082}"
grpcurl="$(go env GOPATH)/bin/grpcurl"
say() { echo "flywheel demo: $*" >&2; }

due="$(date -u -d '+5 days' +%Y-%m-%dT%H:%M:%SZ)"
key="demo-$(date +%s%N)"
request=$(cat <<JSON
{"tenant_id": "acme", "idempotency_key": "$key",
 "spec": {"request_type_id": "blog_post", "title": "Spring pricing update",
          "description": "Announce the new pricing tiers.",
          "requester": {"user_id": "maria", "team": "product-marketing"},
          "due_time": "$due",
          "fields": {"target_audience": "existing customers"}}}
JSON
)
say "submitting a blog post request to intake at $intake"
response="$("$grpcurl" -plaintext -d "$request" "$intake" flywheel.intake.v1.IntakeService/SubmitRequest)"
echo "$response"
request_id="$(echo "$response" | sed -n 's/.*"request_\{0,1\}[iI]d": "\([^"]*\)".*/\1/p')"
[[ -n "$request_id" ]] || { say "intake did not return a request id"; exit 1; }

say "waiting for routing at $routing to route $request_id"
for _ in $(seq 1 100); do
  if workflow="$("$grpcurl" -plaintext -d "{\"tenant_id\": \"acme\", \"request_id\": \"$request_id\"}" \
      "$routing" flywheel.routing.v1.RoutingService/GetWorkflow 2>/dev/null)"; then
    echo "$workflow" | grep -E '"(team_?[iI]d|owner_?[iI]d|approval_?[tT]ier|approval_?[pP]olicy_?[iI]d|current_?[sS]tage_?[iI]d|template_?[iI]d)"'
    say "routed: see the whole workflow with the same grpcurl call"
    exit 0
  fi
  sleep 0.2
done
say "$request_id was not routed within 20 s"
exit 1
