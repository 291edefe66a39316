#include "audit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "flywheel/core/proto_time.h"

namespace flywheel::approval {
namespace {

using ::testing::HasSubstr;

v1::AuditEntry Entry(int i) {
  v1::AuditEntry e;
  e.set_tenant_id("acme");
  e.set_request_id("r1");
  *e.mutable_time() = ToProtoTime(absl::FromUnixSeconds(1'800'000'000 + i));
  e.set_actor_id(i % 2 == 0 ? "lena" : "leo");
  e.set_action(v1::AUDIT_ACTION_DECISION_RECORDED);
  e.set_step_id("legal");
  e.set_version(1);
  e.set_decision(v1::DECISION_APPROVE);
  e.set_detail(absl::StrCat("entry ", i));
  return e;
}

std::vector<v1::AuditEntry> Trail(int n) {
  AuditTrail trail;
  for (int i = 0; i < n; ++i) trail.Append(Entry(i));
  return trail.entries();
}

TEST(AuditTest, EntriesAreSequencedAndLinked) {
  std::vector<v1::AuditEntry> trail = Trail(3);
  EXPECT_EQ(trail[0].sequence(), 1u);
  EXPECT_EQ(trail[0].previous_sha256(), "");
  EXPECT_EQ(trail[1].previous_sha256(), trail[0].entry_sha256());
  EXPECT_EQ(trail[2].sequence(), 3u);
  EXPECT_EQ(trail[2].entry_sha256().size(), 64u);
  EXPECT_EQ(trail[2].entry_sha256(), EntryHash(trail[2]));
  // Sealing after the last entry is what appending does.
  EXPECT_EQ(Seal(Entry(2), &trail[1]).entry_sha256(), trail[2].entry_sha256());
  EXPECT_TRUE(Verify(trail).intact);
  EXPECT_TRUE(Verify({}).intact);
}

TEST(AuditTest, ThousandEntryTrailVerifies) {
  const AuditVerdict verdict = Verify(Trail(1000));
  EXPECT_TRUE(verdict.intact) << verdict.position << ": " << verdict.reason;
  EXPECT_EQ(verdict.position, 0u);
}

TEST(AuditTest, TamperedEntryIsFoundAtItsPosition) {
  std::vector<v1::AuditEntry> trail = Trail(10);
  trail[6].set_detail("approved, honestly");
  const AuditVerdict verdict = Verify(trail);
  EXPECT_FALSE(verdict.intact);
  EXPECT_EQ(verdict.position, 7u);
  EXPECT_THAT(verdict.reason, HasSubstr("does not match its entry_sha256"));
}

TEST(AuditTest, TamperedEntryWithARecomputedHashBreaksTheNextLink) {
  std::vector<v1::AuditEntry> trail = Trail(10);
  trail[6].set_decision(v1::DECISION_REJECT);
  trail[6].set_entry_sha256(EntryHash(trail[6]));
  const AuditVerdict verdict = Verify(trail);
  EXPECT_EQ(verdict.position, 8u);
  EXPECT_THAT(verdict.reason, HasSubstr("does not follow entry 7"));
}

TEST(AuditTest, RemovedEntryIsFoundWhereItWas) {
  std::vector<v1::AuditEntry> trail = Trail(10);
  trail.erase(trail.begin() + 4);
  const AuditVerdict verdict = Verify(trail);
  EXPECT_FALSE(verdict.intact);
  EXPECT_EQ(verdict.position, 5u);
  EXPECT_THAT(verdict.reason, HasSubstr("does not follow entry 4"));

  std::vector<v1::AuditEntry> headless = Trail(3);
  headless.erase(headless.begin());
  EXPECT_EQ(Verify(headless).position, 1u);
  EXPECT_THAT(Verify(headless).reason, HasSubstr("entries are missing before it"));
}

TEST(AuditTest, RemovedLastEntryIsNotDetectableFromTheTrailAlone) {
  // What a trail cannot show by itself: the store keeps the count and the
  // last hash beside it for that (see docs/notes.md).
  std::vector<v1::AuditEntry> trail = Trail(5);
  trail.pop_back();
  EXPECT_TRUE(Verify(trail).intact);
}

TEST(AuditTest, ReorderedPairIsFoundAtTheFirstOfThem) {
  std::vector<v1::AuditEntry> trail = Trail(10);
  std::swap(trail[2], trail[3]);
  const AuditVerdict verdict = Verify(trail);
  EXPECT_FALSE(verdict.intact);
  EXPECT_EQ(verdict.position, 3u);
}

TEST(AuditTest, RenumberedEntryIsFound) {
  std::vector<v1::AuditEntry> trail = Trail(3);
  v1::AuditEntry renumbered = Entry(1);
  renumbered.set_sequence(7);
  renumbered.set_previous_sha256(trail[0].entry_sha256());
  renumbered.set_entry_sha256(EntryHash(renumbered));
  trail.resize(1);
  trail.push_back(renumbered);
  EXPECT_EQ(Verify(trail).position, 2u);
  EXPECT_THAT(Verify(trail).reason, HasSubstr("sequence is 7, expected 2"));
}

TEST(AuditTest, ExportsJsonWithTheVerdict) {
  std::vector<v1::AuditEntry> trail = Trail(2);
  const nlohmann::json doc = nlohmann::json::parse(ExportJson(trail));
  EXPECT_EQ(doc["request_id"], "r1");
  EXPECT_EQ(doc["intact"], true);
  EXPECT_EQ(doc["broken_at"], 0);
  ASSERT_EQ(doc["entries"].size(), 2u);
  const nlohmann::json& first = doc["entries"][0];
  EXPECT_EQ(first["sequence"], 1);
  EXPECT_EQ(first["time"], "2027-01-15T08:00:00+00:00");
  EXPECT_EQ(first["action"], "decision_recorded");
  EXPECT_EQ(first["decision"], "approve");
  EXPECT_EQ(first["entry_sha256"], trail[0].entry_sha256());
  EXPECT_EQ(doc["entries"][1]["previous_sha256"], trail[0].entry_sha256());

  trail[0].set_actor_id("someone else");
  const nlohmann::json broken = nlohmann::json::parse(ExportJson(trail));
  EXPECT_EQ(broken["intact"], false);
  EXPECT_EQ(broken["broken_at"], 1);
}

}  // namespace
}  // namespace flywheel::approval
