#pragma once

#include <string>
#include <vector>

#include "flywheel/intake/v1/resources.pb.h"
#include "policy.h"

namespace flywheel::routing {

/// The approval path chosen for a request, with the rule that chose it.
struct TierDecision {
  int tier = 0;
  std::string approval_policy_id;
  std::vector<std::string> approval_steps;
  /// Empty when no rule matched and the policy's default applied.
  std::string rule_id;
  /// Why, in one sentence: `keyword "guarantee" in the title`.
  std::string explanation;
};

/// Applies the policy's tiering rules to `request`: every rule whose set
/// conditions (content category, channels, audience, claim keywords) all
/// hold matches, and the highest tier among them wins (ties: the earlier
/// rule); no match gives the default tier. Pure function; any thread.
TierDecision AssessTier(const Policy& policy, const intake::v1::Request& request);

/// Whether `keyword` occurs in `text` as a whole word or phrase,
/// case-insensitively. Pure function.
bool ContainsKeyword(const std::string& text, const std::string& keyword);

/// The request's channels as lowercase names without prefix (`social_paid`).
std::vector<std::string> ChannelNames(const intake::v1::Request& request);

}  // namespace flywheel::routing
