#include "incoming_events.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "flywheel/async/when_all.h"
#include "flywheel/events/catalog.h"
#include "flywheel/kafka/payload.h"

namespace flywheel::lead_scoring {
namespace {

bool Retryable(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
      return true;
    default:
      return false;
  }
}

}  // namespace

asio::awaitable<absl::Status> IncomingEvents::One(const kafka::ConsumedEvent& consumed) {
  const kafka::CloudEvent& event = consumed.event;
  if (event.data.size() > max_event_bytes_) {
    co_return absl::InvalidArgumentError(absl::StrCat("event data of ", event.data.size(),
                                                      " bytes; at most ", max_event_bytes_,
                                                      " are accepted"));
  }
  if (event.type == events::kLeadActivity) {
    v1::LeadActivity activity;
    if (absl::Status decoded = kafka::DecodeData(event, activity); !decoded.ok()) co_return decoded;
    co_return co_await scoring_.Activity(activity);
  }
  if (event.type == events::kLeadProfile) {
    v1::LeadProfile profile;
    if (absl::Status decoded = kafka::DecodeData(event, profile); !decoded.ok()) co_return decoded;
    co_return co_await scoring_.Profile(profile);
  }
  co_return absl::InvalidArgumentError(
      absl::StrCat("unknown event type \"", event.type, "\"; lead scoring takes ",
                   events::kLeadActivity, " and ", events::kLeadProfile));
}

asio::awaitable<std::vector<absl::Status>> IncomingEvents::Key(const kafka::EventBatch& batch,
                                                               std::vector<size_t> indexes) {
  std::vector<absl::Status> out;
  bool held = false;
  for (size_t i : indexes) {
    if (held) {
      out.push_back(absl::AbortedError("an earlier event of the same lead waits for a retry"));
      continue;
    }
    absl::Status status = co_await One(batch.events[i]);
    held = Retryable(status);
    out.push_back(std::move(status));
  }
  co_return out;
}

asio::awaitable<std::vector<absl::Status>> IncomingEvents::Batch(kafka::EventBatch batch) {
  std::map<std::string, std::vector<size_t>> by_key;
  for (size_t i = 0; i < batch.events.size(); ++i) {
    by_key[batch.events[i].event.key].push_back(i);
  }
  std::vector<asio::awaitable<std::vector<absl::Status>>> tasks;
  std::vector<std::vector<size_t>> order;
  for (auto& [key, indexes] : by_key) {
    order.push_back(indexes);
    tasks.push_back(Key(batch, std::move(indexes)));
  }
  std::vector<std::vector<absl::Status>> results = co_await async::WhenAll(std::move(tasks));
  std::vector<absl::Status> statuses(batch.events.size());
  for (size_t k = 0; k < order.size(); ++k) {
    for (size_t j = 0; j < order[k].size(); ++j) statuses[order[k][j]] = results[k][j];
  }
  co_return statuses;
}

}  // namespace flywheel::lead_scoring
