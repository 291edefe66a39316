#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "flywheel/approval/v1/events.pb.h"
#include "flywheel/intake/v1/events.pb.h"
#include "flywheel/routing/v1/events.pb.h"
#include "flywheel/scheduler/v1/events.pb.h"
#include "stored_facts.pb.h"

/// A request's facts and what they contribute to the series that queries
/// read. Pure functions: no I/O, no clock.
///
/// Every merge is idempotent and commutes with the others (a fact is keyed,
/// never appended twice), so a duplicate event, a replay from the start and
/// events of one request arriving from different topics in any order all
/// give the same facts; and the series entries are a function of the facts
/// alone, so they give the same numbers too.
namespace flywheel::reporting {

/// Separates the fields of a series member.
inline constexpr char kSep = '\x1f';

/// The series a request contributes to (one sorted set per tenant each).
inline constexpr char kSubmittedSeries[] = "sub";   // score: submit time
inline constexpr char kDeliveredSeries[] = "done";  // score: delivery time
inline constexpr char kVisitSeries[] = "visit";     // score: stage enter time
/// The visits again, so a query reads only those that matter to its range:
/// each closed one by its exit time (its member followed by its enter
/// time), each open one by its enter time.
inline constexpr char kVisitExitSeries[] = "vexit";  // score: stage exit time
inline constexpr char kOpenVisitSeries[] = "vopen";  // score: stage enter time
inline constexpr char kApprovalSeries[] = "appr";    // score: decision time
inline constexpr char kTouchSeries[] = "touch";      // score: activity time
inline constexpr char kQualifiedSeries[] = "mql";    // score: qualification time
inline constexpr char kRevenueSeries[] = "rev";      // score: close time
inline constexpr char kSpendSeries[] = "spend";      // score: period start

/// One member of one series.
struct SeriesEntry {
  std::string series;
  int64_t score = 0;
  std::string member;

  bool operator==(const SeriesEntry&) const = default;
};

/// How an entry is remembered in `RequestFacts.entries`, and back.
std::string EncodeEntry(const SeriesEntry& entry);
SeriesEntry DecodeEntry(absl::string_view text);

/// The entries `facts` contribute; none before the request's submission is
/// known.
std::vector<SeriesEntry> Entries(const stored::RequestFacts& facts);

/// When the request was delivered: the earliest publish.done, else the end
/// of its first launch-stage visit, else its workflow's completion (when it
/// completed); 0 while not delivered.
int64_t DeliveredMs(const stored::RequestFacts& facts);

/// Splits a member into its fields.
std::vector<absl::string_view> Fields(absl::string_view member);

/// The merges, one per event type reporting reads. `event_ms` is the
/// event's `ce_time` in milliseconds, for the events whose payload carries
/// no time of its own.
void MergeSubmitted(stored::RequestFacts& facts, const intake::v1::RequestSubmitted& event);
void MergeUpdated(stored::RequestFacts& facts, const intake::v1::RequestUpdated& event);
void MergeCancelled(stored::RequestFacts& facts, int64_t event_ms);
void MergeRouted(stored::RequestFacts& facts, const routing::v1::RequestRouted& event);
void MergeStageAdvanced(stored::RequestFacts& facts, const routing::v1::StageAdvanced& event);
void MergeCompleted(stored::RequestFacts& facts, const routing::v1::WorkflowCompleted& event);
void MergeStepStarted(stored::RequestFacts& facts, const approval::v1::StepStarted& event,
                      int64_t event_ms);
void MergeStepDecided(stored::RequestFacts& facts, const approval::v1::StepDecided& event,
                      int64_t event_ms);
void MergeChangesRequested(stored::RequestFacts& facts, const approval::v1::ChangesRequested& event,
                           int64_t event_ms);
void MergeVersion(stored::RequestFacts& facts, const approval::v1::VersionSubmitted& event);
void MergeWarning(stored::RequestFacts& facts, const scheduler::v1::SlaWarning& event);
void MergeBreached(stored::RequestFacts& facts, const scheduler::v1::SlaBreached& event);
void MergePublished(stored::RequestFacts& facts, const scheduler::v1::PublishDone& event,
                    int64_t event_ms);

}  // namespace flywheel::reporting
