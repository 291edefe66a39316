#include "scoring.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flywheel/core/proto_time.h"
#include "policy_parser.h"

namespace flywheel::lead_scoring {
namespace {

constexpr char kPolicy[] = R"yaml(
activity_types: [page_viewed, form_submitted, unsubscribed, demo_requested]
tenants:
  acme:
    model:
      id: m1
      version: 1
      half_life: 10d
      mql: 50
      sql_ready: 80
      requalify_cooldown: 30d
      grades: {a: 30, b: 20, c: 10}
      groups:
        web: {}
        all: {includes: [web]}
      engagement:
        - {id: pricing, activity: page_viewed, url: "*/pricing*", points: 10,
           cap: {count: 2, per: 1d}, group: web}
        - {id: form, activity: form_submitted, points: 40}
        - {id: demo, activity: demo_requested, points: 50, decays: false}
        - {id: unsub, activity: unsubscribed, points: -40, decays: false}
      fit:
        - {id: vp, seniority: [vp, c_level], points: 20}
        - {id: rival, email_domain: ["rival.test"], points: -100}
)yaml";

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

class ScoringTest : public ::testing::Test {
 protected:
  ScoringTest() {
    auto policy = ParsePolicy(kPolicy);
    EXPECT_TRUE(policy.ok()) << policy.status();
    policy_ = *std::move(policy);
    model_ = *policy_.ModelFor("acme");
  }

  stored::StoredActivity Add(const std::string& id, const std::string& type, absl::Time at,
                             const std::string& url = "") {
    v1::LeadActivity a;
    a.set_activity_id(id);
    a.set_activity_type(type);
    *a.mutable_occur_time() = ToProtoTime(at);
    if (!url.empty()) (*a.mutable_attributes())["url"] = url;
    stored::StoredActivity entry = AddActivity(model_, state_, a);
    history_.insert(history_.begin(), entry);
    return entry;
  }

  double Engagement(absl::Time at) {
    // The unrounded engagement, from the explanation.
    v1::LeadScore score = ScoreAt(model_, state_, at, {.max_contributions = 100});
    double sum = 0;
    for (const auto& c : score.contributions()) sum += c.points();
    return sum;
  }

  Policy policy_;
  Model model_;
  stored::StoredLead state_;
  std::vector<stored::StoredActivity> history_;
};

TEST_F(ScoringTest, PointsAddUpAndACapLimitsScoringActivitiesPerPeriod) {
  Add("a1", "page_viewed", kStart, "https://acme.test/pricing");
  Add("a2", "page_viewed", kStart + absl::Minutes(1), "https://acme.test/pricing/team");
  stored::StoredActivity third =
      Add("a3", "page_viewed", kStart + absl::Minutes(2), "https://acme.test/pricing");
  Add("a4", "page_viewed", kStart + absl::Minutes(3), "https://acme.test/blog");
  ASSERT_EQ(third.scored_size(), 1);
  EXPECT_EQ(third.scored(0).points(), 0);  // the day's cap of two is full
  v1::LeadScore score =
      ScoreAt(model_, state_, kStart + absl::Minutes(3), {.max_contributions = 9});
  EXPECT_EQ(score.engagement_score(), 20);
  ASSERT_EQ(score.contributions_size(), 1);
  EXPECT_EQ(score.contributions(0).occurrences(), 2u);
  EXPECT_EQ(score.contributions(0).capped(), 1u);
  // The next day's period has room again.
  Add("a5", "page_viewed", kStart + absl::Hours(24), "https://acme.test/pricing");
  EXPECT_EQ(state_.rules().at("pricing").count(), 3u);
}

TEST_F(ScoringTest, DecayHalvesPointsEachHalfLifeExactlyWhateverTheOrder) {
  Add("f1", "form_submitted", kStart);
  Add("f2", "form_submitted", kStart + absl::Hours(24 * 10));
  // An older activity arriving late counts as if it had come in order.
  Add("f0", "form_submitted", kStart - absl::Hours(24 * 10));
  const absl::Time read = kStart + absl::Hours(24 * 20);
  EXPECT_NEAR(Engagement(read), 40 * (0.125 + 0.25 + 0.5), 1e-9);
  EXPECT_EQ(ScoreAt(model_, state_, read).engagement_score(), 35);
}

TEST_F(ScoringTest, NegativeAndNonDecayingPointsKeepTheirWeight) {
  Add("d1", "demo_requested", kStart);
  Add("u1", "unsubscribed", kStart);
  Add("f1", "form_submitted", kStart);
  const absl::Time later = kStart + absl::Hours(24 * 10);
  EXPECT_NEAR(Engagement(later), 50 - 40 + 20, 1e-9);
}

TEST_F(ScoringTest, FitGradeAndGroupsComeFromTheProfileAndRules) {
  v1::LeadProfile profile;
  profile.set_seniority("vp");
  profile.set_account_id("acct-1");
  state_.set_profile(profile.SerializeAsString());
  Add("a1", "page_viewed", kStart, "https://acme.test/pricing");
  v1::LeadScore score = ScoreAt(model_, state_, kStart, {.max_contributions = 10});
  EXPECT_EQ(score.fit_score(), 20);
  EXPECT_EQ(score.grade(), v1::FIT_GRADE_B);
  EXPECT_EQ(score.score(), 30);
  EXPECT_EQ(score.account_id(), "acct-1");
  ASSERT_EQ(score.group_scores_size(), 2);
  EXPECT_EQ(score.group_scores(0).score(), 10);  // web
  EXPECT_EQ(score.group_scores(1).score(), 10);  // all includes web
  ASSERT_EQ(score.contributions_size(), 2);
  EXPECT_EQ(score.contributions(0).rule_id(), "vp");
  EXPECT_EQ(score.contributions(0).component(), v1::SCORE_COMPONENT_FIT);

  (*profile.mutable_attributes())["email_domain"] = "rival.test";
  state_.set_profile(profile.SerializeAsString());
  EXPECT_EQ(ScoreAt(model_, state_, kStart).fit_score(), -80);
  EXPECT_EQ(ScoreAt(model_, state_, kStart).grade(), v1::FIT_GRADE_D);
}

TEST_F(ScoringTest, ExplanationListsTheActivitiesBehindARuleDecayed) {
  Add("f1", "form_submitted", kStart);
  Add("f2", "form_submitted", kStart + absl::Hours(24 * 10));
  v1::LeadScore score = ScoreAt(model_, state_, kStart + absl::Hours(24 * 10),
                                {.max_contributions = 5, .history = &history_});
  ASSERT_EQ(score.contributions_size(), 1);
  const v1::ScoreContribution& c = score.contributions(0);
  EXPECT_EQ(c.raw_points(), 80);
  EXPECT_NEAR(c.points(), 60, 1e-9);
  ASSERT_EQ(c.activities_size(), 2);
  EXPECT_EQ(c.activities(0).activity_id(), "f2");  // newest first
  EXPECT_NEAR(c.activities(0).points(), 40, 1e-9);
  EXPECT_NEAR(c.activities(1).points(), 20, 1e-9);
}

TEST_F(ScoringTest, AVisitorsEngagementMergesIntoTheLead) {
  stored::StoredLead visitor;
  v1::LeadActivity a;
  a.set_activity_id("v1");
  a.set_activity_type("form_submitted");
  *a.mutable_occur_time() = ToProtoTime(kStart);
  AddActivity(model_, visitor, a);
  Add("f2", "form_submitted", kStart + absl::Hours(24 * 10));
  MergeInto(model_, state_, visitor);
  EXPECT_NEAR(Engagement(kStart + absl::Hours(24 * 10)), 40 + 20, 1e-9);
  EXPECT_EQ(state_.rules().at("form").count(), 2u);
}

TEST_F(ScoringTest, QualifiesOncePerVersionAndNotAgainAfterAFlap) {
  Add("f1", "form_submitted", kStart);
  Handoff first = Evaluate(model_, state_, kStart);
  EXPECT_FALSE(first.hand_off);
  EXPECT_FALSE(first.band_changed);  // a new lead starts cold
  Add("f2", "form_submitted", kStart);
  Handoff second = Evaluate(model_, state_, kStart);
  EXPECT_TRUE(second.hand_off);
  EXPECT_TRUE(second.band_changed);
  EXPECT_EQ(second.previous_band, v1::SCORE_BAND_COLD);
  EXPECT_EQ(second.score.band(), v1::SCORE_BAND_SQL_READY);
  EXPECT_EQ(second.score.contributions_size(), 1);  // the top reasons
  // Falls below with decay, then rises again: no second hand-off.
  Handoff fell = Evaluate(model_, state_, kStart + absl::Hours(24 * 10));
  EXPECT_TRUE(fell.band_changed);
  EXPECT_EQ(fell.score.band(), v1::SCORE_BAND_COLD);
  Add("f3", "form_submitted", kStart + absl::Hours(24 * 10));
  Handoff rose = Evaluate(model_, state_, kStart + absl::Hours(24 * 10));
  EXPECT_TRUE(rose.band_changed);
  EXPECT_FALSE(rose.hand_off);
  EXPECT_TRUE(rose.score.qualified());

  // A new model version within the cool-down qualifies silently; after it,
  // with a hand-off.
  model_.version = 2;
  Handoff v2 = Evaluate(model_, state_, kStart + absl::Hours(24 * 10));
  EXPECT_FALSE(v2.hand_off);
  EXPECT_TRUE(v2.score.qualified());
  model_.version = 3;
  Add("d1", "demo_requested", kStart + absl::Hours(24 * 40));
  Handoff v3 = Evaluate(model_, state_, kStart + absl::Hours(24 * 40));
  EXPECT_TRUE(v3.hand_off);
}

TEST_F(ScoringTest, ReplayOfTheHistoryGivesTheSameScore) {
  Add("a1", "page_viewed", kStart, "https://acme.test/pricing");
  Add("a2", "page_viewed", kStart + absl::Minutes(1), "https://acme.test/pricing");
  Add("a3", "page_viewed", kStart + absl::Minutes(2), "https://acme.test/pricing");
  Add("f1", "form_submitted", kStart + absl::Hours(30));
  Add("u1", "unsubscribed", kStart + absl::Hours(31));
  const absl::Time read = kStart + absl::Hours(24 * 5);
  stored::StoredLead replayed = Replay(model_, state_, history_);
  EXPECT_NEAR(ScoreAt(model_, replayed, read, {.max_contributions = 9}).contributions(0).points(),
              ScoreAt(model_, state_, read, {.max_contributions = 9}).contributions(0).points(),
              1e-9);
  EXPECT_EQ(ScoreAt(model_, replayed, read).score(), ScoreAt(model_, state_, read).score());
  // A candidate without the cap scores the third pricing view too.
  Model candidate = model_;
  candidate.engagement[0].cap.reset();
  stored::StoredLead uncapped = Replay(candidate, state_, history_);
  EXPECT_EQ(uncapped.rules().at("pricing").count(), 3u);
  EXPECT_EQ(uncapped.rules().at("pricing").capped(), 0u);
  EXPECT_GT(ScoreAt(candidate, uncapped, read).score(), ScoreAt(model_, state_, read).score());
}

}  // namespace
}  // namespace flywheel::lead_scoring
