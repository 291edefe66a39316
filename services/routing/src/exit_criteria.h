#pragma once

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "flywheel/intake/v1/resources.pb.h"
#include "policy.h"

namespace flywheel::routing {

/// The value of a request field a criterion names: `title`, `description`,
/// `campaign_id`, or a key of `spec.fields`; empty when unset.
std::string FieldValue(const intake::v1::Request& request, const std::string& key);

/// Checks every link in `links_text` (separated by whitespace or commas)
/// against `rule`. OK, or FAILED_PRECONDITION naming the first problem:
/// `link https://x.test/?utm_source=a lacks utm_campaign`,
/// `link ...: utm_campaign "Spring_Sale" does not follow the naming
/// convention`, or `no links in asset_links`. Pure function.
absl::Status CheckUtmLinks(const std::string& links_text, const UtmTagging& rule);

/// Checks `criteria` of stage `stage_id` against the request and the
/// checklist items the caller confirmed. OK, or FAILED_PRECONDITION naming
/// the first unmet one: `exit criterion of scheduling_qa: link https://...
/// lacks utm_campaign`, `exit criterion of intake: field description is
/// empty`. `which` is "entry" or "exit". Pure function.
absl::Status CheckCriteria(const std::string& which, const std::string& stage_id,
                           const std::vector<StageCriterion>& criteria,
                           const intake::v1::Request& request,
                           const std::set<std::string>& confirmed);

}  // namespace flywheel::routing
