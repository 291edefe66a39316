#include "policy_parser.h"

#include <regex>
#include <set>

#include "absl/strings/str_cat.h"
#include "flywheel/config/policy_reader.h"
#include "flywheel/core/proto_enums.h"

namespace flywheel::routing {
namespace {

using config::PolicyNode;

std::string ValidRegex(const std::string& pattern) {
  try {
    std::regex re(pattern);
  } catch (const std::regex_error&) {
    return "is not a valid regular expression";
  }
  return "";
}

// Channels as rules compare them with a request's: `social_paid`.
std::vector<std::string> ReadChannels(const PolicyNode& list) {
  std::vector<std::string> out;
  for (const PolicyNode& item : list.List()) {
    if (auto channel = item.Enum<common::v1::Channel>()) {
      out.push_back(ShortEnumName(*channel));
    }
  }
  return out;
}

// The id `node` names, refused unless `known` has it (`unknown team "x"`).
template <typename Map>
std::string Reference(const PolicyNode& node, const Map& known, const char* what) {
  std::string id = node.String().value_or("");
  if (!id.empty() && !known.contains(id))
    node.Problem(absl::StrCat("unknown ", what, " \"", id, "\""));
  return id;
}

// Refuses a second use of `id` among `ids`: `rule id "x" is used twice`.
void Unique(const PolicyNode& node, const std::string& id, std::set<std::string>& ids,
            const char* what) {
  if (!id.empty() && !ids.insert(id).second) {
    node["id"].Problem(absl::StrCat(what, " \"", id, "\" is used twice"));
  }
}

std::vector<StageCriterion> ReadCriteria(const PolicyNode& list) {
  using Kind = StageCriterion::Kind;
  std::vector<StageCriterion> out;
  for (const PolicyNode& node : list.List()) {
    if (!node.Keys({"id", "field", "artefact", "checklist", "utm_tagging"})) continue;
    StageCriterion c;
    int kinds = 0;
    static constexpr std::pair<const char*, Kind> kArgumentKinds[] = {
        {"field", Kind::kField}, {"artefact", Kind::kArtefact}, {"checklist", Kind::kChecklist}};
    for (auto [key, kind] : kArgumentKinds) {
      if (const PolicyNode arg = node[key]) {
        ++kinds;
        c.kind = kind;
        c.argument = arg.String().value_or("");
      }
    }
    if (const PolicyNode utm = node["utm_tagging"]) {
      ++kinds;
      c.kind = Kind::kUtmTagging;
      if (utm.Keys({"links_field", "value_pattern", "campaign_pattern"})) {
        c.utm.links_field = utm["links_field"].String().value_or(c.utm.links_field);
        c.utm.value_pattern = utm["value_pattern"].String(ValidRegex).value_or(c.utm.value_pattern);
        c.utm.campaign_pattern =
            utm["campaign_pattern"].String(ValidRegex).value_or(c.utm.campaign_pattern);
      }
      c.argument = c.utm.links_field;
    }
    if (kinds != 1) {
      node.Problem("needs exactly one of field, artefact, checklist, utm_tagging");
      continue;
    }
    c.id = node["id"].String().value_or(c.argument);
    out.push_back(std::move(c));
  }
  return out;
}

void ReadTemplates(const PolicyNode& templates, Policy& policy) {
  for (const auto& [key, value] : templates.Entries()) {
    WorkflowTemplate t;
    t.id = key.String().value_or("");
    if (!value.Keys({"stages"})) continue;
    std::set<std::string> ids;
    for (const PolicyNode& s : value.Required("stages").NonEmptyList()) {
      if (!s.Keys({"id", "stage", "owner_role", "entry", "exit", "sla", "required_skills"}))
        continue;
      StageTemplate st;
      st.stage =
          s.Required("stage").Enum<common::v1::Stage>().value_or(common::v1::STAGE_UNSPECIFIED);
      // A stage's id defaults to its stage's name: `scheduling_qa`.
      const std::string stage_name =
          st.stage == common::v1::STAGE_UNSPECIFIED ? "" : ShortEnumName(st.stage);
      st.id = s["id"].String().value_or(stage_name);
      Unique(s, st.id, ids, "stage id");
      st.owner_role = s.Required("owner_role").String().value_or("");
      st.entry = ReadCriteria(s["entry"]);
      st.exit = ReadCriteria(s["exit"]);
      st.sla = s["sla"].Duration().value_or(absl::ZeroDuration());
      st.required_skills = s["required_skills"].Strings();
      t.stages.push_back(std::move(st));
    }
    policy.templates[t.id] = std::move(t);
  }
}

void ReadTeams(const PolicyNode& teams, Policy& policy) {
  for (const PolicyNode& t : teams.NonEmptyList()) {
    if (!t.Keys({"id", "strategy", "default_wip_limit", "members"})) continue;
    TeamSpec team;
    team.id = t.Required("id").String().value_or("");
    if (t["strategy"].String(config::OneOf({"least_loaded", "round_robin"})) == "round_robin") {
      team.strategy = Strategy::kRoundRobin;
    }
    team.default_wip_limit = t["default_wip_limit"].Int(config::InRange(1, 1000)).value_or(3);
    std::set<std::string> ids;
    for (const PolicyNode& m : t["members"].List()) {
      if (!m.Keys({"id", "skills", "region", "wip_limit", "on_leave"})) continue;
      MemberSpec member;
      member.id = m.Required("id").String().value_or("");
      Unique(m, member.id, ids, "member");
      member.skills = m["skills"].Strings();
      member.region = m["region"].String().value_or("");
      member.wip_limit =
          m["wip_limit"].Int(config::InRange(1, 1000)).value_or(team.default_wip_limit);
      member.on_leave = m["on_leave"].Bool().value_or(false);
      team.members.push_back(std::move(member));
    }
    if (!team.id.empty() && policy.teams.contains(team.id)) {
      t["id"].Problem(absl::StrCat("team \"", team.id, "\" is defined twice"));
    }
    policy.teams[team.id] = std::move(team);
  }
}

void ReadAssignment(const PolicyNode& root, Policy& policy) {
  std::set<std::string> ids;
  for (const PolicyNode& r : root["assignment_rules"].List()) {
    if (!r.Keys({"id", "request_types", "channels", "regions", "skills", "match_region", "team"})) {
      continue;
    }
    AssignmentRule rule;
    rule.id = r.Required("id").String().value_or("");
    Unique(r, rule.id, ids, "rule id");
    rule.request_types = r["request_types"].Strings();
    rule.channels = ReadChannels(r["channels"]);
    rule.regions = r["regions"].Strings();
    rule.skills = r["skills"].Strings();
    rule.match_region = r["match_region"].Bool().value_or(false);
    rule.team = Reference(r.Required("team"), policy.teams, "team");
    policy.assignment_rules.push_back(std::move(rule));
  }
  policy.default_team = Reference(root["default_team"], policy.teams, "team");
}

void ReadTiering(const PolicyNode& tiering, Policy& policy) {
  if (!tiering.Keys({"default_tier", "default_approval_policy", "rules"})) return;
  policy.default_tier = tiering["default_tier"].Int(config::InRange(0, 3)).value_or(1);
  policy.default_approval_policy_id =
      tiering.Required("default_approval_policy").String().value_or("");
  std::set<std::string> ids;
  for (const PolicyNode& r : tiering["rules"].List()) {
    if (!r.Keys(
            {"id", "categories", "channels", "audience", "keywords", "tier", "approval_policy"})) {
      continue;
    }
    TieringRule rule;
    rule.id = r.Required("id").String().value_or("");
    Unique(r, rule.id, ids, "rule id");
    rule.categories = r["categories"].Strings();
    rule.channels = ReadChannels(r["channels"]);
    rule.audience = r["audience"].String(config::OneOf({"external", "internal"})).value_or("");
    rule.keywords = r["keywords"].Strings();
    rule.tier = r.Required("tier").Int(config::InRange(0, 3)).value_or(0);
    rule.approval_policy_id = r.Required("approval_policy").String().value_or("");
    if (!r["categories"] && !r["channels"] && !r["audience"] && !r["keywords"]) {
      r.Problem("needs at least one of categories, channels, audience, keywords");
    }
    policy.tiering_rules.push_back(std::move(rule));
  }
}

Policy ReadDocument(const PolicyNode& root) {
  root.Keys({"templates", "request_types", "default_template", "teams", "assignment_rules",
             "default_team", "tiering"});
  Policy policy;
  ReadTemplates(root.Required("templates"), policy);
  // The one place that names a request type's template.
  for (const auto& [type, tmpl] : root["request_types"].Entries()) {
    std::optional<std::string> id = type.String();
    std::string template_id = Reference(tmpl, policy.templates, "template");
    if (id && !template_id.empty()) policy.request_type_templates[*id] = template_id;
  }
  policy.default_template =
      Reference(root.Required("default_template"), policy.templates, "template");
  ReadTeams(root.Required("teams"), policy);
  ReadAssignment(root, policy);
  ReadTiering(root.Required("tiering"), policy);
  return policy;
}

}  // namespace

absl::StatusOr<Policy> ParsePolicy(const std::string& yaml_text, std::string_view file) {
  return config::ReadPolicy(yaml_text, file, ReadDocument);
}

absl::StatusOr<Policy> LoadPolicyFile(const std::string& path) {
  return config::LoadPolicy(path, ReadDocument);
}

}  // namespace flywheel::routing
