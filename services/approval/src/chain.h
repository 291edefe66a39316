#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/approval/v1/resources.pb.h"
#include "flywheel/common/v1/common.pb.h"
#include "flywheel/core/id.h"
#include "policy.h"

namespace flywheel::approval {

/// The longest comment a decision may carry.
inline constexpr size_t kMaxCommentBytes = 64 * 1024;

// ---- Facts: what an operation changed, for the service to publish ---------

/// A step began waiting for its approvers: ask the scheduler for its timer.
struct StepStarted {
  std::string step_id;
  /// Everyone who may decide it now (not counting delegates).
  std::vector<std::string> approver_ids;
  uint32_t version = 0;
  uint32_t round = 0;
  /// nullopt when the step has no SLA.
  std::optional<absl::Time> due;
};

/// An approver's decision was recorded.
struct StepDecided {
  std::string step_id;
  /// The designated approver whose decision it is.
  std::string approver_id;
  /// The delegate who decided in their place; empty when they decided.
  std::string decided_by;
  v1::Decision decision = v1::DECISION_UNSPECIFIED;
  std::string comment;
  uint32_t version = 0;
  uint32_t round = 0;
  /// ACTIVE while more approvals are needed, else the step's outcome.
  v1::StepStatus step_status = v1::STEP_STATUS_UNSPECIFIED;
};

/// A step stopped waiting for decisions: cancel its timer. `status` is its
/// outcome (APPROVED, REJECTED, CHANGES_REQUESTED) or CANCELLED.
struct StepStopped {
  std::string step_id;
  v1::StepStatus status = v1::STEP_STATUS_UNSPECIFIED;
  /// The round the step was started in (a new version stops the steps of
  /// the round before it).
  uint32_t round = 0;
};

/// The chain waits for a new version; the work goes back to its creator.
struct ChangesRequested {
  std::string step_id;
  std::string approver_id;
  std::string decided_by;
  std::string comment;
  uint32_t version = 0;
  uint32_t round = 0;
};

/// The chain ended: APPROVED, REJECTED or CANCELLED.
struct ChainCompleted {
  v1::ChainStatus status = v1::CHAIN_STATUS_UNSPECIFIED;
  uint32_t version = 0;
  /// For REJECTED: the step, the approver and their reason.
  std::string step_id;
  std::string approver_id;
  std::string reason;
  /// APPROVED by policy (no stages) without a human decision.
  bool auto_approved = false;
};

/// An approver named a stand-in.
struct Delegated {
  std::string delegator_id;
  std::string delegate_id;
  absl::Time valid_from;
  absl::Time valid_until;
};

/// A step was handed to its escalation owners.
struct Escalated {
  std::string step_id;
  std::vector<std::string> owner_ids;
  uint32_t round = 0;
};

using Fact = std::variant<StepStarted, StepDecided, StepStopped, ChangesRequested, ChainCompleted,
                          Delegated, Escalated>;
using Facts = std::vector<Fact>;

/// An active step waiting for one person's decision.
struct PendingStep {
  std::string step_id;
  /// The designated approver a delegate would decide for; empty when the
  /// person is designated themselves.
  std::string on_behalf_of;
  /// Approvals the step still needs before it is approved, theirs included.
  uint32_t approvals_needed = 0;
};

/// One decision as an approver gives it.
struct DecisionInput {
  v1::Decision decision = v1::DECISION_UNSPECIFIED;
  /// Reason or remarks; at most kMaxCommentBytes. Required for a rejection
  /// when the policy says so.
  std::string comment;
  /// Unresolved comments on the request (the comment store knows them);
  /// consulted only when this approval would complete the chain and the
  /// policy requires every comment resolved first.
  int unresolved_comments = 0;
};

/// The approval chain of one request: a state machine over its stored form
/// (`v1::ApprovalChain`), which carries everything it needs (the policy's
/// steps, approvers expanded from groups, rules and flags are copied in when
/// the chain is built, so a policy reload never changes a running chain).
///
/// Every operation takes the time as an argument, checks everything before
/// changing anything (an error leaves the chain as it was), and returns the
/// facts to publish, in order. A repeat of an operation that already took
/// effect (the same decision by the same person, the same version, the same
/// delegation, a second escalation) succeeds with no facts, so a retried
/// call or a redelivered event changes nothing.
///
/// A value type; not thread-safe (the store serialises changes to one
/// chain by its revision).
class Chain {
 public:
  /// Builds the chain `spec` asks for, for one request of `tenant`, at the
  /// `tier` routing chose (recorded, not interpreted). With
  /// `version` 0 the chain waits for the first version before any step
  /// starts; otherwise the first stage starts now. A spec without stages is
  /// approved at once (ChainCompleted with auto_approved).
  static std::pair<Chain, Facts> Build(const TenantSpec& tenant, const ChainSpec& spec,
                                       const TenantId& tenant_id, const RequestId& request_id,
                                       common::v1::ApprovalTier tier, uint32_t version,
                                       absl::Time now);

  /// A chain from its stored form; DATA_LOSS when the message is not one a
  /// chain could have written (steps out of stage order, a current stage
  /// that does not exist).
  static absl::StatusOr<Chain> FromProto(v1::ApprovalChain stored);
  const v1::ApprovalChain& proto() const { return state_; }

  /// Records `actor`'s decision on `step_id`, made on `version`.
  ///
  /// - NOT_FOUND: no such step. INVALID_ARGUMENT: no decision, a comment
  ///   over kMaxCommentBytes, a rejection without a reason where the policy
  ///   requires one.
  /// - PERMISSION_DENIED: `actor` is not designated for the step, directly,
  ///   through a group, as its escalation owner, or as the delegate of a
  ///   designated approver at `now` (checked first, so a stranger learns
  ///   nothing about the chain).
  /// - FAILED_PRECONDITION: the chain is finished, has no version yet or
  ///   waits for a new one; the step is not active; `version` is not the
  ///   current one (the message names it); an approval that would complete
  ///   the chain while comments are unresolved and the policy forbids it.
  /// - ALREADY_EXISTS: `actor` already gave a different decision on this
  ///   step in this round. The identical decision again is a success with
  ///   no facts (a retry or a redelivered event).
  ///
  /// One person has one vote per step: someone designated directly decides
  /// for themselves even when they are also a delegate.
  absl::StatusOr<Facts> Decide(const UserId& actor, const std::string& step_id,
                               const DecisionInput& decision, uint32_t version, absl::Time now);

  /// A new asset version. It must be the next number (the current one again
  /// is a success with no facts). The first version starts the first stage;
  /// a later one starts a new round where the policy says (the first stage,
  /// or the unfinished steps of the current stage), whether or not changes
  /// were requested: decisions on the old version no longer count.
  /// FAILED_PRECONDITION on a finished chain or a number out of sequence.
  absl::StatusOr<Facts> SubmitVersion(uint32_t version, absl::Time now);

  /// Lets `delegate` decide in `delegator`'s place on every step of this
  /// chain `delegator` is designated for, while `valid_from <= now <
  /// valid_until`. PERMISSION_DENIED unless `delegator` is designated on a
  /// step that has not finished; INVALID_ARGUMENT for oneself or an empty
  /// period; FAILED_PRECONDITION on a finished chain.
  absl::StatusOr<Facts> Delegate(const UserId& delegator, const UserId& delegate,
                                 absl::Time valid_from, absl::Time valid_until, absl::Time now);

  /// Hands an active step to its escalation owners (the scheduler's
  /// sla.breached): from now on one decision of theirs decides the step,
  /// whatever its rule. Once per round; again is a success with no facts.
  /// NOT_FOUND: no such step; FAILED_PRECONDITION: the step is not active
  /// (a breach that lost the race with a decision) or has no owner.
  absl::StatusOr<Facts> Escalate(const std::string& step_id, absl::Time now);

  /// Ends an unfinished chain as CANCELLED (the request was cancelled).
  /// Again is a success with no facts; FAILED_PRECONDITION when the chain
  /// was approved or rejected.
  absl::StatusOr<Facts> Cancel(absl::Time now);

  /// The active steps `user` may decide at `now` and has not: their
  /// approver's inbox.
  std::vector<PendingStep> PendingFor(const UserId& user, absl::Time now) const;

 private:
  explicit Chain(v1::ApprovalChain state) : state_(std::move(state)) {}

  v1::ApprovalChain state_;
};

}  // namespace flywheel::approval
