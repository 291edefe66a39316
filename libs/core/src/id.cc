#include "flywheel/core/id.h"

#include <cstdint>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace flywheel {

std::string NewRandomId(std::string_view prefix) {
  // absl::BitGen is cheap to construct and seeded from the OS; one per
  // thread avoids any locking.
  thread_local absl::BitGen gen;
  const uint64_t hi = absl::Uniform<uint64_t>(gen);
  const uint64_t lo = absl::Uniform<uint64_t>(gen);
  std::string hex = absl::StrFormat("%016x%016x", hi, lo);
  return prefix.empty() ? hex : std::string(prefix) + "_" + hex;
}

}  // namespace flywheel
