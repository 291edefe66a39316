#include "flywheel/kafka/cloud_event.h"

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "flywheel/core/status.h"

namespace flywheel::kafka {
namespace {

constexpr std::string_view kCePrefix = "ce_";

// Attributes with a fixed place in CloudEvent; every other ce_* header is an
// extension.
bool IsCoreAttribute(std::string_view name) {
  return name == "id" || name == "source" || name == "type" || name == "specversion" ||
         name == "time" || name == "subject" || name == "datacontenttype";
}

absl::Status Invalid(const std::string& reason) {
  return absl::InvalidArgumentError("not a valid CloudEvent: " + reason);
}

absl::Status CheckRequired(const CloudEvent& event) {
  if (event.spec_version != "1.0") {
    return Invalid("specversion must be 1.0, got '" + event.spec_version + "'");
  }
  if (event.id.empty()) return Invalid("id is missing");
  if (event.source.empty()) return Invalid("source is missing");
  if (event.type.empty()) return Invalid("type is missing");
  return absl::OkStatus();
}

// Everything of a binary-mode event but its key and data.
absl::StatusOr<CloudEvent> DecodeBinaryAttributes(const Record& record) {
  CloudEvent event;
  event.spec_version.clear();
  for (const Header& h : record.headers) {
    if (h.key == "content-type") {
      event.data_content_type = h.value;
      continue;
    }
    if (!h.key.starts_with(kCePrefix)) continue;
    const std::string_view name = std::string_view(h.key).substr(kCePrefix.size());
    if (name == "id") {
      event.id = h.value;
    } else if (name == "source") {
      event.source = h.value;
    } else if (name == "type") {
      event.type = h.value;
    } else if (name == "specversion") {
      event.spec_version = h.value;
    } else if (name == "subject") {
      event.subject = h.value;
    } else if (name == "time") {
      auto time = ParseRfc3339(h.value);
      if (!time.ok()) return Invalid("ce_time '" + h.value + "' is not RFC 3339");
      event.time = *time;
    } else if (!IsCoreAttribute(name)) {
      event.extensions[std::string(name)] = h.value;
    }
  }
  if (absl::Status st = CheckRequired(event); !st.ok()) return st;
  return event;
}

absl::StatusOr<CloudEvent> DecodeStructured(const Record& record) {
  nlohmann::json doc = nlohmann::json::parse(record.value, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object())
    return Invalid("structured event is not a JSON object");

  CloudEvent event;
  event.key = record.key;
  event.spec_version.clear();
  for (const auto& [name, value] : doc.items()) {
    if (name == "data") {
      event.data = value.is_string() ? value.get<std::string>() : value.dump();
      continue;
    }
    if (name == "data_base64") {
      if (!value.is_string() || !absl::Base64Unescape(value.get<std::string>(), &event.data)) {
        return Invalid("data_base64 is not base64");
      }
      continue;
    }
    if (!value.is_string()) {
      // Extensions may be numbers or booleans; core attributes are strings.
      if (IsCoreAttribute(name)) return Invalid(name + " must be a string");
      event.extensions[name] = value.dump();
      continue;
    }
    const std::string text = value.get<std::string>();
    if (name == "id") {
      event.id = text;
    } else if (name == "source") {
      event.source = text;
    } else if (name == "type") {
      event.type = text;
    } else if (name == "specversion") {
      event.spec_version = text;
    } else if (name == "subject") {
      event.subject = text;
    } else if (name == "datacontenttype") {
      event.data_content_type = text;
    } else if (name == "time") {
      auto time = ParseRfc3339(text);
      if (!time.ok()) return Invalid("time '" + text + "' is not RFC 3339");
      event.time = *time;
    } else {
      event.extensions[name] = text;
    }
  }
  if (event.data_content_type.empty() && doc.contains("data") && !doc["data"].is_string()) {
    event.data_content_type = "application/json";
  }
  if (absl::Status st = CheckRequired(event); !st.ok()) return st;
  return event;
}

}  // namespace

std::string FormatRfc3339(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", time, absl::UTCTimeZone());
}

absl::StatusOr<absl::Time> ParseRfc3339(const std::string& text) {
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &time, &error)) {
    return absl::InvalidArgumentError("not an RFC 3339 time: " + error);
  }
  return time;
}

absl::StatusOr<Record> EncodeBinary(const CloudEvent& event, std::string topic) {
  if (absl::Status st = CheckRequired(event); !st.ok()) return st;
  Record record;
  record.topic = std::move(topic);
  record.key = event.key;
  record.value = event.data;
  record.headers = {
      {"ce_specversion", event.spec_version},
      {"ce_id", event.id},
      {"ce_source", event.source},
      {"ce_type", event.type},
  };
  if (event.time) record.headers.push_back({"ce_time", FormatRfc3339(*event.time)});
  if (!event.subject.empty()) record.headers.push_back({"ce_subject", event.subject});
  if (!event.data_content_type.empty()) {
    record.headers.push_back({"content-type", event.data_content_type});
  }
  for (const auto& [name, value] : event.extensions) {
    record.headers.push_back({std::string(kCePrefix) + name, value});
  }
  return record;
}

absl::StatusOr<CloudEvent> Decode(const Record& record) {
  if (record.header("ce_specversion")) {
    FLYWHEEL_ASSIGN_OR_RETURN(CloudEvent event, DecodeBinaryAttributes(record));
    event.key = record.key;
    event.data = record.value;
    return event;
  }
  auto content_type = record.header("content-type");
  if (content_type && absl::StartsWith(std::string(*content_type), kStructuredContentType)) {
    return DecodeStructured(record);
  }
  return Invalid("no ce_specversion header and content-type is not " +
                 std::string(kStructuredContentType));
}

absl::StatusOr<CloudEvent> DecodeTakingPayload(Record& record) {
  if (!record.header("ce_specversion")) return Decode(record);
  FLYWHEEL_ASSIGN_OR_RETURN(CloudEvent event, DecodeBinaryAttributes(record));
  event.key = std::move(record.key);
  event.data = std::move(record.value);
  record.key.clear();
  record.value.clear();
  return event;
}

}  // namespace flywheel::kafka
