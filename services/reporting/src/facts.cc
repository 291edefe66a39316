#include "facts.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "flywheel/core/proto_time.h"

namespace flywheel::reporting {
namespace {

using stored::RequestFacts;

int64_t Ms(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return 0;
  return absl::ToUnixMillis(FromProtoTime(t));
}

// Adds `value` to a repeated field once.
template <typename Repeated, typename Value>
void AddOnce(Repeated& field, const Value& value) {
  if (std::find(field.begin(), field.end(), value) == field.end()) field.Add(Value(value));
}

// The visit of `stage_id` entered at `enter_ms`, made when missing.
stored::Visit& VisitAt(RequestFacts& facts, const std::string& stage_id, int stage,
                       int64_t enter_ms) {
  for (stored::Visit& v : *facts.mutable_visits()) {
    if (v.stage_id() == stage_id && v.enter_ms() == enter_ms) {
      if (v.stage() == 0) v.set_stage(stage);
      return v;
    }
  }
  stored::Visit* v = facts.add_visits();
  v->set_stage_id(stage_id);
  v->set_stage(stage);
  v->set_enter_ms(enter_ms);
  // Kept sorted, so the same facts serialize the same whatever the order.
  std::sort(facts.mutable_visits()->begin(), facts.mutable_visits()->end(),
            [](const stored::Visit& a, const stored::Visit& b) {
              if (a.enter_ms() != b.enter_ms()) return a.enter_ms() < b.enter_ms();
              return a.stage_id() < b.stage_id();
            });
  for (stored::Visit& found : *facts.mutable_visits()) {
    if (found.stage_id() == stage_id && found.enter_ms() == enter_ms) return found;
  }
  return *v;  // unreachable
}

stored::Step& StepAt(RequestFacts& facts, const std::string& step_id, uint32_t round) {
  const std::string key = absl::StrCat(step_id, "/", round);
  for (stored::Step& s : *facts.mutable_steps()) {
    if (s.key() == key) return s;
  }
  stored::Step* s = facts.add_steps();
  s->set_key(key);
  return *s;
}

// The earlier of two times, 0 being unknown.
int64_t Earliest(int64_t a, int64_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

void SetDimensions(RequestFacts& facts, const intake::v1::Request& request) {
  facts.set_tenant_id(request.tenant_id());
  facts.set_request_id(request.request_id());
  facts.set_due_ms(Ms(request.spec().due_time()));
  facts.set_request_type_id(request.spec().request_type_id());
  facts.set_campaign_id(request.spec().campaign_id());
  facts.set_channel(request.spec().channels().empty() ? 0 : request.spec().channels(0));
}

}  // namespace

std::string EncodeEntry(const SeriesEntry& entry) {
  return absl::StrCat(entry.series, std::string(1, kSep), entry.score, std::string(1, kSep),
                      entry.member);
}

SeriesEntry DecodeEntry(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, absl::MaxSplits(kSep, 2));
  SeriesEntry entry;
  if (parts.size() != 3) return entry;
  entry.series = std::string(parts[0]);
  (void)absl::SimpleAtoi(parts[1], &entry.score);
  entry.member = std::string(parts[2]);
  return entry;
}

std::vector<absl::string_view> Fields(absl::string_view member) {
  return absl::StrSplit(member, kSep);
}

int64_t DeliveredMs(const RequestFacts& facts) {
  if (facts.publish_ms() > 0) return facts.publish_ms();
  for (const stored::Visit& v : facts.visits()) {
    if (v.stage() == common::v1::STAGE_LAUNCH && v.exit_ms() > 0) return v.exit_ms();
  }
  if (facts.outcome() == routing::v1::WORKFLOW_STATUS_COMPLETED) return facts.complete_ms();
  return 0;
}

std::vector<SeriesEntry> Entries(const RequestFacts& facts) {
  std::vector<SeriesEntry> out;
  if (!facts.submitted()) return out;
  const std::string s(1, kSep);
  const std::string dims =
      absl::StrCat(facts.team_id(), s, facts.request_type_id(), s, facts.channel(), s,
                   facts.campaign_id(), s, facts.template_id(), s, facts.request_id());
  out.push_back({kSubmittedSeries, facts.submit_ms(), dims});
  // A visit still open when the workflow ended was left then.
  const int64_t end_ms = Earliest(facts.complete_ms(), facts.cancel_ms());
  for (const stored::Visit& v : facts.visits()) {
    int64_t exit = v.exit_ms();
    if (exit == 0 && end_ms >= v.enter_ms()) exit = end_ms;
    std::string member = absl::StrCat(dims, s, v.stage(), s, v.stage_id(), s, exit);
    if (exit > 0) {
      out.push_back({kVisitExitSeries, exit, absl::StrCat(member, s, v.enter_ms())});
    } else {
      out.push_back({kOpenVisitSeries, v.enter_ms(), member});
    }
    out.push_back({kVisitSeries, v.enter_ms(), std::move(member)});
  }
  for (const stored::Step& step : facts.steps()) {
    if (step.decide_ms() == 0 || step.start_ms() == 0) continue;
    out.push_back({kApprovalSeries, step.decide_ms(),
                   absl::StrCat(dims, s, step.key(), s, step.decide_ms() - step.start_ms())});
  }
  if (const int64_t delivered = DeliveredMs(facts); delivered > 0) {
    const int due_state = facts.due_ms() == 0 ? 0 : (delivered <= facts.due_ms() ? 1 : 2);
    out.push_back(
        {kDeliveredSeries, delivered,
         absl::StrCat(dims, s, delivered - facts.submit_ms(), s, due_state, s, facts.changes_size(),
                      s, facts.warned_size() > 0 ? 1 : 0, s, facts.breached_size() > 0 ? 1 : 0)});
  }
  return out;
}

void MergeSubmitted(RequestFacts& facts, const intake::v1::RequestSubmitted& event) {
  const intake::v1::Request& request = event.request();
  // A request.updated read before its submission keeps its newer fields.
  if (!facts.submitted() || facts.request_type_id().empty()) SetDimensions(facts, request);
  facts.set_tenant_id(event.tenant_id());
  facts.set_request_id(event.request_id());
  facts.set_submitted(true);
  facts.set_submit_ms(Ms(request.create_time()));
}

void MergeUpdated(RequestFacts& facts, const intake::v1::RequestUpdated& event) {
  SetDimensions(facts, event.request());
  facts.set_tenant_id(event.tenant_id());
  facts.set_request_id(event.request_id());
}

void MergeCancelled(RequestFacts& facts, int64_t event_ms) {
  facts.set_cancel_ms(Earliest(facts.cancel_ms(), event_ms));
}

void MergeRouted(RequestFacts& facts, const routing::v1::RequestRouted& event) {
  facts.set_team_id(event.team_id());
  facts.set_template_id(event.workflow().template_id());
  for (const routing::v1::StageInstance& stage : event.workflow().stages()) {
    const int64_t enter = Ms(stage.enter_time());
    if (enter == 0) continue;
    stored::Visit& v = VisitAt(facts, stage.stage_id(), stage.stage(), enter);
    if (const int64_t exit = Ms(stage.exit_time()); exit > 0) v.set_exit_ms(exit);
  }
}

void MergeStageAdvanced(RequestFacts& facts, const routing::v1::StageAdvanced& event) {
  const int64_t at = Ms(event.transition_time());
  if (!event.from_stage_id().empty()) {
    VisitAt(facts, event.from_stage_id(), event.from_stage(), Ms(event.from_stage_enter_time()))
        .set_exit_ms(at);
  }
  if (!event.to_stage_id().empty()) VisitAt(facts, event.to_stage_id(), event.to_stage(), at);
}

void MergeCompleted(RequestFacts& facts, const routing::v1::WorkflowCompleted& event) {
  facts.set_complete_ms(Ms(event.complete_time()));
  facts.set_outcome(event.outcome());
  if (const int64_t due = Ms(event.due_time()); due > 0) facts.set_due_ms(due);
}

void MergeStepStarted(RequestFacts& facts, const approval::v1::StepStarted& event,
                      int64_t event_ms) {
  stored::Step& step = StepAt(facts, event.step().step_id(), event.round());
  step.set_start_ms(Earliest(step.start_ms(), event_ms));
}

void MergeStepDecided(RequestFacts& facts, const approval::v1::StepDecided& event,
                      int64_t event_ms) {
  if (event.step_status() == approval::v1::STEP_STATUS_ACTIVE) return;
  stored::Step& step = StepAt(facts, event.step_id(), event.round());
  step.set_decide_ms(Earliest(step.decide_ms(), event_ms));
}

void MergeChangesRequested(RequestFacts& facts, const approval::v1::ChangesRequested& event,
                           int64_t event_ms) {
  AddOnce(*facts.mutable_changes(), absl::StrCat(event.step_id(), "/", event.round()));
  stored::Step& step = StepAt(facts, event.step_id(), event.round());
  step.set_decide_ms(Earliest(step.decide_ms(), event_ms));
}

void MergeVersion(RequestFacts& facts, const approval::v1::VersionSubmitted& event) {
  AddOnce(*facts.mutable_versions(), event.version().version());
}

void MergeWarning(RequestFacts& facts, const scheduler::v1::SlaWarning& event) {
  AddOnce(*facts.mutable_warned(), event.timer_id());
}

void MergeBreached(RequestFacts& facts, const scheduler::v1::SlaBreached& event) {
  if (event.escalation_level() == 0) AddOnce(*facts.mutable_breached(), event.timer_id());
}

void MergePublished(RequestFacts& facts, const scheduler::v1::PublishDone& event,
                    int64_t event_ms) {
  const int64_t at = Ms(event.publish_time());
  facts.set_publish_ms(Earliest(facts.publish_ms(), at > 0 ? at : event_ms));
}

}  // namespace flywheel::reporting
