#include "flywheel/core/secret_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "flywheel/core/id.h"

namespace flywheel {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

class SecretFileTest : public ::testing::Test {
 protected:
  ~SecretFileTest() override { std::filesystem::remove(path_); }
  void Write(const std::string& text) { std::ofstream(path_, std::ios::binary) << text; }
  const std::string path_ =
      (std::filesystem::temp_directory_path() / ("secret-" + NewRandomId())).string();
};

TEST_F(SecretFileTest, DropsTheNewlineAMountedSecretOftenEndsWith) {
  Write("s3cr3t pass\n");
  absl::StatusOr<std::string> secret = ReadSecretFile(path_, "redis.password_file");
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(*secret, "s3cr3t pass");
}

TEST_F(SecretFileTest, AMissingOrEmptyFileNamesTheKeyAndPathButNoContent) {
  absl::StatusOr<std::string> missing = ReadSecretFile(path_, "redis.password_file");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(missing.status().message()),
              AllOf(HasSubstr("redis.password_file"), HasSubstr(path_)));

  Write(" \n");
  absl::StatusOr<std::string> empty = ReadSecretFile(path_, "kafka.sasl.password_file");
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(empty.status().message()),
              AllOf(HasSubstr("kafka.sasl.password_file"), HasSubstr("is empty")));
  EXPECT_THAT(std::string(empty.status().message()), Not(HasSubstr(" \n")));
}

}  // namespace
}  // namespace flywheel
