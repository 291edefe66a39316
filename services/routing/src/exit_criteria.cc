#include "exit_criteria.h"

#include <regex>

#include "absl/strings/str_split.h"

namespace flywheel::routing {
namespace {

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(text, absl::ByAnyChar(" ,\t\n\r"))) {
    if (!part.empty()) out.emplace_back(part);
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i] == '+' ? ' ' : text[i]);
    }
  }
  return out;
}

// The decoded query parameters of `url`, first occurrence of each name.
std::map<std::string, std::string> QueryOf(const std::string& url) {
  std::map<std::string, std::string> out;
  size_t q = url.find('?');
  if (q == std::string::npos) return out;
  std::string query = url.substr(
      q + 1, url.find('#', q) == std::string::npos ? std::string::npos : url.find('#', q) - q - 1);
  for (absl::string_view pair : absl::StrSplit(query, '&')) {
    std::vector<std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    if (kv.empty() || kv[0].empty()) continue;
    out.emplace(PercentDecode(kv[0]), kv.size() > 1 ? PercentDecode(kv[1]) : "");
  }
  return out;
}

}  // namespace

std::string FieldValue(const intake::v1::Request& request, const std::string& key) {
  if (key == "title") return request.spec().title();
  if (key == "description") return request.spec().description();
  if (key == "campaign_id") return request.spec().campaign_id();
  auto it = request.spec().fields().find(key);
  return it == request.spec().fields().end() ? "" : it->second;
}

absl::Status CheckUtmLinks(const std::string& links_text, const UtmTagging& rule) {
  std::vector<std::string> links = SplitList(links_text);
  if (links.empty()) return absl::FailedPreconditionError("no links in " + rule.links_field);
  const std::regex value_re(rule.value_pattern);
  const std::regex campaign_re(rule.campaign_pattern);
  for (const std::string& link : links) {
    std::map<std::string, std::string> query = QueryOf(link);
    for (const char* name : {"utm_source", "utm_medium", "utm_campaign"}) {
      auto it = query.find(name);
      if (it == query.end() || it->second.empty()) {
        return absl::FailedPreconditionError("link " + link + " lacks " + name);
      }
      const bool ok =
          std::regex_match(it->second, value_re) &&
          (std::string(name) != "utm_campaign" || std::regex_match(it->second, campaign_re));
      if (!ok) {
        return absl::FailedPreconditionError("link " + link + ": " + name + " \"" + it->second +
                                             "\" does not follow the naming convention");
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckCriteria(const std::string& which, const std::string& stage_id,
                           const std::vector<StageCriterion>& criteria,
                           const intake::v1::Request& request,
                           const std::set<std::string>& confirmed) {
  const std::string prefix = which + " criterion of " + stage_id + ": ";
  for (const StageCriterion& c : criteria) {
    switch (c.kind) {
      case StageCriterion::Kind::kField:
        if (FieldValue(request, c.argument).empty()) {
          return absl::FailedPreconditionError(prefix + "field " + c.argument + " is empty");
        }
        break;
      case StageCriterion::Kind::kArtefact: {
        std::vector<std::string> artefacts = SplitList(FieldValue(request, "artefacts"));
        if (std::find(artefacts.begin(), artefacts.end(), c.argument) == artefacts.end() &&
            confirmed.count(c.id) == 0) {
          return absl::FailedPreconditionError(prefix + "artefact " + c.argument +
                                               " is not attached");
        }
        break;
      }
      case StageCriterion::Kind::kChecklist:
        if (confirmed.count(c.id) == 0) {
          return absl::FailedPreconditionError(prefix + "checklist item " + c.id + " (\"" +
                                               c.argument + "\") is not confirmed");
        }
        break;
      case StageCriterion::Kind::kUtmTagging:
        if (absl::Status st = CheckUtmLinks(FieldValue(request, c.utm.links_field), c.utm);
            !st.ok()) {
          return absl::FailedPreconditionError(prefix + std::string(st.message()));
        }
        break;
    }
  }
  return absl::OkStatus();
}

}  // namespace flywheel::routing
