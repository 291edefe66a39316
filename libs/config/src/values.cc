#include "values.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace flywheel::config::internal {
namespace {

constexpr size_t kMaxShown = 120;

// Debian's abseil has its own string_view; this bridges from std's.
absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

using FilePtr = std::unique_ptr<std::FILE, decltype([](std::FILE* f) { std::fclose(f); })>;

}  // namespace

std::string Quote(std::string_view text) {
  std::string escaped = absl::CEscape(AV(text));
  if (escaped.size() > kMaxShown) escaped = escaped.substr(0, kMaxShown) + "...";
  return absl::StrCat("\"", escaped, "\"");
}

std::string Emit(const YAML::Node& node, bool flow) {
  if (node.IsScalar()) return node.Scalar();
  YAML::Emitter out;
  if (flow) {
    YAML::Node copy = YAML::Clone(node);
    copy.SetStyle(YAML::EmitterStyle::Flow);
    out << copy;
  } else {
    out << node;
  }
  return out.c_str();
}

std::optional<bool> ParseBool(std::string_view text) {
  std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(AV(text)));
  if (t == "true" || t == "yes" || t == "on" || t == "1") return true;
  if (t == "false" || t == "no" || t == "off" || t == "0") return false;
  return std::nullopt;
}

std::optional<absl::Duration> ParseDuration(std::string_view text) {
  absl::string_view t = absl::StripAsciiWhitespace(AV(text));
  absl::Duration days = absl::ZeroDuration();
  size_t digits = 0;
  while (digits < t.size() && absl::ascii_isdigit(t[digits])) ++digits;
  if (digits > 0 && digits < t.size() && t[digits] == 'd') {
    int64_t n = 0;
    // At most about 27 years, far below absl's range.
    if (!absl::SimpleAtoi(t.substr(0, digits), &n) || n > 10'000) return std::nullopt;
    days = absl::Hours(24) * n;
    t.remove_prefix(digits + 1);
    if (t.empty()) return days;
    if (!absl::ascii_isdigit(t.front())) return std::nullopt;  // "1d-2h", "1d 2h"
  }
  absl::Duration rest;
  if (!absl::ParseDuration(std::string(t), &rest) || rest == absl::InfiniteDuration() ||
      rest == -absl::InfiniteDuration()) {
    return std::nullopt;
  }
  return days + rest;
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  FilePtr f(std::fopen(path.c_str(), "rb"));
  if (!f) return absl::FailedPreconditionError(absl::StrCat("cannot open: ", std::strerror(errno)));
  std::string text;
  char buf[8192];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) text.append(buf, n);
  if (std::ferror(f.get())) {
    // A directory opens but does not read (EISDIR).
    return absl::FailedPreconditionError(absl::StrCat("cannot read: ", std::strerror(errno)));
  }
  return text;
}

}  // namespace flywheel::config::internal
