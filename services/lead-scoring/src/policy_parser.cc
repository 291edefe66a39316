#include "policy_parser.h"

#include <algorithm>
#include <functional>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "flywheel/config/policy_reader.h"

namespace flywheel::lead_scoring {
namespace {

using config::PolicyNode;

// Keys() that also says so when a set value is not a mapping (Keys alone
// records nothing then).
bool Mapping(const PolicyNode& node, std::initializer_list<std::string_view> known) {
  if (!node) return false;
  if (node.Keys(known)) return true;
  node.Problem("must be a mapping");
  return false;
}

// Points of a rule: a whole number, negative to penalise.
int ReadPoints(const PolicyNode& rule) {
  return static_cast<int>(
      rule.Required("points").Int(config::InRange<int64_t>(-10'000, 10'000)).value_or(0));
}

EngagementRule ReadEngagement(const PolicyNode& r, const std::set<std::string>& activity_types) {
  EngagementRule rule;
  if (!Mapping(r, {"id", "description", "activity", "url", "campaign", "attributes", "points",
                   "cap", "decays", "group"})) {
    return rule;
  }
  rule.id = r.Required("id").String().value_or("");
  rule.description = r["description"].String().value_or("");
  const PolicyNode activity = r.Required("activity");
  rule.activity = activity.String().value_or("");
  if (!rule.activity.empty() && !activity_types.contains(rule.activity)) {
    activity.Problem(absl::StrCat("unknown activity type \"", rule.activity,
                                  "\"; activity_types lists ",
                                  absl::StrJoin(activity_types, ", ")));
  }
  rule.url = r["url"].String();
  rule.campaign = r["campaign"].String();
  if (const PolicyNode attributes = r["attributes"]) {
    for (const auto& [key, value] : attributes.Entries()) {
      std::optional<std::string> k = key.String();
      std::optional<std::string> v = value.String();
      if (k && v) rule.attributes[*k] = *v;
    }
  }
  rule.points = ReadPoints(r);
  if (const PolicyNode cap = r["cap"]; Mapping(cap, {"count", "per"})) {
    Cap c;
    c.count = static_cast<int>(
        cap.Required("count").Int(config::InRange<int64_t>(1, 100'000)).value_or(1));
    c.per = cap.Required("per").Duration(config::Positive()).value_or(absl::Hours(24));
    rule.cap = c;
  }
  rule.decays = r["decays"].Bool().value_or(true);
  rule.group = r["group"].String().value_or("");
  return rule;
}

FitRule ReadFit(const PolicyNode& r) {
  FitRule rule;
  if (!Mapping(r, {"id", "description", "points", "seniority", "job_function", "industry",
                   "country", "job_title", "email_domain", "company_size"})) {
    return rule;
  }
  rule.id = r.Required("id").String().value_or("");
  rule.description = r["description"].String().value_or("");
  rule.points = ReadPoints(r);
  rule.seniority = r["seniority"].Strings();
  rule.job_function = r["job_function"].Strings();
  rule.industry = r["industry"].Strings();
  rule.country = r["country"].Strings();
  rule.job_title = r["job_title"].Strings();
  rule.email_domain = r["email_domain"].Strings();
  if (const PolicyNode size = r["company_size"]; Mapping(size, {"min", "max"})) {
    rule.company_size_min = size["min"].Int(config::InRange<int64_t>(0, 100'000'000));
    rule.company_size_max = size["max"].Int(config::InRange<int64_t>(0, 100'000'000));
    if (!size["min"] && !size["max"]) size.Problem("needs min, max or both");
    if (rule.company_size_min && rule.company_size_max &&
        *rule.company_size_min > *rule.company_size_max) {
      size["max"].Problem(absl::StrCat("is below min (", *rule.company_size_min, ")"));
    }
  }
  return rule;
}

// Refuses includes that name no group and includes that close a cycle.
void CheckGroups(const PolicyNode& groups_node, const std::vector<ScoreGroup>& groups) {
  std::map<std::string, const ScoreGroup*> by_id;
  for (const ScoreGroup& g : groups) by_id[g.id] = &g;
  for (const ScoreGroup& g : groups) {
    const PolicyNode includes = groups_node[g.id]["includes"];
    std::vector<PolicyNode> items = includes.List();
    for (size_t i = 0; i < g.includes.size() && i < items.size(); ++i) {
      if (!by_id.contains(g.includes[i])) {
        items[i].Problem(absl::StrCat("unknown group \"", g.includes[i], "\""));
      }
    }
  }
  // Depth-first from each group; a path that comes back to a group on it is
  // a cycle, reported once at the group where it starts in file order.
  std::set<std::string> reported;
  for (const ScoreGroup& start : groups) {
    std::vector<std::string> path = {start.id};
    std::function<bool(const std::string&)> visit = [&](const std::string& id) -> bool {
      auto it = by_id.find(id);
      if (it == by_id.end()) return false;
      for (const std::string& next : it->second->includes) {
        if (next == start.id) {
          path.push_back(next);
          return true;
        }
        if (std::find(path.begin(), path.end(), next) != path.end()) continue;
        path.push_back(next);
        if (visit(next)) return true;
        path.pop_back();
      }
      return false;
    };
    if (visit(start.id)) {
      bool seen = false;
      for (const std::string& g : path) seen = seen || reported.contains(g);
      if (!seen) {
        groups_node[start.id]["includes"].Problem(
            absl::StrCat("groups include each other in a cycle: ", absl::StrJoin(path, " -> ")));
      }
      reported.insert(path.begin(), path.end());
    }
  }
}

Model ReadModel(const PolicyNode& m, const std::set<std::string>& activity_types) {
  Model model;
  if (!Mapping(m, {"id", "version", "half_life", "mql", "sql_ready", "requalify_cooldown", "grades",
                   "account_aggregate", "groups", "engagement", "fit"})) {
    return model;
  }
  model.id = m.Required("id").String().value_or("");
  model.version = m.Required("version").Int(config::InRange<int64_t>(1, 1'000'000)).value_or(1);
  model.half_life = m["half_life"].Duration().value_or(absl::ZeroDuration());
  model.mql =
      static_cast<int>(m.Required("mql").Int(config::InRange<int64_t>(1, 1'000'000)).value_or(1));
  const PolicyNode sql = m.Required("sql_ready");
  model.sql_ready =
      static_cast<int>(sql.Int(config::InRange<int64_t>(1, 1'000'000)).value_or(model.mql + 1));
  if (sql && model.sql_ready <= model.mql) {
    sql.Problem(absl::StrCat("must be above mql (", model.mql, ")"));
  }
  model.requalify_cooldown = m["requalify_cooldown"].Duration().value_or(absl::ZeroDuration());
  if (const PolicyNode grades = m.Required("grades"); Mapping(grades, {"a", "b", "c"})) {
    auto grade = [&](std::string_view key) {
      return static_cast<int>(
          grades.Required(key).Int(config::InRange<int64_t>(-1'000'000, 1'000'000)).value_or(0));
    };
    model.grade_a = grade("a");
    model.grade_b = grade("b");
    model.grade_c = grade("c");
    if (!(model.grade_a > model.grade_b && model.grade_b > model.grade_c)) {
      grades.Problem("needs a > b > c");
    }
  }
  if (const PolicyNode aggregate = m["account_aggregate"]) {
    model.account_aggregate =
        aggregate.Enum<v1::AccountAggregate>().value_or(v1::ACCOUNT_AGGREGATE_SUM);
  }
  const PolicyNode groups = m["groups"];
  for (const auto& [key, value] : groups.Entries()) {
    ScoreGroup group;
    group.id = key.String().value_or("");
    if (value && Mapping(value, {"description", "includes"})) {
      group.description = value["description"].String().value_or("");
      group.includes = value["includes"].Strings();
    }
    model.groups.push_back(std::move(group));
  }
  CheckGroups(groups, model.groups);
  std::set<std::string> group_ids;
  for (const ScoreGroup& g : model.groups) group_ids.insert(g.id);

  std::set<std::string> rule_ids;
  auto unique = [&rule_ids](const PolicyNode& rule, const std::string& id) {
    if (!id.empty() && !rule_ids.insert(id).second) {
      rule["id"].Problem(absl::StrCat("rule id \"", id, "\" is used twice in the model"));
    }
  };
  for (const PolicyNode& r : m.Required("engagement").NonEmptyList()) {
    EngagementRule rule = ReadEngagement(r, activity_types);
    unique(r, rule.id);
    if (!rule.group.empty() && !group_ids.contains(rule.group)) {
      r["group"].Problem(absl::StrCat("unknown group \"", rule.group, "\""));
    }
    model.engagement.push_back(std::move(rule));
  }
  for (const PolicyNode& r : m["fit"].List()) {
    FitRule rule = ReadFit(r);
    unique(r, rule.id);
    model.fit.push_back(std::move(rule));
  }
  return model;
}

Policy ReadDocument(const PolicyNode& root) {
  Policy policy;
  if (!Mapping(root, {"activity_types", "tenants"})) return policy;
  for (const std::string& type : root.Required("activity_types").Strings()) {
    policy.activity_types.insert(type);
  }
  for (const auto& [key, value] : root.Required("tenants").Entries()) {
    std::optional<std::string> tenant = key.String();
    if (!Mapping(value, {"model"})) continue;
    Model model = ReadModel(value.Required("model"), policy.activity_types);
    if (tenant) policy.tenants[*tenant] = std::move(model);
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

absl::StatusOr<Model> ParseModel(const std::string& yaml_text,
                                 const std::set<std::string>& activity_types,
                                 std::string_view file) {
  return config::ReadPolicy(yaml_text, file, [&activity_types](const PolicyNode& root) {
    return ReadModel(root, activity_types);
  });
}

}  // namespace flywheel::lead_scoring
