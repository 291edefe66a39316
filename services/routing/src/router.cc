#include "router.h"

#include "flywheel/common/v1/common.pb.h"
#include "flywheel/events/catalog.h"
#include "flywheel/intake/v1/events.pb.h"
#include "flywheel/log/log.h"

namespace flywheel::routing {

Router::Router(RoutedStore& store, RoutingMetrics& metrics, const Clock& clock)
    : store_(store), metrics_(metrics), clock_(clock) {}

absl::Status Router::Handle(const kafka::ConsumedEvent& consumed) {
  if (consumed.event.type != events::kRequestSubmitted) return absl::OkStatus();

  intake::v1::RequestSubmitted submitted;
  if (!submitted.ParseFromString(consumed.event.data)) {
    return absl::InvalidArgumentError("payload is not a flywheel.intake.v1.RequestSubmitted");
  }
  if (submitted.tenant_id().empty() || submitted.request_id().empty()) {
    return absl::InvalidArgumentError("request.submitted without tenant_id or request_id");
  }
  const std::string priority = common::v1::Priority_Name(submitted.request().priority());
  RoutedRequest routed{.tenant_id = submitted.tenant_id(),
                       .request_id = submitted.request_id(),
                       .request_type = submitted.request().spec().request_type_id(),
                       .title = submitted.request().spec().title(),
                       .priority = priority,
                       .event_id = consumed.event.id,
                       .routed_at = clock_.Now()};
  if (absl::Status st = store_.Record(routed); !st.ok()) return st;
  metrics_.CountRouted(priority);
  log::Info("request routed", {{"request_id", routed.request_id},
                               {"tenant_id", routed.tenant_id},
                               {"event_id", routed.event_id}});
  return absl::OkStatus();
}

}  // namespace flywheel::routing
