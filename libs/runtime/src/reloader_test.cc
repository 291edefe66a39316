#include "flywheel/runtime/reloader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "absl/strings/numbers.h"
#include "flywheel/core/id.h"
#include "flywheel/core/testing/wait_for.h"
#include "flywheel/metrics/metrics.h"

namespace flywheel::runtime {
namespace {

using ::flywheel::testing::WaitFor;
using ::testing::HasSubstr;

// A "policy" that is one integer; anything else is refused.
class ReloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() / ("policy-" + NewRandomId() + ".txt");
    Write("1");
  }
  void TearDown() override {
    reloader_.reset();
    std::filesystem::remove(path_);
  }

  void Write(const std::string& text) {
    // Write a new file and rename it in, as editors and ConfigMaps do.
    const auto tmp = path_.string() + ".tmp";
    std::ofstream(tmp) << text;
    std::filesystem::rename(tmp, path_);
  }

  absl::Status StartReloader() {
    auto reloader = Reloader::Start(
        {.path = path_.string(), .service = "test", .poll_interval = absl::Milliseconds(20)},
        [this](const std::string& path) -> absl::Status {
          std::ifstream in(path);
          std::string text((std::istreambuf_iterator<char>(in)), {});
          int value = 0;
          if (!absl::SimpleAtoi(text, &value)) {
            return absl::InvalidArgumentError("not a number: " + text);
          }
          live_ = value;
          return absl::OkStatus();
        },
        metrics_);
    if (!reloader.ok()) return reloader.status();
    reloader_ = *std::move(reloader);
    return absl::OkStatus();
  }

  std::filesystem::path path_;
  metrics::Metrics metrics_;
  std::atomic<int> live_{0};
  std::unique_ptr<Reloader> reloader_;
};

TEST_F(ReloaderTest, LoadsAtStartAndAgainWhenTheFileChanges) {
  ASSERT_TRUE(StartReloader().ok());
  EXPECT_EQ(live_.load(), 1);
  Write("2");
  EXPECT_TRUE(WaitFor([&] { return live_.load() == 2; }));
  // The count follows the load, so wait for it too rather than read it once.
  const std::string counted = R"(flywheel_test_policy_reloads_total{result="ok"} 2)";
  EXPECT_TRUE(WaitFor([&] { return metrics_.Render().find(counted) != std::string::npos; }))
      << metrics_.Render();
}

TEST_F(ReloaderTest, InvalidFileIsRefusedAndTheRunningPolicyStays) {
  ASSERT_TRUE(StartReloader().ok());
  Write("two");
  const std::string refused = R"(flywheel_test_policy_reloads_total{result="refused"} 1)";
  ASSERT_TRUE(WaitFor([&] { return metrics_.Render().find(refused) != std::string::npos; }));
  EXPECT_EQ(live_.load(), 1);
  // Fixing the file is picked up like any change.
  Write("3");
  EXPECT_TRUE(WaitFor([&] { return live_.load() == 3; }));
}

TEST_F(ReloaderTest, InvalidFirstVersionFailsStart) {
  Write("nope");
  absl::Status status = StartReloader();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("not a number"));
}

TEST_F(ReloaderTest, ReloadNowReportsTheLoadersVerdict) {
  ASSERT_TRUE(StartReloader().ok());
  std::ofstream(path_) << "x";
  EXPECT_FALSE(reloader_->ReloadNow().ok());
  std::ofstream(path_) << "7";
  EXPECT_TRUE(reloader_->ReloadNow().ok());
  EXPECT_EQ(live_.load(), 7);
}

TEST_F(ReloaderTest, SighupReloadsEvenWhenTheFileLooksUnchanged) {
  sigset_t hangup;
  sigemptyset(&hangup);
  sigaddset(&hangup, SIGHUP);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &hangup, nullptr), 0);
  std::atomic<int> loads{0};
  auto reloader = Reloader::Start(
      {.path = path_.string(), .service = "hup", .poll_interval = absl::Hours(1)},
      [&](const std::string&) {
        ++loads;
        return absl::OkStatus();
      },
      metrics_);
  ASSERT_TRUE(reloader.ok());
  ASSERT_EQ(loads.load(), 1);
  kill(getpid(), SIGHUP);
  EXPECT_TRUE(WaitFor([&] { return loads.load() == 2; }));
}

}  // namespace
}  // namespace flywheel::runtime
