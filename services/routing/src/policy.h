#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "flywheel/common/v1/common.pb.h"
#include "flywheel/runtime/live_policy.h"

namespace flywheel::routing {

/// The tagging convention a scheduling/QA stage enforces on every link of
/// the asset: each link carries `utm_source`, `utm_medium` and
/// `utm_campaign`, each value matches `value_pattern`, and `utm_campaign`
/// also matches `campaign_pattern` (both full-match ECMAScript regexes).
struct UtmTagging {
  /// The request field holding the links, separated by whitespace or commas.
  std::string links_field = "asset_links";
  std::string value_pattern = "[a-z0-9]+(-[a-z0-9]+)*";
  std::string campaign_pattern = "[a-z0-9]+(-[a-z0-9]+)*";
};

/// One entry or exit condition of a stage.
struct StageCriterion {
  enum class Kind {
    /// The request field `argument` (a key of `spec.fields`, or `title`,
    /// `description`, `campaign_id`) is non-empty.
    kField,
    /// The artefact `argument` is listed in the request field `artefacts`
    /// (separated by whitespace or commas).
    kArtefact,
    /// A person confirms it in AdvanceStage (`confirmed_criterion_ids`).
    kChecklist,
    /// Every link in `utm.links_field` follows `utm`.
    kUtmTagging,
  };
  std::string id;
  Kind kind = Kind::kField;
  std::string argument;
  UtmTagging utm;
};

/// One stage of a workflow template.
struct StageTemplate {
  std::string id;
  common::v1::Stage stage = common::v1::STAGE_UNSPECIFIED;
  std::string owner_role;
  std::vector<StageCriterion> entry;
  std::vector<StageCriterion> exit;
  /// Zero means no stage timer.
  absl::Duration sla = absl::ZeroDuration();
  /// Skills the stage's assignee must have besides the rule's.
  std::vector<std::string> required_skills;
};

/// The ordered stages a kind of request goes through.
struct WorkflowTemplate {
  std::string id;
  std::vector<StageTemplate> stages;
};

enum class Strategy { kLeastLoaded, kRoundRobin };

/// A person of a team as the policy file declares them.
struct MemberSpec {
  std::string id;
  std::vector<std::string> skills;
  /// Empty serves every region.
  std::string region;
  int wip_limit = 0;
  bool on_leave = false;
};

struct TeamSpec {
  std::string id;
  Strategy strategy = Strategy::kLeastLoaded;
  int default_wip_limit = 3;
  std::vector<MemberSpec> members;
};

/// Picks the team of a request. Every non-empty list must contain the
/// request's value (any of the request's channels); the first rule whose
/// conditions all hold wins.
struct AssignmentRule {
  std::string id;
  std::vector<std::string> request_types;
  /// Channel enum names without prefix, lowercase: `email`, `social_paid`.
  std::vector<std::string> channels;
  /// The requester's region.
  std::vector<std::string> regions;
  /// Skills the owner must have.
  std::vector<std::string> skills;
  /// Whether only members serving the requester's region are eligible.
  bool match_region = false;
  std::string team;
};

/// Picks the approval tier from risk. Every condition that is set must hold;
/// among the rules that hold, the highest tier wins (ties: the earlier rule),
/// so an added low-risk rule can never mask a risky claim.
struct TieringRule {
  std::string id;
  /// The request's `content_category` field.
  std::vector<std::string> categories;
  std::vector<std::string> channels;
  /// `external` or `internal` (from `business_impact.external_audience`);
  /// empty matches both.
  std::string audience;
  /// Case-insensitive whole words or phrases searched in title, description
  /// and field values.
  std::vector<std::string> keywords;
  int tier = 0;
  std::string approval_policy_id;
};

/// The whole routing policy, as parsed from one file. Immutable once built;
/// shared between threads through `PolicyHolder`.
struct Policy {
  std::map<std::string, WorkflowTemplate> templates;
  /// request type -> template id.
  std::map<std::string, std::string> request_type_templates;
  std::string default_template;
  std::map<std::string, TeamSpec> teams;
  std::vector<AssignmentRule> assignment_rules;
  /// Empty: a request no rule matches waits unrouted.
  std::string default_team;
  std::vector<TieringRule> tiering_rules;
  int default_tier = 1;
  std::string default_approval_policy_id;

  /// The template for `request_type` (or the default one). Never null for a
  /// parsed policy.
  const WorkflowTemplate* TemplateFor(const std::string& request_type) const;
  const TeamSpec* FindTeam(const std::string& team_id) const;
};

/// The sign-offs a tier asks for: 0 none, 1 "reviewer", 2 "brand", "legal",
/// 3 "brand", "legal", "compliance".
std::vector<std::string> ApprovalSteps(int tier);
/// The ApprovalTier enum value of tier 0..3.
common::v1::ApprovalTier TierEnum(int tier);

/// The routing policy in force; see runtime::LivePolicy.
using PolicyHolder = runtime::LivePolicy<Policy>;

}  // namespace flywheel::routing
