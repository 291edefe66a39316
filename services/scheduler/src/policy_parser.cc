#include "policy_parser.h"

#include <algorithm>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "flywheel/config/policy_reader.h"

namespace flywheel::scheduler {
namespace {

using config::PolicyNode;

constexpr int kMinutesPerDay = 24 * 60;
constexpr std::string_view kDayKeys[kDaysPerWeek] = {"mon", "tue", "wed", "thu",
                                                     "fri", "sat", "sun"};

// "HH:MM" as minutes after midnight; "24:00" only when `end`.
std::optional<int> ParseClock(std::string_view text, bool end) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  for (size_t i : {0, 1, 3, 4}) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
  }
  const int hours = (text[0] - '0') * 10 + (text[1] - '0');
  const int minutes = (text[3] - '0') * 10 + (text[4] - '0');
  if (minutes > 59) return std::nullopt;
  const int total = hours * 60 + minutes;
  if (total > kMinutesPerDay || (total == kMinutesPerDay && !end)) return std::nullopt;
  return total;
}

// An interval as written, with its node for later problems.
struct Written {
  WorkingInterval interval;
  std::string text;
  PolicyNode node;
  size_t index;  // in the file's list
};

// One day's `["09:00-12:30", "13:30-17:30"]`; false when anything was wrong.
bool ReadDay(const PolicyNode& day, std::vector<WorkingInterval>& out) {
  bool ok = true;
  std::vector<Written> written;
  for (const PolicyNode& item : day.List()) {
    std::optional<std::string> text = item.String();
    if (!text) {
      ok = false;
      continue;
    }
    std::vector<std::string> ends = absl::StrSplit(*text, '-');
    std::optional<int> from = ends.size() == 2 ? ParseClock(ends[0], false) : std::nullopt;
    std::optional<int> to = ends.size() == 2 ? ParseClock(ends[1], true) : std::nullopt;
    if (!from || !to) {
      item.Problem(
          absl::StrCat("must be a time range like 09:00-17:30 (24:00 ends at midnight), "
                       "got \"",
                       *text, "\""));
      ok = false;
      continue;
    }
    if (*to <= *from) {
      item.Problem(
          absl::StrCat("\"", *text, "\" ends ", *to == *from ? "when" : "before", " it starts"));
      ok = false;
      continue;
    }
    written.push_back({{*from, *to}, *text, item, written.size()});
  }
  std::sort(written.begin(), written.end(), [](const Written& a, const Written& b) {
    return a.interval.start_minute < b.interval.start_minute;
  });
  for (size_t k = 0; k < written.size(); ++k) {
    if (k > 0 && written[k].interval.start_minute < written[k - 1].interval.end_minute) {
      // Named at whichever of the two comes later in the file.
      const bool later = written[k].index > written[k - 1].index;
      const Written& at = later ? written[k] : written[k - 1];
      const Written& other = later ? written[k - 1] : written[k];
      at.node.Problem(absl::StrCat("\"", at.text, "\" overlaps \"", other.text, "\""));
      ok = false;
    }
    out.push_back(written[k].interval);
  }
  return ok;
}

// `holidays: [2026-01-01, ...]`; false when anything was wrong.
bool ReadHolidays(const PolicyNode& list, std::vector<absl::CivilDay>& out) {
  bool ok = true;
  std::set<absl::CivilDay> seen;
  for (const PolicyNode& item : list.List()) {
    std::optional<std::string> text = item.String();
    absl::CivilDay day;
    if (!text) {
      ok = false;
    } else if (!absl::ParseCivilTime(*text, &day) || absl::FormatCivilTime(day) != *text) {
      item.Problem(absl::StrCat("must be a date like 2026-12-25, got \"", *text, "\""));
      ok = false;
    } else if (!seen.insert(day).second) {
      item.Problem(absl::StrCat("holiday ", *text, " is listed twice"));
      ok = false;
    } else {
      out.push_back(day);
    }
  }
  return ok;
}

// One calendar; nullopt when anything was wrong (each fault recorded).
std::optional<BusinessCalendar> ReadCalendar(const PolicyNode& c) {
  if (!c.Keys({"time_zone", "hours", "holidays", "always_open"})) {
    c.Problem("must be a mapping with time_zone, hours and holidays");
    return std::nullopt;
  }
  bool ok = true;
  CalendarSpec spec;
  const bool always_open = c["always_open"].Bool().value_or(false);
  // An always-open calendar is open at every instant, so its zone only
  // places its holidays; UTC unless given.
  spec.time_zone = "UTC";
  if (const PolicyNode zone = always_open ? c["time_zone"] : c.Required("time_zone")) {
    std::optional<std::string> name = zone.String();
    absl::TimeZone loaded;
    ok = name.has_value();
    if (name && !absl::LoadTimeZone(*name, &loaded)) {
      zone.Problem(absl::StrCat("unknown time zone \"", *name,
                                "\"; expected an IANA name like Europe/Berlin"));
      ok = false;
    }
    spec.time_zone = name.value_or("");
  } else {
    ok = always_open;
  }
  if (always_open) {
    if (const PolicyNode hours = c["hours"]) {
      hours.Problem("is not taken with always_open: true, which is open 00:00-24:00 every day");
      ok = false;
    }
    for (std::vector<WorkingInterval>& day : spec.hours) day = {{0, kMinutesPerDay}};
  } else {
    const PolicyNode hours = c.Required("hours");
    if (!hours.Keys({kDayKeys[0], kDayKeys[1], kDayKeys[2], kDayKeys[3], kDayKeys[4], kDayKeys[5],
                     kDayKeys[6]})) {
      if (hours) hours.Problem("must be a mapping from mon, tue ... sun to time ranges");
      ok = false;
    } else {
      bool any = false;
      for (int d = 0; d < kDaysPerWeek; ++d) {
        ok = ReadDay(hours[kDayKeys[d]], spec.hours[d]) && ok;
        any = any || !spec.hours[d].empty();
      }
      if (!any && ok) {
        hours.Problem("has no working hours: a calendar must be open some time in the week");
        ok = false;
      }
    }
  }
  ok = ReadHolidays(c["holidays"], spec.holidays) && ok;
  if (!ok) return std::nullopt;
  absl::StatusOr<BusinessCalendar> calendar = BusinessCalendar::Create(std::move(spec));
  if (!calendar.ok()) {
    // The checks above should have caught it; say what the calendar says.
    c.Problem(std::string(calendar.status().message()));
    return std::nullopt;
  }
  return *std::move(calendar);
}

EscalationChain ReadChain(const PolicyNode& list) {
  EscalationChain chain;
  for (const PolicyNode& s : list.NonEmptyList()) {
    if (!s.Keys({"after", "action", "target"})) {
      s.Problem("must be a mapping with after, action and target");
      continue;
    }
    EscalationStep step;
    std::optional<absl::Duration> after = s.Required("after").Duration();
    step.action =
        s.Required("action").String(config::OneOf({"remind", "notify", "reassign"})).value_or("");
    step.target_role =
        s.Required("target")
            .String(config::OneOf({"owner", "team_lead", "manager", "requester", "ops_admin"}))
            .value_or("");
    if (after) {
      step.after = *after;
      if (!chain.empty() && *after < chain.back().after) {
        s["after"].Problem(absl::StrCat("must not be earlier than the step before it (",
                                        absl::FormatDuration(chain.back().after), ")"));
      }
    }
    chain.push_back(std::move(step));
  }
  return chain;
}

void ReadEscalation(const PolicyNode& e, TenantSchedule& tenant) {
  if (!e.Keys({"by_kind", "by_stage"})) {
    if (e) e.Problem("must be a mapping with by_kind, by_stage or both");
    return;
  }
  for (const auto& [key, chain] : e["by_kind"].Entries()) {
    std::optional<common::v1::TimerKind> kind = key.Enum<common::v1::TimerKind>();
    EscalationChain steps = ReadChain(chain);
    if (kind) tenant.escalation_by_kind[*kind] = std::move(steps);
  }
  for (const auto& [key, chain] : e["by_stage"].Entries()) {
    std::optional<std::string> stage = key.String();
    EscalationChain steps = ReadChain(chain);
    if (stage) tenant.escalation_by_stage[*stage] = std::move(steps);
  }
}

void ReadPublishing(const PolicyNode& p, PublishingRules& rules) {
  if (!p.Keys({"min_gap", "default_min_gap"})) {
    if (p) p.Problem("must be a mapping with min_gap, default_min_gap or both");
    return;
  }
  for (const auto& [platform, gap] : p["min_gap"].Entries()) {
    std::optional<std::string> name = platform.String();
    std::optional<absl::Duration> least = gap.Duration();
    if (name && name->find(':') != std::string::npos) {
      platform.Problem(
          absl::StrCat("a platform has no ':' (it is what comes before the ':' of a "
                       "destination like linkedin:acme-corp), got \"",
                       *name, "\""));
      continue;
    }
    if (name && least) rules.min_gap[*name] = *least;
  }
  if (std::optional<absl::Duration> least = p["default_min_gap"].Duration()) {
    rules.default_min_gap = *least;
  }
}

TenantSchedule ReadTenant(const PolicyNode& key, const PolicyNode& t) {
  TenantSchedule tenant;
  tenant.id = key.String().value_or("");
  if (!t.Keys({"calendars", "default_calendar", "team_calendars", "warn_percent", "escalation",
               "publishing"})) {
    t.Problem("must be a mapping with calendars and default_calendar");
    return tenant;
  }
  // Every calendar named, even one with faults, so a reference to it is not
  // a second problem.
  std::set<std::string> named;
  for (const auto& [id_node, calendar] : t.Required("calendars").Entries()) {
    std::optional<std::string> id = id_node.String();
    if (!id) continue;
    named.insert(*id);
    if (std::optional<BusinessCalendar> built = ReadCalendar(calendar)) {
      tenant.calendars.emplace(*id, *std::move(built));
    }
  }
  auto known = [&](const PolicyNode& ref) -> std::optional<std::string> {
    std::optional<std::string> id = ref.String();
    if (id && !named.contains(*id)) {
      ref.Problem(absl::StrCat("unknown calendar \"", *id, "\""));
      return std::nullopt;
    }
    return id;
  };
  tenant.default_calendar = known(t.Required("default_calendar")).value_or("");
  for (const auto& [team, calendar] : t["team_calendars"].Entries()) {
    std::optional<std::string> id = known(calendar);
    if (std::optional<std::string> name = team.String(); name && id) {
      tenant.team_calendars[*name] = *id;
    }
  }
  if (std::optional<int64_t> percent = t["warn_percent"].Int(config::InRange(1, 99))) {
    tenant.warn_share = static_cast<double>(*percent) / 100.0;
  }
  ReadEscalation(t["escalation"], tenant);
  ReadPublishing(t["publishing"], tenant.publishing);
  return tenant;
}

Policy ReadDocument(const PolicyNode& root) {
  root.Keys({"tenants"});
  Policy policy;
  for (const auto& [key, value] : root.Required("tenants").Entries()) {
    TenantSchedule tenant = ReadTenant(key, value);
    policy.tenants.emplace(tenant.id, std::move(tenant));
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

}  // namespace flywheel::scheduler
