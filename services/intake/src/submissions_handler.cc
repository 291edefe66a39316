#include "submissions_handler.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/events/catalog.h"
#include "flywheel/intake/v1/events.pb.h"
#include "flywheel/kafka/payload.h"
#include "flywheel/kafka/published.h"
#include "flywheel/log/log.h"
#include "flywheel/redis/script_registry.h"
#include "request_validation.h"

namespace flywheel::intake {
namespace {

std::string TenantHint(const kafka::CloudEvent& event) {
  auto it = event.extensions.find("tenant");
  return it == event.extensions.end() ? std::string() : it->second;
}

}  // namespace

std::string RejectedRequestId(const std::string& tenant_id, const std::string& idempotency_key) {
  return "req_" + redis::ScriptSha1(tenant_id + "/" + idempotency_key).substr(0, 32);
}

SubmissionsHandler::SubmissionsHandler(Intake& intake, kafka::EventPublisher& publisher,
                                       std::string requests_topic, IntakeMetrics& metrics,
                                       ProducerCheck producer_check)
    : intake_(intake),
      publisher_(publisher),
      requests_topic_(std::move(requests_topic)),
      metrics_(metrics),
      producer_check_(std::move(producer_check)) {}

std::optional<SubmissionsHandler::Rejection> SubmissionsHandler::Screen(
    const kafka::ConsumedEvent& consumed, v1::RequestSubmissionReceived& submission) const {
  const kafka::CloudEvent& event = consumed.event;
  if (event.type != events::kRequestSubmissionReceived) {
    return Rejection{TenantHint(event), event.key, "undecodable",
                     absl::InvalidArgumentError(absl::StrCat("ce_type '", event.type, "' is not ",
                                                             events::kRequestSubmissionReceived))};
  }
  if (event.data.size() > kMaxSubmissionBytes) {
    return Rejection{TenantHint(event), event.key, "oversized",
                     absl::InvalidArgumentError(
                         absl::StrCat("the submission is ", event.data.size(),
                                      " bytes; the limit is ", kMaxSubmissionBytes, " (1 MiB)"))};
  }
  if (absl::Status decoded = kafka::DecodeData(event, submission); !decoded.ok()) {
    return Rejection{TenantHint(event), event.key, "undecodable", decoded};
  }
  if (producer_check_) {
    if (absl::Status allowed = producer_check_(event.source, submission.tenant_id());
        !allowed.ok()) {
      return Rejection{submission.tenant_id(), submission.idempotency_key(), "forbidden_producer",
                       allowed};
    }
  }
  return std::nullopt;
}

// gcc 12 destroys aggregate temporaries built inside a co_await expression
// twice: every Rejection is a named local before it is awaited.
asio::awaitable<absl::Status> SubmissionsHandler::Handle(const kafka::ConsumedEvent& consumed) {
  v1::RequestSubmissionReceived submission;
  std::optional<Rejection> refused = Screen(consumed, submission);
  if (refused) co_return co_await Reject(consumed, *std::move(refused));

  v1::SubmitRequestRequest request;
  request.set_tenant_id(submission.tenant_id());
  request.set_idempotency_key(submission.idempotency_key());
  if (submission.has_spec()) *request.mutable_spec() = submission.spec();
  auto submitted = co_await intake_.Submit(request);
  if (submitted.ok()) {
    log::Info("submission event handled", {{"event_id", consumed.event.id},
                                           {"origin", submission.origin()},
                                           {"request_id", submitted->request_id()},
                                           {"replayed", submitted->replayed() ? "true" : "false"}});
    co_return absl::OkStatus();
  }
  Rejection rejection{submission.tenant_id(), submission.idempotency_key(), "", submitted.status()};
  switch (submitted.status().code()) {
    case absl::StatusCode::kInvalidArgument:
      rejection.metric_reason = "invalid";
      break;
    case absl::StatusCode::kAlreadyExists: {
      FieldErrors errors;
      errors.Add("idempotency_key", std::string(submitted.status().message()));
      rejection.metric_reason = "conflict";
      rejection.status = errors.ToStatus();
      break;
    }
    default:
      co_return submitted.status();  // Outages: the consumer retries.
  }
  co_return co_await Reject(consumed, std::move(rejection));
}

asio::awaitable<absl::Status> SubmissionsHandler::Reject(const kafka::ConsumedEvent& consumed,
                                                         Rejection rejection) {
  const std::string key =
      rejection.idempotency_key.empty() ? consumed.event.id : rejection.idempotency_key;
  const std::string reason = "submission refused: " + std::string(rejection.status.message());
  v1::RequestRejected rejected;
  rejected.set_tenant_id(rejection.tenant_id);
  rejected.set_request_id(RejectedRequestId(rejection.tenant_id, key));
  rejected.set_idempotency_key(rejection.idempotency_key);
  rejected.set_submission_event_id(consumed.event.id);
  rejected.set_reason(reason);
  for (const FieldViolation& v : FieldViolationsOf(rejection.status)) {
    v1::FieldError* error = rejected.add_field_errors();
    error->set_field(v.field);
    error->set_description(v.reason);
  }
  kafka::OutgoingEvent out{.topic = requests_topic_,
                           .type = events::kRequestRejected,
                           .key = key,
                           .data = rejected.SerializeAsString(),
                           .subject = rejected.request_id(),
                           .id = "evt_rejected_" + consumed.event.id};
  if (!rejection.tenant_id.empty()) out.extensions["tenant"] = rejection.tenant_id;
  std::vector<kafka::OutgoingEvent> announce = {std::move(out)};
  auto published = co_await kafka::Published(publisher_, std::move(announce));
  if (!published.ok()) {
    co_return absl::UnavailableError("could not publish RequestRejected: " +
                                     published.status().ToString());
  }
  metrics_.CountRejectedEvent(rejection.metric_reason);
  log::Warn("submission event refused", {{"event_id", consumed.event.id}, {"reason", reason}});
  co_return absl::InvalidArgumentError(reason);
}

}  // namespace flywheel::intake
