#pragma once

#include <asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "approval_events.h"
#include "approval_metrics.h"
#include "approval_store.h"
#include "chain.h"
#include "flywheel/approval/v1/approval_service.pb.h"
#include "flywheel/core/clock.h"
#include "flywheel/outbox/outbox.h"
#include "flywheel/routing/v1/events.pb.h"
#include "flywheel/scheduler/v1/events.pb.h"
#include "policy.h"

namespace flywheel::approval {

/// The largest comment body, and the largest anchor, a comment may have.
inline constexpr size_t kMaxCommentBodyBytes = kMaxCommentBytes;
inline constexpr size_t kMaxAnchorBytes = 1024;

/// Runs approval chains: builds them from routing's plan, takes decisions,
/// versions, comments and delegations, escalates on the scheduler's
/// breaches, and keeps each request's audit trail. Knows nothing of gRPC or
/// Kafka records; thread-safe; every call is a coroutine (no thread waits on
/// Redis or the broker).
///
/// Every change is one atomic write of the store (the chain at its next
/// revision, its audit entries sealed onto the trail, the inbox lines it
/// moves and its events in the tenant's outbox), then its events are
/// published; once stored, the call succeeds even when the broker is down.
/// A write that finds the chain changed since it was read is retried from a
/// fresh read, except a decision: two decisions racing on one chain resolve
/// as one recorded and the other ABORTED, to be retried by its caller (who
/// then decides on what the winner left).
///
/// `actor` arguments are the verified user a call acts as (the edge
/// resolves it from the principal). Errors, for every call: bad input is
/// INVALID_ARGUMENT naming the fields; a request without a chain, or of
/// another tenant, is NOT_FOUND; the store down is UNAVAILABLE.
class Approvals {
 public:
  Approvals(ApprovalTopics topics, const PolicyHolder& policy, ApprovalStore& store,
            outbox::Outbox& outbox, ApprovalMetrics& metrics, const Clock& clock);

  // ---- Events taken in ------------------------------------------------------

  /// request.routed: builds the chain its `approval_policy_id` names for its
  /// tenant, waiting for the first version (a policy without stages is
  /// approved at once). A chain already built (a redelivery) is left alone.
  /// INVALID_ARGUMENT (dead-lettered) for a tenant or policy id the policy
  /// file does not have.
  asio::awaitable<absl::Status> Open(const routing::v1::RequestRouted& routed);

  /// sla.breached of a step timer (kind APPROVAL_STEP, escalation level 0):
  /// hands the step to its escalation owners. A breach of a round that is
  /// over, of a step that is no longer active or has no owner, or a second
  /// one, changes nothing. INVALID_ARGUMENT for a timer id that is not a
  /// step timer's, or a request without a chain.
  asio::awaitable<absl::Status> Escalate(const scheduler::v1::SlaBreached& breached);

  /// workflow.completed CANCELLED (the request was cancelled): the chain
  /// ends as CANCELLED, its timers cancelled. A finished chain, or none,
  /// is left alone.
  asio::awaitable<absl::Status> CancelChain(const std::string& tenant_id,
                                            const std::string& request_id);

  // ---- Calls ----------------------------------------------------------------

  asio::awaitable<absl::StatusOr<v1::GetChainResponse>> GetChain(
      const v1::GetChainRequest& request);

  /// `actor`'s decision (see `Chain::Decide` for every refusal). ABORTED when
  /// another change of the chain won the race.
  asio::awaitable<absl::StatusOr<v1::DecideResponse>> Decide(const std::string& actor,
                                                             const v1::DecideRequest& request);

  /// Records the next version (URI, SHA-256, author, note) and moves the
  /// chain to it. The same content as the latest version answers that
  /// version and records nothing. FAILED_PRECONDITION on a finished chain.
  asio::awaitable<absl::StatusOr<v1::SubmitVersionResponse>> SubmitVersion(
      const std::string& actor, const v1::SubmitVersionRequest& request);

  asio::awaitable<absl::StatusOr<v1::ListVersionsResponse>> ListVersions(
      const v1::ListVersionsRequest& request);

  /// A comment by `actor` on a version (0: the current one), optionally
  /// anchored (page, region, time code: free text up to 1 KiB) and a reply
  /// to another comment of the request. Audited.
  asio::awaitable<absl::StatusOr<v1::AddCommentResponse>> AddComment(
      const std::string& actor, const v1::AddCommentRequest& request);

  asio::awaitable<absl::StatusOr<v1::ListCommentsResponse>> ListComments(
      const v1::ListCommentsRequest& request);

  /// Marks a comment resolved; a resolved one is answered as it is.
  asio::awaitable<absl::StatusOr<v1::ResolveCommentResponse>> ResolveComment(
      const std::string& actor, const v1::ResolveCommentRequest& request);

  asio::awaitable<absl::StatusOr<v1::ListAuditEntriesResponse>> ListAuditEntries(
      const v1::ListAuditEntriesRequest& request);

  /// Verifies the whole trail: each entry's hash, link and sequence, and
  /// that it holds as many entries as were written (entries cut from its end
  /// are found too).
  asio::awaitable<absl::StatusOr<v1::VerifyAuditResponse>> VerifyAudit(
      const v1::VerifyAuditRequest& request);

  asio::awaitable<absl::StatusOr<v1::ExportAuditResponse>> ExportAudit(
      const v1::ExportAuditRequest& request);

  /// `actor`'s inbox: the active steps waiting for them now, soonest due
  /// first, paged.
  asio::awaitable<absl::StatusOr<v1::ListPendingApprovalsResponse>> ListPending(
      const std::string& actor, const v1::ListPendingApprovalsRequest& request);

  /// `actor` names a stand-in on the request's chain (see `Chain::Delegate`).
  asio::awaitable<absl::StatusOr<v1::DelegateResponse>> Delegate(
      const std::string& actor, const v1::DelegateRequest& request);

  /// Every approver's inbox size per tenant of the policy, into the metrics.
  /// UNAVAILABLE when the store is down.
  asio::awaitable<absl::Status> RefreshInboxMetrics();

 private:
  // What one operation adds to a request's approval, besides the chain.
  struct Change {
    Facts facts;
    // Entries of the service's own (creation, versions, comments), before
    // those the facts call for.
    std::vector<v1::AuditEntry> audit;
    std::optional<v1::AssetVersion> version;
    std::vector<v1::Comment> comments;
    // Events before those the facts call for (version submitted).
    std::vector<kafka::OutgoingEvent> events;
  };
  // The operation, on the chain as read (changed in place) and the record
  // it came from; an error changes nothing.
  using Operation =
      std::function<absl::StatusOr<Change>(Chain&, const ApprovalRecord&, absl::Time now)>;
  struct Applied {
    v1::ApprovalChain chain;
    Change change;
  };
  // Reads, runs `operation`, writes. A change that stores nothing (no
  // facts, entries, version or comments) is not written. A stale read is
  // retried up to `attempts` times, then ABORTED.
  asio::awaitable<absl::StatusOr<Applied>> Apply(const std::string& tenant_id,
                                                 const std::string& request_id,
                                                 const std::string& actor, int attempts,
                                                 const Operation& operation);
  // The stored record, NOT_FOUND or UNAVAILABLE.
  asio::awaitable<absl::StatusOr<ApprovalRecord>> Load(const std::string& tenant_id,
                                                       const std::string& request_id);
  // Every audit entry of the request, in order.
  asio::awaitable<absl::StatusOr<std::vector<v1::AuditEntry>>> WholeTrail(
      const std::string& tenant_id, const std::string& request_id);
  // Publishes a stored change's events; a failure is left to the relay.
  asio::awaitable<void> Announce(const std::string& tenant_id,
                                 std::vector<kafka::OutgoingEvent> events);
  // Counts what the facts say about the chain.
  void CountFacts(const Facts& facts);

  const ApprovalTopics topics_;
  const PolicyHolder& policy_;
  ApprovalStore& store_;
  outbox::Outbox& outbox_;
  ApprovalMetrics& metrics_;
  const Clock& clock_;
};

}  // namespace flywheel::approval
