// The work joined to results (work_results.h) on members and outcomes
// written by hand.
#include "work_results.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "facts.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/core/proto_time.h"

namespace flywheel::reporting {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;

constexpr int64_t kHour = 3'600'000;
// Monday 2027-01-04 00:00 UTC.
const int64_t kMonday = 1'799'020'800'000;
const int64_t kWeekEnd = kMonday + 7 * 24 * kHour;

// A delivered member: team, type, channel, campaign, template, request,
// cycle time, due state, revisions, warned, breached.
std::pair<std::string, int64_t> Delivered(const std::string& request, const std::string& type,
                                          const std::string& campaign, int64_t hours, int due_state,
                                          int revisions, int64_t at = kMonday) {
  const std::string s(1, kSep);
  return {absl::StrCat("content", s, type, s, 1, s, campaign, s, "standard", s, request, s,
                       hours * kHour, s, due_state, s, revisions, s, 0, s, 0),
          at};
}

v1::CampaignOutcome Outcome(const std::string& key, int64_t leads, double mqls, int64_t spend,
                            int64_t revenue) {
  return OutcomeOf(key, leads, mqls, spend * 1e9, revenue * 1e9, "EUR");
}

class WorkResultsTest : public ::testing::Test {
 protected:
  WorkResultsTest() {
    // Spring has work of both types, webinar of blog posts only, r4 has no
    // campaign, autumn no work this week; r5 was delivered the week after.
    delivered_ = {Delivered("r1", "blog_post", "spring", 10, 1, 1),
                  Delivered("r2", "email", "spring", 20, 2, 0),
                  Delivered("r3", "blog_post", "webinar", 30, 1, 2),
                  Delivered("r4", "blog_post", "", 40, 0, 0),
                  Delivered("r5", "email", "autumn", 5, 1, 0, kWeekEnd)};
    *by_campaign_.add_outcomes() = Outcome("spring", 4, 2, 100, 300);
    *by_campaign_.add_outcomes() = Outcome("webinar", 1, 1, 50, 0);
    *by_campaign_.add_outcomes() = Outcome("autumn", 2, 1, 10, 90);
    *by_campaign_.add_outcomes() = Outcome("", 1, 0, 0, 0);
    by_campaign_.set_skipped_currency_rows(3);
  }

  std::map<std::string, v1::WorkResult> Results(const v1::ReportFilter& filter = {}) {
    response_ =
        WorkResults(delivered_, kMonday, kWeekEnd, filter, kRequestType, by_campaign_, "EUR");
    std::map<std::string, v1::WorkResult> out;
    for (const v1::WorkResult& r : response_.results()) out[r.key()] = r;
    return out;
  }

  Members delivered_;
  v1::ListCampaignOutcomesResponse by_campaign_;
  v1::GetWorkResultsResponse response_;
};

TEST_F(WorkResultsTest, EachCampaignIsSharedAmongItsDeliveredRequests) {
  std::map<std::string, v1::WorkResult> results = Results();
  ASSERT_EQ(results.size(), 2u);
  // Blog posts: r1, r3, r4 (10, 30, 40 h); half of spring, all of webinar.
  const v1::WorkResult& blog = results["blog_post"];
  EXPECT_EQ(blog.delivered(), 3);
  EXPECT_EQ(absl::ToInt64Hours(FromProtoDuration(blog.cycle_time().p50())), 30);
  EXPECT_EQ(absl::ToInt64Hours(FromProtoDuration(blog.cycle_time().p90())), 40);
  EXPECT_DOUBLE_EQ(blog.mean_revisions(), 1.0);
  EXPECT_DOUBLE_EQ(blog.on_time_rate(), 1.0);  // r4 has no due time
  EXPECT_EQ(blog.campaigns(), 2);
  EXPECT_DOUBLE_EQ(blog.leads(), 3.0);
  EXPECT_DOUBLE_EQ(blog.mqls(), 2.0);
  EXPECT_EQ(blog.spend().units(), 100);
  EXPECT_EQ(blog.revenue().units(), 150);
  EXPECT_DOUBLE_EQ(blog.roi(), 0.5);
  EXPECT_EQ(blog.revenue_per_request().units(), 50);
  // Email: r2 only (r5 is delivered after the range), late; half of spring.
  const v1::WorkResult& email = results["email"];
  EXPECT_EQ(email.delivered(), 1);
  EXPECT_DOUBLE_EQ(email.on_time_rate(), 0.0);
  EXPECT_EQ(email.campaigns(), 1);
  EXPECT_DOUBLE_EQ(email.leads(), 2.0);
  EXPECT_DOUBLE_EQ(email.mqls(), 1.0);
  EXPECT_EQ(email.spend().units(), 50);
  EXPECT_EQ(email.revenue().units(), 150);
  EXPECT_DOUBLE_EQ(email.roi(), 2.0);
  EXPECT_EQ(email.revenue_per_request().units(), 150);
  // Autumn had no work delivered this week, "" is activity without a
  // campaign: nobody's.
  const v1::CampaignOutcome& without = response_.without_work();
  EXPECT_EQ(without.leads(), 3);
  EXPECT_DOUBLE_EQ(without.mqls(), 1.0);
  EXPECT_EQ(without.spend().units(), 10);
  EXPECT_EQ(without.revenue().units(), 90);
  EXPECT_EQ(response_.skipped_currency_rows(), 3);
}

TEST_F(WorkResultsTest, AFilterHidesGroupsWithoutMovingOutcomesBetweenThem) {
  v1::ReportFilter emails;
  emails.add_request_type_ids("email");
  std::map<std::string, v1::WorkResult> results = Results(emails);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results["email"].revenue().units(), 150);
  EXPECT_DOUBLE_EQ(results["email"].mqls(), 1.0);
}

TEST_F(WorkResultsTest, TheGroupByIsRequestTypeTemplateOrChannel) {
  EXPECT_EQ(*WorkGroupBy("", "group_by"), kRequestType);
  EXPECT_EQ(*WorkGroupBy("template", "group_by"), kTemplate);
  EXPECT_EQ(*WorkGroupBy("channel", "group_by"), kChannel);
  auto team = WorkGroupBy("team", "group_by");
  EXPECT_EQ(team.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(FieldViolationsOf(team.status()),
              ElementsAre(Field(&FieldViolation::field, "group_by")));
  v1::GetWorkResultsResponse by_template =
      WorkResults(delivered_, kMonday, kWeekEnd, {}, kTemplate, by_campaign_, "EUR");
  ASSERT_EQ(by_template.results_size(), 1);
  EXPECT_EQ(by_template.results(0).key(), "standard");
  EXPECT_EQ(by_template.results(0).revenue().units(), 300);
  EXPECT_DOUBLE_EQ(by_template.results(0).leads(), 5.0);
}

}  // namespace
}  // namespace flywheel::reporting
