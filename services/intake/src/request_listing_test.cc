#include "request_listing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flywheel/async/testing/await.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/kafka/testing/recording_publisher.h"
#include "flywheel/outbox/testing/in_memory_outbox.h"
#include "in_memory_request_store.h"

namespace flywheel::intake {
namespace {

using async::testing::Await;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

class ListRequestsTest : public ::testing::Test {
 protected:
  // Request i is created i seconds after kNow - 1h; odd ones are emails by
  // "bob", even ones blog posts by "ann"; every third is cancelled.
  void SetUp() override {
    for (int i = 0; i < 25; ++i) Add("acme", i);
    Add("globex", 100);
  }

  void Add(const std::string& tenant, int i) {
    v1::Request r;
    r.set_tenant_id(tenant);
    r.set_request_id("req_" + std::to_string(1000 + i));
    r.set_idempotency_key("k" + std::to_string(i));
    r.mutable_create_time()->set_seconds(absl::ToUnixSeconds(kNow - absl::Hours(1)) + i);
    r.mutable_spec()->set_request_type_id(i % 2 ? "email" : "blog_post");
    r.mutable_spec()->mutable_requester()->set_user_id(i % 2 ? "bob" : "ann");
    r.set_status(i % 3 == 0 ? v1::REQUEST_STATUS_CANCELLED : v1::REQUEST_STATUS_SUBMITTED);
    std::vector<kafka::OutgoingEvent> none;
    ASSERT_TRUE(Await(store_.Create(r, "fp", none, absl::Hours(1))).ok());
  }

  // Every id over all pages, and how many pages it took.
  std::vector<std::string> All(v1::ListRequestsRequest query, int* pages, size_t budget = 5000) {
    std::vector<std::string> ids;
    *pages = 0;
    do {
      auto page = Await(ListRequests(store_, query, kNow, budget));
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      ++*pages;
      for (const auto& r : page->requests()) ids.push_back(r.request_id());
      query.set_page_token(page->next_page_token());
    } while (!query.page_token().empty() && *pages < 100);
    return ids;
  }

  kafka::testing::RecordingPublisher publisher_;
  outbox::testing::InMemoryOutbox outbox_{publisher_};
  InMemoryRequestStore store_{outbox_};
};

TEST_F(ListRequestsTest, PagesThroughEverythingNewestFirstWithoutGapsOrRepeats) {
  v1::ListRequestsRequest query;
  query.set_tenant_id("acme");
  query.set_page_size(10);
  int pages = 0;
  std::vector<std::string> ids = All(query, &pages);
  ASSERT_EQ(ids.size(), 25u);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(ids.front(), "req_1024");
  EXPECT_EQ(ids.back(), "req_1000");
  EXPECT_TRUE(std::is_sorted(ids.rbegin(), ids.rend()));
}

TEST_F(ListRequestsTest, ExactlyFullLastPageHasNoToken) {
  v1::ListRequestsRequest query;
  query.set_tenant_id("acme");
  query.set_page_size(25);
  auto page = Await(ListRequests(store_, query, kNow));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->requests_size(), 25);
  EXPECT_EQ(page->next_page_token(), "");
}

TEST_F(ListRequestsTest, FiltersByStatusTypeAndRequester) {
  v1::ListRequestsRequest query;
  query.set_tenant_id("acme");
  query.set_page_size(2);
  query.add_statuses(v1::REQUEST_STATUS_SUBMITTED);
  query.add_request_type_ids("email");
  query.set_requester_user_id("bob");
  int pages = 0;
  // Odd and not a multiple of 3: 1 5 7 11 13 17 19 23.
  EXPECT_THAT(All(query, &pages),
              ::testing::ElementsAre("req_1023", "req_1019", "req_1017", "req_1013", "req_1011",
                                     "req_1007", "req_1005", "req_1001"));
}

TEST_F(ListRequestsTest, SmallScanBudgetStillReachesEverythingThroughShortPages) {
  v1::ListRequestsRequest query;
  query.set_tenant_id("acme");
  query.set_page_size(50);
  query.add_request_type_ids("email");
  int pages = 0;
  std::vector<std::string> ids = All(query, &pages, /*budget=*/4);
  EXPECT_EQ(ids.size(), 12u);
  EXPECT_GT(pages, 5);
}

TEST_F(ListRequestsTest, OtherTenantsRequestsNeverAppear) {
  v1::ListRequestsRequest query;
  query.set_tenant_id("globex");
  int pages = 0;
  EXPECT_THAT(All(query, &pages), ::testing::ElementsAre("req_1100"));
}

TEST_F(ListRequestsTest, TokenIsBoundToTheFilters) {
  v1::ListRequestsRequest query;
  query.set_tenant_id("acme");
  query.set_page_size(5);
  auto first = Await(ListRequests(store_, query, kNow));
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(first->next_page_token().empty());
  query.set_page_token(first->next_page_token());
  query.add_statuses(v1::REQUEST_STATUS_CANCELLED);
  auto reused = Await(ListRequests(store_, query, kNow));
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(FieldViolationsOf(reused.status()).size(), 1u);
  EXPECT_EQ(FieldViolationsOf(reused.status())[0].field, "page_token");
}

TEST_F(ListRequestsTest, TokenExpiresAfterADay) {
  v1::ListRequestsRequest query;
  query.set_tenant_id("acme");
  query.set_page_size(5);
  auto first = Await(ListRequests(store_, query, kNow));
  ASSERT_TRUE(first.ok());
  query.set_page_token(first->next_page_token());
  EXPECT_TRUE(Await(ListRequests(store_, query, kNow + absl::Hours(23))).ok());
  auto late = Await(ListRequests(store_, query, kNow + absl::Hours(25)));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(late.status().message(), ::testing::HasSubstr("expired"));
}

TEST_F(ListRequestsTest, GarbageTokenAndNegativePageSizeAreRefused) {
  v1::ListRequestsRequest query;
  query.set_tenant_id("acme");
  query.set_page_token("not a token!");
  EXPECT_EQ(Await(ListRequests(store_, query, kNow)).status().code(),
            absl::StatusCode::kInvalidArgument);
  query.set_page_token("");
  query.set_page_size(-1);
  EXPECT_EQ(Await(ListRequests(store_, query, kNow)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ListRequestsTest, StoreOutageIsReturned) {
  store_.fail_with = absl::UnavailableError("down");
  v1::ListRequestsRequest query;
  query.set_tenant_id("acme");
  EXPECT_EQ(Await(ListRequests(store_, query, kNow)).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace flywheel::intake
