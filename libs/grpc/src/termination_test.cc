#include "flywheel/grpc/termination.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>

#include <future>
#include <thread>

namespace flywheel::rpc {
namespace {

TEST(TerminationTest, RequestTerminationWakesWaiter) {
  ASSERT_TRUE(BlockTerminationSignals().ok());
  std::thread requester([] { RequestTermination(); });
  absl::StatusOr<int> got = WaitForTerminationSignal();
  requester.join();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, 0);
}

TEST(TerminationTest, RequestBeforeWaitIsNotLost) {
  ASSERT_TRUE(BlockTerminationSignals().ok());
  RequestTermination();
  absl::StatusOr<int> got = WaitForTerminationSignal();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, 0);
}

TEST(TerminationTest, SigtermIsReturned) {
  ASSERT_TRUE(BlockTerminationSignals().ok());
  // Directed at this thread, which blocks it, so other threads in the test
  // binary (gRPC's, started without the mask) cannot take it.
  ASSERT_EQ(pthread_kill(pthread_self(), SIGTERM), 0);
  absl::StatusOr<int> got = WaitForTerminationSignal();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, SIGTERM);
}

TEST(TerminationTest, SigintIsReturned) {
  ASSERT_TRUE(BlockTerminationSignals().ok());
  ASSERT_EQ(pthread_kill(pthread_self(), SIGINT), 0);
  absl::StatusOr<int> got = WaitForTerminationSignal();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, SIGINT);
}

TEST(TerminationTest, WaitingWithoutTheMaskIsRefused) {
  auto result = std::async(std::launch::async, [] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    return WaitForTerminationSignal();
  });
  absl::StatusOr<int> got = result.get();
  EXPECT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace flywheel::rpc
