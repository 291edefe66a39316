#include "intake.h"

#include "flywheel/core/id.h"
#include "flywheel/events/catalog.h"
#include "flywheel/intake/v1/events.pb.h"
#include "flywheel/log/log.h"
#include "priority.h"
#include "submit_validator.h"

namespace flywheel::intake {
namespace {

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  google::protobuf::Timestamp ts;
  const int64_t micros = absl::ToUnixMicros(time);
  ts.set_seconds(micros / 1'000'000);
  ts.set_nanos(static_cast<int32_t>(micros % 1'000'000) * 1000);
  return ts;
}

common::v1::SlaClass SlaClassFor(common::v1::Priority priority) {
  switch (priority) {
    case common::v1::PRIORITY_P1:
      return common::v1::SLA_CLASS_EXPEDITED;
    case common::v1::PRIORITY_P4:
      return common::v1::SLA_CLASS_EXTENDED;
    default:
      return common::v1::SLA_CLASS_STANDARD;
  }
}

}  // namespace

absl::flat_hash_set<std::string> DefaultRequestTypes() {
  return {"blog_post", "campaign_launch", "social_post", "paid_creative", "email", "landing_page"};
}

Intake::Intake(IntakeOptions options, kafka::EventPublisher& publisher, IntakeMetrics& metrics,
               const Clock& clock)
    : options_(std::move(options)), publisher_(publisher), metrics_(metrics), clock_(clock) {}

absl::StatusOr<v1::SubmitRequestResponse> Intake::Submit(const v1::SubmitRequestRequest& request) {
  const absl::Time now = clock_.Now();
  const std::string& type = request.spec().request_type_id();
  // Only known types become label values, so a caller cannot blow up the
  // metric's cardinality with made-up names.
  const std::string type_label = options_.request_types.contains(type) ? type : "unknown";
  if (absl::Status valid = ValidateSubmit(request, options_.request_types, now); !valid.ok()) {
    metrics_.CountSubmission(type_label, "invalid");
    return valid;
  }

  const PriorityAssessment priority = AssessPriority(request.spec(), now);
  v1::SubmitRequestResponse response;
  response.set_priority(priority.priority);
  response.set_priority_reason(priority.reason);
  response.set_sla_class(SlaClassFor(priority.priority));
  if (request.validate_only()) return response;

  const std::string request_id = NewRandomId("req");
  v1::RequestSubmitted submitted;
  submitted.set_tenant_id(request.tenant_id());
  submitted.set_request_id(request_id);
  v1::Request& stored = *submitted.mutable_request();
  stored.set_tenant_id(request.tenant_id());
  stored.set_request_id(request_id);
  *stored.mutable_spec() = request.spec();
  stored.set_status(v1::REQUEST_STATUS_SUBMITTED);
  stored.set_priority(priority.priority);
  stored.set_priority_reason(priority.reason);
  stored.set_sla_class(response.sla_class());
  *stored.mutable_create_time() = ToTimestamp(now);
  *stored.mutable_update_time() = ToTimestamp(now);
  stored.set_revision(1);
  stored.set_idempotency_key(request.idempotency_key());

  auto published = publisher_.Publish({.topic = options_.requests_topic,
                                       .type = events::kRequestSubmitted,
                                       .key = request_id,
                                       .data = submitted.SerializeAsString(),
                                       .subject = request_id,
                                       .extensions = {{"tenant", request.tenant_id()}}});
  if (!published.ok()) {
    metrics_.CountSubmission(type_label, "failed");
    log::Error("could not publish request.submitted",
               {{"request_id", request_id}, {"error", published.status().ToString()}});
    return absl::UnavailableError(
        "the request could not be recorded; retry with the same "
        "idempotency key");
  }
  metrics_.CountSubmission(type_label, "accepted");
  log::Info("request submitted", {{"request_id", request_id},
                                  {"tenant_id", request.tenant_id()},
                                  {"request_type", type},
                                  {"priority", common::v1::Priority_Name(priority.priority)},
                                  {"event_id", *published}});
  response.set_request_id(request_id);
  return response;
}

}  // namespace flywheel::intake
