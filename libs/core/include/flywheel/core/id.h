#pragma once

#include <compare>
#include <string>
#include <utility>

#include "absl/hash/hash.h"

namespace flywheel {

/// A string id that only converts explicitly, so a `TenantId` can never be
/// passed where a `RequestId` is meant. `Tag` is an empty struct per kind.
template <typename Tag>
class StrongId {
 public:
  StrongId() = default;
  explicit StrongId(std::string value) : value_(std::move(value)) {}

  const std::string& value() const { return value_; }
  bool empty() const { return value_.empty(); }

  auto operator<=>(const StrongId&) const = default;

  template <typename H>
  friend H AbslHashValue(H h, const StrongId& id) {
    return H::combine(std::move(h), id.value_);
  }

 private:
  std::string value_;
};

using RequestId = StrongId<struct RequestIdTag>;
using TenantId = StrongId<struct TenantIdTag>;
using LeadId = StrongId<struct LeadIdTag>;
using EventId = StrongId<struct EventIdTag>;
/// A person: a principal's subject, an approver, a group member.
using UserId = StrongId<struct UserIdTag>;

/// A new random id: 32 lowercase hex characters (128 bits), prefixed with
/// `prefix` and an underscore when a prefix is given (`req_3f2a…`).
/// Thread-safe.
std::string NewRandomId(std::string_view prefix = {});

}  // namespace flywheel
