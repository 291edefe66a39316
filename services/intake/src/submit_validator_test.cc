#include "submit_validator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flywheel/core/field_errors.h"

namespace flywheel::intake {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
const absl::flat_hash_set<std::string> kTypes = {"blog_post", "email"};

v1::SubmitRequestRequest Valid() {
  v1::SubmitRequestRequest r;
  r.set_tenant_id("acme");
  r.set_idempotency_key("k-1");
  r.mutable_spec()->set_request_type_id("blog_post");
  r.mutable_spec()->set_title("Spring launch post");
  r.mutable_spec()->mutable_requester()->set_user_id("u-1");
  r.mutable_spec()->mutable_due_time()->set_seconds(1'800'000'000 + 86400);
  return r;
}

std::vector<std::string> FailingFields(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const auto& v : FieldViolationsOf(status)) fields.push_back(v.field);
  return fields;
}

TEST(ValidateSubmitTest, AcceptsACompleteRequest) {
  EXPECT_TRUE(ValidateSubmit(Valid(), kTypes, kNow).ok());
}

TEST(ValidateSubmitTest, NamesEveryFailingFieldAtOnce) {
  v1::SubmitRequestRequest r = Valid();
  r.clear_tenant_id();
  r.set_idempotency_key(std::string(129, 'k'));
  r.mutable_spec()->set_title("   ");
  r.mutable_spec()->mutable_due_time()->set_seconds(1'800'000'000 - 1);
  r.mutable_spec()->mutable_requester()->clear_user_id();
  absl::Status status = ValidateSubmit(r, kTypes, kNow);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(FailingFields(status),
              UnorderedElementsAre("tenant_id", "idempotency_key", "spec.title", "spec.due_time",
                                   "spec.requester.user_id"));
}

TEST(ValidateSubmitTest, UnknownTypeListsTheKnownOnes) {
  v1::SubmitRequestRequest r = Valid();
  r.mutable_spec()->set_request_type_id("podcast");
  auto violations = FieldViolationsOf(ValidateSubmit(r, kTypes, kNow));
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "spec.request_type_id");
  EXPECT_THAT(violations[0].reason,
              HasSubstr("unknown request type 'podcast'; known: blog_post, email"));
}

TEST(ValidateSubmitTest, MissingSpecIsOneViolation) {
  v1::SubmitRequestRequest r = Valid();
  r.clear_spec();
  EXPECT_THAT(FailingFields(ValidateSubmit(r, kTypes, kNow)), ElementsAre("spec"));
}

TEST(ValidateSubmitTest, OversizedFieldValueIsNamed) {
  v1::SubmitRequestRequest r = Valid();
  (*r.mutable_spec()->mutable_fields())["brief"] = std::string(10'001, 'x');
  EXPECT_THAT(FailingFields(ValidateSubmit(r, kTypes, kNow)), ElementsAre("spec.fields.brief"));
}

}  // namespace
}  // namespace flywheel::intake
