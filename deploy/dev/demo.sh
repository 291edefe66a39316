#!/usr/bin/env bash
# Shows the running platform at work, with grpcurl (through server
# reflection): submits one request to intake, waits until routing has given
# it a team, an owner and an approval tier (its pricing claim makes it tier 2:
# brand and legal), moves the work to the approval stage, and takes it
# through approval: version 1, brand approves, legal asks for changes,
# version 2, two of legal approve; routing then moves the workflow past
# approval by itself. Ends with the audit trail verified, and a stage SLA
# timer on a 10-second budget at the scheduler that warns at 80 % (the
# scheduler's policy) and then breaches. Then the post goes out: the work
# passes scheduling QA to launch, a slot is reserved a few seconds ahead, the
# scheduler publishes publish.due at its time, the demo plays the blog's
# connector (publish.done onto the broker with kcat), and the slot shows
# PUBLISHED while routing moves the workflow past launch. Last, a lead's
# activity is published to lead scoring (structured CloudEvents with kcat)
# until it qualifies as an MQL. The demo ends by asking reporting for the
# week's operations report and writing it, one HTML file with its charts, to
# the dev state directory (or the temporary directory), saying where it is.
# Called by run.sh once the services answer;
# safe to run again by hand while `./flywheel dev` is up (dev mode: no
# tokens, so each call names who acts).
#
#   deploy/dev/demo.sh [INTAKE_ADDR] [ROUTING_ADDR] [APPROVAL_ADDR] [SCHEDULER_ADDR] \
#     [LEAD_SCORING_ADDR] [KAFKA] [REPORTING_ADDR]
set -euo pipefail

intake="${1:-127.0.0.1:8081}"
routing="${2:-127.0.0.1:8082}"
approval="${3:-127.0.0.1:8083}"
scheduler="${4:-127.0.0.1:8084}"
lead_scoring="${5:-127.0.0.1:8085}"
kafka="${6:-${FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:9092}}"
reporting="${7:-127.0.0.1:8086}"
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

# call ADDR METHOD JSON: one grpcurl call, its JSON answer on stdout.
call() { "$grpcurl" -plaintext -d "$3" "$1" "$2"; }
# wait_for WHAT SECONDS COMMAND...: retries COMMAND every 0.2 s until it succeeds.
wait_for() {
  local what="$1" seconds="$2" tries
  shift 2
  for tries in $(seq 1 $((seconds * 5))); do
    if "$@"; then return 0; fi
    sleep 0.2
  done
  say "$what did not happen within $seconds s"
  exit 1
}
ids="\"tenant_id\": \"acme\", \"request_id\": \"$request_id\""

say "waiting for routing at $routing to route $request_id"
routed() { workflow="$(call "$routing" flywheel.routing.v1.RoutingService/GetWorkflow "{$ids}" 2>/dev/null)"; }
wait_for "routing $request_id" 20 routed
echo "$workflow" | grep -E '"(team_id|owner_id|approval_tier|approval_policy_id|current_stage_id|template_id)"'
owner="$(echo "$workflow" | sed -n 's/.*"owner_id": "\([^"]*\)".*/\1/p' | head -1)"

say "waiting for approval at $approval to build the chain"
chained() { chain="$(call "$approval" flywheel.approval.v1.ApprovalService/GetChain "{$ids}" 2>/dev/null)"; }
wait_for "the approval chain of $request_id" 20 chained
echo "$chain" | grep -E '"(policy_id|status)"' | head -2

say "the owner ($owner) moves the work to the approval stage"
call "$routing" flywheel.routing.v1.RoutingService/AdvanceStage \
  "{$ids, \"expected_stage_id\": \"intake\", \"to_stage_id\": \"approval\",
    \"actor_id\": \"$owner\", \"note\": \"demo: straight to approval\"}" |
  grep -E '"current_stage_id"'

version() {
  call "$approval" flywheel.approval.v1.ApprovalService/SubmitVersion \
    "{$ids, \"asset_uri\": \"https://assets.example/spring-pricing-v$1.html\",
      \"content_sha256\": \"$(printf 'spring pricing v%s' "$1" | sha256sum | cut -d' ' -f1)\",
      \"media_type\": \"text/html\", \"submitter_id\": \"ana\", \"change_note\": \"$2\"}" >/dev/null
  say "ana submitted version $1 ($2)"
}
decide() {  # decide WHO STEP DECISION VERSION COMMENT
  call "$approval" flywheel.approval.v1.ApprovalService/Decide \
    "{$ids, \"step_id\": \"$2\", \"approver_id\": \"$1\", \"decision\": \"$3\",
      \"version\": $4, \"comment\": \"$5\"}" | sed -n 's/^    "status": "\(.*\)",$/\1/p' | head -1 |
    { read -r status; say "$1 on $2: $3 (chain now ${status:-?})"; }
}

stage_is() { routed && echo "$workflow" | grep -q "\"current_stage_id\": \"$1\""; }

version 1 "first draft"
decide bea brand DECISION_APPROVE 1 "On brand."
decide lena legal DECISION_REQUEST_CHANGES 1 "Say the new prices exclude VAT."
wait_for "routing sending the work back to creation" 20 stage_is creation
say "routing sent the work back to creation"
version 2 "prices marked as excluding VAT"
say "the owner ($owner) moves the new version back to approval"
call "$routing" flywheel.routing.v1.RoutingService/AdvanceStage \
  "{$ids, \"expected_stage_id\": \"creation\", \"to_stage_id\": \"approval\",
    \"actor_id\": \"$owner\", \"fields\": {\"artefacts\": \"final_asset\"},
    \"note\": \"demo: version 2 for approval\"}" | grep -E '"current_stage_id"'
decide lena legal DECISION_APPROVE 2 "Good now."
decide leo legal DECISION_APPROVE 2 "Agreed."

say "waiting for routing to move the workflow past approval"
wait_for "routing moving past approval" 20 stage_is scheduling_qa
echo "$workflow" | grep -E '"current_stage_id"' | head -1
call "$approval" flywheel.approval.v1.ApprovalService/VerifyAudit "{$ids}"

say "a stage SLA timer of 10 s for $request_id at the scheduler ($scheduler)"
timer_id="$request_id/demo/scheduling_qa"
call "$scheduler" flywheel.scheduler.v1.SchedulerService/StartTimer \
  "{\"timer\": {$ids, \"timer_id\": \"$timer_id\", \"kind\": \"TIMER_KIND_STAGE_SLA\",
    \"stage_id\": \"scheduling_qa\", \"duration\": \"10s\", \"calendar_id\": \"always_open\"}}" |
  grep -E '"(state|warn_time|due_time)"'
timer_state() {
  call "$scheduler" flywheel.scheduler.v1.SchedulerService/GetTimer \
    "{\"tenant_id\": \"acme\", \"timer_id\": \"$timer_id\"}" 2>/dev/null |
    grep -q "\"state\": \"$1\""
}
wait_for "the SLA warning" 20 timer_state TIMER_STATE_WARNED
say "the scheduler published sla.warning at 8 s (80 % of the budget)"
wait_for "the SLA breach" 20 timer_state TIMER_STATE_BREACHED
say "the scheduler published sla.breached at 10 s; the owner is reminded, escalations follow"

say "the owner ($owner) tags the post's links and moves it through scheduling QA to launch"
links="https://blog.example/spring-pricing?utm_source=blog&utm_medium=owned&utm_campaign=spring-pricing-2026q2"
call "$routing" flywheel.routing.v1.RoutingService/AdvanceStage \
  "{$ids, \"expected_stage_id\": \"scheduling_qa\", \"actor_id\": \"$owner\",
    \"fields\": {\"asset_links\": \"$links\"}, \"note\": \"demo: links tagged\"}" |
  grep -E '"current_stage_id"'

# A destination of its own per run, so that running the demo again within
# the blog's 1h spacing is not refused.
destination="blog:demo-$request_id"
publish_at="$(date -u -d '+5 seconds' +%Y-%m-%dT%H:%M:%SZ)"
say "reserving a slot on $destination at $publish_at"
reserved="$(call "$scheduler" flywheel.scheduler.v1.SchedulerService/ReserveSlot \
  "{\"slot\": {$ids, \"channel\": \"CHANNEL_WEB\", \"destination\": \"$destination\",
    \"publish_time\": \"$publish_at\", \"owner_id\": \"$owner\", \"note\": \"demo post\"}}")"
echo "$reserved" | grep -E '"(slot_id|status|publish_time)"'
slot_id="$(echo "$reserved" | sed -n 's/.*"slot_\{0,1\}[iI]d": "\([^"]*\)".*/\1/p' | head -1)"
[[ -n "$slot_id" ]] || { say "the scheduler did not return a slot id"; exit 1; }
slot_is() {
  slot="$(call "$scheduler" flywheel.scheduler.v1.SchedulerService/ListSlots \
    "{\"tenant_id\": \"acme\", \"destinations\": [\"$destination\"],
      \"range\": {\"start_time\": \"$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)\",
                  \"end_time\": \"$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)\"}}" 2>/dev/null)" &&
    echo "$slot" | grep -q "\"status\": \"$1\""
}
wait_for "publish.due for the slot" 30 slot_is SLOT_STATUS_DUE
revision="$(echo "$slot" | sed -n 's/.*"revision": "\{0,1\}\([0-9]*\)"\{0,1\}.*/\1/p' | head -1)"
say "the scheduler published publish.due at the slot's time (slot $slot_id, revision $revision)"

say "the blog's connector answers publish.done (kcat onto $kafka)"
command -v kcat >/dev/null || { say "no kcat (./flywheel deps installs it)"; exit 1; }
done_json="$(echo "{\"tenant_id\": \"acme\", \"request_id\": \"$request_id\",
  \"slot_id\": \"$slot_id\", \"slot_revision\": \"$revision\",
  \"url\": \"https://blog.example/spring-pricing\"}" | tr -d '\n')"
printf '%s\n' "$done_json" |
  kcat -P -b "$kafka" -t flywheel.scheduler.publish-results.v1 -k "$request_id" \
    -H ce_specversion=1.0 -H "ce_id=evt_demo_done_$slot_id" -H ce_source=//demo/blog-connector \
    -H ce_type=dev.flywheel.publish.done.v1 -H content-type=application/json
wait_for "the slot published" 20 slot_is SLOT_STATUS_PUBLISHED
echo "$slot" | grep -E '"(status|outcome_detail)"'
say "the slot is PUBLISHED"
wait_for "routing moving past launch" 20 stage_is measurement
echo "$workflow" | grep -E '"current_stage_id"' | head -1
say "routing moved the workflow past launch on publish.done"
say "done: request $request_id went through a tier-2 approval with one change request and went live"

# A lead's activity, as a web analytics or CRM system would publish it: a
# structured-mode CloudEvent with JSON data on the activity topic.
lead="lead-$(date +%s)"
activity() {  # activity ID TYPE [URL]
  local now attributes=""
  now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  [[ -n "${3:-}" ]] && attributes=", \"attributes\": {\"url\": \"$3\"}"
  echo "{\"specversion\": \"1.0\", \"id\": \"$lead-$1\", \"source\": \"//demo/web\",
    \"type\": \"dev.flywheel.lead.activity.v1\", \"datacontenttype\": \"application/json\",
    \"data\": {\"tenantId\": \"acme\", \"leadId\": \"$lead\", \"activityId\": \"$1\",
    \"activityType\": \"$2\", \"occurTime\": \"$now\"$attributes}}" | tr -d '\n' |
    kcat -P -b "$kafka" -t flywheel.leadscoring.lead-activity.v1 \
      -k "$lead" -H content-type=application/cloudevents+json
}
say "publishing $lead's activity to lead scoring ($lead_scoring): pricing page, webinar, form, demo request"
activity a1 page_viewed https://acme.test/pricing
activity a2 webinar_attended
activity a3 form_submitted
activity a4 demo_requested
activity a4 demo_requested  # delivered twice: scored once
scored() {
  score="$(call "$lead_scoring" flywheel.leadscoring.v1.LeadScoringService/GetScore \
    "{\"tenant_id\": \"acme\", \"lead_id\": \"$lead\", \"explain\": true}" 2>/dev/null)" &&
    echo "$score" | grep -q '"qualified": true'
}
wait_for "$lead qualifying" 20 scored
echo "$score" | grep -E '"(score|band|rule_id|points)"'
say "$lead scored 117 (MQL at 100) and qualified; lead.qualified went to sales once"

# The week in reporting: once the demo's request shows as delivered there,
# the weekly operations report is written where a team lead can open it.
delivered() {
  call "$reporting" flywheel.reporting.v1.ReportingService/GetRequestTimeline \
    "{\"tenant_id\": \"acme\", \"request_id\": \"$request_id\"}" 2>/dev/null |
    grep -q '"deliver_time"'
}
wait_for "reporting counting $request_id as delivered" 20 delivered
report_dir="${FLYWHEEL_DEV_STATE:-${TMPDIR:-/tmp}}/reports"
mkdir -p "$report_dir"
report="$report_dir/weekly-operations-$(date -u +%G-W%V).html"
call "$reporting" flywheel.reporting.v1.ReportingService/RenderWeeklyReport \
  '{"tenant_id": "acme"}' | python3 -c \
  'import base64, json, sys; sys.stdout.buffer.write(base64.b64decode(json.load(sys.stdin)["html"]))' \
  >"$report"
say "the weekly operations report is at $report (open it in a browser; it needs no server)"
