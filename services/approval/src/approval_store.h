#pragma once

#include <asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "flywheel/approval/v1/resources.pb.h"
#include "flywheel/kafka/event_publisher.h"

namespace flywheel::approval {

/// One approver's inbox line: an active step of a request that waits for
/// them (directly, through a group, as escalation owner or as a delegate).
/// The store keeps these as an index; the chain has the last word (a
/// delegation may have lapsed), so readers check each against it.
struct InboxEntry {
  std::string approver_id;
  std::string request_id;
  std::string step_id;
  /// Milliseconds since the epoch: the step's due time, or for a step
  /// without an SLA its activation time plus a year, so steps with a
  /// deadline come first and the rest follow oldest first.
  int64_t due_ms = 0;

  friend bool operator==(const InboxEntry&, const InboxEntry&) = default;
};

/// The line's member in its approver's inbox, `request_id/step_id`: with
/// `due_ms`, the cursor `ApprovalStore::Inbox` pages by. Request ids have no
/// `/`, so the first one splits the member.
std::string InboxMember(const InboxEntry& entry);

/// What the store holds of one request's approval, as read together: the
/// chain with its revision, and the head of its audit trail.
struct ApprovalRecord {
  v1::ApprovalChain chain;
  /// The chain's revision: 1 once created, one more with every write.
  int64_t revision = 0;
  /// How many audit entries the trail holds, and the last one (for sealing
  /// the next); kept beside the list, so entries removed from its end are
  /// found by `VerifyAudit`.
  uint64_t audit_count = 0;
  std::optional<v1::AuditEntry> last_audit;
  /// Comments on the request not yet resolved (any version).
  int unresolved_comments = 0;
  /// The newest asset version recorded, 0 when none.
  uint32_t latest_version = 0;
};

/// One atomic change to a request's approval: everything in it is stored
/// together, or nothing is.
struct ApprovalWrite {
  std::string tenant_id;
  std::string request_id;
  /// The revision the change was computed from; 0 to create the record (it
  /// must not exist). A different stored revision makes the write kStale.
  int64_t expected_revision = 0;
  /// The chain after the change; its `revision` field is set by the store.
  v1::ApprovalChain chain;
  /// Sealed entries to append, their sequences following `audit_count`.
  std::vector<v1::AuditEntry> audit;
  /// A new asset version to record (its number one above the latest).
  std::optional<v1::AssetVersion> version;
  /// Comments to add or replace (by `comment_id`): a new one, or one now
  /// resolved.
  std::vector<v1::Comment> comments;
  /// Inbox lines to add (or move to a new due time) and to remove.
  std::vector<InboxEntry> inbox_add;
  std::vector<InboxEntry> inbox_remove;
  /// The change's events, stored in the outbox (tag: the tenant) in the
  /// same step. Events without an id or a time get them here. Their key is
  /// the request id, which is what `kOutboxPending` looks for.
  std::vector<kafka::OutgoingEvent> events;
};

/// INVALID_ARGUMENT naming the first part of `write` that does not belong to
/// its tenant and request (the chain, an audit entry, the version, a
/// comment, an inbox line), an empty id, or audit entries whose sequences do
/// not follow one another. Both stores check it before anything else.
absl::Status CheckWrite(const ApprovalWrite& write);

/// Where approval keeps its chains, asset versions, comments, audit trails
/// and inboxes, and the events each change causes. Every operation is
/// scoped by tenant. Failures of the backing store are UNAVAILABLE.
/// Implementations are thread-safe.
///
/// Every operation is a coroutine; arguments passed by reference must live
/// until it completes (`co_await` it at once).
class ApprovalStore {
 public:
  enum class WriteOutcome {
    kWritten,
    /// The stored revision is not `expected_revision` (for a create: the
    /// record exists). Nothing was written.
    kStale,
    /// The write has events, and an earlier change's events for this
    /// request are still in the outbox; drain it and retry, so this change's
    /// events cannot overtake them. Told after kStale (a retry would not
    /// help that). A write without events is not held up.
    kOutboxPending,
  };

  virtual ~ApprovalStore() = default;

  /// The request's approval, or nullopt when this tenant has none for it.
  virtual asio::awaitable<absl::StatusOr<std::optional<ApprovalRecord>>> Read(
      const std::string& tenant_id, const std::string& request_id) = 0;

  /// Applies `write` atomically, only if the stored revision is still its
  /// `expected_revision` and its first audit entry follows the stored ones
  /// (else kStale). On kWritten the chain's new revision is
  /// `expected_revision + 1` (set in `write.chain` too). A version not one
  /// above the latest is FAILED_PRECONDITION; a write `CheckWrite` refuses
  /// is INVALID_ARGUMENT; in both cases nothing is written.
  virtual asio::awaitable<absl::StatusOr<WriteOutcome>> Write(ApprovalWrite& write) = 0;

  /// Up to `limit` audit entries with a sequence above `after_sequence`, in
  /// sequence order, exactly as stored.
  virtual asio::awaitable<absl::StatusOr<std::vector<v1::AuditEntry>>> ListAudit(
      const std::string& tenant_id, const std::string& request_id, uint64_t after_sequence,
      size_t limit) = 0;

  /// Up to `limit` versions numbered below `before` (0: from the newest),
  /// newest first.
  virtual asio::awaitable<absl::StatusOr<std::vector<v1::AssetVersion>>> ListVersions(
      const std::string& tenant_id, const std::string& request_id, uint32_t before,
      size_t limit) = 0;

  /// The request's comments in the order they were added, from the one
  /// after `after_comment_id` (from the first when empty), up to `limit`. A
  /// replaced comment keeps its place. An unknown `after_comment_id` gives
  /// an empty page.
  virtual asio::awaitable<absl::StatusOr<std::vector<v1::Comment>>> ListComments(
      const std::string& tenant_id, const std::string& request_id,
      const std::string& after_comment_id, size_t limit) = 0;

  /// One comment, or nullopt.
  virtual asio::awaitable<absl::StatusOr<std::optional<v1::Comment>>> GetComment(
      const std::string& tenant_id, const std::string& request_id,
      const std::string& comment_id) = 0;

  /// Up to `limit` inbox lines of one approver, soonest due first, after the
  /// line (`after_due_ms`, `after_member`) of an earlier page (from the
  /// start when `after_member` is empty). `member` is `InboxMember`. Lines
  /// due together come in member order (bytes); the cursor's line need not
  /// still be there.
  virtual asio::awaitable<absl::StatusOr<std::vector<InboxEntry>>> Inbox(
      const std::string& tenant_id, const std::string& approver_id, int64_t after_due_ms,
      const std::string& after_member, size_t limit) = 0;

  /// How many inbox lines the approver has.
  virtual asio::awaitable<absl::StatusOr<int64_t>> InboxSize(const std::string& tenant_id,
                                                             const std::string& approver_id) = 0;
};

}  // namespace flywheel::approval
