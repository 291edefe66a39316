#include "request_store.h"

#include <cstdio>

namespace flywheel::intake {

std::string IndexMember(const v1::Request& request) {
  // Scanned from the largest member down, so the newest comes first. The
  // time is written as 20 digits so byte order is time order.
  const int64_t micros =
      request.create_time().seconds() * 1'000'000 + request.create_time().nanos() / 1000;
  char digits[24];
  std::snprintf(digits, sizeof(digits), "%020lld", static_cast<long long>(micros));
  return std::string(digits) + ":" + request.request_id();
}

}  // namespace flywheel::intake
