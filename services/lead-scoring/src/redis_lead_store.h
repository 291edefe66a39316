#pragma once

#include <asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "flywheel/kafka/event_publisher.h"
#include "flywheel/leadscoring/v1/resources.pb.h"
#include "flywheel/outbox/outbox.h"
#include "flywheel/redis/async_client.h"
#include "flywheel/redis/script_registry.h"
#include "stored_lead.pb.h"

namespace flywheel::lead_scoring {

/// The contract's messages (package flywheel.leadscoring.v1).
namespace v1 = ::flywheel::leadscoring::v1;

/// Whose state a read found: a lead, or an anonymous visitor not linked to
/// one yet.
struct Subject {
  bool visitor = false;
  std::string id;
};

/// What `Read` returns for one incoming event.
struct LeadRead {
  /// The state the event applies to: the lead named, else the lead the
  /// visitor was linked to, else the visitor.
  Subject subject;
  /// 0 when nothing is stored yet.
  int64_t revision = 0;
  stored::StoredLead state;
  /// The activity id was seen before by the subject (or by the visitor
  /// being merged): a duplicate.
  bool seen = false;
  /// When the event names a lead and a visitor that still has state of its
  /// own: that state, to merge.
  std::optional<stored::StoredLead> visitor_state;
  int64_t visitor_revision = 0;
};

/// One change to write with `Commit`.
struct LeadCommit {
  Subject subject;
  /// The revision `Read` returned; the write happens only if it is still
  /// the stored one.
  int64_t expected_revision = 0;
  stored::StoredLead state;
  /// The activity id to remember as seen; empty for a profile.
  std::string activity_id;
  /// The history entry to keep; empty for none.
  std::optional<stored::StoredActivity> entry;
  /// The visitor whose state was merged (deleted, its history and seen ids
  /// moved to the lead, and linked to it); empty for none.
  std::string merged_visitor;
  int64_t expected_visitor_revision = 0;
  /// The visitor the event links to the lead (merged or not): its later
  /// activity goes to the lead. Empty for none.
  std::string linked_visitor;
  /// For a lead: the band, account and score to index it under.
  v1::ScoreBand previous_band = v1::SCORE_BAND_UNSPECIFIED;
  v1::ScoreBand band = v1::SCORE_BAND_UNSPECIFIED;
  std::string previous_account;
  std::string account;
  int score = 0;
};

/// One event's keys for `ReadBatch`. The views must outlive the call.
struct ReadKey {
  /// The lead named; may be empty.
  std::string_view lead_id;
  /// The visitor named; may be empty (not both).
  std::string_view visitor_id;
  /// The activity to check for a duplicate; may be empty.
  std::string_view activity_id;
};

/// A subject's stored state, as `ReadBatch` found it.
struct SubjectRead {
  Subject subject;
  /// 0 when nothing is stored yet.
  int64_t revision = 0;
  stored::StoredLead state;
};

/// What `ReadBatch` returns: each subject the batch touches, read once, and
/// per event which of them it applies to.
struct BatchRead {
  struct Event {
    /// Index into `subjects` of the state the event applies to, resolved as
    /// `Read` does and as if the batch's earlier events that were not
    /// duplicates had been applied (a link earlier in the batch sends a
    /// visitor's later activity to the lead).
    size_t subject = 0;
    /// For an event naming a lead and a visitor: index of the visitor's own
    /// state (its revision is 0 when it has none). SIZE_MAX otherwise.
    size_t visitor = SIZE_MAX;
    /// A duplicate: seen by its subject (or the visitor being merged) in
    /// Redis, or earlier in the batch.
    bool seen = false;
  };
  std::vector<SubjectRead> subjects;
  std::vector<Event> events;
};

/// A visitor a lead's change links to the lead.
struct VisitorLink {
  std::string visitor;
  /// The visitor's revision when read: its stored state (if any) is merged
  /// into the lead and deleted, only if it is still that one (0: it must
  /// still have none). -1: link only, nothing checked (the visitor was
  /// merged by an earlier change in the same batch).
  int64_t expected_revision = 0;
};

/// One subject's change for `CommitBatch`: every event of the batch that
/// applied to it, folded into one write.
struct SubjectChange {
  Subject subject;
  /// The revision read; the write happens only if it is still the stored one.
  int64_t expected_revision = 0;
  /// The revision written: one more per event applied.
  int64_t revision = 0;
  stored::StoredLead state;
  /// Activity ids to remember as seen.
  std::vector<std::string_view> seen;
  /// History entries to keep, oldest first.
  std::vector<stored::StoredActivity> entries;
  /// Visitors linked to the lead, in the order of their events.
  std::vector<VisitorLink> links;
  /// For a lead: the band, account and score to index it under.
  v1::ScoreBand previous_band = v1::SCORE_BAND_UNSPECIFIED;
  v1::ScoreBand band = v1::SCORE_BAND_UNSPECIFIED;
  std::string previous_account;
  std::string account;
  int score = 0;
};

/// A lead's state and recent history, for reading.
struct LeadView {
  stored::StoredLead state;
  /// Newest first.
  std::vector<stored::StoredActivity> history;
};

/// Which listing of a tenant's leads.
struct LeadIndex {
  v1::ScoreBand band = v1::SCORE_BAND_UNSPECIFIED;
  std::string account;
};

struct RedisLeadStoreOptions {
  /// The service's `redis.key_prefix`.
  std::string key_prefix;
  /// Activity ids remembered per lead for deduplication (the newest).
  size_t seen_kept = 1000;
  /// Activities kept per lead for explanations and backtests (the newest).
  size_t history_kept = 200;
};

/// Lead scoring's state in Redis. Keys, all under
/// `<prefix>leadscoring:{<tenant>}:`, so one script writes a lead, its
/// indexes and the tenant's outbox together:
///
///   l:<lead>          hash: rev, state (serialized stored::StoredLead)
///   l:<lead>:seen     sorted set: activity id by the revision that saw it
///   l:<lead>:log      list of serialized stored::StoredActivity, newest
///                     first
///   a:<visitor>...    the same three for an anonymous visitor
///   anon              hash: visitor id -> the lead it was linked to (by
///                     an event naming both)
///   idx               sorted set: every lead by its last scored total
///   band:<n>          sorted set per ScoreBand number, likewise
///   acct:<account>    sorted set per account, likewise
///
/// Scripts name the keys they touch from that base (all in the tenant's
/// slot, so Redis Cluster serves them). Thread-safe.
class RedisLeadStore {
 public:
  RedisLeadStore(redis::AsyncClient& redis, outbox::RedisOutbox& outbox,
                 RedisLeadStoreOptions options);

  /// The states a batch of events of one tenant applies to, each subject
  /// read once, and which events are duplicates. One script, one round trip.
  asio::awaitable<absl::StatusOr<BatchRead>> ReadBatch(std::string tenant,
                                                       std::vector<ReadKey> keys);

  /// Writes every change and stores `events` in the tenant's outbox in one
  /// script, all or nothing, then publishes them (a failed publish is the
  /// relay's to retry). False, writing nothing, when any subject (or a
  /// linked visitor) changed since it was read, or a visitor written to was
  /// linked to a lead meanwhile: read again.
  asio::awaitable<absl::StatusOr<bool>> CommitBatch(std::string tenant,
                                                    std::vector<SubjectChange> changes,
                                                    std::vector<kafka::OutgoingEvent> events);

  /// `ReadBatch` of one event.
  asio::awaitable<absl::StatusOr<LeadRead>> Read(std::string tenant, std::string lead_id,
                                                 std::string visitor_id, std::string activity_id);

  /// `CommitBatch` of one change of one revision.
  asio::awaitable<absl::StatusOr<bool>> Commit(std::string tenant, LeadCommit commit,
                                               std::vector<kafka::OutgoingEvent> events);

  /// A lead's state and history; nullopt when the lead is unknown.
  asio::awaitable<absl::StatusOr<std::optional<LeadView>>> Get(std::string tenant,
                                                               std::string lead_id,
                                                               bool with_history);

  /// Lead ids of one listing, highest indexed score first, from rank
  /// `offset`, at most `count`.
  asio::awaitable<absl::StatusOr<std::vector<std::string>>> List(std::string tenant,
                                                                 LeadIndex index, size_t offset,
                                                                 size_t count);

 private:
  std::string Base(const std::string& tenant) const;

  redis::AsyncClient& redis_;
  outbox::RedisOutbox& outbox_;
  const RedisLeadStoreOptions options_;
  redis::ScriptRegistry scripts_;
};

}  // namespace flywheel::lead_scoring
