#pragma once

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "policy.h"

namespace flywheel::intake {

/// Checks one form value against its rule; returns why it is refused, in
/// words a client can show to a person, or nullopt when it is fine. Required
/// fields are checked by the caller (an absent value never reaches here).
/// `now` judges `future` dates. Pure function; any thread.
std::optional<std::string> CheckFieldValue(const FieldRule& rule, const std::string& value,
                                           absl::Time now);

}  // namespace flywheel::intake
