#include "flywheel/grpc/status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flywheel/core/retry_delay.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace flywheel::rpc {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(ToGrpcStatusTest, OkIsOk) {
  ::grpc::Status st = ToGrpcStatus(absl::OkStatus());
  EXPECT_TRUE(st.ok());
  EXPECT_TRUE(st.error_details().empty());
}

TEST(ToGrpcStatusTest, EveryCodeMapsOneToOneAndBack) {
  const std::pair<absl::StatusCode, ::grpc::StatusCode> pairs[] = {
      {absl::StatusCode::kCancelled, ::grpc::StatusCode::CANCELLED},
      {absl::StatusCode::kUnknown, ::grpc::StatusCode::UNKNOWN},
      {absl::StatusCode::kInvalidArgument, ::grpc::StatusCode::INVALID_ARGUMENT},
      {absl::StatusCode::kDeadlineExceeded, ::grpc::StatusCode::DEADLINE_EXCEEDED},
      {absl::StatusCode::kNotFound, ::grpc::StatusCode::NOT_FOUND},
      {absl::StatusCode::kAlreadyExists, ::grpc::StatusCode::ALREADY_EXISTS},
      {absl::StatusCode::kPermissionDenied, ::grpc::StatusCode::PERMISSION_DENIED},
      {absl::StatusCode::kResourceExhausted, ::grpc::StatusCode::RESOURCE_EXHAUSTED},
      {absl::StatusCode::kFailedPrecondition, ::grpc::StatusCode::FAILED_PRECONDITION},
      {absl::StatusCode::kAborted, ::grpc::StatusCode::ABORTED},
      {absl::StatusCode::kOutOfRange, ::grpc::StatusCode::OUT_OF_RANGE},
      {absl::StatusCode::kUnimplemented, ::grpc::StatusCode::UNIMPLEMENTED},
      {absl::StatusCode::kInternal, ::grpc::StatusCode::INTERNAL},
      {absl::StatusCode::kUnavailable, ::grpc::StatusCode::UNAVAILABLE},
      {absl::StatusCode::kDataLoss, ::grpc::StatusCode::DATA_LOSS},
      {absl::StatusCode::kUnauthenticated, ::grpc::StatusCode::UNAUTHENTICATED},
  };
  for (const auto& [absl_code, grpc_code] : pairs) {
    ::grpc::Status out = ToGrpcStatus(absl::Status(absl_code, "boom"));
    EXPECT_EQ(out.error_code(), grpc_code) << absl::StatusCodeToString(absl_code);
    EXPECT_EQ(out.error_message(), "boom");
    EXPECT_TRUE(out.error_details().empty()) << "no violations, no details";
    absl::Status back = FromGrpcStatus(out);
    EXPECT_EQ(back.code(), absl_code);
    EXPECT_EQ(back.message(), "boom");
  }
}

TEST(ToGrpcStatusTest, CodeOutsideCanonicalSetIsUnknown) {
  ::grpc::Status out = ToGrpcStatus(absl::Status(static_cast<absl::StatusCode>(42), "odd"));
  EXPECT_EQ(out.error_code(), ::grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(out.error_message(), "odd");
}

TEST(ToGrpcStatusTest, FieldViolationsBecomeBadRequestDetail) {
  FieldErrors errors;
  errors.Add("brief.due_date", "must be in the future");
  errors.Add("request_type", "is required");
  ::grpc::Status out = ToGrpcStatus(errors.ToStatus());

  EXPECT_EQ(out.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_FALSE(out.error_details().empty());
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(out.error_details()));
  EXPECT_EQ(details.code(), static_cast<int>(::grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(details.message(), out.error_message());
  ASSERT_EQ(details.details_size(), 1);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(details.details(0).UnpackTo(&bad_request));
  ASSERT_EQ(bad_request.field_violations_size(), 2);
  EXPECT_EQ(bad_request.field_violations(0).field(), "brief.due_date");
  EXPECT_EQ(bad_request.field_violations(0).description(), "must be in the future");
  EXPECT_EQ(bad_request.field_violations(1).field(), "request_type");
  EXPECT_EQ(bad_request.field_violations(1).description(), "is required");

  EXPECT_THAT(BadRequestFields(out),
              ElementsAre(FieldViolation{"brief.due_date", "must be in the future"},
                          FieldViolation{"request_type", "is required"}));
}

TEST(ToGrpcStatusTest, ContractMessagesInThePayloadBecomeDetails) {
  google::rpc::RetryInfo message;  // any message of a contract will do
  message.mutable_retry_delay()->set_seconds(7);
  absl::Status status = absl::FailedPreconditionError("taken");
  status.SetPayload("type.googleapis.com/google.rpc.RetryInfo",
                    absl::Cord(message.SerializeAsString()));
  status.SetPayload("type.flywheel.dev/flywheel.redis.ServerError", absl::Cord("internal"));
  const ::grpc::Status out = ToGrpcStatus(status);
  EXPECT_EQ(out.error_code(), ::grpc::StatusCode::FAILED_PRECONDITION);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(out.error_details()));
  ASSERT_EQ(details.details_size(), 1) << "our own payloads stay inside";
  google::rpc::RetryInfo back;
  ASSERT_TRUE(details.details(0).UnpackTo(&back));
  EXPECT_EQ(back.retry_delay().seconds(), 7);
}

TEST(FromGrpcStatusTest, RoundTripRestoresViolations) {
  FieldErrors errors;
  errors.Add("a", "bad");
  errors.Add("b.c", "worse");
  absl::Status original = errors.ToStatus();
  absl::Status back = FromGrpcStatus(ToGrpcStatus(original));
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(back.message(), original.message());
  EXPECT_THAT(FieldViolationsOf(back),
              ElementsAre(FieldViolation{"a", "bad"}, FieldViolation{"b.c", "worse"}));
}

TEST(FromGrpcStatusTest, OkIsOk) { EXPECT_TRUE(FromGrpcStatus(::grpc::Status::OK).ok()); }

TEST(FromGrpcStatusTest, GarbageDetailsAreIgnored) {
  ::grpc::Status in(::grpc::StatusCode::INVALID_ARGUMENT, "bad", std::string("\xff\xff\x01", 3));
  EXPECT_THAT(BadRequestFields(in), IsEmpty());
  absl::Status back = FromGrpcStatus(in);
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(back.message(), "bad");
  EXPECT_THAT(FieldViolationsOf(back), IsEmpty());
}

TEST(FromGrpcStatusTest, OtherDetailTypesAreSkipped) {
  google::rpc::Status details;
  details.set_code(3);
  google::rpc::Status not_bad_request;  // any message that is not BadRequest
  not_bad_request.set_message("unrelated");
  details.add_details()->PackFrom(not_bad_request);
  google::rpc::BadRequest bad_request;
  auto* v = bad_request.add_field_violations();
  v->set_field("x");
  v->set_description("y");
  details.add_details()->PackFrom(bad_request);
  ::grpc::Status in(::grpc::StatusCode::INVALID_ARGUMENT, "m", details.SerializeAsString());
  EXPECT_THAT(BadRequestFields(in), ElementsAre(FieldViolation{"x", "y"}));
}

}  // namespace
}  // namespace flywheel::rpc

namespace flywheel::rpc {
namespace {

TEST(RetryInfoTest, ARetryDelayTravelsAsRetryInfoAndBack) {
  ::grpc::Status st = ToGrpcStatus(
      WithRetryDelay(absl::ResourceExhaustedError("slow down"), absl::Milliseconds(1500)));
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(RetryDelay(st), absl::Milliseconds(1500));
  EXPECT_EQ(RetryDelayOf(FromGrpcStatus(st)), absl::Milliseconds(1500));
  EXPECT_EQ(RetryDelay(ToGrpcStatus(absl::UnavailableError("x"))), std::nullopt);
}

}  // namespace
}  // namespace flywheel::rpc
