#include "flywheel/kafka/record.h"

namespace flywheel::kafka {

std::optional<std::string_view> Record::header(std::string_view key) const {
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    if (it->key == key) return std::string_view(it->value);
  }
  return std::nullopt;
}

}  // namespace flywheel::kafka
