#include "policy.h"

#include <algorithm>

namespace flywheel::approval {
namespace {

void Add(std::vector<Designee>& out, const std::string& user, const std::string& group) {
  auto same = [&](const Designee& d) { return d.user == user; };
  if (std::none_of(out.begin(), out.end(), same)) out.push_back({user, group});
}

}  // namespace

const TenantSpec* Policy::FindTenant(const std::string& tenant_id) const {
  auto it = tenants.find(tenant_id);
  return it == tenants.end() ? nullptr : &it->second;
}

const ChainSpec* Policy::FindChain(const std::string& tenant_id,
                                   const std::string& policy_id) const {
  const TenantSpec* tenant = FindTenant(tenant_id);
  if (tenant == nullptr) return nullptr;
  auto it = tenant->chains.find(policy_id);
  return it == tenant->chains.end() ? nullptr : &it->second;
}

std::vector<Designee> Expand(const TenantSpec& tenant, const Approvers& approvers) {
  std::vector<Designee> out;
  for (const std::string& user : approvers.users) Add(out, user, "");
  for (const std::string& group : approvers.groups) {
    auto it = tenant.groups.find(group);
    if (it == tenant.groups.end()) continue;
    for (const std::string& user : it->second) Add(out, user, group);
  }
  return out;
}

}  // namespace flywheel::approval
