#include "approval_metrics.h"

#include <array>
#include <utility>

namespace flywheel::approval {
namespace {

// Inbox size buckets: the upper bound of each, and its label.
constexpr std::array<std::pair<int64_t, const char*>, 5> kInboxBuckets{{
    {0, "0"},
    {5, "1-5"},
    {20, "6-20"},
    {50, "21-50"},
    {INT64_MAX, "51+"},
}};

}  // namespace

ApprovalMetrics::ApprovalMetrics(metrics::Metrics& metrics)
    : decisions_(metrics.Counter("flywheel_approval_decisions_total",
                                 "Decisions asked for, by decision and result.")),
      chains_(metrics.Counter("flywheel_approval_chains_total",
                              "Approval chains created, completed, sent back or escalated.")),
      consumed_(metrics.Counter("flywheel_approval_consumed_events_total",
                                "Events taken in from routing and the scheduler, by result.")),
      inbox_approvers_(metrics.Gauge("flywheel_approval_inbox_approvers",
                                     "Approvers of a tenant by the size of their inbox.")),
      pending_lines_(metrics.Gauge("flywheel_approval_pending_lines",
                                   "Steps waiting for a decision, summed over approvers.")) {}

void ApprovalMetrics::CountDecision(const std::string& decision, const std::string& result) {
  decisions_.Add({{"decision", decision}, {"result", result}}).Increment();
}

void ApprovalMetrics::CountChain(const std::string& event) {
  chains_.Add({{"event", event}}).Increment();
}

void ApprovalMetrics::CountConsumed(const std::string& type, const std::string& result) {
  consumed_.Add({{"type", type}, {"result", result}}).Increment();
}

void ApprovalMetrics::SetInboxSizes(const std::string& tenant, const std::vector<int64_t>& sizes) {
  std::array<int64_t, kInboxBuckets.size()> counts{};
  int64_t lines = 0;
  for (int64_t size : sizes) {
    lines += size;
    for (size_t i = 0; i < kInboxBuckets.size(); ++i) {
      if (size <= kInboxBuckets[i].first) {
        ++counts[i];
        break;
      }
    }
  }
  for (size_t i = 0; i < kInboxBuckets.size(); ++i) {
    inbox_approvers_.Add({{"tenant", tenant}, {"size", kInboxBuckets[i].second}})
        .Set(static_cast<double>(counts[i]));
  }
  pending_lines_.Add({{"tenant", tenant}}).Set(static_cast<double>(lines));
}

}  // namespace flywheel::approval
