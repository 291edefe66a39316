#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "flywheel/approval/v1/resources.pb.h"
#include "flywheel/runtime/live_policy.h"

namespace flywheel::approval {

/// Who may decide: people named directly and groups of the tenant.
struct Approvers {
  std::vector<std::string> users;
  std::vector<std::string> groups;
};

/// One step of a chain: its approvers decide in parallel under `rule`.
struct StepSpec {
  std::string id;
  Approvers approvers;
  v1::ApprovalRule rule = v1::APPROVAL_RULE_ANY;
  /// Approvals needed under APPROVAL_RULE_QUORUM; 0 otherwise.
  int quorum = 0;
  /// Zero means no SLA timer (and so no escalation).
  absl::Duration sla = absl::ZeroDuration();
  /// Who the step is handed to when its SLA is breached.
  Approvers escalate_to;
};

/// Steps that run in parallel; the stage is done when every step approved.
struct StageSpec {
  std::vector<StepSpec> steps;
};

/// Where a new version after a request for changes starts again.
enum class Restart {
  /// At the first stage, every step asked again.
  kFirstStep,
  /// At the stage that asked: its unfinished steps are asked again, steps
  /// that approved keep their approval.
  kAskingStep,
};

/// The chain an approval policy id asks for.
struct ChainSpec {
  /// The approval policy id routing names (`tier2-brand-legal`); routing
  /// picks it, and the tier, for each request.
  std::string id;
  /// In sequence. Empty: approved automatically.
  std::vector<StageSpec> stages;
  Restart restart = Restart::kFirstStep;
  bool require_resolved_comments = true;
  bool require_rejection_reason = true;
};

/// One tenant's groups and chains.
struct TenantSpec {
  std::string id;
  /// group id -> member user ids, in file order.
  std::map<std::string, std::vector<std::string>> groups;
  /// approval policy id -> chain.
  std::map<std::string, ChainSpec> chains;
};

/// A person designated through a policy's `Approvers`: by name (`group`
/// empty) or as a member of `group`.
struct Designee {
  std::string user;
  std::string group;
  bool operator==(const Designee&) const = default;
};

/// The whole approval policy, as parsed from one file. Immutable once built;
/// shared between threads through `PolicyHolder`.
struct Policy {
  std::map<std::string, TenantSpec> tenants;

  const TenantSpec* FindTenant(const std::string& tenant_id) const;
  /// The chain `policy_id` of `tenant_id`; null when either is unknown.
  const ChainSpec* FindChain(const std::string& tenant_id, const std::string& policy_id) const;
};

/// The people `approvers` designates in `tenant`: users named directly
/// first, then each group's members, in order; a person appears once (the
/// first way they were designated wins). Groups the tenant lacks add no one
/// (a parsed policy has none).
std::vector<Designee> Expand(const TenantSpec& tenant, const Approvers& approvers);

/// The approval policy in force; see runtime::LivePolicy.
using PolicyHolder = runtime::LivePolicy<Policy>;

}  // namespace flywheel::approval
