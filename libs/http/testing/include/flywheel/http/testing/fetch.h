#pragma once

#include <string>

namespace flywheel::http::testing {

/// What a client sees of one answer.
struct Fetched {
  /// 0 when the connection failed (the test has failed then).
  int status = 0;
  std::string content_type;
  std::string body;
};

/// Sends `method target` to 127.0.0.1:`port` over a fresh connection and
/// reads the whole answer; a failed connection fails the test.
Fetched Fetch(int port, const std::string& method, const std::string& target);

}  // namespace flywheel::http::testing
