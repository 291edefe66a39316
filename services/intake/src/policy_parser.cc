#include "policy_parser.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "flywheel/config/policy_reader.h"

namespace flywheel::intake {
namespace {

using config::PolicyNode;

// Ids of request types, fields and rules.
std::string Identifier(const std::string& text) {
  bool ok = text.size() <= 64 && absl::ascii_islower(text[0]);
  for (char c : text) ok = ok && (absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_');
  return ok ? "" : "must be lower_snake_case (a-z, 0-9, _; starting with a letter; at most 64)";
}

std::string TenantId(const std::string& text) {
  bool ok = text.size() <= 64 && absl::ascii_isalnum(text[0]);
  for (char c : text) {
    ok = ok && (absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' || c == '-');
  }
  return ok ? "" : "must be lowercase letters, digits, _ or - (at most 64)";
}

std::optional<FieldRule> ReadField(const PolicyNode& f) {
  if (!f.Keys({"key", "kind", "required", "allowed_values", "max_length", "future"})) {
    return std::nullopt;
  }
  FieldRule field;
  field.key = f.Required("key").String(Identifier).value_or("");
  std::optional<v1::FieldKind> kind = f.Required("kind").Enum<v1::FieldKind>();
  field.kind = kind.value_or(v1::FIELD_KIND_TEXT);
  field.required = f["required"].Bool().value_or(false);
  field.max_length = f["max_length"].Int(config::InRange(1, 1'000'000)).value_or(0);
  const PolicyNode future = f["future"];
  field.future = future.Bool().value_or(false);
  if (field.future && kind && *kind != v1::FIELD_KIND_DATE) {
    future.Problem("applies to date fields only");
  }
  const PolicyNode allowed = f["allowed_values"];
  for (const PolicyNode& value : allowed.NonEmptyList()) {
    if (auto text = value.String()) field.allowed_values.push_back(*text);
  }
  if (kind == v1::FIELD_KIND_CHOICE && !allowed) allowed.Problem("is required for a choice field");
  if (kind && *kind != v1::FIELD_KIND_CHOICE && allowed) {
    allowed.Problem("applies to choice fields only");
  }
  return field;
}

std::optional<RequestTypePolicy> ReadType(const PolicyNode& t) {
  if (!t.Keys({"id", "display_name", "sla_class", "fields"},
              {{"workflow_template",
                "is no longer read here: routing's policy names each request type's workflow "
                "template (its request_types map)"}})) {
    return std::nullopt;
  }
  RequestTypePolicy type;
  type.id = t.Required("id").String(Identifier).value_or("");
  type.display_name = t["display_name"].String().value_or("");
  type.sla_class =
      t["sla_class"].Enum<common::v1::SlaClass>().value_or(common::v1::SLA_CLASS_STANDARD);
  for (const PolicyNode& f : t["fields"].List()) {
    std::optional<FieldRule> field = ReadField(f);
    if (!field || field->key.empty()) continue;
    if (type.FindField(field->key) != nullptr) {
      f["key"].Problem(absl::StrCat("duplicate field \"", field->key, "\""));
      continue;
    }
    type.fields.push_back(*std::move(field));
  }
  return type;
}

std::optional<PriorityRule> ReadRule(const PolicyNode& r,
                                     const absl::flat_hash_set<std::string>& tiers) {
  if (!r.Keys({"id", "impact_at_least", "impact_at_most", "due_within", "requester_tier",
               "priority", "reason"})) {
    return std::nullopt;
  }
  PriorityRule rule;
  rule.id = r["id"].String(Identifier).value_or("");
  rule.impact_at_least = r["impact_at_least"].Enum<v1::ImpactLevel>();
  rule.impact_at_most = r["impact_at_most"].Enum<v1::ImpactLevel>();
  rule.due_within = r["due_within"].Duration(config::Positive());
  const PolicyNode tier = r["requester_tier"];
  rule.requester_tier = tier.String();
  if (rule.requester_tier && !tiers.contains(*rule.requester_tier)) {
    tier.Problem(
        absl::StrCat("tier \"", *rule.requester_tier, "\" is given to no team in priority.tiers"));
  }
  if (!r["impact_at_least"] && !r["impact_at_most"] && !r["due_within"] && !tier) {
    r.Problem(
        "has no condition; give impact_at_least, impact_at_most, due_within or requester_tier "
        "(use priority.default for the fallback)");
  }
  rule.priority =
      r.Required("priority").Enum<common::v1::Priority>().value_or(common::v1::PRIORITY_P3);
  rule.reason = r.Required("reason", "it is stored with the request").String().value_or("");
  return rule;
}

void ReadPriority(const PolicyNode& p, PriorityPolicy& out) {
  out.default_reason = "no priority rule matched";
  if (!p.Keys({"default", "default_reason", "tiers", "rules"})) return;
  out.default_priority =
      p["default"].Enum<common::v1::Priority>().value_or(common::v1::PRIORITY_P3);
  out.default_reason = p["default_reason"].String().value_or(out.default_reason);
  absl::flat_hash_set<std::string> tier_names;
  for (const auto& [team, tier] : p["tiers"].Entries()) {
    std::optional<std::string> team_id = team.String(), name = tier.String();
    if (!team_id || !name) continue;
    out.tiers[*team_id] = *name;
    tier_names.insert(*name);
  }
  absl::flat_hash_set<std::string> ids;
  const std::vector<PolicyNode> rules = p["rules"].List();
  for (size_t i = 0; i < rules.size(); ++i) {
    std::optional<PriorityRule> rule = ReadRule(rules[i], tier_names);
    if (!rule) continue;
    if (rule->id.empty()) rule->id = absl::StrCat("rule_", i);
    if (!ids.insert(rule->id).second) {
      rules[i]["id"].Problem(absl::StrCat("duplicate rule id \"", rule->id, "\""));
      continue;
    }
    out.rules.push_back(*std::move(rule));
  }
}

Policy ReadDocument(const PolicyNode& root) {
  Policy policy;
  root.Keys({"tenants", "request_types", "priority", "sla_by_priority"});
  for (const PolicyNode& t :
       root.Required("tenants", "list the tenants allowed to submit").NonEmptyList()) {
    std::optional<std::string> id = t.String(TenantId);
    if (id && !policy.tenants.insert(*id).second) {
      t.Problem(absl::StrCat("duplicate tenant \"", *id, "\""));
    }
  }
  for (const PolicyNode& t :
       root.Required("request_types", "list at least one request type").NonEmptyList()) {
    std::optional<RequestTypePolicy> type = ReadType(t);
    if (!type || type->id.empty()) continue;
    if (policy.FindType(type->id) != nullptr) {
      t["id"].Problem(absl::StrCat("duplicate request type \"", type->id, "\""));
      continue;
    }
    policy.request_types.push_back(*std::move(type));
  }
  ReadPriority(root["priority"], policy.priority);
  for (const auto& [priority, sla] : root["sla_by_priority"].Entries()) {
    std::optional<common::v1::Priority> p = priority.Enum<common::v1::Priority>();
    std::optional<common::v1::SlaClass> s = sla.Enum<common::v1::SlaClass>();
    if (p && s) policy.sla_by_priority[*p] = *s;
  }
  return policy;
}

}  // namespace

absl::StatusOr<Policy> ParsePolicy(const std::string& yaml_text, std::string_view file) {
  return config::ReadPolicy(yaml_text, file, ReadDocument);
}

absl::StatusOr<Policy> LoadPolicyFile(const std::string& path) {
  return config::LoadPolicy(path, ReadDocument);
}

}  // namespace flywheel::intake
