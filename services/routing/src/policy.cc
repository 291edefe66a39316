#include "policy.h"

namespace flywheel::routing {

const WorkflowTemplate* Policy::TemplateFor(const std::string& request_type) const {
  auto type = request_type_templates.find(request_type);
  const std::string& id = type == request_type_templates.end() ? default_template : type->second;
  auto it = templates.find(id);
  return it == templates.end() ? nullptr : &it->second;
}

const TeamSpec* Policy::FindTeam(const std::string& team_id) const {
  auto it = teams.find(team_id);
  return it == teams.end() ? nullptr : &it->second;
}

std::vector<std::string> ApprovalSteps(int tier) {
  switch (tier) {
    case 0:
      return {};
    case 1:
      return {"reviewer"};
    case 2:
      return {"brand", "legal"};
    default:
      return {"brand", "legal", "compliance"};
  }
}

common::v1::ApprovalTier TierEnum(int tier) {
  switch (tier) {
    case 0:
      return common::v1::APPROVAL_TIER_AUTO;
    case 1:
      return common::v1::APPROVAL_TIER_SINGLE_REVIEWER;
    case 2:
      return common::v1::APPROVAL_TIER_MULTI_REVIEWER;
    default:
      return common::v1::APPROVAL_TIER_EXECUTIVE;
  }
}

}  // namespace flywheel::routing
