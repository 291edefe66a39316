#include "assignment.h"

#include <algorithm>

#include "absl/strings/str_join.h"
#include "tiering.h"

namespace flywheel::routing {
namespace {

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

TeamChoice ChooseTeam(const Policy& policy, const intake::v1::Request& request) {
  const std::string& type = request.spec().request_type_id();
  const std::string& region = request.spec().requester().region();
  const std::vector<std::string> channels = ChannelNames(request);
  for (const AssignmentRule& rule : policy.assignment_rules) {
    if (!rule.request_types.empty() && !Contains(rule.request_types, type)) continue;
    if (!rule.regions.empty() && !Contains(rule.regions, region)) continue;
    if (!rule.channels.empty() &&
        std::none_of(channels.begin(), channels.end(),
                     [&](const std::string& c) { return Contains(rule.channels, c); })) {
      continue;
    }
    return {.team_id = rule.team,
            .rule_id = rule.id,
            .skills = rule.skills,
            .region = rule.match_region ? region : "",
            .explanation = "assignment rule " + rule.id + " matched request type " + type};
  }
  if (policy.default_team.empty()) return {.explanation = "no assignment rule matched"};
  return {.team_id = policy.default_team,
          .explanation = "no assignment rule matched; default team"};
}

Eligibility EligibleMembers(const std::vector<MemberSpec>& roster,
                            const std::vector<std::string>& skills, const std::string& region) {
  Eligibility out;
  if (roster.empty()) {
    out.reason = "team has no members";
    return out;
  }
  bool anyone_present = false;
  for (const MemberSpec& m : roster) {
    if (m.on_leave) continue;
    anyone_present = true;
    if (!region.empty() && !m.region.empty() && m.region != region) continue;
    if (!std::all_of(skills.begin(), skills.end(),
                     [&](const std::string& s) { return Contains(m.skills, s); })) {
      continue;
    }
    out.candidates.push_back({.id = m.id, .wip_limit = m.wip_limit});
  }
  std::sort(out.candidates.begin(), out.candidates.end(),
            [](const Candidate& a, const Candidate& b) { return a.id < b.id; });
  if (!out.candidates.empty()) return out;
  if (!anyone_present) {
    out.reason = "everyone on leave";
  } else {
    out.reason = "no available member";
    if (!skills.empty()) out.reason += " has skills " + absl::StrJoin(skills, ", ");
    if (!region.empty())
      out.reason += (skills.empty() ? "" : " and") + (" serves region " + region);
  }
  return out;
}

std::vector<MemberSpec> EffectiveRoster(
    const TeamSpec& team, const std::map<std::string, std::optional<MemberSpec>>& overrides) {
  std::map<std::string, MemberSpec> by_id;
  for (const MemberSpec& m : team.members) by_id[m.id] = m;
  for (const auto& [id, member] : overrides) {
    if (member.has_value()) {
      by_id[id] = *member;
    } else {
      by_id.erase(id);
    }
  }
  std::vector<MemberSpec> out;
  for (auto& [id, m] : by_id) {
    if (m.wip_limit <= 0) m.wip_limit = team.default_wip_limit;
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<std::string> PickMember(Strategy strategy, const std::vector<Candidate>& candidates,
                                      const std::map<std::string, int>& loads,
                                      const std::string& last_assigned) {
  auto load_of = [&](const std::string& id) {
    auto it = loads.find(id);
    return it == loads.end() ? 0 : it->second;
  };
  if (candidates.empty()) return std::nullopt;
  if (strategy == Strategy::kRoundRobin) {
    size_t start = 0;
    while (start < candidates.size() && candidates[start].id <= last_assigned) ++start;
    for (size_t k = 0; k < candidates.size(); ++k) {
      const Candidate& c = candidates[(start + k) % candidates.size()];
      if (load_of(c.id) < c.wip_limit) return c.id;
    }
    return std::nullopt;
  }
  std::optional<std::string> best;
  int best_load = 0;
  for (const Candidate& c : candidates) {
    const int load = load_of(c.id);
    if (load >= c.wip_limit) continue;
    if (!best || load < best_load) {
      best = c.id;
      best_load = load;
    }
  }
  return best;
}

}  // namespace flywheel::routing
