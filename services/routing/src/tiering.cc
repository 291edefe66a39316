#include "tiering.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace flywheel::routing {
namespace {

bool IsWordChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// The first keyword of `rule` found in the request, with where it was found.
bool FindKeyword(const TieringRule& rule, const intake::v1::Request& request,
                 std::string* explanation) {
  const auto& spec = request.spec();
  // Fields in key order, so the explanation is deterministic.
  std::map<std::string, std::string> fields(spec.fields().begin(), spec.fields().end());
  for (const std::string& keyword : rule.keywords) {
    std::string where;
    if (ContainsKeyword(spec.title(), keyword)) {
      where = "the title";
    } else if (ContainsKeyword(spec.description(), keyword)) {
      where = "the description";
    } else {
      for (const auto& [key, value] : fields) {
        if (ContainsKeyword(value, keyword)) {
          where = "field " + key;
          break;
        }
      }
    }
    if (!where.empty()) {
      *explanation = "keyword \"" + keyword + "\" in " + where;
      return true;
    }
  }
  return false;
}

// Whether every condition `rule` sets holds; fills `explanation` when so.
bool Matches(const TieringRule& rule, const intake::v1::Request& request,
             const std::vector<std::string>& channels, std::string* explanation) {
  std::vector<std::string> why;
  if (!rule.categories.empty()) {
    auto it = request.spec().fields().find("content_category");
    if (it == request.spec().fields().end() || !Contains(rule.categories, it->second)) return false;
    why.push_back("content category " + it->second);
  }
  if (!rule.channels.empty()) {
    auto it = std::find_if(channels.begin(), channels.end(),
                           [&](const std::string& c) { return Contains(rule.channels, c); });
    if (it == channels.end()) return false;
    why.push_back("channel " + *it);
  }
  if (!rule.audience.empty()) {
    const bool external = request.spec().business_impact().external_audience();
    if ((rule.audience == "external") != external) return false;
    why.push_back(rule.audience + " audience");
  }
  if (!rule.keywords.empty()) {
    std::string found;
    if (!FindKeyword(rule, request, &found)) return false;
    why.push_back(found);
  }
  std::string text;
  for (const std::string& w : why) text += (text.empty() ? "" : ", ") + w;
  *explanation = text;
  return true;
}

}  // namespace

bool ContainsKeyword(const std::string& text, const std::string& keyword) {
  if (keyword.empty()) return false;
  const std::string hay = absl::AsciiStrToLower(text);
  const std::string needle = absl::AsciiStrToLower(keyword);
  for (size_t pos = hay.find(needle); pos != std::string::npos; pos = hay.find(needle, pos + 1)) {
    const bool starts = pos == 0 || !IsWordChar(hay[pos - 1]) || !IsWordChar(needle.front());
    const size_t end = pos + needle.size();
    const bool ends = end == hay.size() || !IsWordChar(hay[end]) || !IsWordChar(needle.back());
    if (starts && ends) return true;
  }
  return false;
}

std::vector<std::string> ChannelNames(const intake::v1::Request& request) {
  std::vector<std::string> out;
  for (int c : request.spec().channels()) {
    std::string name = common::v1::Channel_Name(static_cast<common::v1::Channel>(c));
    if (absl::StartsWith(name, "CHANNEL_")) out.push_back(absl::AsciiStrToLower(name.substr(8)));
  }
  return out;
}

TierDecision AssessTier(const Policy& policy, const intake::v1::Request& request) {
  const std::vector<std::string> channels = ChannelNames(request);
  const TieringRule* best = nullptr;
  std::string best_why;
  for (const TieringRule& rule : policy.tiering_rules) {
    std::string why;
    if (!Matches(rule, request, channels, &why)) continue;
    if (best == nullptr || rule.tier > best->tier) {
      best = &rule;
      best_why = why;
    }
  }
  TierDecision d;
  if (best == nullptr) {
    d.tier = policy.default_tier;
    d.approval_policy_id = policy.default_approval_policy_id;
    d.explanation = "no tiering rule matched; default tier";
  } else {
    d.tier = best->tier;
    d.approval_policy_id = best->approval_policy_id;
    d.rule_id = best->id;
    d.explanation = best_why;
  }
  d.approval_steps = ApprovalSteps(d.tier);
  return d;
}

}  // namespace flywheel::routing
