#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "flywheel/common/v1/common.pb.h"
#include "flywheel/intake/v1/resources.pb.h"
#include "flywheel/runtime/live_policy.h"

namespace flywheel::intake {

/// One field of an intake form and the constraints on its value.
struct FieldRule {
  std::string key;
  v1::FieldKind kind = v1::FIELD_KIND_TEXT;
  bool required = false;
  /// The accepted values of a choice field.
  std::vector<std::string> allowed_values;
  /// The longest accepted text; 0 means `kDefaultMaxFieldLength`.
  size_t max_length = 0;
  /// For dates: the date must lie after now.
  bool future = false;
};

/// The text limit of a field whose rule names none.
inline constexpr size_t kDefaultMaxFieldLength = 4096;

/// A request type (intake form) with the defaults given to its requests.
/// Which workflow template it goes through is routing's to say (routing's
/// policy, `request_types`), not intake's.
struct RequestTypePolicy {
  std::string id;
  std::string display_name;
  std::vector<FieldRule> fields;
  common::v1::SlaClass sla_class = common::v1::SLA_CLASS_STANDARD;

  const FieldRule* FindField(const std::string& key) const;
};

/// One priority rule: when every set condition holds, the request gets
/// `priority` and `reason`. A rule has at least one condition.
struct PriorityRule {
  std::string id;
  std::optional<v1::ImpactLevel> impact_at_least;
  std::optional<v1::ImpactLevel> impact_at_most;
  std::optional<absl::Duration> due_within;
  std::optional<std::string> requester_tier;
  common::v1::Priority priority = common::v1::PRIORITY_P3;
  std::string reason;
};

/// How requests are ranked: ordered rules, the first match decides.
struct PriorityPolicy {
  common::v1::Priority default_priority = common::v1::PRIORITY_P3;
  std::string default_reason;
  /// Requester tier by `Requester.team`.
  absl::flat_hash_map<std::string, std::string> tiers;
  std::vector<PriorityRule> rules;
};

/// Everything intake's policy file says. Immutable once parsed; shared
/// between threads through `LivePolicy`.
struct Policy {
  /// Tenants allowed to use intake.
  absl::flat_hash_set<std::string> tenants;
  /// Request types in file order.
  std::vector<RequestTypePolicy> request_types;
  PriorityPolicy priority;
  /// The slowest SLA class each priority may get; priorities not listed
  /// keep their type's class.
  absl::flat_hash_map<common::v1::Priority, common::v1::SlaClass> sla_by_priority;

  const RequestTypePolicy* FindType(const std::string& id) const;
  /// Type ids, sorted, for error messages.
  std::vector<std::string> TypeIds() const;
};

/// The intake policy in force; see runtime::LivePolicy.
using LivePolicy = runtime::LivePolicy<Policy>;

}  // namespace flywheel::intake
