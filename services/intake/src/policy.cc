#include "policy.h"

#include <algorithm>

namespace flywheel::intake {

const FieldRule* RequestTypePolicy::FindField(const std::string& key) const {
  for (const FieldRule& field : fields) {
    if (field.key == key) return &field;
  }
  return nullptr;
}

const RequestTypePolicy* Policy::FindType(const std::string& id) const {
  for (const RequestTypePolicy& type : request_types) {
    if (type.id == id) return &type;
  }
  return nullptr;
}

std::vector<std::string> Policy::TypeIds() const {
  std::vector<std::string> ids;
  ids.reserve(request_types.size());
  for (const RequestTypePolicy& type : request_types) ids.push_back(type.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace flywheel::intake
