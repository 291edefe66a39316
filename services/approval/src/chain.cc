#include "chain.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "flywheel/core/proto_enums.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/core/status.h"

namespace flywheel::approval {
namespace {

using Entry = v1::ApproverDecision;
using Step = v1::ApprovalStep;

std::string Format(absl::Time t) { return absl::FormatTime(t, absl::UTCTimeZone()); }

bool Finished(const v1::ApprovalChain& c) {
  return c.status() == v1::CHAIN_STATUS_APPROVED || c.status() == v1::CHAIN_STATUS_REJECTED ||
         c.status() == v1::CHAIN_STATUS_CANCELLED;
}

absl::Status FinishedError(const v1::ApprovalChain& c) {
  return absl::FailedPreconditionError(absl::StrCat("the chain of request ", c.request_id(),
                                                    " is already ", ShortEnumName(c.status())));
}

int StageCount(const v1::ApprovalChain& c) {
  return c.steps().empty() ? 0 : static_cast<int>(c.steps(c.steps_size() - 1).stage_index()) + 1;
}

Step* FindStep(v1::ApprovalChain& c, const std::string& step_id) {
  for (Step& step : *c.mutable_steps()) {
    if (step.step_id() == step_id) return &step;
  }
  return nullptr;
}

bool Decided(const Entry& e) { return e.decision() != v1::DECISION_UNSPECIFIED; }

// Who actually gave the decision recorded on `e`.
const std::string& DecidedBy(const Entry& e) {
  return e.decided_by().empty() ? e.approver_id() : e.decided_by();
}

bool ActiveDelegation(const v1::ApprovalChain& c, const std::string& delegator,
                      const std::string& delegate, absl::Time now) {
  for (const v1::Delegation& d : c.delegations()) {
    if (d.delegator_id() == delegator && d.delegate_id() == delegate &&
        FromProtoTime(d.valid_from()) <= now && now < FromProtoTime(d.valid_until())) {
      return true;
    }
  }
  return false;
}

// The entry of `step` that `actor` decides through at `now`, or -1: their
// escalation-owner entry, else their own, else (as a delegate) the first
// entry of an active delegator they have not decided yet, else the first
// they decided. One person, one vote per step.
int EntryFor(const v1::ApprovalChain& c, const Step& step, const std::string& actor,
             absl::Time now) {
  int own = -1;
  int delegated = -1;
  for (int i = 0; i < step.approvers_size(); ++i) {
    const Entry& e = step.approvers(i);
    if (e.approver_id() == actor) {
      if (e.escalation_owner()) return i;
      if (own < 0) own = i;
    } else if (!e.escalation_owner() && ActiveDelegation(c, e.approver_id(), actor, now)) {
      const bool better = delegated < 0 || (Decided(step.approvers(delegated)) && !Decided(e));
      if (better) delegated = i;
    }
  }
  return own >= 0 ? own : delegated;
}

absl::Status NotDesignated(const v1::ApprovalChain& c, const Step& step, const std::string& actor) {
  std::string why = absl::StrCat(actor, " is not an approver of step ", step.step_id());
  for (const v1::Delegation& d : c.delegations()) {
    if (d.delegate_id() != actor) continue;
    absl::StrAppend(&why, "; the delegation from ", d.delegator_id(), " is valid from ",
                    Format(FromProtoTime(d.valid_from())), " until ",
                    Format(FromProtoTime(d.valid_until())));
  }
  return absl::PermissionDeniedError(why);
}

// Back to "not reached": decisions and times of the round cleared, the
// escalation owners' entries removed.
void ResetStep(Step& step) {
  step.set_status(v1::STEP_STATUS_PENDING);
  step.clear_activate_time();
  step.clear_decide_time();
  step.clear_due_time();
  step.clear_escalate_time();
  auto* entries = step.mutable_approvers();
  for (int i = entries->size() - 1; i >= 0; --i) {
    if (entries->Get(i).escalation_owner()) entries->DeleteSubrange(i, 1);
  }
  for (Entry& e : *entries) {
    e.clear_decision();
    e.clear_comment();
    e.clear_decide_time();
    e.clear_version();
    e.clear_decided_by();
  }
}

void StartStep(const v1::ApprovalChain& c, Step& step, absl::Time now, Facts& facts) {
  ResetStep(step);
  step.set_status(v1::STEP_STATUS_ACTIVE);
  *step.mutable_activate_time() = ToProtoTime(now);
  StepStarted started{step.step_id(), {}, c.current_version(), c.round(), std::nullopt};
  const absl::Duration sla = FromProtoDuration(step.sla());
  if (sla > absl::ZeroDuration()) {
    *step.mutable_due_time() = ToProtoTime(now + sla);
    started.due = now + sla;
  }
  for (const Entry& e : step.approvers()) started.approver_ids.push_back(e.approver_id());
  facts.push_back(std::move(started));
}

// `round` is the one the step was started in (its timer's).
void StopStep(Step& step, v1::StepStatus status, uint32_t round, absl::Time now, Facts& facts) {
  step.set_status(status);
  *step.mutable_decide_time() = ToProtoTime(now);
  step.clear_due_time();
  facts.push_back(StepStopped{step.step_id(), status, round});
}

// Stops every other active step of the current stage (a rejection or a
// request for changes stopped the stage).
void StopSiblings(v1::ApprovalChain& c, const Step& except, absl::Time now, Facts& facts) {
  for (Step& step : *c.mutable_steps()) {
    if (&step != &except && step.status() == v1::STEP_STATUS_ACTIVE) {
      StopStep(step, v1::STEP_STATUS_CANCELLED, c.round(), now, facts);
    }
  }
}

void StartStage(v1::ApprovalChain& c, uint32_t stage, absl::Time now, Facts& facts) {
  c.set_current_stage_index(stage);
  for (Step& step : *c.mutable_steps()) {
    if (step.stage_index() == stage) StartStep(c, step, now, facts);
  }
}

// How many more approvals the step's rule asks for; 0 when it is met (an
// escalation owner's approval meets any rule).
int ApprovalsNeeded(const Step& step) {
  int approvals = 0;
  int designated = 0;
  for (const Entry& e : step.approvers()) {
    if (e.escalation_owner()) {
      if (e.decision() == v1::DECISION_APPROVE) return 0;
      continue;
    }
    ++designated;
    if (e.decision() == v1::DECISION_APPROVE) ++approvals;
  }
  int needed = 1;
  if (step.rule() == v1::APPROVAL_RULE_ALL) needed = designated;
  if (step.rule() == v1::APPROVAL_RULE_QUORUM) needed = static_cast<int>(step.quorum());
  return std::max(needed - approvals, 0);
}

bool RuleMet(const Step& step) { return ApprovalsNeeded(step) == 0; }

// After a step approved: the next stage starts once every step of this one
// approved, or the chain is approved after the last.
void Advance(v1::ApprovalChain& c, absl::Time now, Facts& facts) {
  for (const Step& step : c.steps()) {
    if (step.stage_index() == c.current_stage_index() &&
        step.status() != v1::STEP_STATUS_APPROVED) {
      return;
    }
  }
  const uint32_t next = c.current_stage_index() + 1;
  if (static_cast<int>(next) < StageCount(c)) {
    StartStage(c, next, now, facts);
    return;
  }
  c.set_status(v1::CHAIN_STATUS_APPROVED);
  facts.push_back(
      ChainCompleted{v1::CHAIN_STATUS_APPROVED, c.current_version(), "", "", "", false});
}

void Touch(v1::ApprovalChain& c, absl::Time now) {
  *c.mutable_update_time() = ToProtoTime(now);
  c.set_revision(c.revision() + 1);
}

absl::Status CheckState(const v1::ApprovalChain& c, const Step& step, uint32_t version) {
  if (Finished(c)) return FinishedError(c);
  if (c.status() == v1::CHAIN_STATUS_AWAITING_VERSION) {
    return absl::FailedPreconditionError("no asset version has been submitted yet");
  }
  if (c.status() == v1::CHAIN_STATUS_CHANGES_REQUESTED) {
    return absl::FailedPreconditionError(
        absl::StrCat("changes were requested on version ", c.current_version(), " at step ",
                     c.outcome_step_id(), "; the chain waits for a new version"));
  }
  if (step.status() == v1::STEP_STATUS_PENDING) {
    return absl::FailedPreconditionError(absl::StrCat("step ", step.step_id(),
                                                      " has not started; stage ",
                                                      c.current_stage_index() + 1, " is active"));
  }
  if (step.status() != v1::STEP_STATUS_ACTIVE) {
    return absl::FailedPreconditionError(
        absl::StrCat("step ", step.step_id(), " is already ", ShortEnumName(step.status())));
  }
  if (version != c.current_version()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "version ", version, version < c.current_version() ? " is outdated" : " does not exist",
        "; the current version is ", c.current_version()));
  }
  return absl::OkStatus();
}

}  // namespace

std::pair<Chain, Facts> Chain::Build(const TenantSpec& tenant, const ChainSpec& spec,
                                     const TenantId& tenant_id, const RequestId& request_id,
                                     common::v1::ApprovalTier tier, uint32_t version,
                                     absl::Time now) {
  v1::ApprovalChain c;
  c.set_tenant_id(tenant_id.value());
  c.set_request_id(request_id.value());
  c.set_policy_id(spec.id);
  c.set_tier(tier);
  c.set_restart_from_first_step(spec.restart == Restart::kFirstStep);
  c.set_require_resolved_comments(spec.require_resolved_comments);
  c.set_require_rejection_reason(spec.require_rejection_reason);
  *c.mutable_create_time() = ToProtoTime(now);
  *c.mutable_update_time() = ToProtoTime(now);
  c.set_revision(1);
  for (size_t stage = 0; stage < spec.stages.size(); ++stage) {
    for (const StepSpec& s : spec.stages[stage].steps) {
      Step* step = c.add_steps();
      step->set_step_id(s.id);
      step->set_display_name(s.id);
      step->set_rule(s.rule);
      step->set_quorum(s.quorum);
      step->set_status(v1::STEP_STATUS_PENDING);
      step->set_stage_index(static_cast<uint32_t>(stage));
      for (const std::string& group : s.approvers.groups) step->add_approver_groups(group);
      *step->mutable_sla() = ToProtoDuration(s.sla);
      for (const Designee& d : Expand(tenant, s.approvers)) {
        Entry* e = step->add_approvers();
        e->set_approver_id(d.user);
        e->set_group_id(d.group);
      }
      for (const Designee& d : Expand(tenant, s.escalate_to)) {
        step->add_escalation_owner_ids(d.user);
      }
    }
  }
  Facts facts;
  c.set_current_version(version);
  if (c.steps().empty()) {
    c.set_status(v1::CHAIN_STATUS_APPROVED);
    facts.push_back(ChainCompleted{v1::CHAIN_STATUS_APPROVED, version, "", "", "", true});
  } else if (version == 0) {
    c.set_status(v1::CHAIN_STATUS_AWAITING_VERSION);
  } else {
    c.set_status(v1::CHAIN_STATUS_PENDING);
    c.set_round(1);
    StartStage(c, 0, now, facts);
  }
  return {Chain(std::move(c)), std::move(facts)};
}

absl::StatusOr<Chain> Chain::FromProto(v1::ApprovalChain stored) {
  auto bad = [&](const char* why) {
    return absl::DataLossError(
        absl::StrCat("stored chain of request ", stored.request_id(), ": ", why));
  };
  if (stored.status() == v1::CHAIN_STATUS_UNSPECIFIED || !v1::ChainStatus_IsValid(stored.status()))
    return bad("no valid status");
  uint32_t stage = 0;
  for (int i = 0; i < stored.steps_size(); ++i) {
    const uint32_t s = stored.steps(i).stage_index();
    if (i == 0 ? s != 0 : (s != stage && s != stage + 1)) return bad("steps out of stage order");
    stage = s;
  }
  if (!Finished(stored) && stored.status() != v1::CHAIN_STATUS_AWAITING_VERSION &&
      static_cast<int>(stored.current_stage_index()) >= StageCount(stored)) {
    return bad("the current stage does not exist");
  }
  return Chain(std::move(stored));
}

absl::StatusOr<Facts> Chain::Decide(const UserId& actor, const std::string& step_id,
                                    const DecisionInput& decision, uint32_t version,
                                    absl::Time now) {
  v1::ApprovalChain next = state_;
  Step* step = FindStep(next, step_id);
  if (step == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no step ", step_id, " in the chain of request ", next.request_id()));
  }
  if (decision.decision == v1::DECISION_UNSPECIFIED || !v1::Decision_IsValid(decision.decision)) {
    return absl::InvalidArgumentError("decision must be approve, reject or request_changes");
  }
  const int index = EntryFor(next, *step, actor.value(), now);
  if (index < 0) return NotDesignated(next, *step, actor.value());
  Entry& entry = *step->mutable_approvers(index);
  if (Decided(entry) && DecidedBy(entry) == actor.value() &&
      entry.decision() == decision.decision && entry.comment() == decision.comment &&
      entry.version() == version) {
    return Facts{};  // the same decision again: a retry or a redelivered event
  }
  FLYWHEEL_RETURN_IF_ERROR(CheckState(next, *step, version));
  if (Decided(entry)) {
    const std::string for_whom =
        DecidedBy(entry) == entry.approver_id() ? "" : absl::StrCat(" for ", entry.approver_id());
    return absl::AlreadyExistsError(absl::StrCat(
        DecidedBy(entry), " already decided ", ShortEnumName(entry.decision()), " on step ",
        step_id, for_whom, " in round ", next.round(), "; a decision is not changed"));
  }
  if (decision.comment.size() > kMaxCommentBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("comment is ", decision.comment.size(), " bytes; at most ", kMaxCommentBytes));
  }
  if (decision.decision == v1::DECISION_REJECT && next.require_rejection_reason() &&
      absl::StripAsciiWhitespace(decision.comment).empty()) {
    return absl::InvalidArgumentError("a rejection needs a reason in its comment");
  }

  entry.set_decision(decision.decision);
  entry.set_comment(decision.comment);
  entry.set_version(version);
  *entry.mutable_decide_time() = ToProtoTime(now);
  if (entry.approver_id() != actor.value()) entry.set_decided_by(actor.value());

  // The StepDecided fact comes first; its step status is filled in below.
  Facts facts{StepDecided{step_id, entry.approver_id(), entry.decided_by(), decision.decision,
                          decision.comment, version, next.round(), v1::STEP_STATUS_ACTIVE}};
  switch (decision.decision) {
    case v1::DECISION_REJECT:
      StopStep(*step, v1::STEP_STATUS_REJECTED, next.round(), now, facts);
      StopSiblings(next, *step, now, facts);
      next.set_status(v1::CHAIN_STATUS_REJECTED);
      next.set_rejection_reason(decision.comment);
      next.set_outcome_step_id(step_id);
      facts.push_back(ChainCompleted{v1::CHAIN_STATUS_REJECTED, version, step_id,
                                     entry.approver_id(), decision.comment, false});
      break;
    case v1::DECISION_REQUEST_CHANGES:
      StopStep(*step, v1::STEP_STATUS_CHANGES_REQUESTED, next.round(), now, facts);
      StopSiblings(next, *step, now, facts);
      next.set_status(v1::CHAIN_STATUS_CHANGES_REQUESTED);
      next.set_outcome_step_id(step_id);
      facts.push_back(ChangesRequested{step_id, entry.approver_id(), entry.decided_by(),
                                       decision.comment, version, next.round()});
      break;
    default:
      if (RuleMet(*step)) {
        StopStep(*step, v1::STEP_STATUS_APPROVED, next.round(), now, facts);
        Advance(next, now, facts);
      }
      if (next.status() == v1::CHAIN_STATUS_APPROVED && next.require_resolved_comments() &&
          decision.unresolved_comments > 0) {
        return absl::FailedPreconditionError(
            absl::StrCat("this approval would complete the chain, but ",
                         decision.unresolved_comments, " comment(s) are unresolved"));
      }
      break;
  }
  std::get<StepDecided>(facts.front()).step_status = step->status();
  Touch(next, now);
  state_ = std::move(next);
  return facts;
}

absl::StatusOr<Facts> Chain::SubmitVersion(uint32_t version, absl::Time now) {
  if (Finished(state_)) return FinishedError(state_);
  if (version != 0 && version == state_.current_version()) return Facts{};
  if (version != state_.current_version() + 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("version ", version, " is out of sequence; the current version is ",
                     state_.current_version(), ", the next is ", state_.current_version() + 1));
  }
  v1::ApprovalChain next = state_;
  Facts facts;
  next.set_current_version(version);
  next.set_round(next.round() + 1);
  next.clear_outcome_step_id();
  if (next.status() == v1::CHAIN_STATUS_AWAITING_VERSION) {
    StartStage(next, 0, now, facts);
  } else {
    for (Step& step : *next.mutable_steps()) {
      if (step.status() == v1::STEP_STATUS_ACTIVE) {
        StopStep(step, v1::STEP_STATUS_CANCELLED, state_.round(), now, facts);
      }
    }
    if (next.restart_from_first_step()) {
      for (Step& step : *next.mutable_steps()) ResetStep(step);
      StartStage(next, 0, now, facts);
    } else {
      for (Step& step : *next.mutable_steps()) {
        if (step.stage_index() == next.current_stage_index() &&
            step.status() != v1::STEP_STATUS_APPROVED) {
          StartStep(next, step, now, facts);
        }
      }
    }
  }
  next.set_status(v1::CHAIN_STATUS_PENDING);
  Touch(next, now);
  state_ = std::move(next);
  return facts;
}

absl::StatusOr<Facts> Chain::Delegate(const UserId& delegator, const UserId& delegate,
                                      absl::Time valid_from, absl::Time valid_until,
                                      absl::Time now) {
  if (Finished(state_)) return FinishedError(state_);
  if (delegator == delegate) return absl::InvalidArgumentError("cannot delegate to oneself");
  if (delegate.empty()) return absl::InvalidArgumentError("the delegate is empty");
  if (valid_until <= valid_from) {
    return absl::InvalidArgumentError(
        "the delegation period is empty: it must end after it starts");
  }
  bool designated = false;
  for (const Step& step : state_.steps()) {
    if (step.status() != v1::STEP_STATUS_PENDING && step.status() != v1::STEP_STATUS_ACTIVE &&
        step.status() != v1::STEP_STATUS_CANCELLED) {
      continue;
    }
    for (const Entry& e : step.approvers()) designated |= e.approver_id() == delegator.value();
  }
  if (!designated) {
    return absl::PermissionDeniedError(absl::StrCat(
        delegator.value(), " is not an approver of any unfinished step of this chain"));
  }
  v1::Delegation d;
  d.set_delegator_id(delegator.value());
  d.set_delegate_id(delegate.value());
  *d.mutable_valid_from() = ToProtoTime(valid_from);
  *d.mutable_valid_until() = ToProtoTime(valid_until);
  for (const v1::Delegation& old : state_.delegations()) {
    if (old.delegator_id() == d.delegator_id() && old.delegate_id() == d.delegate_id() &&
        FromProtoTime(old.valid_from()) == valid_from &&
        FromProtoTime(old.valid_until()) == valid_until) {
      return Facts{};
    }
  }
  *d.mutable_create_time() = ToProtoTime(now);
  *state_.add_delegations() = std::move(d);
  Touch(state_, now);
  return Facts{Delegated{delegator.value(), delegate.value(), valid_from, valid_until}};
}

absl::StatusOr<Facts> Chain::Escalate(const std::string& step_id, absl::Time now) {
  Step* step = FindStep(state_, step_id);
  if (step == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no step ", step_id, " in the chain of request ", state_.request_id()));
  }
  if (state_.status() != v1::CHAIN_STATUS_PENDING || step->status() != v1::STEP_STATUS_ACTIVE) {
    return absl::FailedPreconditionError(absl::StrCat("step ", step_id, " is not active (it is ",
                                                      ShortEnumName(step->status()), ", the chain ",
                                                      ShortEnumName(state_.status()), ")"));
  }
  if (step->has_escalate_time()) return Facts{};
  if (step->escalation_owner_ids().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("step ", step_id, " has no escalation owner"));
  }
  *step->mutable_escalate_time() = ToProtoTime(now);
  Escalated escalated{step_id, {}, state_.round()};
  for (const std::string& owner : step->escalation_owner_ids()) {
    Entry* e = step->add_approvers();
    e->set_approver_id(owner);
    e->set_escalation_owner(true);
    escalated.owner_ids.push_back(owner);
  }
  Touch(state_, now);
  return Facts{std::move(escalated)};
}

absl::StatusOr<Facts> Chain::Cancel(absl::Time now) {
  if (state_.status() == v1::CHAIN_STATUS_CANCELLED) return Facts{};
  if (Finished(state_)) return FinishedError(state_);
  Facts facts;
  for (Step& step : *state_.mutable_steps()) {
    if (step.status() == v1::STEP_STATUS_ACTIVE) {
      StopStep(step, v1::STEP_STATUS_CANCELLED, state_.round(), now, facts);
    }
  }
  state_.set_status(v1::CHAIN_STATUS_CANCELLED);
  facts.push_back(
      ChainCompleted{v1::CHAIN_STATUS_CANCELLED, state_.current_version(), "", "", "", false});
  Touch(state_, now);
  return facts;
}

std::vector<PendingStep> Chain::PendingFor(const UserId& user, absl::Time now) const {
  std::vector<PendingStep> out;
  if (state_.status() != v1::CHAIN_STATUS_PENDING) return out;
  for (const Step& step : state_.steps()) {
    if (step.status() != v1::STEP_STATUS_ACTIVE) continue;
    const int index = EntryFor(state_, step, user.value(), now);
    if (index < 0 || Decided(step.approvers(index))) continue;
    const Entry& entry = step.approvers(index);
    out.push_back({.step_id = step.step_id(),
                   .on_behalf_of = entry.approver_id() == user.value() ? "" : entry.approver_id(),
                   .approvals_needed = static_cast<uint32_t>(ApprovalsNeeded(step))});
  }
  return out;
}

}  // namespace flywheel::approval
