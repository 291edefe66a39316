#include "flywheel/core/field_errors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace flywheel {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(FieldErrorsTest, NoViolationsIsOk) {
  FieldErrors errors;
  EXPECT_TRUE(errors.ToStatus().ok());
}

TEST(FieldErrorsTest, NamesEveryFieldInMessageAndPayload) {
  FieldErrors errors;
  errors.Add("title", "is required");
  errors.Add("due_date", "must be in the future");
  absl::Status status = errors.ToStatus();

  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("title: is required"));
  EXPECT_THAT(status.message(), HasSubstr("due_date: must be in the future"));
  EXPECT_THAT(FieldViolationsOf(status),
              ElementsAre(FieldViolation{"title", "is required"},
                          FieldViolation{"due_date", "must be in the future"}));
}

TEST(FieldErrorsTest, SeparatorsInTextDoNotSplitAViolation) {
  FieldErrors errors;
  errors.Add("a\tb", "line one\nline two");
  EXPECT_THAT(FieldViolationsOf(errors.ToStatus()),
              ElementsAre(FieldViolation{"a b", "line one line two"}));
}

TEST(FieldErrorsTest, PlainStatusHasNoViolations) {
  EXPECT_TRUE(FieldViolationsOf(absl::InvalidArgumentError("x")).empty());
}

}  // namespace
}  // namespace flywheel
