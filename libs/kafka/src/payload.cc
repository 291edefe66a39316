#include "flywheel/kafka/payload.h"

#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/match.h"

namespace flywheel::kafka {

absl::Status DecodeData(const CloudEvent& event, google::protobuf::Message& out) {
  const std::string& name = out.GetDescriptor()->full_name();
  if (absl::StrContains(event.data_content_type, "json")) {
    auto parsed = google::protobuf::util::JsonStringToMessage(event.data, &out);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError("the data is not a " + name +
                                        " in JSON: " + std::string(parsed.message()));
    }
    return absl::OkStatus();
  }
  if (!out.ParseFromString(event.data)) {
    return absl::InvalidArgumentError("the data is not a " + name);
  }
  return absl::OkStatus();
}

}  // namespace flywheel::kafka
