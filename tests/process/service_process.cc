#include "service_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "flywheel/core/testing/wait_for.h"

namespace flywheel::testing {

ServiceProcess::~ServiceProcess() {
  Kill();
  if (reader_.joinable()) reader_.join();
}

bool ServiceProcess::Start(const std::string& binary, const std::vector<std::string>& env) {
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

std::string ServiceProcess::stderr_text() const {
  std::lock_guard lock(mu_);
  return stderr_;
}

std::optional<nlohmann::json> ServiceProcess::LogField(const std::string& msg,
                                                       const std::string& field) const {
  std::istringstream lines(stderr_text());
  for (std::string line; std::getline(lines, line);) {
    auto json = nlohmann::json::parse(line, nullptr, false);
    if (json.is_object() && json.value("msg", "") == msg && json.contains(field)) {
      return json[field];
    }
  }
  return std::nullopt;
}

std::optional<int> ServiceProcess::Terminate(absl::Duration deadline) {
  if (pid_ <= 0 || exit_code_) return exit_code_;
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

void ServiceProcess::Kill() {
  if (pid_ <= 0 || exit_code_) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  exit_code_ = 128 + SIGKILL;
}

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

std::optional<double> SampleValue(const std::string& exposition, const std::string& series) {
  const std::string prefix = series + " ";
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) == 0) return std::strtod(line.c_str() + prefix.size(), nullptr);
  }
  return std::nullopt;
}

std::vector<std::string> TestBedServiceEnv(const std::string& id) {
  const char* kafka = std::getenv("FLYWHEEL_TEST_KAFKA");
  const char* redis = std::getenv("FLYWHEEL_TEST_REDIS");
  if (kafka == nullptr || *kafka == '\0' || redis == nullptr || *redis == '\0') return {};
  // Only the service's own variables: any other FLYWHEEL_* would be refused
  // as an unknown key.
  return {"PATH=/usr/bin:/bin", std::string("FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS=") + kafka,
          std::string("FLYWHEEL_REDIS_ENDPOINT=") + redis,
          "FLYWHEEL_KAFKA_TOPIC_PREFIX=test." + id + ".",
          "FLYWHEEL_REDIS_KEY_PREFIX=t:{" + id + "}:", "FLYWHEEL_GRPC_LISTEN=127.0.0.1:0",
          "FLYWHEEL_METRICS_LISTEN=127.0.0.1:0", "FLYWHEEL_SHUTDOWN_DRAIN_TIMEOUT=5s",
          // These tests are about processes, not callers; loopback only.
          "FLYWHEEL_AUTH_DEV_MODE=true"};
}

}  // namespace flywheel::testing
