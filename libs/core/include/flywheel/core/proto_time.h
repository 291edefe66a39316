#pragma once

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include "absl/time/time.h"

namespace flywheel {

/// `t` as a protobuf Timestamp, to the microsecond (what every stored and
/// published time of the project keeps).
google::protobuf::Timestamp ToProtoTime(absl::Time t);
/// The time of `t`; an unset Timestamp is the Unix epoch.
absl::Time FromProtoTime(const google::protobuf::Timestamp& t);
/// `d` as a protobuf Duration, to the microsecond.
google::protobuf::Duration ToProtoDuration(absl::Duration d);
absl::Duration FromProtoDuration(const google::protobuf::Duration& d);

}  // namespace flywheel
