// RedisLeadStore against the real Redis: the compare-and-set write, the
// seen ids that make a repeated activity a duplicate, the visitor merge and
// link, the bounded history and the indexes.
#include "redis_lead_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lead_store_env.h"

namespace flywheel::lead_scoring {
namespace {

using ::testing::ElementsAre;

class RedisLeadStoreTest : public testing::LeadStoreEnv {
 protected:
  RedisLeadStoreTest() : LeadStoreEnv({.seen_kept = 3, .history_kept = 2}) {}

  LeadRead ReadOk(const std::string& lead, const std::string& visitor,
                  const std::string& activity) {
    auto read = Await(store_->Read("acme", lead, visitor, activity));
    EXPECT_TRUE(read.ok()) << read.status();
    return read.ok() ? *read : LeadRead{};
  }

  bool CommitOk(LeadCommit commit, std::vector<kafka::OutgoingEvent> events = {}) {
    auto written = Await(store_->Commit("acme", std::move(commit), std::move(events)));
    EXPECT_TRUE(written.ok()) << written.status();
    return written.ok() && *written;
  }

  // Scores `activity` for `lead` as the logic would: read, change, write.
  void Score(const std::string& lead, const std::string& activity, int score = 1,
             v1::ScoreBand band = v1::SCORE_BAND_COLD, const std::string& account = "") {
    LeadRead read = ReadOk(lead, "", activity);
    ASSERT_FALSE(read.seen);
    LeadCommit commit{.subject = read.subject, .expected_revision = read.revision};
    commit.state = read.state;
    commit.state.set_score(score);
    commit.activity_id = activity;
    stored::StoredActivity entry;
    entry.set_id(activity);
    commit.entry = entry;
    commit.previous_band = static_cast<v1::ScoreBand>(read.state.band());
    commit.state.set_band(band);
    commit.band = band;
    commit.previous_account = read.state.indexed_account();
    commit.account = account;
    commit.state.set_indexed_account(account);
    commit.score = score;
    ASSERT_TRUE(CommitOk(std::move(commit)));
  }

  std::vector<std::string> List(LeadIndex index) {
    auto ids = Await(store_->List("acme", index, 0, 10));
    EXPECT_TRUE(ids.ok()) << ids.status();
    return ids.ok() ? *ids : std::vector<std::string>{};
  }
};

TEST_F(RedisLeadStoreTest, AWriteLandsOnlyOnTheRevisionItRead) {
  LeadRead first = ReadOk("lead-1", "", "a1");
  EXPECT_EQ(first.revision, 0);
  EXPECT_FALSE(first.subject.visitor);
  EXPECT_EQ(first.subject.id, "lead-1");
  LeadCommit commit{.subject = first.subject, .expected_revision = 0, .activity_id = "a1"};
  commit.state.set_score(7);
  EXPECT_TRUE(CommitOk(commit));
  // The same write again was made on a revision that moved: refused.
  EXPECT_FALSE(CommitOk(commit));
  LeadRead second = ReadOk("lead-1", "", "a2");
  EXPECT_EQ(second.revision, 1);
  EXPECT_EQ(second.state.score(), 7);
  EXPECT_FALSE(second.seen);
}

TEST_F(RedisLeadStoreTest, ASeenActivityIsADuplicateWithinTheIdsKept) {
  Score("lead-1", "a1");
  EXPECT_TRUE(ReadOk("lead-1", "", "a1").seen);
  Score("lead-1", "a2");
  Score("lead-1", "a3");
  Score("lead-1", "a4");  // three are kept: a1 is forgotten
  EXPECT_FALSE(ReadOk("lead-1", "", "a1").seen);
  EXPECT_TRUE(ReadOk("lead-1", "", "a4").seen);
}

TEST_F(RedisLeadStoreTest, TheEventsAreStoredWithTheChangeAndPublished) {
  LeadRead read = ReadOk("lead-1", "", "a1");
  std::vector<kafka::OutgoingEvent> events = {
      {.topic = "scores", .type = "t", .key = "lead-1", .data = "x", .id = "lead-1/q/1"}};
  ASSERT_TRUE(CommitOk({.subject = read.subject, .expected_revision = 0}, events));
  ASSERT_EQ(outbox_.publisher().published().size(), 1u);
  EXPECT_EQ(outbox_.publisher().published()[0].id, "lead-1/q/1");
  // A refused write stores none.
  EXPECT_FALSE(CommitOk({.subject = read.subject, .expected_revision = 0}, events));
  EXPECT_TRUE(outbox_.Drain("acme").empty());
}

TEST_F(RedisLeadStoreTest, AVisitorIsMergedIntoTheLeadAndLinkedToIt) {
  LeadRead visit = ReadOk("", "visitor-1", "v1");
  EXPECT_TRUE(visit.subject.visitor);
  LeadCommit commit{.subject = visit.subject, .activity_id = "v1"};
  stored::StoredActivity entry;
  entry.set_id("v1");
  commit.entry = entry;
  commit.state.set_last_campaign("spring");
  ASSERT_TRUE(CommitOk(commit));

  LeadRead form = ReadOk("lead-1", "visitor-1", "v1");
  EXPECT_TRUE(form.seen);  // seen under the visitor
  form = ReadOk("lead-1", "visitor-1", "f1");
  EXPECT_FALSE(form.seen);
  ASSERT_TRUE(form.visitor_state.has_value());
  EXPECT_EQ(form.visitor_state->last_campaign(), "spring");
  LeadCommit merge{.subject = form.subject,
                   .expected_revision = form.revision,
                   .activity_id = "f1",
                   .merged_visitor = "visitor-1",
                   .expected_visitor_revision = form.visitor_revision,
                   .linked_visitor = "visitor-1"};
  ASSERT_TRUE(CommitOk(merge));

  // The visitor's later activity goes to the lead, its earlier ids are the
  // lead's now, and its history moved.
  LeadRead later = ReadOk("", "visitor-1", "v1");
  EXPECT_FALSE(later.subject.visitor);
  EXPECT_EQ(later.subject.id, "lead-1");
  EXPECT_TRUE(later.seen);
  auto view = Await(store_->Get("acme", "lead-1", true));
  ASSERT_TRUE(view.ok() && view->has_value());
  ASSERT_EQ((*view)->history.size(), 1u);
  EXPECT_EQ((*view)->history[0].id(), "v1");
  EXPECT_FALSE(ReadOk("lead-1", "visitor-1", "x").visitor_state.has_value());
}

TEST_F(RedisLeadStoreTest, AVisitorLinkedWhileItsActivityWasScoredIsReadAgain) {
  // The visitor's activity is read before the lead's form links the two...
  LeadRead visit = ReadOk("", "visitor-1", "v1");
  ASSERT_TRUE(visit.subject.visitor);
  LeadRead form = ReadOk("lead-1", "visitor-1", "f1");
  ASSERT_TRUE(CommitOk({.subject = form.subject, .linked_visitor = "visitor-1"}));
  // ...so its write to the visitor is refused, and read again it is the lead's.
  EXPECT_FALSE(CommitOk({.subject = visit.subject, .activity_id = "v1"}));
  LeadRead again = ReadOk("", "visitor-1", "v1");
  EXPECT_FALSE(again.subject.visitor);
  EXPECT_EQ(again.subject.id, "lead-1");
}

TEST_F(RedisLeadStoreTest, ALinkReadBeforeTheVisitorsFirstActivityIsReadAgainToMergeIt) {
  // The lead's form is read while the visitor has no activity yet...
  LeadRead form = ReadOk("lead-1", "visitor-1", "f1");
  ASSERT_FALSE(form.visitor_state.has_value());
  // ...then the visitor's first activity is scored under the visitor...
  LeadRead visit = ReadOk("", "visitor-1", "v1");
  ASSERT_TRUE(visit.subject.visitor);
  ASSERT_TRUE(CommitOk({.subject = visit.subject, .activity_id = "v1"}));
  // ...so the link without a merge is refused, and read again it merges.
  EXPECT_FALSE(CommitOk({.subject = form.subject, .linked_visitor = "visitor-1"}));
  LeadRead again = ReadOk("lead-1", "visitor-1", "f1");
  EXPECT_TRUE(again.visitor_state.has_value());
}

TEST_F(RedisLeadStoreTest, HistoryIsBoundedNewestFirst) {
  Score("lead-1", "a1");
  Score("lead-1", "a2");
  Score("lead-1", "a3");
  auto view = Await(store_->Get("acme", "lead-1", true));
  ASSERT_TRUE(view.ok() && view->has_value());
  ASSERT_EQ((*view)->history.size(), 2u);
  EXPECT_EQ((*view)->history[0].id(), "a3");
  EXPECT_EQ((*view)->history[1].id(), "a2");
  auto missing = Await(store_->Get("acme", "lead-2", false));
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(RedisLeadStoreTest, IndexesFollowTheBandAndTheAccount) {
  Score("lead-1", "a1", 10, v1::SCORE_BAND_COLD, "acct-1");
  Score("lead-2", "b1", 120, v1::SCORE_BAND_MQL, "acct-1");
  Score("lead-3", "c1", 50, v1::SCORE_BAND_COLD, "acct-2");
  EXPECT_THAT(List({}), ElementsAre("lead-2", "lead-3", "lead-1"));
  EXPECT_THAT(List({.band = v1::SCORE_BAND_COLD}), ElementsAre("lead-3", "lead-1"));
  EXPECT_THAT(List({.account = "acct-1"}), ElementsAre("lead-2", "lead-1"));
  // lead-1 moves to MQL and to acct-2.
  Score("lead-1", "a2", 130, v1::SCORE_BAND_MQL, "acct-2");
  EXPECT_THAT(List({.band = v1::SCORE_BAND_COLD}), ElementsAre("lead-3"));
  EXPECT_THAT(List({.band = v1::SCORE_BAND_MQL}), ElementsAre("lead-1", "lead-2"));
  EXPECT_THAT(List({.account = "acct-1"}), ElementsAre("lead-2"));
  EXPECT_THAT(List({.account = "acct-2"}), ElementsAre("lead-1", "lead-3"));
}

}  // namespace
}  // namespace flywheel::lead_scoring
