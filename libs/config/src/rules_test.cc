#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "flywheel/config/config.h"

namespace flywheel::config {
namespace {

using ::testing::IsEmpty;

TEST(RulesTest, InRangeIsInclusive) {
  InRange r(1, 10);
  EXPECT_THAT(r(int64_t{1}), IsEmpty());
  EXPECT_THAT(r(int64_t{10}), IsEmpty());
  EXPECT_EQ(r(int64_t{0}), "must be between 1 and 10");
  EXPECT_EQ(r(int64_t{11}), "must be between 1 and 10");
  EXPECT_EQ(InRange(0.5, 1.0)(0.25), "must be between 0.5 and 1");
  EXPECT_EQ(InRange(absl::Seconds(1), absl::Minutes(2))(absl::Milliseconds(999)),
            "must be between 1s and 2m");
}

TEST(RulesTest, Positive) {
  EXPECT_THAT(Positive()(int64_t{1}), IsEmpty());
  EXPECT_EQ(Positive()(int64_t{0}), "must be greater than 0");
  EXPECT_EQ(Positive()(absl::ZeroDuration()), "must be greater than 0");
  EXPECT_THAT(Positive()(absl::Milliseconds(1)), IsEmpty());
}

TEST(RulesTest, OneOfNamesTheChoices) {
  OneOf r({"a", "b"});
  EXPECT_THAT(r(std::string("a")), IsEmpty());
  EXPECT_EQ(r(std::string("c")), "must be one of a, b");
  EXPECT_EQ(r(std::vector<std::string>{"a", "c"}), "element 2 must be one of a, b");
}

TEST(RulesTest, NonEmpty) {
  EXPECT_EQ(NonEmpty()(std::string()), "must not be empty");
  EXPECT_EQ(NonEmpty()(std::vector<std::string>()), "must not be empty");
  EXPECT_THAT(NonEmpty()(std::string("x")), IsEmpty());
}

TEST(RulesTest, HostPortAcceptsCommonShapes) {
  for (const char* ok : {"kafka-0:9092", "127.0.0.1:6379", "0.0.0.0:50051", "[::]:50051", "[::1]:0",
                         "my_host.svc.cluster.local:65535"}) {
    EXPECT_THAT(HostPort()(std::string(ok)), IsEmpty()) << ok;
  }
}

TEST(RulesTest, HostPortRejectsOtherShapes) {
  for (const char* bad : {"", "kafka", ":9092", "kafka:", "kafka:abc", "kafka:123456", "ka fka:1",
                          "::1:50051x", "[::1:50051", "http://kafka:9092"}) {
    EXPECT_EQ(HostPort()(std::string(bad)), "must be host:port (like kafka-0:9092 or [::1]:50051)")
        << bad;
  }
  EXPECT_EQ(HostPort()(std::string("kafka:70000")), "port must be between 0 and 65535");
  EXPECT_EQ(HostPort()(std::vector<std::string>{"a:1", "b"}),
            "element 2 must be host:port (like kafka-0:9092 or [::1]:50051)");
}

TEST(RulesTest, RulesComposeInGetters) {
  Config cfg = *Config::FromString("kafka:\n  brokers: [a:1, b]\n", "k.yaml", {});
  cfg.Required<std::vector<std::string>>("kafka.brokers", NonEmpty(), HostPort());
  EXPECT_EQ(cfg.Check().message(),
            "config: kafka.brokers: element 2 must be host:port (like kafka-0:9092 or "
            "[::1]:50051), got \"[a:1, b]\" (from k.yaml:2:12)");
}

}  // namespace
}  // namespace flywheel::config
