#pragma once

#include <string>
#include <vector>

#include "flywheel/core/field_errors.h"
#include "flywheel/intake/v1/resources.pb.h"
#include "google/protobuf/field_mask.pb.h"

namespace flywheel::intake {

/// Copies the parts of `patch` named by `mask` into `target` and returns the
/// paths applied. Paths: title, description, fields (the whole map),
/// fields.<key> (one value; absent in `patch` removes it), requester,
/// due_time, business_impact, campaign_id, channels, tags. A missing mask,
/// `request_type_id` or any other path is a violation on `update_mask`.
/// Pure function.
std::vector<std::string> ApplyUpdateMask(const v1::RequestSpec& patch,
                                         const google::protobuf::FieldMask& mask,
                                         v1::RequestSpec& target, FieldErrors& errors);

/// Whether the violation's field (`spec.fields.budget`) lies under one of
/// the changed paths (`fields.budget`, `fields`).
bool UnderChangedPath(const std::string& violation_field, const std::vector<std::string>& paths);

}  // namespace flywheel::intake
