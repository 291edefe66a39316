#include "assignment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy_parser.h"

namespace flywheel::routing {
namespace {

using ::testing::ElementsAre;

intake::v1::Request Req(const std::string& type, const std::string& region = "") {
  intake::v1::Request r;
  r.mutable_spec()->set_request_type_id(type);
  r.mutable_spec()->mutable_requester()->set_region(region);
  return r;
}

class ChooseTeamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = ParsePolicy(DefaultPolicyYaml());
    ASSERT_TRUE(p.ok()) << p.status();
    policy_ = *std::move(p);
  }
  Policy policy_;
};

TEST_F(ChooseTeamTest, FirstMatchingRuleWins) {
  TeamChoice c = ChooseTeam(policy_, Req("social_post"));
  EXPECT_EQ(c.team_id, "social");
  EXPECT_EQ(c.rule_id, "social-posts");
  EXPECT_EQ(ChooseTeam(policy_, Req("email")).rule_id, "paid-and-email");
}

TEST_F(ChooseTeamTest, ChannelRuleCarriesSkills) {
  intake::v1::Request r = Req("blog_post");
  r.mutable_spec()->add_channels(common::v1::CHANNEL_WEB);
  r.mutable_spec()->add_channels(common::v1::CHANNEL_PAID_SEARCH);
  TeamChoice c = ChooseTeam(policy_, r);
  EXPECT_EQ(c.rule_id, "paid-channels");
  EXPECT_EQ(c.team_id, "growth");
  EXPECT_THAT(c.skills, ElementsAre("paid_media"));
}

TEST_F(ChooseTeamTest, RegionRuleKeepsTheRequestersRegion) {
  TeamChoice c = ChooseTeam(policy_, Req("campaign_launch", "emea"));
  EXPECT_EQ(c.rule_id, "campaigns-by-region");
  EXPECT_EQ(c.region, "emea");
}

TEST_F(ChooseTeamTest, DefaultTeamOrNone) {
  TeamChoice c = ChooseTeam(policy_, Req("blog_post"));
  EXPECT_EQ(c.team_id, "content");
  EXPECT_EQ(c.rule_id, "");
  policy_.default_team.clear();
  EXPECT_EQ(ChooseTeam(policy_, Req("blog_post")).team_id, "");
}

std::vector<MemberSpec> Roster() {
  return {{.id = "ana", .skills = {"copy", "seo"}, .region = "emea", .wip_limit = 2},
          {.id = "ben", .skills = {"copy"}, .region = "amer", .wip_limit = 1},
          {.id = "cy", .skills = {"video"}, .wip_limit = 3, .on_leave = true}};
}

TEST(EligibleMembersTest, FiltersLeaveSkillsAndRegion) {
  Eligibility e = EligibleMembers(Roster(), {"copy"}, "");
  EXPECT_THAT(e.candidates, ElementsAre(Candidate{"ana", 2}, Candidate{"ben", 1}));
  EXPECT_THAT(EligibleMembers(Roster(), {"copy"}, "amer").candidates,
              ElementsAre(Candidate{"ben", 1}));
}

TEST(EligibleMembersTest, SaysWhyNobodyIsEligible) {
  EXPECT_EQ(EligibleMembers({}, {}, "").reason, "team has no members");
  std::vector<MemberSpec> away = Roster();
  for (auto& m : away) m.on_leave = true;
  EXPECT_EQ(EligibleMembers(away, {}, "").reason, "everyone on leave");
  EXPECT_EQ(EligibleMembers(Roster(), {"video"}, "").reason,
            "no available member has skills video");
}

TEST(EffectiveRosterTest, OverridesReplaceAddAndRemove) {
  TeamSpec team{.id = "t", .default_wip_limit = 4, .members = Roster()};
  std::map<std::string, std::optional<MemberSpec>> overrides = {
      {"ben", std::nullopt}, {"dan", MemberSpec{.id = "dan"}}, {"cy", MemberSpec{.id = "cy"}}};
  std::vector<MemberSpec> roster = EffectiveRoster(team, overrides);
  ASSERT_EQ(roster.size(), 3u);
  EXPECT_EQ(roster[0].id, "ana");
  EXPECT_EQ(roster[1].id, "cy");
  EXPECT_FALSE(roster[1].on_leave);
  EXPECT_EQ(roster[2].id, "dan");
  EXPECT_EQ(roster[2].wip_limit, 4);  // the team default
}

TEST(PickMemberTest, LeastLoadedTakesFewestOpenTasksTiesById) {
  std::vector<Candidate> c = {{"ana", 3}, {"ben", 3}, {"cy", 3}};
  EXPECT_EQ(PickMember(Strategy::kLeastLoaded, c, {}, ""), "ana");
  EXPECT_EQ(PickMember(Strategy::kLeastLoaded, c, {{"ana", 1}}, ""), "ben");
  EXPECT_EQ(PickMember(Strategy::kLeastLoaded, c, {{"ana", 2}, {"ben", 1}, {"cy", 1}}, ""), "ben");
}

TEST(PickMemberTest, NobodyAtOrOverTheirLimitIsPicked) {
  std::vector<Candidate> c = {{"ana", 1}, {"ben", 2}};
  EXPECT_EQ(PickMember(Strategy::kLeastLoaded, c, {{"ana", 0}, {"ben", 1}}, ""), "ana");
  EXPECT_EQ(PickMember(Strategy::kLeastLoaded, c, {{"ana", 1}, {"ben", 1}}, ""), "ben");
  EXPECT_EQ(PickMember(Strategy::kLeastLoaded, c, {{"ana", 1}, {"ben", 2}}, ""), std::nullopt);
  EXPECT_EQ(PickMember(Strategy::kRoundRobin, c, {{"ana", 1}, {"ben", 2}}, "ana"), std::nullopt);
}

TEST(PickMemberTest, RoundRobinTakesTheNextInIdOrderAndWraps) {
  std::vector<Candidate> c = {{"ana", 5}, {"ben", 5}, {"cy", 5}};
  EXPECT_EQ(PickMember(Strategy::kRoundRobin, c, {}, ""), "ana");
  EXPECT_EQ(PickMember(Strategy::kRoundRobin, c, {}, "ana"), "ben");
  EXPECT_EQ(PickMember(Strategy::kRoundRobin, c, {}, "cy"), "ana");
  EXPECT_EQ(PickMember(Strategy::kRoundRobin, c, {{"ben", 5}}, "ana"), "cy");
}

}  // namespace
}  // namespace flywheel::routing
