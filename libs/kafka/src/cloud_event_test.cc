#include "flywheel/kafka/cloud_event.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace flywheel::kafka {
namespace {

using ::testing::HasSubstr;

CloudEvent SampleEvent() {
  CloudEvent event;
  event.id = "evt_1";
  event.source = "//flywheel/intake";
  event.type = "dev.flywheel.request.submitted.v1";
  event.time = absl::FromUnixMicros(1'700'000'000'123'456);
  event.data_content_type = kProtobufContentType;
  event.key = "req_42";
  event.data = std::string("\x0a\x03\x00\xff", 4);  // binary payloads survive
  event.extensions["tenant"] = "acme";
  return event;
}

TEST(CloudEventTest, BinaryModePutsAttributesInHeaders) {
  auto record = EncodeBinary(SampleEvent(), "flywheel.requests");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->topic, "flywheel.requests");
  EXPECT_EQ(record->key, "req_42");
  EXPECT_EQ(record->header("ce_id"), "evt_1");
  EXPECT_EQ(record->header("ce_specversion"), "1.0");
  EXPECT_EQ(record->header("ce_time"), "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(record->header("content-type"), "application/protobuf");
  EXPECT_EQ(record->header("ce_tenant"), "acme");
}

TEST(CloudEventTest, BinaryModeRoundTrips) {
  const CloudEvent original = SampleEvent();
  auto decoded = Decode(*EncodeBinary(original, "t"));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->id, original.id);
  EXPECT_EQ(decoded->source, original.source);
  EXPECT_EQ(decoded->type, original.type);
  EXPECT_EQ(decoded->time, original.time);
  EXPECT_EQ(decoded->data, original.data);
  EXPECT_EQ(decoded->key, original.key);
  EXPECT_EQ(decoded->data_content_type, original.data_content_type);
  EXPECT_EQ(decoded->extensions, original.extensions);
}

TEST(CloudEventTest, EncodeRefusesMissingRequiredAttributes) {
  CloudEvent event = SampleEvent();
  event.type.clear();
  auto record = EncodeBinary(event, "t");
  EXPECT_EQ(record.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(record.status().message(), HasSubstr("type is missing"));
}

TEST(CloudEventTest, StructuredModeJsonDataDecodes) {
  Record record;
  record.key = "lead_7";
  record.headers = {{"content-type", "application/cloudevents+json; charset=utf-8"}};
  record.value = R"({"specversion":"1.0","id":"a1","source":"crm","type":"com.crm.lead.activity",
                    "time":"2026-03-01T10:00:00+01:00","priority":3,
                    "data":{"lead_id":"lead_7","kind":"webinar"}})";
  auto event = Decode(record);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->id, "a1");
  EXPECT_EQ(event->type, "com.crm.lead.activity");
  EXPECT_EQ(event->time, absl::FromUnixSeconds(1772355600));
  EXPECT_EQ(event->data_content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(event->data)["kind"], "webinar");
  EXPECT_EQ(event->extensions.at("priority"), "3");
  EXPECT_EQ(event->key, "lead_7");
}

TEST(CloudEventTest, StructuredModeBase64DataDecodes) {
  Record record;
  record.headers = {{"content-type", "application/cloudevents+json"}};
  record.value = R"({"specversion":"1.0","id":"a","source":"s","type":"t","data_base64":"AAEC"})";
  auto event = Decode(record);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->data, std::string("\x00\x01\x02", 3));
}

struct BadRecordCase {
  std::string name;
  Record record;
  std::string reason;
};

class BadRecordTest : public ::testing::TestWithParam<BadRecordCase> {};

TEST_P(BadRecordTest, RefusedWithReason) {
  auto event = Decode(GetParam().record);
  EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(event.status().message(), HasSubstr(GetParam().reason));
}

Record Structured(std::string json) {
  Record record;
  record.headers = {{"content-type", "application/cloudevents+json"}};
  record.value = std::move(json);
  return record;
}

Record Binary(std::vector<Header> headers) {
  Record record;
  record.headers = std::move(headers);
  record.value = "payload";
  return record;
}

INSTANTIATE_TEST_SUITE_P(
    CloudEvent, BadRecordTest,
    ::testing::Values(
        BadRecordCase{"plain", Record{.value = "hello"}, "no ce_specversion header"},
        BadRecordCase{"not_json", Structured("{not json"), "not a JSON object"},
        BadRecordCase{"json_array", Structured("[1,2]"), "not a JSON object"},
        BadRecordCase{"no_id", Structured(R"({"specversion":"1.0","source":"s","type":"t"})"),
                      "id is missing"},
        BadRecordCase{"old_spec",
                      Structured(R"({"specversion":"0.3","id":"a","source":"s","type":"t"})"),
                      "specversion must be 1.0"},
        BadRecordCase{"bad_base64",
                      Structured(R"({"specversion":"1.0","id":"a","source":"s","type":"t",
                                     "data_base64":"***"})"),
                      "data_base64 is not base64"},
        BadRecordCase{"numeric_id",
                      Structured(R"({"specversion":"1.0","id":5,"source":"s","type":"t"})"),
                      "id must be a string"},
        BadRecordCase{"binary_no_source",
                      Binary({{"ce_specversion", "1.0"}, {"ce_id", "a"}, {"ce_type", "t"}}),
                      "source is missing"},
        BadRecordCase{"binary_bad_time",
                      Binary({{"ce_specversion", "1.0"},
                              {"ce_id", "a"},
                              {"ce_source", "s"},
                              {"ce_type", "t"},
                              {"ce_time", "yesterday"}}),
                      "not RFC 3339"}),
    [](const auto& info) { return info.param.name; });

TEST(CloudEventTest, TimeFormatsInUtcWithMicroseconds) {
  EXPECT_EQ(FormatRfc3339(absl::FromUnixMicros(1)), "1970-01-01T00:00:00.000001Z");
  EXPECT_EQ(*ParseRfc3339("1970-01-01T01:00:00+01:00"), absl::UnixEpoch());
  EXPECT_FALSE(ParseRfc3339("1970-01-01").ok());
}

}  // namespace
}  // namespace flywheel::kafka
