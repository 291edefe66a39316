#include "flywheel/log/log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace flywheel::log {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetSinkForTesting([this](std::string_view line) { lines_.emplace_back(line); });
    SetService("intake");
    SetLevel(Level::kInfo);
  }
  void TearDown() override { SetSinkForTesting(nullptr); }

  std::vector<std::string> lines_;
};

TEST_F(LogTest, WritesOneJsonObjectPerLineWithFields) {
  Info("request routed", {{"request_id", "req_1"}, {"attempt", 2}});
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0].find('\n'), std::string::npos);
  auto parsed = nlohmann::json::parse(lines_[0]);
  EXPECT_EQ(parsed["level"], "info");
  EXPECT_EQ(parsed["service"], "intake");
  EXPECT_EQ(parsed["msg"], "request routed");
  EXPECT_EQ(parsed["request_id"], "req_1");
  EXPECT_EQ(parsed["attempt"], 2);
  EXPECT_TRUE(parsed["ts"].get<std::string>().ends_with("Z"));
}

TEST_F(LogTest, DropsLinesBelowTheLevel) {
  SetLevel(Level::kWarn);
  Info("quiet");
  Debug("quieter");
  Error("loud");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(lines_[0])["msg"], "loud");
  EXPECT_FALSE(Enabled(Level::kInfo));
  EXPECT_TRUE(Enabled(Level::kWarn));
  EXPECT_TRUE(Enabled(Level::kError));
}

TEST_F(LogTest, InvalidUtf8DoesNotThrow) {
  Info(std::string("bad \xff byte"));
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NO_THROW(nlohmann::json::parse(lines_[0]));
}

TEST(ParseLevelTest, AcceptsKnownNamesOnly) {
  EXPECT_EQ(*ParseLevel("debug"), Level::kDebug);
  EXPECT_EQ(*ParseLevel("error"), Level::kError);
  EXPECT_FALSE(ParseLevel("verbose").ok());
}

}  // namespace
}  // namespace flywheel::log
