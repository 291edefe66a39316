#include "request_validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy_parser.h"

namespace flywheel::intake {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);  // 2027-01-15

class ValidateSubmitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto parsed = ParsePolicy(DefaultPolicyYaml());
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    policy_ = *std::move(parsed);
  }

  static v1::SubmitRequestRequest Valid() {
    v1::SubmitRequestRequest r;
    r.set_tenant_id("acme");
    r.set_idempotency_key("k-1");
    r.mutable_spec()->set_request_type_id("blog_post");
    r.mutable_spec()->set_title("Spring launch post");
    r.mutable_spec()->mutable_requester()->set_user_id("u-1");
    r.mutable_spec()->mutable_due_time()->set_seconds(1'800'000'000 + 86400);
    (*r.mutable_spec()->mutable_fields())["target_audience"] = "IT buyers";
    return r;
  }

  std::vector<std::string> FailingFields(const v1::SubmitRequestRequest& r) {
    std::vector<std::string> fields;
    for (const auto& v : FieldViolationsOf(ValidateSubmit(r, policy_, kNow))) {
      fields.push_back(v.field);
    }
    return fields;
  }

  Policy policy_;
};

TEST_F(ValidateSubmitTest, AcceptsACompleteRequest) {
  EXPECT_TRUE(ValidateSubmit(Valid(), policy_, kNow).ok());
}

TEST_F(ValidateSubmitTest, NamesEveryFailingFieldAtOnce) {
  v1::SubmitRequestRequest r = Valid();
  r.clear_tenant_id();
  r.set_idempotency_key(std::string(129, 'k'));
  r.mutable_spec()->set_title("   ");
  r.mutable_spec()->mutable_due_time()->set_seconds(1'800'000'000 - 1);
  r.mutable_spec()->mutable_requester()->clear_user_id();
  auto& fields = *r.mutable_spec()->mutable_fields();
  fields.erase("target_audience");
  fields["word_count"] = "abc";
  fields["publish_date"] = "next tuesday";
  fields["reference_url"] = "www.example.com";
  fields["colour"] = "blue";
  absl::Status status = ValidateSubmit(r, policy_, kNow);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(FailingFields(r),
              UnorderedElementsAre("tenant_id", "idempotency_key", "spec.title", "spec.due_time",
                                   "spec.requester.user_id", "spec.fields.target_audience",
                                   "spec.fields.word_count", "spec.fields.publish_date",
                                   "spec.fields.reference_url", "spec.fields.colour"));
  EXPECT_THAT(status.message(), HasSubstr("spec.fields.word_count: must be a number, got \"abc\""));
  EXPECT_THAT(status.message(),
              HasSubstr("spec.fields.colour: is not a field of request type 'blog_post'"));
}

TEST_F(ValidateSubmitTest, PastDateFieldIsRefused) {
  v1::SubmitRequestRequest r = Valid();
  (*r.mutable_spec()->mutable_fields())["publish_date"] = "2026-12-01";
  auto violations = FieldViolationsOf(ValidateSubmit(r, policy_, kNow));
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "spec.fields.publish_date");
  EXPECT_EQ(violations[0].reason, "must be in the future");
}

TEST_F(ValidateSubmitTest, UnknownTypeListsTheKnownOnes) {
  v1::SubmitRequestRequest r = Valid();
  r.mutable_spec()->set_request_type_id("podcast");
  r.mutable_spec()->clear_fields();
  auto violations = FieldViolationsOf(ValidateSubmit(r, policy_, kNow));
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "spec.request_type_id");
  EXPECT_THAT(violations[0].reason, HasSubstr("unknown request type 'podcast'; known: blog_post, "
                                              "campaign_launch, email"));
}

TEST_F(ValidateSubmitTest, UnknownTenantIsNamed) {
  v1::SubmitRequestRequest r = Valid();
  r.set_tenant_id("initech");
  auto violations = FieldViolationsOf(ValidateSubmit(r, policy_, kNow));
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "tenant_id");
  EXPECT_EQ(violations[0].reason, "unknown tenant 'initech'");
}

TEST_F(ValidateSubmitTest, MissingSpecIsOneViolation) {
  v1::SubmitRequestRequest r = Valid();
  r.clear_spec();
  EXPECT_THAT(FailingFields(r), ElementsAre("spec"));
}

TEST_F(ValidateSubmitTest, ChoiceFieldOutsideItsValues) {
  v1::SubmitRequestRequest r = Valid();
  r.mutable_spec()->set_request_type_id("social_post");
  r.mutable_spec()->clear_fields();
  (*r.mutable_spec()->mutable_fields())["network"] = "myspace";
  (*r.mutable_spec()->mutable_fields())["reactive"] = "maybe";
  EXPECT_THAT(FailingFields(r),
              UnorderedElementsAre("spec.fields.network", "spec.fields.reactive"));
}

}  // namespace
}  // namespace flywheel::intake
