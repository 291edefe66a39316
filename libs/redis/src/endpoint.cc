#include "flywheel/redis/endpoint.h"

#include <charconv>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace flywheel::redis {
namespace {

absl::Status Bad(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("redis endpoint \"", std::string(text), "\": ", std::string(why)));
}

bool HasSpace(std::string_view s) {
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') return true;
  }
  return false;
}

}  // namespace

std::string Endpoint::ToString() const {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<Endpoint> ParseEndpoint(std::string_view text) {
  if (text.empty()) return Bad(text, "is empty; expected host:port");
  if (HasSpace(text)) return Bad(text, "contains whitespace");

  std::string_view host;
  std::string_view port_text;
  if (text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return Bad(text, "has '[' without a closing ']'");
    host = text.substr(1, close - 1);
    if (host.empty()) return Bad(text, "has an empty IPv6 address between brackets");
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      return Bad(text, "needs :port after the bracketed address");
    }
    port_text = rest.substr(1);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return Bad(text, "has no port; expected host:port");
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return Bad(text, "an IPv6 address must be in brackets, as in [::1]:6379");
    }
    if (host.empty()) return Bad(text, "has an empty host");
  }
  if (host.find_first_of("[]") != std::string_view::npos) {
    return Bad(text, "has a stray bracket in the host");
  }
  if (port_text.empty()) return Bad(text, "has an empty port");
  int port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port_text[0] == '+' ||
      port_text[0] == '-') {
    return Bad(text, "port is not a decimal number");
  }
  if (port < 1 || port > 65535) return Bad(text, "port must be in 1..65535");
  return Endpoint{std::string(host), port};
}

}  // namespace flywheel::redis
