#include "field_validation.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace flywheel::intake {
namespace {

bool HasSpace(const std::string& text) {
  for (char c : text) {
    if (absl::ascii_isspace(c) || absl::ascii_iscntrl(c)) return true;
  }
  return false;
}

// RFC 3339 full-date (2026-05-01) or date-time (2026-05-01T09:00:00Z, any
// offset). Returns the instant: midnight UTC for a full-date.
std::optional<absl::Time> ParseDate(const std::string& text, bool* date_only) {
  std::string err;
  absl::Time t;
  *date_only = text.size() == 10;
  if (*date_only) {
    if (absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &err)) return t;
    return std::nullopt;
  }
  if (absl::ParseTime(absl::RFC3339_full, text, absl::UTCTimeZone(), &t, &err)) {
    // RFC 3339 requires 'T' (or 't') between date and time, and an offset.
    if (text.size() > 10 && (text[10] == 'T' || text[10] == 't')) return t;
  }
  return std::nullopt;
}

std::optional<std::string> CheckUrl(const std::string& value) {
  const std::string lower = absl::AsciiStrToLower(value);
  size_t host_start = 0;
  if (absl::StartsWith(lower, "https://")) {
    host_start = 8;
  } else if (absl::StartsWith(lower, "http://")) {
    host_start = 7;
  } else {
    return "must be an absolute http or https URL";
  }
  if (HasSpace(value)) return "must be a URL without spaces";
  const size_t host_end = value.find_first_of("/?#", host_start);
  const std::string host = value.substr(
      host_start, host_end == std::string::npos ? std::string::npos : host_end - host_start);
  if (host.empty() || host.front() == ':' || host.front() == '.') {
    return "must be a URL with a host name";
  }
  return std::nullopt;
}

std::optional<std::string> CheckEmail(const std::string& value) {
  const size_t at = value.find('@');
  if (at == std::string::npos || at == 0 || value.find('@', at + 1) != std::string::npos ||
      HasSpace(value)) {
    return "must be an email address such as name@example.com";
  }
  const std::string domain = value.substr(at + 1);
  const size_t dot = domain.find('.');
  if (dot == std::string::npos || dot == 0 || domain.back() == '.') {
    return "must be an email address such as name@example.com";
  }
  return std::nullopt;
}

// The value as echoed in a message: quoted, and cut short when long.
std::string Quoted(const std::string& value) {
  if (value.size() <= 64) return "\"" + value + "\"";
  return "\"" + value.substr(0, 64) + "...\"";
}

}  // namespace

std::optional<std::string> CheckFieldValue(const FieldRule& rule, const std::string& value,
                                           absl::Time now) {
  const size_t max_length = rule.max_length > 0 ? rule.max_length : kDefaultMaxFieldLength;
  if (value.size() > max_length) return absl::StrCat("must be at most ", max_length, " characters");
  switch (rule.kind) {
    case v1::FIELD_KIND_TEXT:
    case v1::FIELD_KIND_UNSPECIFIED:
      return std::nullopt;
    case v1::FIELD_KIND_NUMBER: {
      double number = 0;
      if (HasSpace(value) || !absl::SimpleAtod(value, &number) || !std::isfinite(number)) {
        return "must be a number, got " + Quoted(value);
      }
      return std::nullopt;
    }
    case v1::FIELD_KIND_DATE: {
      bool date_only = false;
      std::optional<absl::Time> date = ParseDate(value, &date_only);
      if (!date) {
        return "must be an RFC 3339 date (2026-05-01) or date-time (2026-05-01T09:00:00Z), got " +
               Quoted(value);
      }
      // A full-date stands for its midnight (UTC): today's is already past.
      if (rule.future && *date <= now) return "must be in the future";
      return std::nullopt;
    }
    case v1::FIELD_KIND_URL:
      return CheckUrl(value);
    case v1::FIELD_KIND_CHOICE:
      for (const std::string& allowed : rule.allowed_values) {
        if (value == allowed) return std::nullopt;
      }
      return "must be one of " + absl::StrJoin(rule.allowed_values, ", ") + ", got " +
             Quoted(value);
    case v1::FIELD_KIND_BOOLEAN:
      if (value == "true" || value == "false") return std::nullopt;
      return "must be true or false, got " + Quoted(value);
    case v1::FIELD_KIND_EMAIL:
      return CheckEmail(value);
    default:
      return "has a kind this intake does not know";
  }
}

}  // namespace flywheel::intake
