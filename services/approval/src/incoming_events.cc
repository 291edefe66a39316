#include "incoming_events.h"

#include "absl/strings/ascii.h"
#include "flywheel/events/catalog.h"
#include "flywheel/kafka/payload.h"
#include "flywheel/routing/v1/events.pb.h"
#include "flywheel/scheduler/v1/events.pb.h"

namespace flywheel::approval {
namespace {

std::string ResultOf(const absl::Status& status) {
  return status.ok() ? "applied" : absl::AsciiStrToLower(absl::StatusCodeToString(status.code()));
}

}  // namespace

asio::awaitable<absl::Status> IncomingEvents::Handle(const kafka::ConsumedEvent& consumed) {
  const kafka::CloudEvent& event = consumed.event;
  absl::Status status;
  std::string type;
  if (event.type == events::kRequestRouted) {
    type = "request_routed";
    routing::v1::RequestRouted routed;
    status = kafka::DecodeData(event, routed);
    if (status.ok()) status = co_await approvals_.Open(routed);
  } else if (event.type == events::kWorkflowCompleted) {
    type = "workflow_completed";
    routing::v1::WorkflowCompleted completed;
    status = kafka::DecodeData(event, completed);
    if (status.ok() && completed.outcome() == routing::v1::WORKFLOW_STATUS_CANCELLED) {
      status = co_await approvals_.CancelChain(completed.tenant_id(), completed.request_id());
    }
  } else if (event.type == events::kSlaBreached) {
    type = "sla_breached";
    scheduler::v1::SlaBreached breached;
    status = kafka::DecodeData(event, breached);
    if (status.ok()) status = co_await approvals_.Escalate(breached);
  } else {
    co_return absl::OkStatus();
  }
  metrics_.CountConsumed(type, ResultOf(status));
  co_return status;
}

}  // namespace flywheel::approval
