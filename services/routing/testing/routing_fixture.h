#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "assigner.h"
#include "fake_workflow_store.h"
#include "flywheel/core/clock.h"
#include "flywheel/kafka/testing/recording_publisher.h"
#include "flywheel/metrics/metrics.h"
#include "flywheel/outbox/testing/in_memory_outbox.h"
#include "policy_parser.h"
#include "router.h"
#include "routing_metrics.h"
#include "workflow_ops.h"

namespace flywheel::routing::testing {

/// Routing's domain objects on in-memory fakes, for unit tests: the policy
/// parsed from the YAML a test names, a fake clock, the fake store with an
/// in-memory outbox whose published events `publisher_` records (topics
/// "wf", "timers", "capacity"), and the Router and WorkflowOps on them.
class RoutingFixture : public ::testing::Test {
 protected:
  explicit RoutingFixture(const std::string& policy_yaml) : policy_(Parsed(policy_yaml)) {}

  /// acme's stored workflow of `request_id`; a failure when there is none.
  StoredWorkflow Stored(const std::string& request_id) {
    auto found = store_.Find("acme", request_id);
    EXPECT_TRUE(found.ok() && found->has_value()) << request_id;
    return found.ok() && found->has_value() ? **found : StoredWorkflow{};
  }

  /// Open tasks of `member` in acme's `team`.
  int LoadOf(const std::string& team, const std::string& member) {
    auto loads = store_.Loads("acme", team);
    return loads.ok() && loads->count(member) ? loads->at(member) : 0;
  }

  FakeClock clock_;
  metrics::Metrics metrics_;
  RoutingMetrics routing_metrics_{metrics_};
  kafka::testing::RecordingPublisher publisher_;
  outbox::testing::InMemoryOutbox outbox_{publisher_};
  FakeWorkflowStore store_{outbox_};
  PolicyHolder policy_;
  Assigner assigner_{store_, publisher_, outbox_, routing_metrics_, {"wf", "timers", "capacity"}};
  Router router_{policy_, assigner_, clock_};
  WorkflowOps ops_{policy_, assigner_, clock_};

 private:
  static std::shared_ptr<const Policy> Parsed(const std::string& yaml) {
    auto p = ParsePolicy(yaml);
    EXPECT_TRUE(p.ok()) << p.status();
    return std::make_shared<const Policy>(p.ok() ? *std::move(p) : Policy{});
  }
};

}  // namespace flywheel::routing::testing
