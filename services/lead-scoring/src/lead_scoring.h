#pragma once

#include <asio/awaitable.hpp>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/core/clock.h"
#include "flywheel/leadscoring/v1/events.pb.h"
#include "flywheel/leadscoring/v1/leadscoring_service.pb.h"
#include "lead_scoring_metrics.h"
#include "policy.h"
#include "redis_lead_store.h"
#include "scoring.h"

namespace flywheel::lead_scoring {

struct LeadScoringOptions {
  /// The prefixed topic lead.scored and lead.qualified go to.
  std::string scores_topic;
  /// An activity stamped further ahead of the service's clock than this is
  /// refused (dead-lettered).
  absl::Duration max_future_skew = absl::Minutes(5);
  /// Larger event data is refused (dead-lettered).
  size_t max_event_bytes = 1 << 20;
};

/// One decoded incoming event.
using LeadEvent = std::variant<v1::LeadActivity, v1::LeadProfile>;

/// Lead scoring's logic: incoming activity and profiles applied to the
/// lead's state under the tenant's model (through `RedisLeadStore`, read,
/// computed here, written if nothing moved meanwhile), the hand-off events
/// stored with the change, and the read side of the API. Coroutines on the
/// store's io context; thread-safe.
///
/// `Apply` returns per event what a consumer handler returns: OK once
/// applied or when nothing needed changing (a duplicate, an older profile);
/// INVALID_ARGUMENT, naming the field and why, for an event that cannot be
/// scored (dead-lettered; nothing changes); UNAVAILABLE or ABORTED to be
/// retried.
class LeadScoring {
 public:
  LeadScoring(const PolicyHolder& policy, RedisLeadStore& store, LeadScoringMetrics& metrics,
              const Clock& clock, LeadScoringOptions options)
      : policy_(policy),
        store_(store),
        metrics_(metrics),
        clock_(clock),
        options_(std::move(options)) {}

  /// Applies a batch of events in order. Per tenant, the batch is read in
  /// one round trip, applied in memory (one lead's events in order, each
  /// lead's state parsed and serialized once) and written in one, all or
  /// nothing, with its hand-off events; when a lead moved meanwhile the
  /// tenant's events are read and applied again. Refused events are refused
  /// alone; a failed read or write fails the tenant's events.
  asio::awaitable<std::vector<absl::Status>> Apply(const std::vector<LeadEvent>& events);

  asio::awaitable<absl::StatusOr<v1::GetScoreResponse>> GetScore(const v1::GetScoreRequest& r);
  asio::awaitable<absl::StatusOr<v1::ListLeadsResponse>> ListLeads(const v1::ListLeadsRequest& r);
  asio::awaitable<absl::StatusOr<v1::GetAccountScoreResponse>> GetAccountScore(
      const v1::GetAccountScoreRequest& r);
  asio::awaitable<absl::StatusOr<v1::BacktestResponse>> Backtest(const v1::BacktestRequest& r);

 private:
  // Validates an event against the policy; the refusal names the field.
  absl::Status CheckActivity(const Policy& policy, const v1::LeadActivity& a) const;
  static absl::Status CheckProfile(const Policy& policy, const v1::LeadProfile& p);
  // Applies one tenant's valid events (`indexes` into `events`), read,
  // computed and written together: their statuses, in that order.
  asio::awaitable<std::vector<absl::Status>> ApplyTenant(const Model& model,
                                                         const std::string& tenant,
                                                         const std::vector<LeadEvent>& events,
                                                         const std::vector<size_t>& indexes);
  // The events a scored change of a lead publishes.
  std::vector<kafka::OutgoingEvent> HandoffEvents(const std::string& tenant,
                                                  const std::string& lead, const Model& model,
                                                  const Handoff& handoff,
                                                  const stored::StoredLead& state, int64_t revision,
                                                  const std::string& cause_activity);
  // Fills the commit's index fields for a lead from its state before and
  // after.
  static void Index(LeadCommit& commit, const stored::StoredLead& before,
                    stored::StoredLead& after);

  const PolicyHolder& policy_;
  RedisLeadStore& store_;
  LeadScoringMetrics& metrics_;
  const Clock& clock_;
  const LeadScoringOptions options_;
};

}  // namespace flywheel::lead_scoring
