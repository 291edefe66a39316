#include "field_validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace flywheel::intake {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

// 2027-01-15T08:00:00Z
const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

FieldRule Rule(v1::FieldKind kind) {
  FieldRule rule;
  rule.key = "f";
  rule.kind = kind;
  return rule;
}

TEST(CheckFieldValueTest, Text) {
  FieldRule rule = Rule(v1::FIELD_KIND_TEXT);
  EXPECT_EQ(CheckFieldValue(rule, "anything", kNow), std::nullopt);
  EXPECT_THAT(CheckFieldValue(rule, std::string(4097, 'x'), kNow),
              Optional(std::string("must be at most 4096 characters")));
  rule.max_length = 3;
  EXPECT_THAT(CheckFieldValue(rule, "abcd", kNow),
              Optional(std::string("must be at most 3 characters")));
}

TEST(CheckFieldValueTest, Number) {
  FieldRule rule = Rule(v1::FIELD_KIND_NUMBER);
  EXPECT_EQ(CheckFieldValue(rule, "12.5", kNow), std::nullopt);
  EXPECT_EQ(CheckFieldValue(rule, "-3", kNow), std::nullopt);
  EXPECT_THAT(CheckFieldValue(rule, "abc", kNow),
              Optional(std::string("must be a number, got \"abc\"")));
  EXPECT_NE(CheckFieldValue(rule, "12 ", kNow), std::nullopt);
  EXPECT_NE(CheckFieldValue(rule, "nan", kNow), std::nullopt);
  EXPECT_NE(CheckFieldValue(rule, "inf", kNow), std::nullopt);
}

TEST(CheckFieldValueTest, Date) {
  FieldRule rule = Rule(v1::FIELD_KIND_DATE);
  EXPECT_EQ(CheckFieldValue(rule, "2020-02-29", kNow), std::nullopt);
  EXPECT_EQ(CheckFieldValue(rule, "2027-03-01T09:30:00+02:00", kNow), std::nullopt);
  EXPECT_THAT(CheckFieldValue(rule, "15/01/2027", kNow), Optional(HasSubstr("RFC 3339")));
  EXPECT_NE(CheckFieldValue(rule, "2027-02-30", kNow), std::nullopt);
  EXPECT_NE(CheckFieldValue(rule, "2027-03-01 09:30:00Z", kNow), std::nullopt);
  EXPECT_NE(CheckFieldValue(rule, "2027-03-01T09:30:00", kNow), std::nullopt);
}

TEST(CheckFieldValueTest, FutureDate) {
  FieldRule rule = Rule(v1::FIELD_KIND_DATE);
  rule.future = true;
  EXPECT_EQ(CheckFieldValue(rule, "2027-01-16", kNow), std::nullopt);
  EXPECT_THAT(CheckFieldValue(rule, "2027-01-15", kNow),
              Optional(std::string("must be in the future")));
  EXPECT_THAT(CheckFieldValue(rule, "2026-12-31", kNow),
              Optional(std::string("must be in the future")));
  EXPECT_EQ(CheckFieldValue(rule, "2027-01-15T08:00:01Z", kNow), std::nullopt);
  EXPECT_NE(CheckFieldValue(rule, "2027-01-15T07:59:59Z", kNow), std::nullopt);
}

TEST(CheckFieldValueTest, Url) {
  FieldRule rule = Rule(v1::FIELD_KIND_URL);
  EXPECT_EQ(CheckFieldValue(rule, "https://example.com/a?b=c", kNow), std::nullopt);
  EXPECT_EQ(CheckFieldValue(rule, "http://example.com", kNow), std::nullopt);
  EXPECT_THAT(CheckFieldValue(rule, "example.com", kNow), Optional(HasSubstr("absolute http")));
  EXPECT_NE(CheckFieldValue(rule, "ftp://example.com", kNow), std::nullopt);
  EXPECT_NE(CheckFieldValue(rule, "https://", kNow), std::nullopt);
  EXPECT_NE(CheckFieldValue(rule, "https://exa mple.com", kNow), std::nullopt);
}

TEST(CheckFieldValueTest, Choice) {
  FieldRule rule = Rule(v1::FIELD_KIND_CHOICE);
  rule.allowed_values = {"emea", "apac"};
  EXPECT_EQ(CheckFieldValue(rule, "emea", kNow), std::nullopt);
  EXPECT_THAT(CheckFieldValue(rule, "EMEA", kNow),
              Optional(std::string("must be one of emea, apac, got \"EMEA\"")));
}

TEST(CheckFieldValueTest, BooleanAndEmail) {
  EXPECT_EQ(CheckFieldValue(Rule(v1::FIELD_KIND_BOOLEAN), "true", kNow), std::nullopt);
  EXPECT_NE(CheckFieldValue(Rule(v1::FIELD_KIND_BOOLEAN), "yes", kNow), std::nullopt);
  FieldRule email = Rule(v1::FIELD_KIND_EMAIL);
  EXPECT_EQ(CheckFieldValue(email, "maria@example.com", kNow), std::nullopt);
  EXPECT_NE(CheckFieldValue(email, "maria", kNow), std::nullopt);
  EXPECT_NE(CheckFieldValue(email, "maria@localhost", kNow), std::nullopt);
  EXPECT_NE(CheckFieldValue(email, "a@b@c.com", kNow), std::nullopt);
}

TEST(CheckFieldValueTest, LongBadValueIsCutShortInTheMessage) {
  auto problem = CheckFieldValue(Rule(v1::FIELD_KIND_NUMBER), std::string(1000, 'x'), kNow);
  ASSERT_TRUE(problem.has_value());
  EXPECT_LT(problem->size(), 120u);
}

}  // namespace
}  // namespace flywheel::intake
