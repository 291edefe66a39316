#include "policy_parser.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace flywheel::routing {
namespace {

// Collects every problem of one document, each with its path and line.
class Parser {
 public:
  void Error(const YAML::Node& node, const std::string& path, const std::string& what) {
    std::string line =
        node.Mark().is_null() ? "" : absl::StrCat(" (line ", node.Mark().line + 1, ")");
    errors_.push_back(absl::StrCat(path, ": ", what, line));
  }
  const std::vector<std::string>& errors() const { return errors_; }

  // Reports keys of `map` not in `allowed`.
  void OnlyKeys(const YAML::Node& map, const std::string& path,
                std::initializer_list<const char*> allowed) {
    for (const auto& kv : map) {
      std::string key = kv.first.Scalar();
      bool known = false;
      for (const char* a : allowed) known = known || key == a;
      if (!known) Error(kv.first, Join(path, key), "unknown key");
    }
  }

  bool IsMap(const YAML::Node& node, const std::string& path) {
    if (node.IsMap()) return true;
    Error(node, path, "must be a mapping");
    return false;
  }

  std::string String(const YAML::Node& parent, const std::string& path, const char* key,
                     bool required) {
    YAML::Node node = parent[key];
    if (!node) {
      if (required) Error(parent, Join(path, key), "is required");
      return "";
    }
    if (!node.IsScalar() || node.Scalar().empty()) {
      Error(node, Join(path, key), "must be a non-empty string");
      return "";
    }
    return node.Scalar();
  }

  std::vector<std::string> Strings(const YAML::Node& parent, const std::string& path,
                                   const char* key) {
    std::vector<std::string> out;
    YAML::Node node = parent[key];
    if (!node) return out;
    if (!node.IsSequence()) {
      Error(node, Join(path, key), "must be a list of strings");
      return out;
    }
    for (size_t i = 0; i < node.size(); ++i) {
      if (!node[i].IsScalar() || node[i].Scalar().empty()) {
        Error(node[i], Index(Join(path, key), i), "must be a non-empty string");
      } else {
        out.push_back(node[i].Scalar());
      }
    }
    return out;
  }

  int Int(const YAML::Node& parent, const std::string& path, const char* key, int fallback, int lo,
          int hi) {
    YAML::Node node = parent[key];
    if (!node) return fallback;
    int value = 0;
    if (!node.IsScalar() || !absl::SimpleAtoi(node.Scalar(), &value) || value < lo || value > hi) {
      Error(node, Join(path, key), absl::StrCat("must be a whole number from ", lo, " to ", hi));
      return fallback;
    }
    return value;
  }

  bool Bool(const YAML::Node& parent, const std::string& path, const char* key) {
    YAML::Node node = parent[key];
    if (!node) return false;
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
      Error(node, Join(path, key), "must be true or false");
    }
    return value;
  }

  absl::Duration Duration(const YAML::Node& parent, const std::string& path, const char* key) {
    YAML::Node node = parent[key];
    if (!node) return absl::ZeroDuration();
    std::string text = node.IsScalar() ? node.Scalar() : "";
    absl::Duration d;
    int days = 0;
    bool ok = false;
    if (absl::EndsWith(text, "d") && absl::SimpleAtoi(text.substr(0, text.size() - 1), &days)) {
      d = absl::Hours(24) * days;
      ok = days >= 0;
    } else {
      ok = absl::ParseDuration(text, &d) && d >= absl::ZeroDuration();
    }
    if (!ok) {
      Error(node, Join(path, key), "must be a duration such as 30m, 4h or 2d");
      return absl::ZeroDuration();
    }
    return d;
  }

  void Regex(const YAML::Node& node, const std::string& path, const std::string& pattern) {
    try {
      std::regex re(pattern);
    } catch (const std::regex_error&) {
      Error(node, path, "is not a valid regular expression");
    }
  }

  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }
  static std::string Index(const std::string& path, size_t i) {
    return absl::StrCat(path, "[", i, "]");
  }

 private:
  std::vector<std::string> errors_;
};

bool ParseStageName(const std::string& text, common::v1::Stage* stage) {
  static const std::map<std::string, common::v1::Stage> kStages = {
      {"intake", common::v1::STAGE_INTAKE},
      {"research", common::v1::STAGE_RESEARCH},
      {"brief", common::v1::STAGE_BRIEF},
      {"creation", common::v1::STAGE_CREATION},
      {"review", common::v1::STAGE_REVIEW},
      {"approval", common::v1::STAGE_APPROVAL},
      {"scheduling_qa", common::v1::STAGE_SCHEDULING_QA},
      {"launch", common::v1::STAGE_LAUNCH},
      {"measurement", common::v1::STAGE_MEASUREMENT}};
  auto it = kStages.find(text);
  if (it == kStages.end()) return false;
  *stage = it->second;
  return true;
}

bool IsChannelName(const std::string& text) {
  common::v1::Channel channel;
  return common::v1::Channel_Parse("CHANNEL_" + absl::AsciiStrToUpper(text), &channel) &&
         channel != common::v1::CHANNEL_UNSPECIFIED;
}

void CheckChannels(Parser& p, const YAML::Node& parent, const std::string& path,
                   const std::vector<std::string>& channels) {
  for (size_t i = 0; i < channels.size(); ++i) {
    if (!IsChannelName(channels[i])) {
      p.Error(parent["channels"][i], Parser::Index(Parser::Join(path, "channels"), i),
              "unknown channel \"" + channels[i] +
                  "\" (use email, social_organic, social_paid, "
                  "paid_search, display, web, ...)");
    }
  }
}

std::vector<StageCriterion> ParseCriteria(Parser& p, const YAML::Node& parent,
                                          const std::string& path, const char* key) {
  std::vector<StageCriterion> out;
  YAML::Node list = parent[key];
  if (!list) return out;
  const std::string list_path = Parser::Join(path, key);
  if (!list.IsSequence()) {
    p.Error(list, list_path, "must be a list of criteria");
    return out;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node node = list[i];
    const std::string at = Parser::Index(list_path, i);
    if (!p.IsMap(node, at)) continue;
    p.OnlyKeys(node, at, {"id", "field", "artefact", "checklist", "utm_tagging"});
    StageCriterion c;
    int kinds = 0;
    if (node["field"]) {
      ++kinds;
      c.kind = StageCriterion::Kind::kField;
      c.argument = p.String(node, at, "field", true);
    }
    if (node["artefact"]) {
      ++kinds;
      c.kind = StageCriterion::Kind::kArtefact;
      c.argument = p.String(node, at, "artefact", true);
    }
    if (node["checklist"]) {
      ++kinds;
      c.kind = StageCriterion::Kind::kChecklist;
      c.argument = p.String(node, at, "checklist", true);
    }
    if (YAML::Node utm = node["utm_tagging"]) {
      ++kinds;
      c.kind = StageCriterion::Kind::kUtmTagging;
      const std::string utm_path = at + ".utm_tagging";
      if (p.IsMap(utm, utm_path)) {
        p.OnlyKeys(utm, utm_path, {"links_field", "value_pattern", "campaign_pattern"});
        if (utm["links_field"]) c.utm.links_field = p.String(utm, utm_path, "links_field", true);
        if (utm["value_pattern"]) {
          c.utm.value_pattern = p.String(utm, utm_path, "value_pattern", true);
          p.Regex(utm["value_pattern"], utm_path + ".value_pattern", c.utm.value_pattern);
        }
        if (utm["campaign_pattern"]) {
          c.utm.campaign_pattern = p.String(utm, utm_path, "campaign_pattern", true);
          p.Regex(utm["campaign_pattern"], utm_path + ".campaign_pattern", c.utm.campaign_pattern);
        }
      }
      c.argument = c.utm.links_field;
    }
    if (kinds != 1) {
      p.Error(node, at, "needs exactly one of field, artefact, checklist, utm_tagging");
      continue;
    }
    c.id = node["id"] ? p.String(node, at, "id", true) : c.argument;
    out.push_back(std::move(c));
  }
  return out;
}

void ParseTemplates(Parser& p, const YAML::Node& root, Policy& policy) {
  YAML::Node templates = root["templates"];
  if (!templates) {
    p.Error(root, "templates", "is required");
    return;
  }
  if (!p.IsMap(templates, "templates")) return;
  for (const auto& kv : templates) {
    WorkflowTemplate t;
    t.id = kv.first.Scalar();
    const std::string at = "templates." + t.id;
    if (!p.IsMap(kv.second, at)) continue;
    p.OnlyKeys(kv.second, at, {"stages"});
    YAML::Node stages = kv.second["stages"];
    if (!stages || !stages.IsSequence() || stages.size() == 0) {
      p.Error(stages ? stages : kv.second, at + ".stages", "must be a non-empty list of stages");
      continue;
    }
    std::set<std::string> ids;
    for (size_t i = 0; i < stages.size(); ++i) {
      const std::string sp = Parser::Index(at + ".stages", i);
      const YAML::Node s = stages[i];
      if (!p.IsMap(s, sp)) continue;
      p.OnlyKeys(s, sp, {"id", "stage", "owner_role", "entry", "exit", "sla", "required_skills"});
      StageTemplate st;
      const std::string stage_name = p.String(s, sp, "stage", true);
      if (!stage_name.empty() && !ParseStageName(stage_name, &st.stage)) {
        p.Error(s["stage"], sp + ".stage",
                "unknown stage \"" + stage_name +
                    "\" (use intake, research, brief, creation, review, approval, "
                    "scheduling_qa, launch, measurement)");
      }
      st.id = s["id"] ? p.String(s, sp, "id", true) : stage_name;
      if (!st.id.empty() && !ids.insert(st.id).second) {
        p.Error(s, sp + ".id", "stage id \"" + st.id + "\" is used twice in the template");
      }
      st.owner_role = p.String(s, sp, "owner_role", true);
      st.entry = ParseCriteria(p, s, sp, "entry");
      st.exit = ParseCriteria(p, s, sp, "exit");
      st.sla = p.Duration(s, sp, "sla");
      st.required_skills = p.Strings(s, sp, "required_skills");
      t.stages.push_back(std::move(st));
    }
    policy.templates[t.id] = std::move(t);
  }
}

void ParseTeams(Parser& p, const YAML::Node& root, Policy& policy) {
  YAML::Node teams = root["teams"];
  if (!teams || !teams.IsSequence() || teams.size() == 0) {
    p.Error(teams ? teams : root, "teams", "must be a non-empty list of teams");
    return;
  }
  for (size_t i = 0; i < teams.size(); ++i) {
    const std::string at = Parser::Index("teams", i);
    const YAML::Node t = teams[i];
    if (!p.IsMap(t, at)) continue;
    p.OnlyKeys(t, at, {"id", "strategy", "default_wip_limit", "members"});
    TeamSpec team;
    team.id = p.String(t, at, "id", true);
    std::string strategy = t["strategy"] ? p.String(t, at, "strategy", true) : "least_loaded";
    if (strategy == "round_robin") {
      team.strategy = Strategy::kRoundRobin;
    } else if (strategy != "least_loaded" && !strategy.empty()) {
      p.Error(t["strategy"], at + ".strategy", "must be least_loaded or round_robin");
    }
    team.default_wip_limit = p.Int(t, at, "default_wip_limit", 3, 1, 1000);
    YAML::Node members = t["members"];
    if (members && !members.IsSequence()) p.Error(members, at + ".members", "must be a list");
    std::set<std::string> ids;
    for (size_t j = 0; members && members.IsSequence() && j < members.size(); ++j) {
      const std::string mp = Parser::Index(at + ".members", j);
      const YAML::Node m = members[j];
      if (!p.IsMap(m, mp)) continue;
      p.OnlyKeys(m, mp, {"id", "skills", "region", "wip_limit", "on_leave"});
      MemberSpec member;
      member.id = p.String(m, mp, "id", true);
      if (!member.id.empty() && !ids.insert(member.id).second) {
        p.Error(m, mp + ".id", "member \"" + member.id + "\" is listed twice");
      }
      member.skills = p.Strings(m, mp, "skills");
      member.region = p.String(m, mp, "region", false);
      member.wip_limit = p.Int(m, mp, "wip_limit", team.default_wip_limit, 1, 1000);
      member.on_leave = p.Bool(m, mp, "on_leave");
      team.members.push_back(std::move(member));
    }
    if (!team.id.empty() && policy.teams.count(team.id) > 0) {
      p.Error(t, at + ".id", "team \"" + team.id + "\" is defined twice");
    }
    policy.teams[team.id] = std::move(team);
  }
}

void ParseAssignment(Parser& p, const YAML::Node& root, Policy& policy) {
  YAML::Node rules = root["assignment_rules"];
  if (rules && !rules.IsSequence()) {
    p.Error(rules, "assignment_rules", "must be a list of rules");
    return;
  }
  std::set<std::string> ids;
  for (size_t i = 0; rules && i < rules.size(); ++i) {
    const std::string at = Parser::Index("assignment_rules", i);
    const YAML::Node r = rules[i];
    if (!p.IsMap(r, at)) continue;
    p.OnlyKeys(r, at,
               {"id", "request_types", "channels", "regions", "skills", "match_region", "team"});
    AssignmentRule rule;
    rule.id = p.String(r, at, "id", true);
    if (!rule.id.empty() && !ids.insert(rule.id).second) {
      p.Error(r, at + ".id", "rule id \"" + rule.id + "\" is used twice");
    }
    rule.request_types = p.Strings(r, at, "request_types");
    rule.channels = p.Strings(r, at, "channels");
    CheckChannels(p, r, at, rule.channels);
    rule.regions = p.Strings(r, at, "regions");
    rule.skills = p.Strings(r, at, "skills");
    rule.match_region = p.Bool(r, at, "match_region");
    rule.team = p.String(r, at, "team", true);
    if (!rule.team.empty() && !policy.FindTeam(rule.team)) {
      p.Error(r["team"], at + ".team", "unknown team \"" + rule.team + "\"");
    }
    policy.assignment_rules.push_back(std::move(rule));
  }
  policy.default_team = p.String(root, "", "default_team", false);
  if (!policy.default_team.empty() && !policy.FindTeam(policy.default_team)) {
    p.Error(root["default_team"], "default_team", "unknown team \"" + policy.default_team + "\"");
  }
}

void ParseTiering(Parser& p, const YAML::Node& root, Policy& policy) {
  YAML::Node tiering = root["tiering"];
  if (!tiering) {
    p.Error(root, "tiering", "is required");
    return;
  }
  if (!p.IsMap(tiering, "tiering")) return;
  p.OnlyKeys(tiering, "tiering", {"default_tier", "default_approval_policy", "rules"});
  policy.default_tier = p.Int(tiering, "tiering", "default_tier", 1, 0, 3);
  policy.default_approval_policy_id = p.String(tiering, "tiering", "default_approval_policy", true);
  YAML::Node rules = tiering["rules"];
  if (rules && !rules.IsSequence()) {
    p.Error(rules, "tiering.rules", "must be a list of rules");
    return;
  }
  std::set<std::string> ids;
  for (size_t i = 0; rules && i < rules.size(); ++i) {
    const std::string at = Parser::Index("tiering.rules", i);
    const YAML::Node r = rules[i];
    if (!p.IsMap(r, at)) continue;
    p.OnlyKeys(r, at,
               {"id", "categories", "channels", "audience", "keywords", "tier", "approval_policy"});
    TieringRule rule;
    rule.id = p.String(r, at, "id", true);
    if (!rule.id.empty() && !ids.insert(rule.id).second) {
      p.Error(r, at + ".id", "rule id \"" + rule.id + "\" is used twice");
    }
    rule.categories = p.Strings(r, at, "categories");
    rule.channels = p.Strings(r, at, "channels");
    CheckChannels(p, r, at, rule.channels);
    rule.audience = p.String(r, at, "audience", false);
    if (!rule.audience.empty() && rule.audience != "external" && rule.audience != "internal") {
      p.Error(r["audience"], at + ".audience", "must be external or internal");
    }
    rule.keywords = p.Strings(r, at, "keywords");
    if (!r["tier"]) p.Error(r, at + ".tier", "is required");
    rule.tier = p.Int(r, at, "tier", 0, 0, 3);
    rule.approval_policy_id = p.String(r, at, "approval_policy", true);
    if (rule.categories.empty() && rule.channels.empty() && rule.audience.empty() &&
        rule.keywords.empty()) {
      p.Error(r, at, "needs at least one of categories, channels, audience, keywords");
    }
    policy.tiering_rules.push_back(std::move(rule));
  }
}

void ParseRequestTypes(Parser& p, const YAML::Node& root, Policy& policy) {
  policy.default_template = p.String(root, "", "default_template", true);
  if (!policy.default_template.empty() && policy.templates.count(policy.default_template) == 0) {
    p.Error(root["default_template"], "default_template",
            "unknown template \"" + policy.default_template + "\"");
  }
  YAML::Node types = root["request_types"];
  if (!types) return;
  if (!p.IsMap(types, "request_types")) return;
  for (const auto& kv : types) {
    const std::string type = kv.first.Scalar();
    const std::string at = "request_types." + type;
    if (!kv.second.IsScalar() || kv.second.Scalar().empty()) {
      p.Error(kv.second, at, "must name a template");
      continue;
    }
    if (policy.templates.count(kv.second.Scalar()) == 0) {
      p.Error(kv.second, at, "unknown template \"" + kv.second.Scalar() + "\"");
    }
    policy.request_type_templates[type] = kv.second.Scalar();
  }
}

}  // namespace

absl::StatusOr<Policy> ParsePolicy(const std::string& yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("not valid YAML: ", e.msg, " (line ", e.mark.line + 1, ")"));
  }
  Parser p;
  Policy policy;
  if (!root.IsMap()) return absl::InvalidArgumentError("the policy must be a YAML mapping");
  p.OnlyKeys(root, "",
             {"templates", "request_types", "default_template", "teams", "assignment_rules",
              "default_team", "tiering"});
  ParseTemplates(p, root, policy);
  ParseRequestTypes(p, root, policy);
  ParseTeams(p, root, policy);
  ParseAssignment(p, root, policy);
  ParseTiering(p, root, policy);
  if (!p.errors().empty()) return absl::InvalidArgumentError(absl::StrJoin(p.errors(), "; "));
  return policy;
}

absl::StatusOr<Policy> LoadPolicyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot read policy file " + path);
  std::stringstream text;
  text << in.rdbuf();
  return ParsePolicy(text.str());
}

}  // namespace flywheel::routing
