#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "flywheel/config/config.h"

namespace flywheel::config {
namespace internal {

std::string RangeReason(int64_t lo, int64_t hi) {
  return absl::StrCat("must be between ", lo, " and ", hi);
}
std::string RangeReason(double lo, double hi) {
  return absl::StrCat("must be between ", lo, " and ", hi);
}
std::string RangeReason(absl::Duration lo, absl::Duration hi) {
  return absl::StrCat("must be between ", absl::FormatDuration(lo), " and ",
                      absl::FormatDuration(hi));
}

}  // namespace internal

namespace {

// Applies a per-element check to a list, naming the element that failed.
template <typename Check>
std::string EachElement(const std::vector<std::string>& list, const Check& check) {
  for (size_t i = 0; i < list.size(); ++i) {
    std::string reason = check(list[i]);
    if (!reason.empty()) return absl::StrCat("element ", i + 1, " ", reason);
  }
  return {};
}

bool ValidHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

}  // namespace

std::string OneOf::operator()(const std::string& v) const {
  for (const std::string& a : allowed) {
    if (a == v) return {};
  }
  return absl::StrCat("must be one of ", absl::StrJoin(allowed, ", "));
}

std::string OneOf::operator()(const std::vector<std::string>& v) const {
  return EachElement(v, [this](const std::string& s) { return (*this)(s); });
}

std::string NonEmpty::operator()(const std::string& v) const {
  return v.empty() ? "must not be empty" : "";
}

std::string NonEmpty::operator()(const std::vector<std::string>& v) const {
  return v.empty() ? "must not be empty" : "";
}

std::string HostPort::operator()(const std::string& v) const {
  static constexpr char kShape[] = "must be host:port (like kafka-0:9092 or [::1]:50051)";
  size_t colon = v.rfind(':');
  if (colon == std::string::npos || colon == 0) return kShape;
  std::string host = v.substr(0, colon);
  std::string port = v.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return kShape;
    for (size_t i = 1; i + 1 < host.size(); ++i) {
      char c = host[i];
      bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!hex && c != ':' && c != '.') return kShape;
    }
  } else {
    for (char c : host) {
      if (!ValidHostChar(c)) return kShape;
    }
  }
  if (port.empty() || port.size() > 5) return kShape;
  for (char c : port) {
    if (c < '0' || c > '9') return kShape;
  }
  int n = 0;
  if (!absl::SimpleAtoi(port, &n) || n > 65535) return "port must be between 0 and 65535";
  return {};
}

std::string HostPort::operator()(const std::vector<std::string>& v) const {
  return EachElement(v, [this](const std::string& s) { return (*this)(s); });
}

}  // namespace flywheel::config
