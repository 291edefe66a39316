#include "workflow_ops.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <compare>
#include <limits>
#include <optional>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/core/id.h"
#include "flywheel/core/page_token.h"
#include "flywheel/core/proto_enums.h"
#include "flywheel/core/status.h"
#include "flywheel/log/log.h"
#include "stage_moves.h"
#include "templates.h"

namespace flywheel::routing {
namespace {

// Where a task stands in a ListQueue listing: unassigned (0) before
// assigned (1), then by queue rank and request id. A page token resumes
// after one; the position still orders when that task has left the queue.
struct QueuePosition {
  int section = 0;
  int64_t rank = 0;
  std::string request_id;
  auto operator<=>(const QueuePosition&) const = default;
};

std::string Format(const QueuePosition& pos) {
  return absl::StrCat(pos.section, ":", pos.rank, ":", pos.request_id);
}

std::optional<QueuePosition> ParsePosition(const std::string& cursor) {
  std::vector<std::string> parts = absl::StrSplit(cursor, absl::MaxSplits(':', 2));
  QueuePosition pos;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &pos.section) ||
      !absl::SimpleAtoi(parts[1], &pos.rank) || parts[2].empty()) {
    return std::nullopt;
  }
  pos.request_id = parts[2];
  return pos;
}

const WorkflowTemplate* TemplateOf(const Policy& policy, const routing::v1::WorkflowInstance& w) {
  auto it = policy.templates.find(w.template_id());
  return it == policy.templates.end() ? nullptr : &it->second;
}

routing::v1::Member MemberProto(const MemberSpec& m, int open_tasks) {
  routing::v1::Member out;
  out.set_user_id(m.id);
  for (const auto& s : m.skills) out.add_skills(s);
  if (!m.region.empty()) out.add_regions(m.region);
  out.set_wip_limit(static_cast<uint32_t>(m.wip_limit));
  out.set_open_tasks(static_cast<uint32_t>(std::max(open_tasks, 0)));
  out.set_available(!m.on_leave);
  return out;
}

int LoadOf(const std::map<std::string, int>& loads, const std::string& id) {
  auto it = loads.find(id);
  return it == loads.end() ? 0 : it->second;
}

// The request's bytes with map entries in key order, so two encodings of
// one request compare equal.
std::string Deterministic(const google::protobuf::Message& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

absl::Status RequireTenantAndTeam(const std::string& tenant_id, const std::string& team_id) {
  FieldErrors errors;
  if (tenant_id.empty()) errors.Add("tenant_id", "is required");
  if (team_id.empty()) errors.Add("team_id", "is required");
  return errors.ToStatus();
}

}  // namespace

WorkflowOps::WorkflowOps(PolicyHolder& policy, Assigner& assigner, const Clock& clock)
    : policy_(policy), assigner_(assigner), clock_(clock) {}

absl::StatusOr<routing::v1::WorkflowInstance> WorkflowOps::GetWorkflow(
    const routing::v1::GetWorkflowRequest& request) {
  FieldErrors errors;
  if (request.tenant_id().empty()) errors.Add("tenant_id", "is required");
  if (request.request_id().empty()) errors.Add("request_id", "is required");
  FLYWHEEL_RETURN_IF_ERROR(errors.ToStatus());
  FLYWHEEL_ASSIGN_OR_RETURN(auto found,
                            assigner_.store().Find(request.tenant_id(), request.request_id()));
  if (!found.has_value()) {
    return absl::NotFoundError("no workflow for request " + request.request_id());
  }
  return found->workflow;
}

absl::StatusOr<routing::v1::WorkflowInstance> WorkflowOps::AdvanceStage(
    const auth::Principal& caller, const routing::v1::AdvanceStageRequest& asked) {
  FieldErrors errors;
  if (asked.tenant_id().empty()) errors.Add("tenant_id", "is required");
  if (asked.request_id().empty()) errors.Add("request_id", "is required");
  FLYWHEEL_RETURN_IF_ERROR(errors.ToStatus());
  FLYWHEEL_ASSIGN_OR_RETURN(std::string actor, auth::ActingUser(caller, asked.actor_id()));
  routing::v1::AdvanceStageRequest request = asked;
  request.set_actor_id(actor);
  const std::string fingerprint = Deterministic(request);
  for (int attempt = 1;; ++attempt) {
    FLYWHEEL_ASSIGN_OR_RETURN(auto found,
                              assigner_.store().Find(request.tenant_id(), request.request_id()));
    if (!found.has_value()) {
      return absl::NotFoundError("no workflow for request " + request.request_id());
    }
    if (found->last_advance_request == fingerprint) {
      // A retry of the call that moved the workflow (its answer was lost,
      // or it timed out after the change was stored): the same answer.
      assigner_.metrics().CountAdvance("replayed");
      return found->last_advance_answer;
    }
    FLYWHEEL_ASSIGN_OR_RETURN(Committed committed,
                              TryAdvance(caller, request, fingerprint, *std::move(found)));
    switch (committed.outcome) {
      case Committed::Outcome::kDone:
        return Finish(committed);
      case Committed::Outcome::kStale:
        // Its assignment moved since it was read (queued work handed out):
        // plan again from what is stored now.
        if (attempt < 3) continue;
        return absl::AbortedError("workflow of " + request.request_id() + " keeps changing; retry");
      case Committed::Outcome::kOutboxPending:
        // An earlier change's events go out first, or this one's would
        // overtake them on the topic.
        if (absl::Status st = assigner_.outbox().Drain(request.tenant_id()); !st.ok()) {
          return absl::UnavailableError("workflow of " + request.request_id() +
                                        " has events not published yet and the broker is "
                                        "unavailable; retry");
        }
        continue;
    }
  }
}

absl::StatusOr<Committed> WorkflowOps::TryAdvance(const auth::Principal& caller,
                                                  const routing::v1::AdvanceStageRequest& request,
                                                  const std::string& fingerprint,
                                                  StoredWorkflow next) {
  if (!caller.Has(auth::Role::kOpsAdmin)) {
    std::string assignee;
    for (const auto& stage : next.workflow.stages()) {
      if (stage.stage_id() == next.workflow.current_stage_id()) assignee = stage.assignee_id();
    }
    const std::string& actor = request.actor_id();
    if (actor.empty() || (actor != assignee && actor != next.workflow.owner_id())) {
      return absl::PermissionDeniedError(
          "only the stage's assignee, the workflow's owner or ops-admin may advance it");
    }
  }
  const std::shared_ptr<const Policy> policy = policy_.Get();
  const int64_t revision = next.workflow.revision();
  FLYWHEEL_ASSIGN_OR_RETURN(
      Transition t, PlanAdvance(next.workflow, request.expected_stage_id(), request.to_stage_id()));
  for (const auto& [key, value] : request.fields()) {
    (*next.request.mutable_spec()->mutable_fields())[key] = value;
  }
  const WorkflowTemplate* tmpl = TemplateOf(*policy, next.workflow);
  const std::set<std::string> confirmed(request.confirmed_criterion_ids().begin(),
                                        request.confirmed_criterion_ids().end());
  if (absl::Status check = CheckMove(tmpl, next, t, confirmed); !check.ok()) {
    assigner_.metrics().CountAdvance("refused");
    return check;
  }
  // Into an approval stage whose chain already approved, the move goes on
  // through it: both transitions are published.
  const StageMove move = MoveForward(next, tmpl, t, request.actor_id(), clock_.Now());
  next.last_advance_request = fingerprint;
  AssignSpec spec;
  if (move.entered() >= 0) {
    FLYWHEEL_ASSIGN_OR_RETURN(spec, assigner_.SpecFor(*policy, next));
  }
  const RoutingTopics& topics = assigner_.topics();
  const std::string id = next.workflow.request_id() + "/advance/" + std::to_string(revision);
  const EventsFor events = [&](const StoredWorkflow& after, const AssignResult& result) {
    return MoveEvents(topics, after, move, result, id);
  };
  FLYWHEEL_ASSIGN_OR_RETURN(Committed committed,
                            assigner_.store().Advance(next, revision, spec, events));
  if (committed.outcome == Committed::Outcome::kDone) {
    assigner_.metrics().CountAdvance("ok");
    if (move.entered() >= 0) {
      assigner_.metrics().CountAssignment(committed.result.assignee.empty() ? "queued"
                                                                            : "assigned");
    }
  }
  return committed;
}

routing::v1::WorkflowInstance WorkflowOps::Finish(const Committed& committed) {
  const auto& w = committed.after.workflow;
  // The change and its events are stored: the call succeeded. When the
  // broker does not take them now, the outbox relay publishes them.
  if (absl::Status st = assigner_.outbox().Publish(w.tenant_id(), committed.events); !st.ok()) {
    log::Warn("stage advanced; its events are left for the outbox relay",
              {{"request_id", w.request_id()}, {"error", st.ToString()}});
  }
  if (absl::Status st = assigner_.Drain(*policy_.Get(), w.tenant_id(), w.team_id()); !st.ok()) {
    log::Warn("queue not drained after advance",
              {{"team_id", w.team_id()}, {"error", st.ToString()}});
  }
  return w;
}

absl::StatusOr<routing::v1::ListQueueResponse> WorkflowOps::ListQueue(
    const routing::v1::ListQueueRequest& request) {
  FieldErrors errors;
  if (request.tenant_id().empty()) errors.Add("tenant_id", "is required");
  if (request.team_id().empty() == request.assignee_id().empty()) {
    errors.Add("team_id", "exactly one of team_id and assignee_id must be set");
  }
  if (request.page_size() < 0) errors.Add("page_size", "must not be negative");
  CheckEnumsDefined(request, errors);  // stages, sla_states
  FLYWHEEL_RETURN_IF_ERROR(errors.ToStatus());
  FLYWHEEL_ASSIGN_OR_RETURN(const size_t page_size, PageSizeOf(request.page_size()));
  std::optional<QueuePosition> after;
  if (!request.page_token().empty()) {
    FLYWHEEL_ASSIGN_OR_RETURN(std::string cursor,
                              DecodePageToken(request.page_token(), request, clock_.Now()));
    after = ParsePosition(cursor);
    if (!after.has_value()) {
      FieldErrors bad;
      bad.Add("page_token", "is not a token this service issued");
      return bad.ToStatus();
    }
  }
  const std::shared_ptr<const Policy> policy = policy_.Get();
  WorkflowStore& store = assigner_.store();
  const std::string& tenant = request.tenant_id();

  // Everything the call lists, in order: a team's unassigned tasks, then
  // (unless unassigned_only) its assigned ones; or a person's assigned tasks
  // in every team. Each part most urgent first.
  std::vector<QueuePosition> listing;
  if (!request.team_id().empty()) {
    if (request.team_id() != kUnroutedTeam && policy->FindTeam(request.team_id()) == nullptr) {
      return absl::NotFoundError("team " + request.team_id() + " is not in the policy");
    }
    const std::string team = request.team_id() == kUnroutedTeam ? "" : request.team_id();
    FLYWHEEL_ASSIGN_OR_RETURN(auto queued,
                              store.Queue(tenant, team, std::numeric_limits<size_t>::max()));
    for (const QueueEntry& e : queued) listing.push_back({0, e.rank, e.request_id});
    if (!request.unassigned_only()) {
      FLYWHEEL_ASSIGN_OR_RETURN(auto open, store.OpenRequests(tenant, team));
      for (const QueueEntry& e : open) listing.push_back({1, e.rank, e.request_id});
    }
  } else {
    for (const auto& [team_id, team] : policy->teams) {
      FLYWHEEL_ASSIGN_OR_RETURN(auto open, store.OpenRequests(tenant, team_id));
      for (const QueueEntry& e : open) listing.push_back({1, e.rank, e.request_id});
    }
  }
  std::sort(listing.begin(), listing.end());

  // The task of `pos` if it still passes the filters.
  auto task_of = [&](const QueuePosition& pos) -> absl::StatusOr<std::optional<routing::v1::Task>> {
    FLYWHEEL_ASSIGN_OR_RETURN(auto wf, store.Find(tenant, pos.request_id));
    if (!wf.has_value()) return std::nullopt;
    routing::v1::Task task = ActiveTask(*wf);
    if (!request.assignee_id().empty() && task.assignee_id() != request.assignee_id()) {
      return std::nullopt;
    }
    if (!request.stages().empty() && std::find(request.stages().begin(), request.stages().end(),
                                               task.stage()) == request.stages().end()) {
      return std::nullopt;
    }
    return task;
  };
  routing::v1::ListQueueResponse response;
  std::optional<QueuePosition> last_shown;
  bool more = false;
  if (request.stages().empty() && request.assignee_id().empty()) {
    // Nothing to filter: the listing is the count, and only the page's
    // tasks are read.
    response.set_total_size(static_cast<int32_t>(listing.size()));
    for (const QueuePosition& pos : listing) {
      if (after.has_value() && !(*after < pos)) continue;
      if (static_cast<size_t>(response.tasks_size()) == page_size) {
        more = true;
        break;
      }
      FLYWHEEL_ASSIGN_OR_RETURN(auto task, task_of(pos));
      if (!task.has_value()) continue;  // Finished since the listing was read.
      *response.add_tasks() = *std::move(task);
      last_shown = pos;
    }
  } else {
    // The filters need every task, for the count across all pages.
    int32_t total = 0;
    for (const QueuePosition& pos : listing) {
      FLYWHEEL_ASSIGN_OR_RETURN(auto task, task_of(pos));
      if (!task.has_value()) continue;
      ++total;
      if (after.has_value() && !(*after < pos)) continue;
      if (static_cast<size_t>(response.tasks_size()) == page_size) {
        more = true;
        continue;
      }
      *response.add_tasks() = *std::move(task);
      last_shown = pos;
    }
    response.set_total_size(total);
  }
  if (more && last_shown.has_value()) {
    response.set_next_page_token(EncodePageToken(request, clock_.Now(), Format(*last_shown)));
  }
  return response;
}

absl::StatusOr<routing::v1::Team> WorkflowOps::GetTeam(const std::string& tenant_id,
                                                       const std::string& team_id) {
  FLYWHEEL_RETURN_IF_ERROR(RequireTenantAndTeam(tenant_id, team_id));
  const std::shared_ptr<const Policy> policy = policy_.Get();
  FLYWHEEL_ASSIGN_OR_RETURN(auto roster, assigner_.Roster(*policy, tenant_id, team_id));
  FLYWHEEL_ASSIGN_OR_RETURN(auto loads, assigner_.store().Loads(tenant_id, team_id));
  routing::v1::Team team;
  team.set_tenant_id(tenant_id);
  team.set_team_id(team_id);
  team.set_display_name(team_id);
  team.set_default_wip_limit(static_cast<uint32_t>(policy->FindTeam(team_id)->default_wip_limit));
  for (const MemberSpec& m : roster) *team.add_members() = MemberProto(m, LoadOf(loads, m.id));
  return team;
}

absl::StatusOr<routing::v1::GetTeamCapacityResponse> WorkflowOps::GetTeamCapacity(
    const routing::v1::GetTeamCapacityRequest& request) {
  FLYWHEEL_ASSIGN_OR_RETURN(routing::v1::Team team,
                            GetTeam(request.tenant_id(), request.team_id()));
  FLYWHEEL_ASSIGN_OR_RETURN(size_t queued,
                            assigner_.store().QueueSize(request.tenant_id(), request.team_id()));
  routing::v1::GetTeamCapacityResponse out;
  out.set_team_id(team.team_id());
  out.set_queued_tasks(static_cast<uint32_t>(queued));
  for (const auto& m : team.members()) {
    auto* load = out.add_members();
    load->set_user_id(m.user_id());
    load->set_open_tasks(m.open_tasks());
    load->set_wip_limit(m.wip_limit());
    load->set_available(m.available());
    if (m.available()) {
      out.set_total_open_tasks(out.total_open_tasks() + m.open_tasks());
      out.set_total_wip_limit(out.total_wip_limit() + m.wip_limit());
    }
  }
  return out;
}

absl::StatusOr<std::vector<kafka::OutgoingEvent>> WorkflowOps::CapacityEvents(
    const std::string& tenant_id, const std::string& team_id,
    const std::vector<MemberSpec>& roster_after, const std::string& user_id,
    routing::v1::CapacityChange change) {
  FLYWHEEL_ASSIGN_OR_RETURN(auto loads, assigner_.store().Loads(tenant_id, team_id));
  routing::v1::CapacityChanged changed;
  changed.set_tenant_id(tenant_id);
  changed.set_team_id(team_id);
  changed.set_user_id(user_id);
  changed.set_change(change);
  for (const MemberSpec& spec : roster_after) {
    const routing::v1::Member m = MemberProto(spec, LoadOf(loads, spec.id));
    if (m.user_id() == user_id) *changed.mutable_member() = m;
    if (m.available()) changed.set_total_wip_limit(changed.total_wip_limit() + m.wip_limit());
    changed.set_total_open_tasks(changed.total_open_tasks() + m.open_tasks());
  }
  return std::vector<kafka::OutgoingEvent>{
      CapacityChangedEvent(assigner_.topics(), changed, NewRandomId("evt"))};
}

void WorkflowOps::PublishStored(const std::string& tenant_id,
                                const std::vector<kafka::OutgoingEvent>& events) {
  if (absl::Status st = assigner_.outbox().Publish(tenant_id, events); !st.ok()) {
    log::Warn("capacity change stored; its event is left for the outbox relay",
              {{"tenant_id", tenant_id}, {"error", st.ToString()}});
  }
}

absl::StatusOr<routing::v1::Team> WorkflowOps::JoinTeam(
    const routing::v1::JoinTeamRequest& request) {
  FieldErrors errors;
  if (request.tenant_id().empty()) errors.Add("tenant_id", "is required");
  if (request.team_id().empty()) errors.Add("team_id", "is required");
  if (request.member().user_id().empty()) errors.Add("member.user_id", "is required");
  if (request.member().regions_size() > 1) errors.Add("member.regions", "at most one region");
  FLYWHEEL_RETURN_IF_ERROR(errors.ToStatus());
  const std::shared_ptr<const Policy> policy = policy_.Get();
  FLYWHEEL_ASSIGN_OR_RETURN(auto roster,
                            assigner_.Roster(*policy, request.tenant_id(), request.team_id()));
  const auto& m = request.member();
  for (const MemberSpec& existing : roster) {
    if (existing.id == m.user_id()) {
      return absl::AlreadyExistsError(m.user_id() + " is already a member of " + request.team_id());
    }
  }
  MemberSpec member{.id = m.user_id(),
                    .skills = {m.skills().begin(), m.skills().end()},
                    .region = m.regions().empty() ? "" : m.regions(0),
                    .wip_limit = m.wip_limit() > 0
                                     ? static_cast<int>(m.wip_limit())
                                     : policy->FindTeam(request.team_id())->default_wip_limit,
                    .on_leave = !m.available()};
  roster.push_back(member);
  FLYWHEEL_ASSIGN_OR_RETURN(
      auto events, CapacityEvents(request.tenant_id(), request.team_id(), roster, member.id,
                                  routing::v1::CAPACITY_CHANGE_MEMBER_JOINED));
  FLYWHEEL_RETURN_IF_ERROR(
      assigner_.store().PutMember(request.tenant_id(), request.team_id(), member, events));
  PublishStored(request.tenant_id(), events);
  FLYWHEEL_RETURN_IF_ERROR(assigner_.Drain(*policy, request.tenant_id(), request.team_id()));
  return GetTeam(request.tenant_id(), request.team_id());
}

absl::StatusOr<routing::v1::LeaveTeamResponse> WorkflowOps::LeaveTeam(
    const routing::v1::LeaveTeamRequest& request) {
  FLYWHEEL_RETURN_IF_ERROR(RequireTenantAndTeam(request.tenant_id(), request.team_id()));
  if (request.user_id().empty()) {
    FieldErrors errors;
    errors.Add("user_id", "is required");
    return errors.ToStatus();
  }
  const std::shared_ptr<const Policy> policy = policy_.Get();
  const std::string& tenant = request.tenant_id();
  const std::string& team_id = request.team_id();
  FLYWHEEL_ASSIGN_OR_RETURN(auto roster, assigner_.Roster(*policy, tenant, team_id));
  if (std::none_of(roster.begin(), roster.end(),
                   [&](const MemberSpec& m) { return m.id == request.user_id(); })) {
    return absl::NotFoundError(request.user_id() + " is not a member of " + team_id);
  }
  WorkflowStore& store = assigner_.store();
  std::erase_if(roster, [&](const MemberSpec& m) { return m.id == request.user_id(); });
  FLYWHEEL_ASSIGN_OR_RETURN(auto events, CapacityEvents(tenant, team_id, roster, request.user_id(),
                                                        routing::v1::CAPACITY_CHANGE_MEMBER_LEFT));
  FLYWHEEL_RETURN_IF_ERROR(store.RemoveMember(tenant, team_id, request.user_id(), events));
  PublishStored(tenant, events);
  std::vector<std::string> moved;
  FLYWHEEL_ASSIGN_OR_RETURN(auto open, store.OpenRequests(tenant, team_id));
  for (const QueueEntry& entry : open) {
    const std::string& id = entry.request_id;
    FLYWHEEL_ASSIGN_OR_RETURN(auto wf, store.Find(tenant, id));
    if (!wf.has_value() || ActiveTask(*wf).assignee_id() != request.user_id()) continue;
    FLYWHEEL_ASSIGN_OR_RETURN(bool removed, store.Unassign(tenant, team_id, id, request.user_id(),
                                                           "assignee left the team"));
    if (removed) moved.push_back(id);
  }
  if (request.reassign_open_tasks() || moved.empty()) {
    FLYWHEEL_RETURN_IF_ERROR(assigner_.Drain(*policy, tenant, team_id));
  } else {
    assigner_.RefreshGauge(tenant, team_id);
  }
  routing::v1::LeaveTeamResponse response;
  FLYWHEEL_ASSIGN_OR_RETURN(*response.mutable_team(), GetTeam(tenant, team_id));
  for (const std::string& id : moved) {
    FLYWHEEL_ASSIGN_OR_RETURN(auto wf, store.Find(tenant, id));
    if (wf.has_value()) *response.add_moved_tasks() = ActiveTask(*wf);
  }
  return response;
}

absl::StatusOr<routing::v1::Team> WorkflowOps::UpdateMember(
    const routing::v1::UpdateMemberRequest& request) {
  FLYWHEEL_RETURN_IF_ERROR(RequireTenantAndTeam(request.tenant_id(), request.team_id()));
  const auto& m = request.member();
  FieldErrors errors;
  if (m.user_id().empty()) errors.Add("member.user_id", "is required");
  std::vector<std::string> paths(request.update_mask().paths().begin(),
                                 request.update_mask().paths().end());
  if (paths.empty()) paths = {"wip_limit", "available", "skills", "regions"};
  for (const std::string& p : paths) {
    if (p != "wip_limit" && p != "available" && p != "skills" && p != "regions") {
      errors.Add("update_mask",
                 "unknown path " + p + " (use wip_limit, available, skills, regions)");
    }
  }
  if (m.regions_size() > 1) errors.Add("member.regions", "at most one region");
  FLYWHEEL_RETURN_IF_ERROR(errors.ToStatus());
  const std::shared_ptr<const Policy> policy = policy_.Get();
  FLYWHEEL_ASSIGN_OR_RETURN(auto roster,
                            assigner_.Roster(*policy, request.tenant_id(), request.team_id()));
  auto it = std::find_if(roster.begin(), roster.end(),
                         [&](const MemberSpec& s) { return s.id == m.user_id(); });
  if (it == roster.end()) {
    return absl::NotFoundError(m.user_id() + " is not a member of " + request.team_id());
  }
  MemberSpec member = *it;
  routing::v1::CapacityChange change = routing::v1::CAPACITY_CHANGE_SKILLS_CHANGED;
  for (const std::string& p : paths) {
    if (p == "wip_limit") {
      member.wip_limit = m.wip_limit() > 0 ? static_cast<int>(m.wip_limit())
                                           : policy->FindTeam(request.team_id())->default_wip_limit;
      if (change == routing::v1::CAPACITY_CHANGE_SKILLS_CHANGED) {
        change = routing::v1::CAPACITY_CHANGE_WIP_LIMIT_CHANGED;
      }
    } else if (p == "available") {
      member.on_leave = !m.available();
      change = routing::v1::CAPACITY_CHANGE_AVAILABILITY_CHANGED;
    } else if (p == "skills") {
      member.skills.assign(m.skills().begin(), m.skills().end());
    } else if (p == "regions") {
      member.region = m.regions().empty() ? "" : m.regions(0);
    }
  }
  *it = member;
  FLYWHEEL_ASSIGN_OR_RETURN(auto events, CapacityEvents(request.tenant_id(), request.team_id(),
                                                        roster, member.id, change));
  FLYWHEEL_RETURN_IF_ERROR(
      assigner_.store().PutMember(request.tenant_id(), request.team_id(), member, events));
  PublishStored(request.tenant_id(), events);
  FLYWHEEL_RETURN_IF_ERROR(assigner_.Drain(*policy, request.tenant_id(), request.team_id()));
  return GetTeam(request.tenant_id(), request.team_id());
}

}  // namespace flywheel::routing
