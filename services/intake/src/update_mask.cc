#include "update_mask.h"

#include "absl/strings/match.h"

namespace flywheel::intake {

std::vector<std::string> ApplyUpdateMask(const v1::RequestSpec& patch,
                                         const google::protobuf::FieldMask& mask,
                                         v1::RequestSpec& target, FieldErrors& errors) {
  std::vector<std::string> applied;
  if (mask.paths().empty()) {
    errors.Add("update_mask", "is required: name the spec paths to change");
    return applied;
  }
  for (const std::string& path : mask.paths()) {
    if (path == "title") {
      target.set_title(patch.title());
    } else if (path == "description") {
      target.set_description(patch.description());
    } else if (path == "fields") {
      *target.mutable_fields() = patch.fields();
    } else if (absl::StartsWith(path, "fields.") && path.size() > 7) {
      const std::string key = path.substr(7);
      auto value = patch.fields().find(key);
      if (value == patch.fields().end()) {
        target.mutable_fields()->erase(key);
      } else {
        (*target.mutable_fields())[key] = value->second;
      }
    } else if (path == "requester") {
      *target.mutable_requester() = patch.requester();
    } else if (path == "due_time") {
      if (patch.has_due_time()) {
        *target.mutable_due_time() = patch.due_time();
      } else {
        target.clear_due_time();
      }
    } else if (path == "business_impact") {
      *target.mutable_business_impact() = patch.business_impact();
    } else if (path == "campaign_id") {
      target.set_campaign_id(patch.campaign_id());
    } else if (path == "channels") {
      *target.mutable_channels() = patch.channels();
    } else if (path == "tags") {
      *target.mutable_tags() = patch.tags();
    } else if (path == "request_type_id") {
      errors.Add("update_mask", "request_type_id cannot be changed; cancel and submit anew");
      continue;
    } else {
      errors.Add("update_mask", "unknown or read-only path '" + path + "'");
      continue;
    }
    applied.push_back(path);
  }
  return applied;
}

bool UnderChangedPath(const std::string& violation_field, const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    const std::string full = "spec." + path;
    if (violation_field == full || absl::StartsWith(violation_field, full + ".")) return true;
  }
  return false;
}

}  // namespace flywheel::intake
