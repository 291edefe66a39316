#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "flywheel/intake/v1/resources.pb.h"
#include "policy.h"

namespace flywheel::routing {

/// The team a request goes to, with the rule that chose it.
struct TeamChoice {
  /// Empty when no rule matched and the policy has no default team.
  std::string team_id;
  /// Empty when the default team applied.
  std::string rule_id;
  /// Skills the owner must have (from the rule).
  std::vector<std::string> skills;
  /// The requester's region when the rule asks for a member serving it.
  std::string region;
  std::string explanation;
};

/// Tries the assignment rules in order; the first whose set conditions
/// (request type, channels, requester region) all hold wins, else the
/// default team. Pure function; any thread.
TeamChoice ChooseTeam(const Policy& policy, const intake::v1::Request& request);

/// A member who may take the task, with their WIP limit.
struct Candidate {
  std::string id;
  int wip_limit = 0;
  bool operator==(const Candidate&) const = default;
};

/// Who may take a task, or why nobody may.
struct Eligibility {
  /// Sorted by id.
  std::vector<Candidate> candidates;
  /// Set when `candidates` is empty: "team has no members", "everyone on
  /// leave", "no available member has skills video" ...
  std::string reason;
};

/// Filters `roster` to members not on leave who have every skill of
/// `skills` and serve `region` (empty: any). Pure function.
Eligibility EligibleMembers(const std::vector<MemberSpec>& roster,
                            const std::vector<std::string>& skills, const std::string& region);

/// The team's members as the policy declares them, changed by the runtime
/// overrides (JoinTeam, UpdateMember, LeaveTeam): an override replaces the
/// member of the same id, adds a new one, or (nullopt) removes it. Sorted
/// by id. Pure function.
std::vector<MemberSpec> EffectiveRoster(
    const TeamSpec& team, const std::map<std::string, std::optional<MemberSpec>>& overrides);

/// The reference implementation of the pick that the Redis script makes
/// atomically (and the in-memory fake uses): least_loaded takes the
/// candidate with the fewest open tasks below their limit, ties by id;
/// round_robin takes the first candidate after `last_assigned` in id order
/// (wrapping) below their limit. nullopt when everyone is at their limit.
std::optional<std::string> PickMember(Strategy strategy, const std::vector<Candidate>& candidates,
                                      const std::map<std::string, int>& loads,
                                      const std::string& last_assigned);

/// The queue reason when candidates exist but none is below their limit.
inline constexpr char kAllAtWipLimit[] = "all members at WIP limit";
/// The queue reason when no rule matched and there is no default team.
inline constexpr char kNoTeamMatches[] = "no team matches";

}  // namespace flywheel::routing
