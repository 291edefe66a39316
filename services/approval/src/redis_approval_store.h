#pragma once

#include <string>
#include <vector>

#include "approval_store.h"
#include "flywheel/outbox/outbox.h"
#include "flywheel/redis/async_client.h"
#include "flywheel/redis/script_registry.h"

namespace flywheel::approval {

/// ApprovalStore in Redis. Keys, all under `key_prefix`:
///
///   approval:{<tenant>}:record:<request>         hash: chain (serialized
///       v1::ApprovalChain), revision, audit_count, audit_last (the last
///       entry's bytes), unresolved, latest_version, comment_seq
///   approval:{<tenant>}:audit:<request>          list of serialized entries,
///       sequence 1 first
///   approval:{<tenant>}:versions:<request>       hash: number -> serialized
///       v1::AssetVersion
///   approval:{<tenant>}:comments:<request>       hash: comment id -> '0' or
///       '1' (resolved) followed by the serialized v1::Comment
///   approval:{<tenant>}:comment_order:<request>  sorted set: comment id by
///       the order it was added in
///   approval:{<tenant>}:inbox:<approver>         sorted set: InboxMember by
///       due_ms
///   outbox:{<tenant>}:...                        the tenant's outbox
///
/// The hash tag is the tenant, so one Lua script writes a request's record
/// and the inboxes of its approvers together. Every write is one script;
/// every read is one command or script. Thread-safe.
class RedisApprovalStore final : public ApprovalStore {
 public:
  /// Writes every change's events to `outbox` in the change's own script.
  RedisApprovalStore(redis::AsyncClient& redis, std::string key_prefix,
                     outbox::RedisOutbox& outbox);

  asio::awaitable<absl::StatusOr<std::optional<ApprovalRecord>>> Read(
      const std::string& tenant_id, const std::string& request_id) override;
  asio::awaitable<absl::StatusOr<WriteOutcome>> Write(ApprovalWrite& write) override;
  asio::awaitable<absl::StatusOr<std::vector<v1::AuditEntry>>> ListAudit(
      const std::string& tenant_id, const std::string& request_id, uint64_t after_sequence,
      size_t limit) override;
  asio::awaitable<absl::StatusOr<std::vector<v1::AssetVersion>>> ListVersions(
      const std::string& tenant_id, const std::string& request_id, uint32_t before,
      size_t limit) override;
  asio::awaitable<absl::StatusOr<std::vector<v1::Comment>>> ListComments(
      const std::string& tenant_id, const std::string& request_id,
      const std::string& after_comment_id, size_t limit) override;
  asio::awaitable<absl::StatusOr<std::optional<v1::Comment>>> GetComment(
      const std::string& tenant_id, const std::string& request_id,
      const std::string& comment_id) override;
  asio::awaitable<absl::StatusOr<std::vector<InboxEntry>>> Inbox(const std::string& tenant_id,
                                                                 const std::string& approver_id,
                                                                 int64_t after_due_ms,
                                                                 const std::string& after_member,
                                                                 size_t limit) override;
  asio::awaitable<absl::StatusOr<int64_t>> InboxSize(const std::string& tenant_id,
                                                     const std::string& approver_id) override;

  /// The key of one of a request's structures (`record`, `audit`,
  /// `versions`, `comments`, `comment_order`).
  std::string RequestKey(const std::string& tenant_id, const std::string& what,
                         const std::string& request_id) const;
  std::string InboxKey(const std::string& tenant_id, const std::string& approver_id) const;

 private:
  redis::AsyncClient& redis_;
  const std::string key_prefix_;
  outbox::RedisOutbox& outbox_;
  redis::ScriptRegistry scripts_;
};

}  // namespace flywheel::approval
