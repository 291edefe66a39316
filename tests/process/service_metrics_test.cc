// The real flywheel-intake executable, started against the test bed's broker
// and Redis, answers GET /metrics over HTTP with the standard process series
// (what every dashboard expects from a Prometheus client) next to its own.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "flywheel/core/id.h"
#include "flywheel/core/testing/wait_for.h"

namespace flywheel {
namespace {

using ::flywheel::testing::WaitFor;
using ::testing::HasSubstr;

// A service executable run as a child process, its stderr (the JSON log)
// collected by a thread of its own so the child never blocks on a full pipe.
class ServiceProcess {
 public:
  ~ServiceProcess() {
    if (pid_ > 0 && !exit_code_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (reader_.joinable()) reader_.join();
  }

  // Starts `binary` with exactly `env` as its environment.
  bool Start(const std::string& binary, const std::vector<std::string>& env) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return false;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    std::vector<char*> argv = {const_cast<char*>(binary.c_str()), nullptr};
    std::vector<char*> envp;
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const int spawned =
        posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (spawned != 0) {
      close(fds[0]);
      pid_ = -1;
      return false;
    }
    reader_ = std::thread([this, fd = fds[0]] {
      char buffer[4096];
      for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) {
        std::lock_guard lock(mu_);
        stderr_.append(buffer, static_cast<size_t>(n));
      }
      close(fd);
    });
    return true;
  }

  std::string stderr_text() const {
    std::lock_guard lock(mu_);
    return stderr_;
  }

  // The value of `field` in the first log line whose msg is `msg`.
  std::optional<nlohmann::json> LogField(const std::string& msg, const std::string& field) const {
    std::istringstream lines(stderr_text());
    for (std::string line; std::getline(lines, line);) {
      auto json = nlohmann::json::parse(line, nullptr, false);
      if (json.is_object() && json.value("msg", "") == msg && json.contains(field)) {
        return json[field];
      }
    }
    return std::nullopt;
  }

  // Sends SIGTERM and waits for the exit; the exit code, or nullopt when it
  // did not exit in time.
  std::optional<int> Terminate(absl::Duration deadline) {
    kill(pid_, SIGTERM);
    WaitFor(
        [&] {
          int status = 0;
          if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
          exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          return true;
        },
        deadline);
    return exit_code_;
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::thread reader_;
  mutable std::mutex mu_;
  std::string stderr_;
};

// GET `path` over HTTP/1.0 from 127.0.0.1:`port`; the whole response, or
// empty when the connection failed.
std::string HttpGet(int port, const std::string& path) {
  const int sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return "";
  timeval timeout{.tv_sec = 10, .tv_usec = 0};
  setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(sock, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (send(sock, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      for (ssize_t n; (n = recv(sock, buffer, sizeof(buffer), 0)) > 0;) {
        response.append(buffer, static_cast<size_t>(n));
      }
    }
  }
  close(sock);
  return response;
}

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

TEST(ServiceMetricsTest, IntakeServesProcessSeriesOnMetrics) {
  const std::string kafka = Env("FLYWHEEL_TEST_KAFKA");
  const std::string redis = Env("FLYWHEEL_TEST_REDIS");
  ASSERT_FALSE(kafka.empty()) << "FLYWHEEL_TEST_KAFKA is not set: run through the test bed";
  ASSERT_FALSE(redis.empty()) << "FLYWHEEL_TEST_REDIS is not set: run through the test bed";
  const std::string id = NewRandomId().substr(0, 12);

  ServiceProcess intake;
  // Only the service's own variables: any other FLYWHEEL_* would be refused
  // as an unknown key.
  ASSERT_TRUE(intake.Start(
      FLYWHEEL_INTAKE_BIN,
      {"PATH=/usr/bin:/bin", "FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS=" + kafka,
       "FLYWHEEL_REDIS_ENDPOINT=" + redis, "FLYWHEEL_KAFKA_TOPIC_PREFIX=test." + id + ".",
       "FLYWHEEL_REDIS_KEY_PREFIX=t:{" + id + "}:", "FLYWHEEL_GRPC_LISTEN=127.0.0.1:0",
       "FLYWHEEL_METRICS_LISTEN=127.0.0.1:0", "FLYWHEEL_SHUTDOWN_DRAIN_TIMEOUT=5s"}));
  ASSERT_TRUE(WaitFor([&] { return intake.LogField("serving", "metrics_port").has_value(); }))
      << intake.stderr_text();
  const int port = intake.LogField("serving", "metrics_port")->get<int>();

  const std::string response = HttpGet(port, "/metrics");
  EXPECT_THAT(response, HasSubstr("200 OK"));
  std::vector<std::string> missing;
  for (const char* series :
       {"# TYPE process_cpu_seconds_total counter\n",
        "# TYPE process_resident_memory_bytes gauge\n",
        "# TYPE process_virtual_memory_bytes gauge\n", "# TYPE process_open_fds gauge\n",
        "# TYPE process_max_fds gauge\n", "# TYPE process_start_time_seconds gauge\n"}) {
    if (response.find(series) == std::string::npos) missing.push_back(series);
  }
  EXPECT_THAT(missing, ::testing::IsEmpty()) << response;
  EXPECT_THAT(response, ::testing::Not(HasSubstr("\nprocess_resident_memory_bytes 0\n")));
  // The service's own series are still there beside them.
  EXPECT_THAT(response, HasSubstr("# TYPE flywheel_"));

  EXPECT_EQ(intake.Terminate(absl::Seconds(30)), 0) << intake.stderr_text();
}

}  // namespace
}  // namespace flywheel
