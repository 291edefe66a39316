#include "flywheel/core/proto_time.h"

#include <gtest/gtest.h>

namespace flywheel {
namespace {

TEST(ProtoTimeTest, TimesAndDurationsRoundTripToTheMicrosecond) {
  const absl::Time t = absl::FromUnixMicros(1'700'000'000'123'456);
  EXPECT_EQ(FromProtoTime(ToProtoTime(t)), t);
  EXPECT_EQ(ToProtoTime(t).nanos(), 123'456'000);
  EXPECT_EQ(FromProtoTime(ToProtoTime(t + absl::Nanoseconds(999))), t);
  EXPECT_EQ(FromProtoTime(google::protobuf::Timestamp()), absl::UnixEpoch());
  EXPECT_EQ(FromProtoDuration(ToProtoDuration(absl::Hours(36))), absl::Hours(36));
  EXPECT_EQ(ToProtoDuration(absl::Milliseconds(1500)).seconds(), 1);
}

}  // namespace
}  // namespace flywheel
