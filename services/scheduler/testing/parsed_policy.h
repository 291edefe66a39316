#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "policy_parser.h"

namespace flywheel::scheduler::testing {

/// The policy `yaml` describes, for a unit test; an empty policy, and a
/// test failure, when it does not parse.
inline std::shared_ptr<const Policy> ParsedPolicy(const std::string& yaml) {
  auto policy = ParsePolicy(yaml);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return std::make_shared<const Policy>(policy.ok() ? *std::move(policy) : Policy{});
}

}  // namespace flywheel::scheduler::testing
