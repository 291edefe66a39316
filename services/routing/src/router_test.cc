#include "router.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/container/flat_hash_map.h"
#include "flywheel/events/catalog.h"
#include "flywheel/intake/v1/events.pb.h"

namespace flywheel::routing {
namespace {

using ::testing::HasSubstr;

class FakeStore final : public RoutedStore {
 public:
  absl::Status Record(const RoutedRequest& request) override {
    if (!fail_with.ok()) return fail_with;
    records[request.tenant_id + "/" + request.request_id] = request;
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<RoutedRequest>> Find(const std::string& tenant_id,
                                                    const std::string& request_id) override {
    auto it = records.find(tenant_id + "/" + request_id);
    if (it == records.end()) return std::nullopt;
    return it->second;
  }
  absl::flat_hash_map<std::string, RoutedRequest> records;
  absl::Status fail_with;
};

kafka::ConsumedEvent Submitted(const std::string& request_id) {
  intake::v1::RequestSubmitted payload;
  payload.set_tenant_id("acme");
  payload.set_request_id(request_id);
  payload.mutable_request()->mutable_spec()->set_request_type_id("email");
  payload.mutable_request()->mutable_spec()->set_title("May newsletter");
  payload.mutable_request()->set_priority(common::v1::PRIORITY_P2);
  kafka::ConsumedEvent consumed;
  consumed.event.id = "evt_" + request_id;
  consumed.event.type = events::kRequestSubmitted;
  consumed.event.data = payload.SerializeAsString();
  return consumed;
}

class RouterTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  metrics::Metrics metrics_;
  RoutingMetrics routing_metrics_{metrics_};
  FakeStore store_;
  Router router_{store_, routing_metrics_, clock_};
};

TEST_F(RouterTest, SubmittedRequestIsRecordedAsRouted) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1")).ok());
  auto found = store_.Find("acme", "req_1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->request_type, "email");
  EXPECT_EQ((*found)->title, "May newsletter");
  EXPECT_EQ((*found)->priority, "PRIORITY_P2");
  EXPECT_EQ((*found)->event_id, "evt_req_1");
  EXPECT_EQ((*found)->routed_at, clock_.Now());
  EXPECT_THAT(metrics_.Render(),
              HasSubstr(R"(flywheel_routing_routed_requests_total{priority="PRIORITY_P2"} 1)"));
}

TEST_F(RouterTest, OtherEventTypesAreAcknowledgedUntouched) {
  kafka::ConsumedEvent cancelled = Submitted("req_2");
  cancelled.event.type = "dev.flywheel.request.cancelled.v1";
  EXPECT_TRUE(router_.Handle(cancelled).ok());
  EXPECT_TRUE(store_.records.empty());
}

TEST_F(RouterTest, UndecodablePayloadIsInvalidSoItIsDeadLettered) {
  kafka::ConsumedEvent garbage = Submitted("req_3");
  garbage.event.data = "\xff\xff\xff";
  absl::Status status = router_.Handle(garbage);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("not a flywheel.intake.v1.RequestSubmitted"));
  EXPECT_TRUE(store_.records.empty());
}

TEST_F(RouterTest, MissingIdsAreInvalid) {
  intake::v1::RequestSubmitted empty;
  kafka::ConsumedEvent consumed = Submitted("x");
  consumed.event.data = empty.SerializeAsString();
  EXPECT_EQ(router_.Handle(consumed).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RouterTest, StoreOutageIsPassedOnForRetry) {
  store_.fail_with = absl::UnavailableError("redis down");
  EXPECT_EQ(router_.Handle(Submitted("req_4")).code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace flywheel::routing
