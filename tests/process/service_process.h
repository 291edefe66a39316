#pragma once

// Real service executables run as child processes by the process tests, and
// what those tests read from them: the JSON log, /metrics over HTTP.

#include <sys/types.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"

namespace flywheel::testing {

// A service executable run as a child process, its stderr (the JSON log)
// collected by a thread of its own so the child never blocks on a full pipe.
class ServiceProcess {
 public:
  ServiceProcess() = default;
  ~ServiceProcess();
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  // Starts `binary` with exactly `env` as its environment.
  bool Start(const std::string& binary, const std::vector<std::string>& env);

  std::string stderr_text() const;

  // The value of `field` in the first log line whose msg is `msg`.
  std::optional<nlohmann::json> LogField(const std::string& msg, const std::string& field) const;

  // Sends SIGTERM and waits for the exit; the exit code, or nullopt when it
  // did not exit in time.
  std::optional<int> Terminate(absl::Duration deadline);

  // SIGKILL, as a crash or an OOM kill would end it; waits for the exit.
  void Kill();

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::thread reader_;
  mutable std::mutex mu_;
  std::string stderr_;
};

// GET `path` over HTTP/1.0 from 127.0.0.1:`port`; the whole response, or
// empty when the connection failed.
std::string HttpGet(int port, const std::string& path);

// The value of the sample `series` (name and labels exactly as exposed,
// `name{label="v"}`) in a Prometheus text exposition, if present.
std::optional<double> SampleValue(const std::string& exposition, const std::string& series);

// The environment a service needs to start against the test bed's broker
// and Redis (FLYWHEEL_TEST_KAFKA, FLYWHEEL_TEST_REDIS) and nothing else:
// topics and keys under prefixes made from `id`, gRPC and /metrics on free
// ports, a short drain, auth in dev mode (they call nothing). Empty when the
// test bed's variables are not set.
std::vector<std::string> TestBedServiceEnv(const std::string& id);

}  // namespace flywheel::testing
