#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "flywheel/leadscoring/v1/resources.pb.h"
#include "flywheel/runtime/live_policy.h"

namespace flywheel::lead_scoring {

/// The contract's messages (package flywheel.leadscoring.v1).
namespace v1 = ::flywheel::leadscoring::v1;

/// At most `count` activities a rule scores per period; periods are fixed
/// windows of `per` counted from the Unix epoch, so every replica and every
/// replay puts an activity in the same one.
struct Cap {
  int count = 0;
  absl::Duration per = absl::ZeroDuration();
};

/// Points for what a lead does. All given patterns must match (fnmatch
/// globs); absent ones match anything.
struct EngagementRule {
  std::string id;
  std::string description;
  /// The LeadActivity.activity_type counted.
  std::string activity;
  /// Over attributes["url"].
  std::optional<std::string> url;
  /// Over campaign_id.
  std::optional<std::string> campaign;
  /// attribute key -> glob over its value.
  std::map<std::string, std::string> attributes;
  /// Per activity; negative penalises.
  int points = 0;
  std::optional<Cap> cap;
  /// False keeps the points at full weight for ever.
  bool decays = true;
  /// Score group; empty for none.
  std::string group;
};

/// Points for who a lead is; every given condition must hold.
struct FitRule {
  std::string id;
  std::string description;
  /// Each a list of globs, one of which must match the profile's value.
  std::vector<std::string> seniority, job_function, industry, country, job_title, email_domain;
  std::optional<int64_t> company_size_min, company_size_max;
  int points = 0;
};

/// A score group: its rules' points plus those of the groups it includes.
struct ScoreGroup {
  std::string id;
  std::string description;
  std::vector<std::string> includes;
};

/// One tenant's scoring model.
struct Model {
  std::string id;
  int64_t version = 0;
  /// Zero: no decay.
  absl::Duration half_life = absl::ZeroDuration();
  int mql = 0;
  int sql_ready = 0;
  absl::Duration requalify_cooldown = absl::ZeroDuration();
  /// Fit points for grades A, B and C; below C is D.
  int grade_a = 0, grade_b = 0, grade_c = 0;
  v1::AccountAggregate account_aggregate = v1::ACCOUNT_AGGREGATE_SUM;
  std::vector<ScoreGroup> groups;
  std::vector<EngagementRule> engagement;
  std::vector<FitRule> fit;

  /// The engagement rule `id`; nullptr when there is none.
  const EngagementRule* FindEngagement(const std::string& id) const;
  /// Every rule id a group counts: its own rules and those of the groups it
  /// includes, transitively (the parser refuses cycles).
  std::set<std::string> RulesOfGroup(const std::string& group) const;
  v1::ScoreBand BandOf(int score) const;
  v1::FitGrade GradeOf(int fit_points) const;
};

/// The whole policy file: the activity types accepted and a model per
/// tenant. Immutable once parsed; shared across threads.
struct Policy {
  std::set<std::string> activity_types;
  std::map<std::string, Model> tenants;

  /// The tenant's model; nullptr for a tenant the policy does not name.
  const Model* ModelFor(const std::string& tenant) const;
};

using PolicyHolder = runtime::LivePolicy<Policy>;

}  // namespace flywheel::lead_scoring
