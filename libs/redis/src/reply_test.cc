#include "flywheel/redis/reply.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "flywheel/redis/error.h"
#include "hiredis_handles.h"

namespace flywheel::redis {
namespace {

using ::testing::HasSubstr;

// hiredis reply trees built by hand, the way hiredis' reader builds them.
redisReply Make(int type) {
  redisReply r{};
  r.type = type;
  return r;
}

redisReply Str(int type, std::string& bytes) {
  redisReply r = Make(type);
  r.str = bytes.data();
  r.len = bytes.size();
  return r;
}

TEST(ConvertReplyTest, Scalars) {
  redisReply nil = Make(REDIS_REPLY_NIL);
  EXPECT_EQ(internal::ConvertReply(nil), Reply::Nil());

  redisReply integer = Make(REDIS_REPLY_INTEGER);
  integer.integer = -42;
  EXPECT_EQ(internal::ConvertReply(integer), Reply::Integer(-42));

  std::string ok = "OK";
  redisReply status = Str(REDIS_REPLY_STATUS, ok);
  EXPECT_EQ(internal::ConvertReply(status), Reply::Status("OK"));
}

TEST(ConvertReplyTest, StringKeepsEmbeddedNulBytes) {
  std::string bytes("a\0b\xff", 4);
  redisReply r = Str(REDIS_REPLY_STRING, bytes);
  Reply converted = internal::ConvertReply(r);
  ASSERT_TRUE(converted.is_string());
  EXPECT_EQ(converted.str().size(), 4u);
  EXPECT_EQ(converted.str(), bytes);
}

TEST(ConvertReplyTest, NestedArrayWithErrorElement) {
  std::string v = "v";
  std::string err = "WRONGTYPE bad";
  redisReply s = Str(REDIS_REPLY_STRING, v);
  redisReply e = Str(REDIS_REPLY_ERROR, err);
  redisReply i = Make(REDIS_REPLY_INTEGER);
  i.integer = 7;
  redisReply* inner_elems[] = {&i};
  redisReply inner = Make(REDIS_REPLY_ARRAY);
  inner.elements = 1;
  inner.element = inner_elems;
  redisReply* outer_elems[] = {&s, &e, &inner};
  redisReply outer = Make(REDIS_REPLY_ARRAY);
  outer.elements = 3;
  outer.element = outer_elems;

  EXPECT_EQ(internal::ConvertReply(outer),
            Reply::Array({Reply::String("v"), Reply::Error("WRONGTYPE bad"),
                          Reply::Array({Reply::Integer(7)})}));
  absl::StatusOr<Reply> top = internal::ReplyToResult(outer);
  ASSERT_TRUE(top.ok());
  EXPECT_TRUE(top->elements()[1].is_error());
}

TEST(ReplyToResultTest, TopLevelErrorBecomesStatusWithServerMessage) {
  std::string err = "NOSCRIPT No matching script. Please use EVAL.";
  redisReply e = Str(REDIS_REPLY_ERROR, err);
  absl::StatusOr<Reply> r = internal::ReplyToResult(e);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), err);
  EXPECT_EQ(ServerErrorCode(r.status()), "NOSCRIPT");
}

TEST(ServerErrorToStatusTest, MapsCodes) {
  EXPECT_EQ(ServerErrorToStatus("ERR unknown command").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ServerErrorToStatus("WRONGTYPE Operation against a key").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ServerErrorToStatus("NOAUTH Authentication required.").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ServerErrorToStatus("WRONGPASS invalid username-password pair").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ServerErrorToStatus("LOADING Redis is loading the dataset in memory").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(ServerErrorToStatus("BUSY Redis is busy running a script").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(ServerErrorToStatus("OOM command not allowed").code(),
            absl::StatusCode::kResourceExhausted);
  absl::Status empty = ServerErrorToStatus("");
  EXPECT_EQ(empty.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ServerErrorCode(empty), "ERR");
  EXPECT_EQ(ServerErrorCode(absl::UnavailableError("x")), "");
}

TEST(ContextErrorToStatusTest, EveryConnectionFailureIsUnavailable) {
  absl::Status timeout = internal::ContextErrorToStatus(
      REDIS_ERR_IO, "Resource temporarily unavailable", EAGAIN, "h:1");
  EXPECT_EQ(timeout.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(timeout.message()), HasSubstr("timed out"));
  EXPECT_THAT(std::string(timeout.message()), HasSubstr("h:1"));
  EXPECT_EQ(internal::ContextErrorToStatus(REDIS_ERR_EOF, "Server closed the connection", 0, "h:1")
                .code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(internal::ContextErrorToStatus(REDIS_ERR_PROTOCOL, "bad", 0, "h:1").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(internal::ContextErrorToStatus(REDIS_ERR_OOM, "Out of memory", 0, "h:1").code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(ReplyTest, CheckedAccessors) {
  EXPECT_EQ(*Reply::Integer(5).AsInteger(), 5);
  EXPECT_EQ(*Reply::String("x").AsString(), "x");
  EXPECT_EQ(*Reply::Status("OK").AsString(), "OK");
  EXPECT_TRUE(Reply::Nil().AsArray()->empty());
  absl::Status wrong = Reply::String("x").AsInteger().status();
  EXPECT_EQ(wrong.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(wrong.message()), HasSubstr("string, expected integer"));
  EXPECT_FALSE(Reply::Nil().AsString().ok());
  EXPECT_FALSE(Reply::Integer(1).AsArray().ok());
}

TEST(ReplyTest, DebugStringEscapesBinary) {
  EXPECT_EQ(Reply::Array({Reply::Nil(), Reply::Integer(1), Reply::String(std::string("a\0", 2)),
                          Reply::Status("OK")})
                .DebugString(),
            "[(nil), (integer) 1, \"a\\x00\", +OK]");
}

}  // namespace
}  // namespace flywheel::redis
