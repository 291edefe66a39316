#include "policy_parser.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "flywheel/config/policy_reader.h"

namespace flywheel::approval {
namespace {

using config::PolicyNode;

// `users` and `groups` under `node`; each group must be one of the
// tenant's. Records a problem when `node` names nobody.
Approvers ReadApprovers(const PolicyNode& node, const TenantSpec& tenant) {
  Approvers out;
  if (!node.Keys({"users", "groups"})) return out;
  out.users = node["users"].Strings();
  for (const PolicyNode& g : node["groups"].List()) {
    std::optional<std::string> group = g.String();
    if (!group) continue;
    if (!tenant.groups.contains(*group)) {
      g.Problem(absl::StrCat("unknown group \"", *group, "\""));
      continue;
    }
    out.groups.push_back(*group);
  }
  if (!node["users"] && !node["groups"]) node.Problem("needs users, groups or both");
  return out;
}

StepSpec ReadStep(const PolicyNode& s, const TenantSpec& tenant) {
  StepSpec step;
  if (!s.Keys({"id", "approvers", "rule", "quorum", "sla", "escalate_to"})) return step;
  step.id = s.Required("id").String().value_or("");
  step.approvers = ReadApprovers(s.Required("approvers"), tenant);
  step.rule = s.Required("rule").Enum<v1::ApprovalRule>().value_or(v1::APPROVAL_RULE_ANY);
  const size_t designated = Expand(tenant, step.approvers).size();
  const PolicyNode quorum = s["quorum"];
  if (step.rule == v1::APPROVAL_RULE_QUORUM) {
    step.quorum = static_cast<int>(
        s.Required("quorum", "the rule is quorum").Int(config::InRange(1, 1000)).value_or(0));
    if (designated > 0 && static_cast<size_t>(step.quorum) > designated) {
      quorum.Problem(absl::StrCat("needs ", step.quorum, " approvals but the step has only ",
                                  designated, " approvers"));
    }
  } else if (quorum) {
    quorum.Problem("is only for rule quorum");
  }
  step.sla = s["sla"].Duration().value_or(absl::ZeroDuration());
  if (const PolicyNode escalation = s["escalate_to"]) {
    step.escalate_to = ReadApprovers(escalation, tenant);
    if (step.sla == absl::ZeroDuration()) {
      escalation.Problem("needs an sla: escalation happens when the sla is breached");
    }
  }
  return step;
}

ChainSpec ReadChain(const PolicyNode& key, const PolicyNode& c, const TenantSpec& tenant) {
  ChainSpec chain;
  chain.id = key.String().value_or("");
  if (!c.Keys({"restart", "require_resolved_comments", "require_rejection_reason", "stages"})) {
    return chain;
  }
  if (c["restart"].String(config::OneOf({"first_step", "asking_step"})) == "asking_step") {
    chain.restart = Restart::kAskingStep;
  }
  chain.require_resolved_comments = c["require_resolved_comments"].Bool().value_or(true);
  chain.require_rejection_reason = c["require_rejection_reason"].Bool().value_or(true);
  // `stages: []` is allowed: the chain approves by itself (tier 0).
  std::set<std::string> ids;
  for (const PolicyNode& st : c.Required("stages").List()) {
    if (!st.Keys({"steps"})) continue;
    StageSpec stage;
    for (const PolicyNode& s : st.Required("steps").NonEmptyList()) {
      StepSpec step = ReadStep(s, tenant);
      if (!step.id.empty() && !ids.insert(step.id).second) {
        s["id"].Problem(absl::StrCat("step id \"", step.id, "\" is used twice in the chain"));
      }
      stage.steps.push_back(std::move(step));
    }
    chain.stages.push_back(std::move(stage));
  }
  return chain;
}

TenantSpec ReadTenant(const PolicyNode& key, const PolicyNode& t) {
  TenantSpec tenant;
  tenant.id = key.String().value_or("");
  if (!t.Keys({"groups", "chains"})) return tenant;
  for (const auto& [group, members] : t.Required("groups").Entries()) {
    std::optional<std::string> id = group.String();
    std::vector<std::string> users;
    for (const PolicyNode& m : members.NonEmptyList()) {
      if (std::optional<std::string> user = m.String()) users.push_back(*user);
    }
    if (id) tenant.groups[*id] = std::move(users);
  }
  for (const auto& [chain_key, chain] : t.Required("chains").Entries()) {
    ChainSpec spec = ReadChain(chain_key, chain, tenant);
    tenant.chains[spec.id] = std::move(spec);
  }
  return tenant;
}

Policy ReadDocument(const PolicyNode& root) {
  root.Keys({"tenants"});
  Policy policy;
  for (const auto& [key, value] : root.Required("tenants").Entries()) {
    TenantSpec tenant = ReadTenant(key, value);
    policy.tenants[tenant.id] = std::move(tenant);
  }
  return policy;
}

}  // namespace

absl::StatusOr<Policy> ParsePolicy(const std::string& yaml_text, std::string_view file) {
  return config::ReadPolicy(yaml_text, file, ReadDocument);
}

absl::StatusOr<Policy> LoadPolicyFile(const std::string& path) {
  return config::LoadPolicy(path, ReadDocument);
}

}  // namespace flywheel::approval
