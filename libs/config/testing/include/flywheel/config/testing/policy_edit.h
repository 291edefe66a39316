#pragma once

#include <gtest/gtest.h>

#include <string>

#include "absl/status/statusor.h"

namespace flywheel::config::testing {

/// `text` with the first `from` replaced by `to`, for tests that break one
/// thing in a good policy; a test failure when `from` is not in `text`.
inline std::string ReplaceOnce(std::string text, const std::string& from, const std::string& to) {
  const size_t pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) text.replace(pos, from.size(), to);
  return text;
}

/// The message of a policy parse that must be refused: a test failure unless
/// `parsed` is INVALID_ARGUMENT (what config::ReadPolicy answers for a bad
/// file).
template <typename Policy>
std::string InvalidPolicyMessage(const absl::StatusOr<Policy>& parsed) {
  EXPECT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

}  // namespace flywheel::config::testing
