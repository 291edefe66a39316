#include "flywheel/core/retry_delay.h"

#include <gtest/gtest.h>

namespace flywheel {
namespace {

TEST(RetryDelayTest, TravelsWithTheStatus) {
  absl::Status st =
      WithRetryDelay(absl::ResourceExhaustedError("slow down"), absl::Milliseconds(250));
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(RetryDelayOf(st), absl::Milliseconds(250));
}

TEST(RetryDelayTest, AbsentOnOtherStatusesAndNeverOnOk) {
  EXPECT_EQ(RetryDelayOf(absl::UnavailableError("x")), std::nullopt);
  EXPECT_TRUE(WithRetryDelay(absl::OkStatus(), absl::Seconds(1)).ok());
  EXPECT_EQ(RetryDelayOf(WithRetryDelay(absl::AbortedError("x"), absl::Seconds(-3))),
            absl::ZeroDuration());
}

}  // namespace
}  // namespace flywheel
