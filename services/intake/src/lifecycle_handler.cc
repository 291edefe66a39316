#include "lifecycle_handler.h"

#include "flywheel/core/status.h"
#include "flywheel/events/catalog.h"
#include "flywheel/kafka/payload.h"
#include "flywheel/log/log.h"
#include "flywheel/routing/v1/events.pb.h"
#include "google/protobuf/util/time_util.h"

namespace flywheel::intake {
namespace {

// How often a change is re-read and tried again when a concurrent Update
// moved the revision in between.
constexpr int kApplyAttempts = 5;

bool Open(v1::RequestStatus status) {
  return status == v1::REQUEST_STATUS_SUBMITTED || status == v1::REQUEST_STATUS_ACTIVE;
}

}  // namespace

LifecycleHandler::LifecycleHandler(RequestStore& store, IntakeMetrics& metrics, const Clock& clock)
    : store_(store), metrics_(metrics), clock_(clock) {}

asio::awaitable<absl::Status> LifecycleHandler::Handle(const kafka::ConsumedEvent& consumed) {
  const kafka::CloudEvent& event = consumed.event;
  if (event.type == events::kRequestRouted) {
    routing::v1::RequestRouted routed;
    FLYWHEEL_CO_RETURN_IF_ERROR(kafka::DecodeData(event, routed));
    co_return co_await Apply("routed", routed.tenant_id(), routed.request_id(),
                             [&](v1::Request& request) {
                               if (request.status() != v1::REQUEST_STATUS_SUBMITTED) return false;
                               request.set_status(v1::REQUEST_STATUS_ACTIVE);
                               request.set_team_id(routed.team_id());
                               request.set_owner_id(routed.owner_id());
                               request.set_approval_tier(routed.approval_tier());
                               *request.mutable_route_time() = *request.mutable_update_time();
                               return true;
                             });
  }
  if (event.type == events::kTaskAssigned) {
    routing::v1::TaskAssigned assigned;
    FLYWHEEL_CO_RETURN_IF_ERROR(kafka::DecodeData(event, assigned));
    co_return co_await Apply("task_assigned", assigned.tenant_id(), assigned.request_id(),
                             [&](v1::Request& request) {
                               if (request.status() != v1::REQUEST_STATUS_ACTIVE ||
                                   request.owner_id() == assigned.task().assignee_id()) {
                                 return false;
                               }
                               request.set_owner_id(assigned.task().assignee_id());
                               return true;
                             });
  }
  if (event.type == events::kWorkflowCompleted) {
    routing::v1::WorkflowCompleted completed;
    FLYWHEEL_CO_RETURN_IF_ERROR(kafka::DecodeData(event, completed));
    co_return co_await Apply("completed", completed.tenant_id(), completed.request_id(),
                             [&](v1::Request& request) {
                               if (!Open(request.status())) return false;
                               request.set_status(v1::REQUEST_STATUS_COMPLETED);
                               *request.mutable_complete_time() = *request.mutable_update_time();
                               return true;
                             });
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> LifecycleHandler::Apply(const std::string& type,
                                                      const std::string& tenant_id,
                                                      const std::string& request_id,
                                                      const Change& change) {
  if (tenant_id.empty() || request_id.empty()) {
    co_return absl::InvalidArgumentError("the event names no tenant_id or request_id");
  }
  for (int attempt = 1;; ++attempt) {
    auto stored = co_await store_.Get(tenant_id, request_id);
    if (!stored.ok()) co_return absl::UnavailableError(stored.status().ToString());
    if (!stored->has_value()) {
      co_return absl::InvalidArgumentError("request '" + request_id + "' of tenant '" + tenant_id +
                                           "' is not known to intake");
    }
    v1::Request request = **stored;
    const int64_t base = request.revision();
    *request.mutable_update_time() =
        google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(clock_.Now()));
    if (!change(request)) {
      metrics_.CountLifecycleEvent(type, "unchanged");
      co_return absl::OkStatus();
    }
    request.set_revision(base + 1);
    std::vector<kafka::OutgoingEvent> none;  // the fact is routing's; nothing to announce
    auto outcome = co_await store_.Replace(request, base, none);
    if (!outcome.ok()) co_return absl::UnavailableError(outcome.status().ToString());
    if (*outcome == RequestStore::ReplaceOutcome::kReplaced) {
      metrics_.CountLifecycleEvent(type, "applied");
      log::Info("request status from routing",
                {{"request_id", request_id},
                 {"event", type},
                 {"status", v1::RequestStatus_Name(request.status())}});
      co_return absl::OkStatus();
    }
    if (*outcome == RequestStore::ReplaceOutcome::kNotFound) {
      co_return absl::InvalidArgumentError("request '" + request_id + "' is not known to intake");
    }
    // Changed concurrently: read again; the consumer retries ABORTED later.
    if (attempt >= kApplyAttempts) {
      co_return absl::AbortedError("request '" + request_id + "' keeps changing concurrently");
    }
  }
}

}  // namespace flywheel::intake
