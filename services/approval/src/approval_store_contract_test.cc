// The contract of ApprovalStore, run against both implementations: the Redis
// store (with the Redis outbox) on a real redis-server, and the in-memory
// fake (with the in-memory outbox) that approval's unit tests will use. A
// case that passes for one and fails for the other is a fake that lies.
#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/use_future.hpp>
#include <future>

#include "approval_store.h"
#include "audit.h"
#include "flywheel/async/io_threads.h"
#include "flywheel/async/spawn.h"
#include "flywheel/outbox/testing/contract_outbox.h"
#include "flywheel/redis/async_client.h"
#include "flywheel/redis/testing/redis_test_env.h"
#include "in_memory_approval_store.h"
#include "redis_approval_store.h"

namespace flywheel::approval {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using WriteOutcome = ApprovalStore::WriteOutcome;

constexpr int64_t kDue = 1'700'000'000'000;

v1::ApprovalChain MakeChain(const std::string& tenant, const std::string& request,
                            v1::ChainStatus status = v1::CHAIN_STATUS_PENDING) {
  v1::ApprovalChain chain;
  chain.set_tenant_id(tenant);
  chain.set_request_id(request);
  chain.set_policy_id("tier2-brand-legal");
  chain.set_status(status);
  chain.set_round(1);
  v1::ApprovalStep* step = chain.add_steps();
  step->set_step_id("brand");
  step->set_status(v1::STEP_STATUS_ACTIVE);
  return chain;
}

v1::AuditEntry Entry(const std::string& tenant, const std::string& request, uint64_t sequence,
                     const std::string& detail) {
  v1::AuditEntry entry;
  entry.set_tenant_id(tenant);
  entry.set_request_id(request);
  entry.set_sequence(sequence);
  entry.set_actor_id("alice");
  entry.set_action(v1::AUDIT_ACTION_DECISION_RECORDED);
  entry.set_detail(detail);
  return entry;
}

v1::AssetVersion Version(const std::string& tenant, const std::string& request, uint32_t number) {
  v1::AssetVersion version;
  version.set_tenant_id(tenant);
  version.set_request_id(request);
  version.set_version(number);
  version.set_asset_uri("s3://assets/" + request + "/v" + std::to_string(number));
  return version;
}

v1::Comment Comment(const std::string& tenant, const std::string& request, const std::string& id,
                    bool resolved = false) {
  v1::Comment comment;
  comment.set_tenant_id(tenant);
  comment.set_request_id(request);
  comment.set_comment_id(id);
  comment.set_author_id("bob");
  comment.set_body("About " + id);
  comment.set_resolved(resolved);
  return comment;
}

InboxEntry Line(const std::string& approver, const std::string& request, const std::string& step,
                int64_t due_ms) {
  return {.approver_id = approver, .request_id = request, .step_id = step, .due_ms = due_ms};
}

kafka::OutgoingEvent Event(const std::string& request, const std::string& type) {
  return {.topic = "t.approvals", .type = type, .key = request, .data = type + " of " + request};
}

// A write of `request` from `expected_revision` that changes only the chain.
ApprovalWrite Change(const std::string& tenant, const std::string& request,
                     int64_t expected_revision) {
  return {.tenant_id = tenant,
          .request_id = request,
          .expected_revision = expected_revision,
          .chain = MakeChain(tenant, request)};
}

// `write` with one of each part more: audit entry 1 and comment `c_<name>`,
// version 1, alice's line for step brand and an event `name`.
ApprovalWrite WithEveryPart(ApprovalWrite write, const std::string& name) {
  const std::string& tenant = write.tenant_id;
  const std::string& request = write.request_id;
  write.audit.push_back(Entry(tenant, request, 1, name));
  write.version = Version(tenant, request, 1);
  write.comments.push_back(Comment(tenant, request, "c_" + name));
  write.inbox_add.push_back(Line("alice", request, "brand", kDue));
  write.events.push_back(Event(request, name));
  return write;
}

template <typename Message>
bool Same(const Message& a, const Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

std::vector<std::string> Details(const std::vector<v1::AuditEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.detail());
  return out;
}

std::vector<uint32_t> Numbers(const std::vector<v1::AssetVersion>& versions) {
  std::vector<uint32_t> out;
  for (const auto& v : versions) out.push_back(v.version());
  return out;
}

std::vector<std::string> Ids(const std::vector<v1::Comment>& comments) {
  std::vector<std::string> out;
  for (const auto& c : comments) out.push_back(c.comment_id());
  return out;
}

std::vector<std::string> Members(const std::vector<InboxEntry>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) out.push_back(InboxMember(l));
  return out;
}

std::vector<std::string> Types(const std::vector<kafka::OutgoingEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.type);
  return out;
}

// Param: true runs RedisApprovalStore, false InMemoryApprovalStore. Both need
// the Redis fixture, so the suite is one integration test.
class ApprovalStoreContractTest : public redis::RedisTestEnv,
                                  public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    RedisTestEnv::SetUp();
    if (HasFatalFailure()) return;
    if (GetParam()) {
      absl::Status connected = outbox_.ConnectRedis(io_.context(), options(), prefix());
      ASSERT_TRUE(connected.ok()) << connected;
      store_ = std::make_unique<RedisApprovalStore>(outbox_.async(), prefix(), outbox_.redis());
    } else {
      store_ = std::make_unique<InMemoryApprovalStore>(outbox_.in_memory());
    }
  }

  void TearDown() override {
    io_.Stop();  // nothing runs on the Redis client after this
    RedisTestEnv::TearDown();
  }

  template <typename T>
  T Await(asio::awaitable<T> task) {
    return async::BlockOn(io_.context(), std::move(task));
  }

  WriteOutcome WriteOk(ApprovalWrite write) {
    auto outcome = Await(store_->Write(write));
    EXPECT_TRUE(outcome.ok()) << outcome.status();
    return outcome.ok() ? *outcome : WriteOutcome::kStale;
  }

  absl::Status WriteError(ApprovalWrite write) {
    auto outcome = Await(store_->Write(write));
    return outcome.ok() ? absl::OkStatus() : outcome.status();
  }

  std::optional<ApprovalRecord> ReadOk(const std::string& tenant, const std::string& request) {
    auto record = Await(store_->Read(tenant, request));
    EXPECT_TRUE(record.ok()) << record.status();
    return record.ok() ? *std::move(record) : std::nullopt;
  }

  std::vector<v1::AuditEntry> AuditOk(const std::string& tenant, const std::string& request,
                                      uint64_t after, size_t limit) {
    auto entries = Await(store_->ListAudit(tenant, request, after, limit));
    EXPECT_TRUE(entries.ok()) << entries.status();
    return entries.ok() ? *std::move(entries) : std::vector<v1::AuditEntry>{};
  }

  std::vector<uint32_t> VersionsOk(const std::string& tenant, const std::string& request,
                                   uint32_t before, size_t limit) {
    auto versions = Await(store_->ListVersions(tenant, request, before, limit));
    EXPECT_TRUE(versions.ok()) << versions.status();
    return versions.ok() ? Numbers(*versions) : std::vector<uint32_t>{};
  }

  std::vector<v1::Comment> CommentsOk(const std::string& tenant, const std::string& request,
                                      const std::string& after, size_t limit) {
    auto comments = Await(store_->ListComments(tenant, request, after, limit));
    EXPECT_TRUE(comments.ok()) << comments.status();
    return comments.ok() ? *std::move(comments) : std::vector<v1::Comment>{};
  }

  std::vector<InboxEntry> InboxOk(const std::string& tenant, const std::string& approver,
                                  int64_t after_due, const std::string& after_member,
                                  size_t limit) {
    auto lines = Await(store_->Inbox(tenant, approver, after_due, after_member, limit));
    EXPECT_TRUE(lines.ok()) << lines.status();
    return lines.ok() ? *std::move(lines) : std::vector<InboxEntry>{};
  }

  int64_t InboxSizeOk(const std::string& tenant, const std::string& approver) {
    auto size = Await(store_->InboxSize(tenant, approver));
    EXPECT_TRUE(size.ok()) << size.status();
    return size.ok() ? *size : -1;
  }

  int UnresolvedOk(const std::string& tenant, const std::string& request) {
    std::optional<ApprovalRecord> record = ReadOk(tenant, request);
    EXPECT_TRUE(record.has_value());
    return record.has_value() ? record->unresolved_comments : -1;
  }

  std::vector<kafka::OutgoingEvent> Drain(const std::string& tenant = "acme") {
    return outbox_.Drain(tenant);
  }

  // Creates acme's `request` with nothing but its chain.
  void CreateOk(const std::string& request, const std::string& tenant = "acme") {
    ASSERT_EQ(WriteOk(Change(tenant, request, 0)), WriteOutcome::kWritten);
  }

  async::IoThreads io_{2};
  outbox::testing::ContractOutbox outbox_;
  std::unique_ptr<ApprovalStore> store_;
};

TEST_P(ApprovalStoreContractTest, ACreatedApprovalReadsBackWithEverythingWrittenWithIt) {
  ApprovalWrite create = Change("acme", "req_1", 0);
  create.audit = {Seal(Entry("acme", "req_1", 1, "created"), nullptr)};
  create.audit.push_back(Seal(Entry("acme", "req_1", 2, "version 1"), &create.audit[0]));
  create.version = Version("acme", "req_1", 1);
  create.comments = {Comment("acme", "req_1", "c_1")};
  create.inbox_add = {Line("alice", "req_1", "brand", kDue)};
  create.chain.set_revision(42);  // the store's to set
  auto outcome = Await(store_->Write(create));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  ASSERT_EQ(*outcome, WriteOutcome::kWritten);
  EXPECT_EQ(create.chain.revision(), 1) << "the write's chain carries its new revision";

  std::optional<ApprovalRecord> record = ReadOk("acme", "req_1");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->revision, 1);
  EXPECT_EQ(record->chain.revision(), 1);
  EXPECT_TRUE(Same(record->chain, create.chain)) << record->chain.DebugString();
  EXPECT_EQ(record->audit_count, 2u);
  ASSERT_TRUE(record->last_audit.has_value());
  EXPECT_TRUE(Same(*record->last_audit, create.audit[1])) << record->last_audit->DebugString();
  EXPECT_EQ(record->unresolved_comments, 1);
  EXPECT_EQ(record->latest_version, 1u);

  const std::vector<v1::AuditEntry> trail = AuditOk("acme", "req_1", 0, 10);
  ASSERT_EQ(trail.size(), 2u);
  EXPECT_TRUE(Same(trail[0], create.audit[0]));
  EXPECT_TRUE(Verify(trail).intact) << Verify(trail).reason;
  EXPECT_THAT(VersionsOk("acme", "req_1", 0, 10), ElementsAre(1u));
  EXPECT_THAT(Ids(CommentsOk("acme", "req_1", "", 10)), ElementsAre("c_1"));
  EXPECT_THAT(InboxOk("acme", "alice", 0, "", 10),
              ElementsAre(Line("alice", "req_1", "brand", kDue)));

  EXPECT_FALSE(ReadOk("acme", "req_missing").has_value());
}

TEST_P(ApprovalStoreContractTest, AnApprovalWithNothingButItsChainHasAnEmptyHead) {
  ASSERT_NO_FATAL_FAILURE(CreateOk("req_1"));
  std::optional<ApprovalRecord> record = ReadOk("acme", "req_1");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->revision, 1);
  EXPECT_EQ(record->audit_count, 0u);
  EXPECT_FALSE(record->last_audit.has_value());
  EXPECT_EQ(record->unresolved_comments, 0);
  EXPECT_EQ(record->latest_version, 0u);
  EXPECT_THAT(AuditOk("acme", "req_1", 0, 10), IsEmpty());
  EXPECT_THAT(VersionsOk("acme", "req_1", 0, 10), IsEmpty());
  EXPECT_THAT(CommentsOk("acme", "req_1", "", 10), IsEmpty());
}

TEST_P(ApprovalStoreContractTest, CreatingTwiceIsStaleAndKeepsTheFirst) {
  ApprovalWrite first = Change("acme", "req_1", 0);
  first.chain.set_policy_id("first");
  ASSERT_EQ(WriteOk(first), WriteOutcome::kWritten);

  ApprovalWrite second = Change("acme", "req_1", 0);
  second.chain.set_policy_id("second");
  second.audit = {Entry("acme", "req_1", 1, "second")};
  second.events = {Event("req_1", "second")};
  EXPECT_EQ(WriteOk(second), WriteOutcome::kStale);

  std::optional<ApprovalRecord> record = ReadOk("acme", "req_1");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->revision, 1);
  EXPECT_EQ(record->chain.policy_id(), "first");
  EXPECT_EQ(record->audit_count, 0u);
  EXPECT_THAT(Drain(), IsEmpty());
}

TEST_P(ApprovalStoreContractTest, AStaleRevisionIsRefusedWithNothingWritten) {
  ASSERT_NO_FATAL_FAILURE(CreateOk("req_1"));
  ApprovalWrite next = Change("acme", "req_1", 1);
  next.chain.set_status(v1::CHAIN_STATUS_CHANGES_REQUESTED);
  ASSERT_EQ(WriteOk(next), WriteOutcome::kWritten);

  // Computed from revision 1 too, and late: it touches every part.
  ApprovalWrite late = WithEveryPart(Change("acme", "req_1", 1), "late");
  late.chain.set_status(v1::CHAIN_STATUS_APPROVED);
  EXPECT_EQ(WriteOk(late), WriteOutcome::kStale);
  // From the future as well.
  ApprovalWrite ahead = Change("acme", "req_1", 5);
  EXPECT_EQ(WriteOk(ahead), WriteOutcome::kStale);

  std::optional<ApprovalRecord> record = ReadOk("acme", "req_1");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->revision, 2);
  EXPECT_EQ(record->chain.status(), v1::CHAIN_STATUS_CHANGES_REQUESTED);
  EXPECT_EQ(record->audit_count, 0u);
  EXPECT_EQ(record->unresolved_comments, 0);
  EXPECT_EQ(record->latest_version, 0u);
  EXPECT_THAT(AuditOk("acme", "req_1", 0, 10), IsEmpty());
  EXPECT_THAT(VersionsOk("acme", "req_1", 0, 10), IsEmpty());
  EXPECT_THAT(CommentsOk("acme", "req_1", "", 10), IsEmpty());
  EXPECT_EQ(InboxSizeOk("acme", "alice"), 0);
  EXPECT_THAT(Drain(), IsEmpty()) << "a refused write stores no events";

  // A write to a request never created must be a create.
  EXPECT_EQ(WriteOk(Change("acme", "req_missing", 1)), WriteOutcome::kStale);
  EXPECT_FALSE(ReadOk("acme", "req_missing").has_value());
}

TEST_P(ApprovalStoreContractTest, AuditEntriesAreAppendedAndListedInSequenceInPages) {
  ASSERT_NO_FATAL_FAILURE(CreateOk("req_1"));
  // Three writes, each sealing after the head it read, as the service will.
  int64_t revision = 1;
  for (int batch = 0; batch < 3; ++batch) {
    std::optional<ApprovalRecord> record = ReadOk("acme", "req_1");
    ASSERT_TRUE(record.has_value());
    ApprovalWrite write = Change("acme", "req_1", revision);
    const v1::AuditEntry* last = record->last_audit ? &*record->last_audit : nullptr;
    for (int i = 0; i < 2; ++i) {
      const uint64_t sequence = record->audit_count + write.audit.size() + 1;
      write.audit.push_back(Seal(Entry("acme", "req_1", sequence, "e" + std::to_string(sequence)),
                                 write.audit.empty() ? last : &write.audit.back()));
    }
    ASSERT_EQ(WriteOk(write), WriteOutcome::kWritten);
    ++revision;
  }

  std::optional<ApprovalRecord> record = ReadOk("acme", "req_1");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->audit_count, 6u);
  ASSERT_TRUE(record->last_audit.has_value());
  EXPECT_EQ(record->last_audit->detail(), "e6");
  EXPECT_EQ(record->last_audit->sequence(), 6u);

  const std::vector<v1::AuditEntry> all = AuditOk("acme", "req_1", 0, 100);
  EXPECT_THAT(Details(all), ElementsAre("e1", "e2", "e3", "e4", "e5", "e6"));
  EXPECT_TRUE(Verify(all).intact) << Verify(all).reason;
  EXPECT_TRUE(Same(all.back(), *record->last_audit));

  EXPECT_THAT(Details(AuditOk("acme", "req_1", 0, 4)), ElementsAre("e1", "e2", "e3", "e4"));
  EXPECT_THAT(Details(AuditOk("acme", "req_1", 4, 4)), ElementsAre("e5", "e6"));
  EXPECT_THAT(AuditOk("acme", "req_1", 6, 4), IsEmpty());
  EXPECT_THAT(AuditOk("acme", "req_1", 0, 0), IsEmpty());
}

TEST_P(ApprovalStoreContractTest, AuditEntriesThatDoNotFollowTheTrailAreStale) {
  ApprovalWrite create = Change("acme", "req_1", 0);
  create.audit = {Entry("acme", "req_1", 1, "e1"), Entry("acme", "req_1", 2, "e2")};
  ASSERT_EQ(WriteOk(create), WriteOutcome::kWritten);

  // Sealed from an older head: the right revision, but entry 2 exists.
  ApprovalWrite behind = Change("acme", "req_1", 1);
  behind.audit = {Entry("acme", "req_1", 2, "again")};
  EXPECT_EQ(WriteOk(behind), WriteOutcome::kStale);
  // Leaving a gap.
  ApprovalWrite gap = Change("acme", "req_1", 1);
  gap.audit = {Entry("acme", "req_1", 4, "gap")};
  EXPECT_EQ(WriteOk(gap), WriteOutcome::kStale);

  std::optional<ApprovalRecord> record = ReadOk("acme", "req_1");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->revision, 1) << "nothing of a stale write is kept";
  EXPECT_EQ(record->audit_count, 2u);
  EXPECT_THAT(Details(AuditOk("acme", "req_1", 0, 10)), ElementsAre("e1", "e2"));

  // Entries within one write must follow one another: refused before the store.
  ApprovalWrite jumbled = Change("acme", "req_1", 1);
  jumbled.audit = {Entry("acme", "req_1", 3, "e3"), Entry("acme", "req_1", 5, "e5")};
  EXPECT_EQ(WriteError(jumbled).code(), absl::StatusCode::kInvalidArgument);

  ApprovalWrite follows = Change("acme", "req_1", 1);
  follows.audit = {Entry("acme", "req_1", 3, "e3")};
  EXPECT_EQ(WriteOk(follows), WriteOutcome::kWritten);
  EXPECT_THAT(Details(AuditOk("acme", "req_1", 0, 10)), ElementsAre("e1", "e2", "e3"));
}

TEST_P(ApprovalStoreContractTest, VersionsAreListedNewestFirstInPages) {
  ASSERT_NO_FATAL_FAILURE(CreateOk("req_1"));
  for (uint32_t v = 1; v <= 5; ++v) {
    ApprovalWrite write = Change("acme", "req_1", v);
    write.version = Version("acme", "req_1", v);
    ASSERT_EQ(WriteOk(write), WriteOutcome::kWritten) << "version " << v;
  }
  std::optional<ApprovalRecord> record = ReadOk("acme", "req_1");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->latest_version, 5u);

  EXPECT_THAT(VersionsOk("acme", "req_1", 0, 10), ElementsAre(5u, 4u, 3u, 2u, 1u));
  EXPECT_THAT(VersionsOk("acme", "req_1", 0, 2), ElementsAre(5u, 4u));
  EXPECT_THAT(VersionsOk("acme", "req_1", 4, 2), ElementsAre(3u, 2u));
  EXPECT_THAT(VersionsOk("acme", "req_1", 2, 2), ElementsAre(1u));
  EXPECT_THAT(VersionsOk("acme", "req_1", 1, 2), IsEmpty());
  EXPECT_THAT(VersionsOk("acme", "req_1", 9, 1), ElementsAre(5u)) << "above the newest";
  EXPECT_THAT(VersionsOk("acme", "req_1", 0, 0), IsEmpty());

  auto listed = Await(store_->ListVersions("acme", "req_1", 0, 1));
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE(Same((*listed)[0], Version("acme", "req_1", 5))) << (*listed)[0].DebugString();
}

TEST_P(ApprovalStoreContractTest, AVersionOutOfSequenceIsRefusedWithNothingWritten) {
  ASSERT_NO_FATAL_FAILURE(CreateOk("req_1"));
  ApprovalWrite skip = Change("acme", "req_1", 1);
  skip.version = Version("acme", "req_1", 2);
  skip.audit = {Entry("acme", "req_1", 1, "e1")};
  EXPECT_EQ(WriteError(skip).code(), absl::StatusCode::kFailedPrecondition);

  std::optional<ApprovalRecord> record = ReadOk("acme", "req_1");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->revision, 1);
  EXPECT_EQ(record->latest_version, 0u);
  EXPECT_EQ(record->audit_count, 0u);
  EXPECT_THAT(VersionsOk("acme", "req_1", 0, 10), IsEmpty());
}

TEST_P(ApprovalStoreContractTest, CommentsAreListedInTheOrderTheyWereAddedInPages) {
  ASSERT_NO_FATAL_FAILURE(CreateOk("req_1"));
  // Ids out of byte order, so the order shown is the order of adding.
  ApprovalWrite first = Change("acme", "req_1", 1);
  first.comments = {Comment("acme", "req_1", "c_b"), Comment("acme", "req_1", "c_d")};
  ASSERT_EQ(WriteOk(first), WriteOutcome::kWritten);
  ApprovalWrite second = Change("acme", "req_1", 2);
  second.comments = {Comment("acme", "req_1", "c_a"), Comment("acme", "req_1", "c_c")};
  ASSERT_EQ(WriteOk(second), WriteOutcome::kWritten);

  EXPECT_THAT(Ids(CommentsOk("acme", "req_1", "", 10)), ElementsAre("c_b", "c_d", "c_a", "c_c"));
  EXPECT_THAT(Ids(CommentsOk("acme", "req_1", "", 3)), ElementsAre("c_b", "c_d", "c_a"));
  EXPECT_THAT(Ids(CommentsOk("acme", "req_1", "c_d", 1)), ElementsAre("c_a"));
  EXPECT_THAT(Ids(CommentsOk("acme", "req_1", "c_a", 3)), ElementsAre("c_c"));
  EXPECT_THAT(CommentsOk("acme", "req_1", "c_c", 3), IsEmpty());
  EXPECT_THAT(CommentsOk("acme", "req_1", "c_unknown", 3), IsEmpty());
  EXPECT_THAT(CommentsOk("acme", "req_1", "", 0), IsEmpty());

  // Replaced (resolved) keeps its place, and shows its new content.
  ApprovalWrite resolve = Change("acme", "req_1", 3);
  resolve.comments = {Comment("acme", "req_1", "c_d", true)};
  ASSERT_EQ(WriteOk(resolve), WriteOutcome::kWritten);
  const std::vector<v1::Comment> after = CommentsOk("acme", "req_1", "", 10);
  EXPECT_THAT(Ids(after), ElementsAre("c_b", "c_d", "c_a", "c_c"));
  ASSERT_EQ(after.size(), 4u);
  EXPECT_TRUE(after[1].resolved());

  auto got = Await(store_->GetComment("acme", "req_1", "c_d"));
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_TRUE(Same(**got, Comment("acme", "req_1", "c_d", true))) << (*got)->DebugString();
  auto missing = Await(store_->GetComment("acme", "req_1", "c_unknown"));
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_FALSE(missing->has_value());
}

TEST_P(ApprovalStoreContractTest, TheUnresolvedCountFollowsAddsResolvesAndReopens) {
  ASSERT_NO_FATAL_FAILURE(CreateOk("req_1"));
  int64_t revision = 1;
  auto comment = [&](std::vector<v1::Comment> comments) {
    ApprovalWrite write = Change("acme", "req_1", revision);
    write.comments = std::move(comments);
    const WriteOutcome outcome = WriteOk(write);
    if (outcome == WriteOutcome::kWritten) ++revision;
    return outcome;
  };
  ASSERT_EQ(comment({Comment("acme", "req_1", "c_1"), Comment("acme", "req_1", "c_2")}),
            WriteOutcome::kWritten);
  EXPECT_EQ(UnresolvedOk("acme", "req_1"), 2);
  ASSERT_EQ(comment({Comment("acme", "req_1", "c_3", true)}), WriteOutcome::kWritten);
  EXPECT_EQ(UnresolvedOk("acme", "req_1"), 2) << "a comment added resolved does not count";

  ASSERT_EQ(comment({Comment("acme", "req_1", "c_1", true)}), WriteOutcome::kWritten);
  EXPECT_EQ(UnresolvedOk("acme", "req_1"), 1);
  ASSERT_EQ(comment({Comment("acme", "req_1", "c_1", true)}), WriteOutcome::kWritten);
  EXPECT_EQ(UnresolvedOk("acme", "req_1"), 1) << "resolving again counts once";
  ASSERT_EQ(comment({Comment("acme", "req_1", "c_2", false)}), WriteOutcome::kWritten);
  EXPECT_EQ(UnresolvedOk("acme", "req_1"), 1) << "an edit of an unresolved comment";

  ASSERT_EQ(comment({Comment("acme", "req_1", "c_1", false)}), WriteOutcome::kWritten);
  EXPECT_EQ(UnresolvedOk("acme", "req_1"), 2) << "reopened";
  ASSERT_EQ(comment({Comment("acme", "req_1", "c_1", true), Comment("acme", "req_1", "c_2", true)}),
            WriteOutcome::kWritten);
  EXPECT_EQ(UnresolvedOk("acme", "req_1"), 0);
}

TEST_P(ApprovalStoreContractTest, AnInboxIsOrderedByDueThenMemberInPages) {
  // Written by three requests; lines due together go by member.
  ApprovalWrite one = Change("acme", "req_1", 0);
  one.inbox_add = {Line("alice", "req_1", "brand", kDue + 100),
                   Line("alice", "req_1", "legal", kDue + 200),
                   Line("bob", "req_1", "legal", kDue + 200)};
  ASSERT_EQ(WriteOk(one), WriteOutcome::kWritten);
  ApprovalWrite two = Change("acme", "req_2", 0);
  two.inbox_add = {Line("alice", "req_2", "brand", kDue + 200)};
  ASSERT_EQ(WriteOk(two), WriteOutcome::kWritten);
  ApprovalWrite three = Change("acme", "req_3", 0);
  three.inbox_add = {Line("alice", "req_3", "brand", kDue + 50),
                     Line("alice", "req_3", "legal", kDue + 300)};
  ASSERT_EQ(WriteOk(three), WriteOutcome::kWritten);

  EXPECT_THAT(
      Members(InboxOk("acme", "alice", 0, "", 10)),
      ElementsAre("req_3/brand", "req_1/brand", "req_1/legal", "req_2/brand", "req_3/legal"));
  EXPECT_EQ(InboxSizeOk("acme", "alice"), 5);
  EXPECT_EQ(InboxSizeOk("acme", "bob"), 1);
  EXPECT_EQ(InboxSizeOk("acme", "carol"), 0);

  // Pages continue from the last line of the one before, ties included.
  const std::vector<InboxEntry> page1 = InboxOk("acme", "alice", 0, "", 3);
  ASSERT_EQ(page1.size(), 3u);
  EXPECT_EQ(page1[2], Line("alice", "req_1", "legal", kDue + 200));
  EXPECT_THAT(Members(InboxOk("acme", "alice", page1[2].due_ms, InboxMember(page1[2]), 3)),
              ElementsAre("req_2/brand", "req_3/legal"));
  EXPECT_THAT(InboxOk("acme", "alice", kDue + 300, "req_3/legal", 3), IsEmpty());
  EXPECT_THAT(InboxOk("acme", "alice", 0, "", 0), IsEmpty());

  // Moved and removed lines; a page after a line that has gone since.
  ApprovalWrite change = Change("acme", "req_1", 1);
  change.inbox_add = {Line("alice", "req_1", "brand", kDue + 400)};
  change.inbox_remove = {Line("alice", "req_1", "legal", 0), Line("bob", "req_1", "legal", 0)};
  ASSERT_EQ(WriteOk(change), WriteOutcome::kWritten);
  EXPECT_THAT(Members(InboxOk("acme", "alice", 0, "", 10)),
              ElementsAre("req_3/brand", "req_2/brand", "req_3/legal", "req_1/brand"));
  EXPECT_EQ(InboxOk("acme", "alice", 0, "", 10).back(),
            Line("alice", "req_1", "brand", kDue + 400));
  EXPECT_THAT(Members(InboxOk("acme", "alice", kDue + 200, "req_1/legal", 10)),
              ElementsAre("req_2/brand", "req_3/legal", "req_1/brand"));
  EXPECT_THAT(Members(InboxOk("acme", "alice", kDue + 200, "req_1/zzz", 10)),
              ElementsAre("req_2/brand", "req_3/legal", "req_1/brand"));
  EXPECT_THAT(Members(InboxOk("acme", "alice", kDue + 200, "req_2/zzz", 10)),
              ElementsAre("req_3/legal", "req_1/brand"));
  EXPECT_EQ(InboxSizeOk("acme", "alice"), 4);
  EXPECT_EQ(InboxSizeOk("acme", "bob"), 0);
  EXPECT_THAT(InboxOk("acme", "bob", 0, "", 10), IsEmpty());
}

TEST_P(ApprovalStoreContractTest, AWritesEventsLandInTheOutboxToBePublished) {
  ApprovalWrite create = Change("acme", "req_1", 0);
  create.events = {Event("req_1", "step_started"), Event("req_1", "timer_requested")};
  create.events[0].id = "evt_started_req_1";
  ASSERT_EQ(WriteOk(create), WriteOutcome::kWritten);
  EXPECT_EQ(outbox_.publisher().size(), 0u) << "storing publishes nothing; the outbox does";

  const std::vector<kafka::OutgoingEvent> out = Drain();
  EXPECT_THAT(Types(out), ElementsAre("step_started", "timer_requested"));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].id, "evt_started_req_1") << "an id the caller derived is kept";
  EXPECT_FALSE(out[1].id.empty());
  EXPECT_EQ(out[0].key, "req_1");
  EXPECT_EQ(out[0].data, "step_started of req_1");
  EXPECT_TRUE(out[0].time.has_value());
  EXPECT_THAT(Drain(), IsEmpty()) << "published once";
}

TEST_P(ApprovalStoreContractTest, AWriteWithEventsWaitsUntilTheRequestsEarlierEventsAreOut) {
  ApprovalWrite create = Change("acme", "req_1", 0);
  create.events = {Event("req_1", "step_started")};
  ASSERT_EQ(WriteOk(create), WriteOutcome::kWritten);
  // step_started is still in the outbox (its publish was cut off).

  ApprovalWrite decided = Change("acme", "req_1", 1);
  decided.audit = {Entry("acme", "req_1", 1, "decided")};
  decided.events = {Event("req_1", "decided")};
  EXPECT_EQ(WriteOk(decided), WriteOutcome::kOutboxPending);
  std::optional<ApprovalRecord> record = ReadOk("acme", "req_1");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->revision, 1) << "a pending write stores nothing";
  EXPECT_EQ(record->audit_count, 0u);
  // Stale is told before pending: a retry after a drain would not help.
  ApprovalWrite stale = Change("acme", "req_1", 7);
  stale.events = {Event("req_1", "decided")};
  EXPECT_EQ(WriteOk(stale), WriteOutcome::kStale);

  // Another request of the tenant is not held up.
  ApprovalWrite other = Change("acme", "req_2", 0);
  other.events = {Event("req_2", "step_started")};
  EXPECT_EQ(WriteOk(other), WriteOutcome::kWritten);
  // Nor is a write without events.
  ApprovalWrite quiet = Change("acme", "req_1", 1);
  quiet.comments = {Comment("acme", "req_1", "c_1")};
  EXPECT_EQ(WriteOk(quiet), WriteOutcome::kWritten);

  const std::vector<kafka::OutgoingEvent> drained = Drain();
  ASSERT_EQ(drained.size(), 2u) << "the refused writes' events were never stored";
  EXPECT_EQ(drained[0].key, "req_1");
  EXPECT_EQ(drained[0].type, "step_started");
  EXPECT_EQ(drained[1].key, "req_2");

  decided.expected_revision = 2;
  EXPECT_EQ(WriteOk(decided), WriteOutcome::kWritten);
  EXPECT_THAT(Types(Drain()), ElementsAre("decided"));
}

TEST_P(ApprovalStoreContractTest, ATenantSeesNothingOfAnothers) {
  ASSERT_EQ(WriteOk(WithEveryPart(Change("acme", "req_1", 0), "1")), WriteOutcome::kWritten);

  EXPECT_FALSE(ReadOk("globex", "req_1").has_value());
  EXPECT_THAT(AuditOk("globex", "req_1", 0, 10), IsEmpty());
  EXPECT_THAT(VersionsOk("globex", "req_1", 0, 10), IsEmpty());
  EXPECT_THAT(CommentsOk("globex", "req_1", "", 10), IsEmpty());
  auto comment = Await(store_->GetComment("globex", "req_1", "c_1"));
  ASSERT_TRUE(comment.ok()) << comment.status();
  EXPECT_FALSE(comment->has_value());
  EXPECT_THAT(InboxOk("globex", "alice", 0, "", 10), IsEmpty());
  EXPECT_EQ(InboxSizeOk("globex", "alice"), 0);
  EXPECT_THAT(Drain("globex"), IsEmpty());
  // Nor can it write there: the ids are its own.
  EXPECT_EQ(WriteOk(Change("globex", "req_1", 1)), WriteOutcome::kStale);
  ASSERT_NO_FATAL_FAILURE(CreateOk("req_1", "globex"));
  std::optional<ApprovalRecord> theirs = ReadOk("globex", "req_1");
  ASSERT_TRUE(theirs.has_value());
  EXPECT_EQ(theirs->audit_count, 0u);
  EXPECT_EQ(theirs->chain.tenant_id(), "globex");

  // Parts of a write that name another tenant or request are refused.
  ApprovalWrite crossed = Change("acme", "req_1", 1);
  crossed.chain.set_tenant_id("globex");
  EXPECT_EQ(WriteError(crossed).code(), absl::StatusCode::kInvalidArgument);
  crossed = Change("acme", "req_1", 1);
  crossed.comments = {Comment("acme", "req_2", "c_2")};
  EXPECT_EQ(WriteError(crossed).code(), absl::StatusCode::kInvalidArgument);
  crossed = Change("acme", "req_1", 1);
  crossed.inbox_add = {Line("alice", "req_2", "brand", kDue)};
  EXPECT_EQ(WriteError(crossed).code(), absl::StatusCode::kInvalidArgument);
  std::optional<ApprovalRecord> ours = ReadOk("acme", "req_1");
  ASSERT_TRUE(ours.has_value());
  EXPECT_EQ(ours->revision, 1);
}

TEST_P(ApprovalStoreContractTest, OfTwoConcurrentWritesFromOneRevisionExactlyOneWins) {
  ASSERT_NO_FATAL_FAILURE(CreateOk("req_1"));
  // Two decisions on one step, computed from the same read.
  std::vector<ApprovalWrite> writes;
  for (const std::string who : {"alice", "bob"}) {
    ApprovalWrite write = Change("acme", "req_1", 1);
    write.chain.set_policy_id(who);
    write.audit = {Entry("acme", "req_1", 1, who)};
    write.comments = {Comment("acme", "req_1", "c_" + who)};
    writes.push_back(std::move(write));
  }
  // Both in flight at once on the io threads (pipelined on the client's
  // connections for Redis), then both results.
  std::vector<std::future<absl::StatusOr<WriteOutcome>>> results;
  for (ApprovalWrite& write : writes) {
    results.push_back(asio::co_spawn(io_.context(), store_->Write(write), asio::use_future));
  }
  std::vector<WriteOutcome> outcomes;
  for (auto& result : results) {
    absl::StatusOr<WriteOutcome> outcome = result.get();
    ASSERT_TRUE(outcome.ok()) << outcome.status();
    outcomes.push_back(*outcome);
  }
  EXPECT_THAT(outcomes, UnorderedElementsAre(WriteOutcome::kWritten, WriteOutcome::kStale));

  // What is stored is the winner's whole write and nothing of the other's.
  std::optional<ApprovalRecord> record = ReadOk("acme", "req_1");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->revision, 2);
  const std::string winner = record->chain.policy_id();
  ASSERT_TRUE(winner == "alice" || winner == "bob") << winner;
  EXPECT_EQ(record->audit_count, 1u);
  EXPECT_THAT(Details(AuditOk("acme", "req_1", 0, 10)), ElementsAre(winner));
  EXPECT_THAT(Ids(CommentsOk("acme", "req_1", "", 10)), ElementsAre("c_" + winner));
  EXPECT_EQ(record->unresolved_comments, 1);
}

// What only the Redis store can meet: damaged bytes and a server it cannot
// reach. Run with the Redis parameter only.
class RedisApprovalStoreTest : public ApprovalStoreContractTest {};

TEST_P(RedisApprovalStoreTest, AnUndecodableStoredChainIsDataLoss) {
  ASSERT_NO_FATAL_FAILURE(CreateOk("req_1"));
  auto* store = static_cast<RedisApprovalStore*>(store_.get());
  std::vector<std::string> damage = {"HSET", store->RequestKey("acme", "record", "req_1"), "chain",
                                     "\xff\xff not a chain"};
  ASSERT_TRUE(admin().Command(damage).ok());
  auto record = Await(store_->Read("acme", "req_1"));
  EXPECT_EQ(record.status().code(), absl::StatusCode::kDataLoss) << record.status();

  std::vector<std::string> damage_comment = {"HSET", store->RequestKey("acme", "comments", "req_1"),
                                             "c_1", "x garbage"};
  ASSERT_TRUE(admin().Command(damage_comment).ok());
  auto comment = Await(store_->GetComment("acme", "req_1", "c_1"));
  EXPECT_EQ(comment.status().code(), absl::StatusCode::kDataLoss) << comment.status();
}

TEST_P(RedisApprovalStoreTest, ARedisThatCannotBeReachedIsUnavailable) {
  redis::ConnectionOptions nowhere = options();
  nowhere.endpoint.port = 1;  // nothing listens there
  auto client = redis::AsyncClient::Create(io_.context(), {.connection = nowhere});
  ASSERT_TRUE(client.ok()) << client.status();
  {
    RedisApprovalStore store(**client, prefix(), outbox_.redis());
    auto record = Await(store.Read("acme", "req_1"));
    EXPECT_EQ(record.status().code(), absl::StatusCode::kUnavailable) << record.status();
    auto size = Await(store.InboxSize("acme", "alice"));
    EXPECT_EQ(size.status().code(), absl::StatusCode::kUnavailable) << size.status();
  }
  io_.Stop();  // the client goes after the threads that drive it
  client->reset();
}

INSTANTIATE_TEST_SUITE_P(FakeAndRedis, ApprovalStoreContractTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Redis" : "InMemory"; });
INSTANTIATE_TEST_SUITE_P(Redis, RedisApprovalStoreTest, ::testing::Values(true));

}  // namespace
}  // namespace flywheel::approval
