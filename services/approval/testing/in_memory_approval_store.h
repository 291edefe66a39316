#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "approval_store.h"
#include "flywheel/outbox/testing/in_memory_outbox.h"

namespace flywheel::approval {

/// The test fake of ApprovalStore, in process memory: the same outcomes as
/// RedisApprovalStore, held to it by the contract suite in
/// approval_store_contract_test.cc. Events go to the given in-memory outbox.
/// `fail_with` makes every call fail. Thread-safe.
class InMemoryApprovalStore final : public ApprovalStore {
 public:
  explicit InMemoryApprovalStore(outbox::testing::InMemoryOutbox& outbox) : outbox_(outbox) {}

  asio::awaitable<absl::StatusOr<std::optional<ApprovalRecord>>> Read(
      const std::string& tenant_id, const std::string& request_id) override {
    co_return ReadNow(tenant_id, request_id);
  }
  asio::awaitable<absl::StatusOr<WriteOutcome>> Write(ApprovalWrite& write) override {
    co_return WriteNow(write);
  }
  asio::awaitable<absl::StatusOr<std::vector<v1::AuditEntry>>> ListAudit(
      const std::string& tenant_id, const std::string& request_id, uint64_t after_sequence,
      size_t limit) override {
    co_return ListAuditNow(tenant_id, request_id, after_sequence, limit);
  }
  asio::awaitable<absl::StatusOr<std::vector<v1::AssetVersion>>> ListVersions(
      const std::string& tenant_id, const std::string& request_id, uint32_t before,
      size_t limit) override {
    co_return ListVersionsNow(tenant_id, request_id, before, limit);
  }
  asio::awaitable<absl::StatusOr<std::vector<v1::Comment>>> ListComments(
      const std::string& tenant_id, const std::string& request_id,
      const std::string& after_comment_id, size_t limit) override {
    co_return ListCommentsNow(tenant_id, request_id, after_comment_id, limit);
  }
  asio::awaitable<absl::StatusOr<std::optional<v1::Comment>>> GetComment(
      const std::string& tenant_id, const std::string& request_id,
      const std::string& comment_id) override {
    co_return GetCommentNow(tenant_id, request_id, comment_id);
  }
  asio::awaitable<absl::StatusOr<std::vector<InboxEntry>>> Inbox(const std::string& tenant_id,
                                                                 const std::string& approver_id,
                                                                 int64_t after_due_ms,
                                                                 const std::string& after_member,
                                                                 size_t limit) override {
    co_return InboxNow(tenant_id, approver_id, after_due_ms, after_member, limit);
  }
  asio::awaitable<absl::StatusOr<int64_t>> InboxSize(const std::string& tenant_id,
                                                     const std::string& approver_id) override {
    co_return InboxSizeNow(tenant_id, approver_id);
  }

  absl::Status fail_with;

 private:
  // One request's approval, as the Redis store keeps it.
  struct Stored {
    v1::ApprovalChain chain;
    int64_t revision = 0;
    std::vector<v1::AuditEntry> audit;
    std::map<uint32_t, v1::AssetVersion> versions;
    std::vector<std::string> comment_order;
    std::map<std::string, v1::Comment> comments;
    int unresolved = 0;
  };
  // One approver's lines: ordered by (due, member), and each member's due.
  struct Lines {
    std::set<std::pair<int64_t, std::string>> ordered;
    std::map<std::string, int64_t> due;
  };
  using Key = std::pair<std::string, std::string>;  // (tenant, request or approver)

  // The operations themselves: nothing here waits.
  absl::StatusOr<std::optional<ApprovalRecord>> ReadNow(const std::string& tenant_id,
                                                        const std::string& request_id);
  absl::StatusOr<WriteOutcome> WriteNow(ApprovalWrite& write);
  absl::StatusOr<std::vector<v1::AuditEntry>> ListAuditNow(const std::string& tenant_id,
                                                           const std::string& request_id,
                                                           uint64_t after_sequence, size_t limit);
  absl::StatusOr<std::vector<v1::AssetVersion>> ListVersionsNow(const std::string& tenant_id,
                                                                const std::string& request_id,
                                                                uint32_t before, size_t limit);
  absl::StatusOr<std::vector<v1::Comment>> ListCommentsNow(const std::string& tenant_id,
                                                           const std::string& request_id,
                                                           const std::string& after_comment_id,
                                                           size_t limit);
  absl::StatusOr<std::optional<v1::Comment>> GetCommentNow(const std::string& tenant_id,
                                                           const std::string& request_id,
                                                           const std::string& comment_id);
  absl::StatusOr<std::vector<InboxEntry>> InboxNow(const std::string& tenant_id,
                                                   const std::string& approver_id,
                                                   int64_t after_due_ms,
                                                   const std::string& after_member, size_t limit);
  absl::StatusOr<int64_t> InboxSizeNow(const std::string& tenant_id,
                                       const std::string& approver_id);

  // The stored approval, or null.
  const Stored* Find(const std::string& tenant_id, const std::string& request_id) const;

  outbox::testing::InMemoryOutbox& outbox_;
  mutable std::mutex mu_;
  std::map<Key, Stored> records_;  // guarded by mu_
  std::map<Key, Lines> inboxes_;   // guarded by mu_
};

}  // namespace flywheel::approval
