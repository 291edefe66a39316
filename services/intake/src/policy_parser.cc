#include "policy_parser.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace flywheel::intake {
namespace {

// Collects every problem of one document with its path and line.
class Problems {
 public:
  void Add(const std::string& path, const YAML::Node& node, const std::string& message) {
    std::string where = path.empty() ? std::string("(document)") : path;
    if (node.IsDefined() && node.Mark().line >= 0) {
      absl::StrAppend(&where, " (line ", node.Mark().line + 1, ")");
    }
    lines_.push_back(absl::StrCat(where, ": ", message));
  }
  bool empty() const { return lines_.empty(); }
  absl::Status ToStatus() const {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid intake policy: ", lines_.size(), lines_.size() == 1 ? " problem\n" : " problems\n",
        absl::StrJoin(lines_, "\n")));
  }

 private:
  std::vector<std::string> lines_;
};

std::string Child(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}
std::string Item(const std::string& path, size_t i) { return absl::StrCat(path, "[", i, "]"); }

// Reports keys of `map` that are not in `known`.
void CheckKeys(const YAML::Node& map, const std::string& path,
               std::initializer_list<const char*> known, Problems& problems) {
  for (const auto& entry : map) {
    const std::string key = entry.first.Scalar();
    bool ok = false;
    for (const char* k : known) ok = ok || key == k;
    if (!ok) {
      std::vector<std::string> names(known.begin(), known.end());
      problems.Add(Child(path, key), entry.first,
                   "unknown key; expected one of " + absl::StrJoin(names, ", "));
    }
  }
}

std::optional<std::string> Scalar(const YAML::Node& node, const std::string& path,
                                  Problems& problems) {
  if (!node.IsScalar()) {
    problems.Add(path, node, "must be a single value");
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<bool> Bool(const YAML::Node& node, const std::string& path, Problems& problems) {
  auto text = Scalar(node, path, problems);
  if (!text) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  problems.Add(path, node, "must be true or false, got \"" + *text + "\"");
  return std::nullopt;
}

bool IsIdentifier(const std::string& text) {
  if (text.empty() || text.size() > 64 || !absl::ascii_islower(text[0])) return false;
  for (char c : text) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_') return false;
  }
  return true;
}

bool IsTenantId(const std::string& text) {
  if (text.empty() || text.size() > 64 || !absl::ascii_isalnum(text[0])) return false;
  for (char c : text) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_' && c != '-') return false;
  }
  return true;
}

std::optional<std::string> Identifier(const YAML::Node& node, const std::string& path,
                                      Problems& problems) {
  auto text = Scalar(node, path, problems);
  if (!text) return std::nullopt;
  if (!IsIdentifier(*text)) {
    problems.Add(path, node,
                 "must be lower_snake_case (a-z, 0-9, _; starting with a letter; at most 64), "
                 "got \"" +
                     *text + "\"");
    return std::nullopt;
  }
  return text;
}

std::optional<common::v1::Priority> ParsePriority(const YAML::Node& node, const std::string& path,
                                                  Problems& problems) {
  auto text = Scalar(node, path, problems);
  if (!text) return std::nullopt;
  if (*text == "P1") return common::v1::PRIORITY_P1;
  if (*text == "P2") return common::v1::PRIORITY_P2;
  if (*text == "P3") return common::v1::PRIORITY_P3;
  if (*text == "P4") return common::v1::PRIORITY_P4;
  problems.Add(path, node, "unknown priority \"" + *text + "\"; expected P1, P2, P3 or P4");
  return std::nullopt;
}

std::optional<common::v1::SlaClass> ParseSlaClass(const YAML::Node& node, const std::string& path,
                                                  Problems& problems) {
  auto text = Scalar(node, path, problems);
  if (!text) return std::nullopt;
  if (*text == "rapid_response") return common::v1::SLA_CLASS_RAPID_RESPONSE;
  if (*text == "expedited") return common::v1::SLA_CLASS_EXPEDITED;
  if (*text == "standard") return common::v1::SLA_CLASS_STANDARD;
  if (*text == "extended") return common::v1::SLA_CLASS_EXTENDED;
  problems.Add(path, node,
               "unknown SLA class \"" + *text +
                   "\"; expected rapid_response, expedited, standard or extended");
  return std::nullopt;
}

std::optional<v1::ImpactLevel> ParseImpact(const YAML::Node& node, const std::string& path,
                                           Problems& problems) {
  auto text = Scalar(node, path, problems);
  if (!text) return std::nullopt;
  if (*text == "low") return v1::IMPACT_LEVEL_LOW;
  if (*text == "medium") return v1::IMPACT_LEVEL_MEDIUM;
  if (*text == "high") return v1::IMPACT_LEVEL_HIGH;
  if (*text == "critical") return v1::IMPACT_LEVEL_CRITICAL;
  problems.Add(path, node,
               "unknown impact level \"" + *text + "\"; expected low, medium, high or critical");
  return std::nullopt;
}

std::optional<v1::FieldKind> ParseKind(const YAML::Node& node, const std::string& path,
                                       Problems& problems) {
  auto text = Scalar(node, path, problems);
  if (!text) return std::nullopt;
  static const std::pair<const char*, v1::FieldKind> kKinds[] = {
      {"text", v1::FIELD_KIND_TEXT},     {"number", v1::FIELD_KIND_NUMBER},
      {"date", v1::FIELD_KIND_DATE},     {"url", v1::FIELD_KIND_URL},
      {"choice", v1::FIELD_KIND_CHOICE}, {"boolean", v1::FIELD_KIND_BOOLEAN},
      {"email", v1::FIELD_KIND_EMAIL}};
  for (const auto& [name, kind] : kKinds) {
    if (*text == name) return kind;
  }
  problems.Add(
      path, node,
      "unknown kind \"" + *text + "\"; expected text, number, date, url, choice, boolean or email");
  return std::nullopt;
}

// "48h", "90m", "7d", "1h30m": absl's syntax plus whole days.
std::optional<absl::Duration> ParseDuration(const YAML::Node& node, const std::string& path,
                                            Problems& problems) {
  auto text = Scalar(node, path, problems);
  if (!text) return std::nullopt;
  absl::Duration d;
  int64_t days = 0;
  if (text->size() > 1 && text->back() == 'd' &&
      absl::SimpleAtoi(text->substr(0, text->size() - 1), &days) && days > 0) {
    return absl::Hours(24 * days);
  }
  if (absl::ParseDuration(*text, &d) && d > absl::ZeroDuration()) return d;
  problems.Add(path, node,
               "must be a positive duration such as 48h, 90m or 7d, got \"" + *text + "\"");
  return std::nullopt;
}

std::optional<FieldRule> ParseField(const YAML::Node& node, const std::string& path,
                                    Problems& problems) {
  if (!node.IsMap()) {
    problems.Add(path, node, "must be a mapping with key and kind");
    return std::nullopt;
  }
  CheckKeys(node, path, {"key", "kind", "required", "allowed_values", "max_length", "future"},
            problems);
  FieldRule field;
  bool ok = true;
  if (!node["key"]) {
    problems.Add(Child(path, "key"), node, "is required");
    ok = false;
  } else if (auto key = Identifier(node["key"], Child(path, "key"), problems)) {
    field.key = *key;
  } else {
    ok = false;
  }
  if (!node["kind"]) {
    problems.Add(Child(path, "kind"), node, "is required");
    ok = false;
  } else if (auto kind = ParseKind(node["kind"], Child(path, "kind"), problems)) {
    field.kind = *kind;
  } else {
    ok = false;
  }
  if (node["required"]) {
    auto required = Bool(node["required"], Child(path, "required"), problems);
    field.required = required.value_or(false);
    ok = ok && required.has_value();
  }
  if (node["max_length"]) {
    const std::string p = Child(path, "max_length");
    auto text = Scalar(node["max_length"], p, problems);
    int64_t n = 0;
    if (text && absl::SimpleAtoi(*text, &n) && n > 0 && n <= 1'000'000) {
      field.max_length = static_cast<size_t>(n);
    } else {
      if (text) problems.Add(p, node["max_length"], "must be a whole number from 1 to 1000000");
      ok = false;
    }
  }
  if (node["future"]) {
    auto future = Bool(node["future"], Child(path, "future"), problems);
    field.future = future.value_or(false);
    ok = ok && future.has_value();
    if (future && *future && field.kind != v1::FIELD_KIND_DATE) {
      problems.Add(Child(path, "future"), node["future"], "applies to date fields only");
      ok = false;
    }
  }
  const YAML::Node allowed = node["allowed_values"];
  const std::string allowed_path = Child(path, "allowed_values");
  if (allowed) {
    if (!allowed.IsSequence() || allowed.size() == 0) {
      problems.Add(allowed_path, allowed, "must be a non-empty list");
      ok = false;
    } else {
      for (size_t i = 0; i < allowed.size(); ++i) {
        auto value = Scalar(allowed[i], Item(allowed_path, i), problems);
        if (value) field.allowed_values.push_back(*value);
        ok = ok && value.has_value();
      }
    }
    if (field.kind != v1::FIELD_KIND_CHOICE) {
      problems.Add(allowed_path, allowed, "applies to choice fields only");
      ok = false;
    }
  } else if (field.kind == v1::FIELD_KIND_CHOICE) {
    problems.Add(allowed_path, node, "is required for a choice field");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return field;
}

std::optional<RequestTypePolicy> ParseType(const YAML::Node& node, const std::string& path,
                                           Problems& problems) {
  if (!node.IsMap()) {
    problems.Add(path, node, "must be a mapping with id and fields");
    return std::nullopt;
  }
  CheckKeys(node, path, {"id", "display_name", "workflow_template", "sla_class", "fields"},
            problems);
  RequestTypePolicy type;
  bool ok = true;
  if (!node["id"]) {
    problems.Add(Child(path, "id"), node, "is required");
    ok = false;
  } else if (auto id = Identifier(node["id"], Child(path, "id"), problems)) {
    type.id = *id;
  } else {
    ok = false;
  }
  if (node["display_name"]) {
    auto name = Scalar(node["display_name"], Child(path, "display_name"), problems);
    type.display_name = name.value_or("");
    ok = ok && name.has_value();
  }
  if (node["workflow_template"]) {
    auto tpl = Identifier(node["workflow_template"], Child(path, "workflow_template"), problems);
    type.workflow_template = tpl.value_or("");
    ok = ok && tpl.has_value();
  }
  if (node["sla_class"]) {
    auto sla = ParseSlaClass(node["sla_class"], Child(path, "sla_class"), problems);
    if (sla) type.sla_class = *sla;
    ok = ok && sla.has_value();
  }
  const YAML::Node fields = node["fields"];
  const std::string fields_path = Child(path, "fields");
  if (fields && !fields.IsNull()) {
    if (!fields.IsSequence()) {
      problems.Add(fields_path, fields, "must be a list");
      return std::nullopt;
    }
    for (size_t i = 0; i < fields.size(); ++i) {
      const std::string field_path = Item(fields_path, i);
      auto field = ParseField(fields[i], field_path, problems);
      if (!field) {
        ok = false;
        continue;
      }
      if (type.FindField(field->key) != nullptr) {
        problems.Add(Child(field_path, "key"), fields[i]["key"],
                     "duplicate field \"" + field->key + "\"");
        ok = false;
        continue;
      }
      type.fields.push_back(*std::move(field));
    }
  }
  if (!ok) return std::nullopt;
  return type;
}

std::optional<PriorityRule> ParseRule(const YAML::Node& node, const std::string& path,
                                      const absl::flat_hash_set<std::string>& tiers,
                                      Problems& problems) {
  if (!node.IsMap()) {
    problems.Add(path, node, "must be a mapping with conditions, priority and reason");
    return std::nullopt;
  }
  CheckKeys(node, path,
            {"id", "impact_at_least", "impact_at_most", "due_within", "requester_tier", "priority",
             "reason"},
            problems);
  PriorityRule rule;
  bool ok = true;
  if (node["id"]) {
    auto id = Identifier(node["id"], Child(path, "id"), problems);
    rule.id = id.value_or("");
    ok = ok && id.has_value();
  }
  if (node["impact_at_least"]) {
    rule.impact_at_least =
        ParseImpact(node["impact_at_least"], Child(path, "impact_at_least"), problems);
    ok = ok && rule.impact_at_least.has_value();
  }
  if (node["impact_at_most"]) {
    rule.impact_at_most =
        ParseImpact(node["impact_at_most"], Child(path, "impact_at_most"), problems);
    ok = ok && rule.impact_at_most.has_value();
  }
  if (node["due_within"]) {
    rule.due_within = ParseDuration(node["due_within"], Child(path, "due_within"), problems);
    ok = ok && rule.due_within.has_value();
  }
  if (node["requester_tier"]) {
    const std::string tier_path = Child(path, "requester_tier");
    rule.requester_tier = Scalar(node["requester_tier"], tier_path, problems);
    ok = ok && rule.requester_tier.has_value();
    if (rule.requester_tier && !tiers.contains(*rule.requester_tier)) {
      problems.Add(tier_path, node["requester_tier"],
                   "tier \"" + *rule.requester_tier + "\" is given to no team in priority.tiers");
      ok = false;
    }
  }
  if (ok && !node["impact_at_least"] && !node["impact_at_most"] && !node["due_within"] &&
      !node["requester_tier"]) {
    problems.Add(path, node,
                 "has no condition; give impact_at_least, impact_at_most, due_within or "
                 "requester_tier (use priority.default for the fallback)");
    ok = false;
  }
  if (!node["priority"]) {
    problems.Add(Child(path, "priority"), node, "is required");
    ok = false;
  } else if (auto p = ParsePriority(node["priority"], Child(path, "priority"), problems)) {
    rule.priority = *p;
  } else {
    ok = false;
  }
  if (!node["reason"]) {
    problems.Add(Child(path, "reason"), node, "is required: it is stored with the request");
    ok = false;
  } else {
    auto reason = Scalar(node["reason"], Child(path, "reason"), problems);
    rule.reason = reason.value_or("");
    ok = ok && reason.has_value();
  }
  if (!ok) return std::nullopt;
  return rule;
}

void ParsePriorityPolicy(const YAML::Node& node, const std::string& path, Policy& policy,
                         Problems& problems) {
  if (!node.IsMap()) {
    problems.Add(path, node, "must be a mapping with default, default_reason, tiers and rules");
    return;
  }
  CheckKeys(node, path, {"default", "default_reason", "tiers", "rules"}, problems);
  PriorityPolicy& out = policy.priority;
  if (node["default"]) {
    if (auto p = ParsePriority(node["default"], Child(path, "default"), problems)) {
      out.default_priority = *p;
    }
  }
  out.default_reason = "no priority rule matched";
  if (node["default_reason"]) {
    if (auto r = Scalar(node["default_reason"], Child(path, "default_reason"), problems)) {
      out.default_reason = *r;
    }
  }
  absl::flat_hash_set<std::string> tier_names;
  if (const YAML::Node tiers = node["tiers"]; tiers && !tiers.IsNull()) {
    if (!tiers.IsMap()) {
      problems.Add(Child(path, "tiers"), tiers, "must map team names to tier names");
    } else {
      for (const auto& entry : tiers) {
        const std::string team = entry.first.Scalar();
        if (auto tier = Scalar(entry.second, Child(Child(path, "tiers"), team), problems)) {
          out.tiers[team] = *tier;
          tier_names.insert(*tier);
        }
      }
    }
  }
  const YAML::Node rules = node["rules"];
  const std::string rules_path = Child(path, "rules");
  if (!rules || rules.IsNull()) return;
  if (!rules.IsSequence()) {
    problems.Add(rules_path, rules, "must be a list");
    return;
  }
  absl::flat_hash_set<std::string> ids;
  for (size_t i = 0; i < rules.size(); ++i) {
    const std::string rule_path = Item(rules_path, i);
    auto rule = ParseRule(rules[i], rule_path, tier_names, problems);
    if (!rule) continue;
    if (rule->id.empty()) rule->id = absl::StrCat("rule_", i);
    if (!ids.insert(rule->id).second) {
      problems.Add(Child(rule_path, "id"), rules[i]["id"],
                   "duplicate rule id \"" + rule->id + "\"");
      continue;
    }
    out.rules.push_back(*std::move(rule));
  }
}

void ParseDocument(const YAML::Node& root, Policy& policy, Problems& problems) {
  if (!root.IsMap()) {
    problems.Add("", root, "the policy must be a mapping with tenants and request_types");
    return;
  }
  CheckKeys(root, "", {"tenants", "request_types", "priority", "sla_by_priority"}, problems);

  const YAML::Node tenants = root["tenants"];
  if (!tenants) {
    problems.Add("tenants", root, "is required: list the tenants allowed to submit");
  } else if (!tenants.IsSequence() || tenants.size() == 0) {
    problems.Add("tenants", tenants, "must be a non-empty list of tenant ids");
  } else {
    for (size_t i = 0; i < tenants.size(); ++i) {
      const std::string path = Item("tenants", i);
      auto id = Scalar(tenants[i], path, problems);
      if (!id) continue;
      if (!IsTenantId(*id)) {
        problems.Add(path, tenants[i],
                     "must be lowercase letters, digits, _ or - (at most 64), got \"" + *id + "\"");
      } else if (!policy.tenants.insert(*id).second) {
        problems.Add(path, tenants[i], "duplicate tenant \"" + *id + "\"");
      }
    }
  }

  const YAML::Node types = root["request_types"];
  if (!types) {
    problems.Add("request_types", root, "is required: list at least one request type");
  } else if (!types.IsSequence() || types.size() == 0) {
    problems.Add("request_types", types, "must be a non-empty list");
  } else {
    for (size_t i = 0; i < types.size(); ++i) {
      const std::string path = Item("request_types", i);
      auto type = ParseType(types[i], path, problems);
      if (!type) continue;
      if (policy.FindType(type->id) != nullptr) {
        problems.Add(Child(path, "id"), types[i]["id"],
                     "duplicate request type \"" + type->id + "\"");
        continue;
      }
      policy.request_types.push_back(*std::move(type));
    }
  }

  if (root["priority"]) {
    ParsePriorityPolicy(root["priority"], "priority", policy, problems);
  } else {
    policy.priority.default_reason = "no priority rule matched";
  }

  if (const YAML::Node sla = root["sla_by_priority"]; sla && !sla.IsNull()) {
    if (!sla.IsMap()) {
      problems.Add("sla_by_priority", sla, "must map priorities (P1..P4) to SLA classes");
    } else {
      for (const auto& entry : sla) {
        const std::string path = Child("sla_by_priority", entry.first.Scalar());
        auto priority = ParsePriority(entry.first, path, problems);
        auto sla_class = ParseSlaClass(entry.second, path, problems);
        if (priority && sla_class) policy.sla_by_priority[*priority] = *sla_class;
      }
    }
  }
}

}  // namespace

absl::StatusOr<Policy> ParsePolicy(const std::string& yaml_text) {
  YAML::Node root;
  // yaml-cpp reports syntax errors by exception; they stop here.
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid intake policy: line ", e.mark.line + 1,
                                                   ", column ", e.mark.column + 1, ": ", e.msg));
  }
  Policy policy;
  Problems problems;
  try {
    ParseDocument(root, policy, problems);
  } catch (const YAML::Exception& e) {
    problems.Add("", root, e.what());
  }
  if (!problems.empty()) return problems.ToStatus();
  return policy;
}

absl::StatusOr<Policy> LoadPolicyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError("cannot read intake policy file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return ParsePolicy(text.str());
}

}  // namespace flywheel::intake
