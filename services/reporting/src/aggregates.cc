#include "aggregates.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "facts.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/core/proto_time.h"

namespace flywheel::reporting {
namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kWeekMs = 7 * kDayMs;

int64_t Int(absl::string_view text) {
  int64_t value = 0;
  (void)absl::SimpleAtoi(text, &value);
  return value;
}

int64_t Ms(const google::protobuf::Timestamp& t) { return absl::ToUnixMillis(FromProtoTime(t)); }

google::protobuf::Timestamp Time(int64_t ms) { return ToProtoTime(absl::FromUnixMillis(ms)); }

google::protobuf::Duration Duration(int64_t ms) { return ToProtoDuration(absl::Milliseconds(ms)); }

template <typename Repeated, typename Value>
bool Allows(const Repeated& allowed, const Value& value) {
  return allowed.empty() || std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

std::string ChannelName(int64_t channel) {
  if (channel == 0 || !common::v1::Channel_IsValid(static_cast<int>(channel))) return "";
  return common::v1::Channel_Name(static_cast<common::v1::Channel>(channel));
}

std::string ValueOf(const std::vector<absl::string_view>& f, int dimension) {
  if (dimension < 0 || static_cast<size_t>(dimension) >= f.size()) return "";
  if (dimension != kChannel) return std::string(f[dimension]);
  return ChannelName(Int(f[kChannel]));
}

double Share(int64_t part, int64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace

bool PassesFilter(const std::vector<absl::string_view>& f, const v1::ReportFilter& filter) {
  if (f.size() < 6) return false;
  return Allows(filter.team_ids(), std::string(f[kTeam])) &&
         Allows(filter.request_type_ids(), std::string(f[kRequestType])) &&
         Allows(filter.channels(), static_cast<int>(Int(f[kChannel]))) &&
         Allows(filter.campaign_ids(), std::string(f[kCampaign])) &&
         Allows(filter.template_ids(), std::string(f[kTemplate]));
}

namespace {

bool Passes(const std::vector<absl::string_view>& f, const v1::ReportFilter& filter,
            int group_dimension, const std::string& group) {
  if (f.size() < 6) return false;
  if (group_dimension >= 0 && ValueOf(f, group_dimension) != group) return false;
  return PassesFilter(f, filter);
}

}  // namespace

absl::StatusOr<int> OperationalGroupBy(const std::string& group_by, std::string_view field) {
  static const std::map<std::string, int>* const kByName =
      new std::map<std::string, int>{{"", -1},
                                     {"team", kTeam},
                                     {"request_type", kRequestType},
                                     {"channel", kChannel},
                                     {"campaign", kCampaign},
                                     {"template", kTemplate}};
  if (auto it = kByName->find(group_by); it != kByName->end()) return it->second;
  FieldErrors errors;
  errors.Add(field, absl::StrCat("unknown group-by \"", group_by,
                                 "\"; one of team, request_type, channel, campaign, template"));
  return errors.ToStatus();
}

absl::StatusOr<std::string> OutcomeGroupBy(const std::string& group_by, std::string_view field) {
  if (group_by.empty()) return std::string("campaign");
  if (group_by == "campaign" || group_by == "channel" || group_by == "source" ||
      group_by == "campaign_channel") {
    return group_by;
  }
  FieldErrors errors;
  errors.Add(field, absl::StrCat("unknown group-by \"", group_by,
                                 "\"; one of campaign, channel, source, campaign_channel"));
  return errors.ToStatus();
}

absl::Status CheckRange(const common::v1::TimeRange& range, std::string_view field) {
  FieldErrors errors;
  if (!range.has_start_time())
    errors.Add(absl::StrCat(std::string(field), ".start_time"), "required");
  if (!range.has_end_time()) errors.Add(absl::StrCat(std::string(field), ".end_time"), "required");
  if (errors.empty()) {
    const int64_t from = Ms(range.start_time());
    const int64_t to = Ms(range.end_time());
    if (to < from) {
      errors.Add(field, "inverted: end_time is before start_time");
    } else if (to - from > 366 * kDayMs) {
      errors.Add(field, "longer than 366 days");
    }
  }
  return errors.ToStatus();
}

std::vector<std::pair<int64_t, int64_t>> Buckets(int64_t from, int64_t to,
                                                 v1::Granularity granularity) {
  std::vector<std::pair<int64_t, int64_t>> out;
  if (granularity == v1::GRANULARITY_UNSPECIFIED || to <= from) return out;
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilDay first = absl::ToCivilDay(absl::FromUnixMillis(from), utc);
  absl::CivilDay start = first;
  if (granularity == v1::GRANULARITY_WEEK) {
    start = absl::PrevWeekday(first + 1, absl::Weekday::monday);
  } else if (granularity == v1::GRANULARITY_MONTH) {
    start = absl::CivilDay(absl::CivilMonth(first));
  }
  while (true) {
    absl::CivilDay next = start + 1;
    if (granularity == v1::GRANULARITY_WEEK) next = start + 7;
    if (granularity == v1::GRANULARITY_MONTH) {
      next = absl::CivilDay(absl::CivilMonth(start) + 1);
    }
    const int64_t a = absl::ToUnixMillis(absl::FromCivil(start, utc));
    const int64_t b = absl::ToUnixMillis(absl::FromCivil(next, utc));
    if (a >= to) break;
    out.emplace_back(std::max(a, from), std::min(b, to));
    start = next;
  }
  return out;
}

int64_t WeekStart(int64_t ms) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilDay day = absl::ToCivilDay(absl::FromUnixMillis(ms), utc);
  return absl::ToUnixMillis(
      absl::FromCivil(absl::PrevWeekday(day + 1, absl::Weekday::monday), utc));
}

v1::DurationStats Stats(std::vector<int64_t> durations_ms) {
  v1::DurationStats out;
  out.set_count(static_cast<int64_t>(durations_ms.size()));
  if (durations_ms.empty()) return out;
  std::sort(durations_ms.begin(), durations_ms.end());
  int64_t sum = 0;
  for (int64_t d : durations_ms) sum += d;
  const auto n = static_cast<double>(durations_ms.size());
  auto rank = [&](double q) {
    const auto k = static_cast<size_t>(std::ceil(q * n));
    return durations_ms[std::max<size_t>(k, 1) - 1];
  };
  *out.mutable_mean() = Duration(sum / static_cast<int64_t>(durations_ms.size()));
  *out.mutable_p50() = Duration(rank(0.5));
  *out.mutable_p90() = Duration(rank(0.9));
  return out;
}

std::string DimensionValue(absl::string_view member, int dimension) {
  return ValueOf(Fields(member), dimension);
}

v1::OperationalMetrics Operational(const OperationalRows& rows, int64_t from, int64_t to,
                                   const v1::ReportFilter& filter, int group_dimension,
                                   const std::string& group) {
  v1::OperationalMetrics out;
  *out.mutable_range()->mutable_start_time() = Time(from);
  *out.mutable_range()->mutable_end_time() = Time(to);
  auto in = [&](int64_t t) { return t >= from && t < to; };

  for (const auto& [member, at] : rows.submitted) {
    if (in(at) && Passes(Fields(member), filter, group_dimension, group)) {
      out.set_submitted(out.submitted() + 1);
    }
  }

  std::vector<int64_t> cycle;
  int64_t with_due = 0, on_time = 0, revisions = 0, warned = 0, breached = 0;
  for (const auto& [member, at] : rows.delivered) {
    std::vector<absl::string_view> f = Fields(member);
    if (!in(at) || f.size() < 11 || !Passes(f, filter, group_dimension, group)) continue;
    cycle.push_back(Int(f[6]));
    const int64_t due_state = Int(f[7]);
    with_due += due_state != 0;
    on_time += due_state == 1;
    revisions += Int(f[8]);
    warned += Int(f[9]);
    breached += Int(f[10]);
  }
  const auto delivered = static_cast<int64_t>(cycle.size());
  out.set_delivered(delivered);
  out.set_delivered_with_due_time(with_due);
  *out.mutable_cycle_time() = Stats(std::move(cycle));
  out.set_on_time_rate(Share(on_time, with_due));
  out.set_mean_revisions(Share(revisions, delivered));
  out.set_sla_warning_rate(Share(warned, delivered));
  out.set_sla_breach_rate(Share(breached, delivered));
  if (to > from) {
    out.set_throughput_per_week(static_cast<double>(delivered) * kWeekMs /
                                static_cast<double>(to - from));
  }

  struct PerStage {
    std::vector<int64_t> durations;
    std::set<std::string> wip;
    int64_t entered = 0;
  };
  std::map<int, PerStage> stages;
  std::set<std::string> wip;
  for (const auto& [member, enter] : rows.visits) {
    std::vector<absl::string_view> f = Fields(member);
    if (enter >= to || f.size() < 9 || !Passes(f, filter, group_dimension, group)) continue;
    const int stage = static_cast<int>(Int(f[6]));
    const int64_t exit = Int(f[8]);
    PerStage& s = stages[stage];
    if (in(enter)) ++s.entered;
    if (exit > 0 && in(exit)) s.durations.push_back(exit - enter);
    if (exit == 0 || exit > to) {
      s.wip.insert(std::string(f[5]));
      wip.insert(std::string(f[5]));
    }
  }
  int64_t worst_mean = -1;
  for (auto& [stage, s] : stages) {
    if (s.durations.empty() && s.wip.empty() && s.entered == 0) continue;
    v1::StageMetrics* m = out.add_stages();
    m->set_stage(static_cast<common::v1::Stage>(stage));
    m->set_work_in_progress(static_cast<int64_t>(s.wip.size()));
    m->set_entered(s.entered);
    *m->mutable_cycle_time() = Stats(s.durations);
    if (s.durations.empty()) continue;
    const int64_t mean = absl::ToInt64Milliseconds(FromProtoDuration(m->cycle_time().mean()));
    if (mean > worst_mean) {
      worst_mean = mean;
      out.set_bottleneck_stage(m->stage());
      *out.mutable_bottleneck_wait() = m->cycle_time().mean();
    }
  }
  out.set_work_in_progress(static_cast<int64_t>(wip.size()));

  std::vector<int64_t> waits;
  for (const auto& [member, at] : rows.approvals) {
    std::vector<absl::string_view> f = Fields(member);
    if (in(at) && f.size() >= 8 && Passes(f, filter, group_dimension, group)) {
      waits.push_back(Int(f[7]));
    }
  }
  *out.mutable_approval_wait() = Stats(std::move(waits));
  return out;
}

v1::GetOperationalMetricsResponse OperationalResponse(const OperationalRows& rows, int64_t from,
                                                      int64_t to, const v1::ReportFilter& filter,
                                                      v1::Granularity granularity,
                                                      int group_dimension) {
  v1::GetOperationalMetricsResponse out;
  *out.mutable_total() = Operational(rows, from, to, filter);
  for (const auto& [a, b] : Buckets(from, to, granularity)) {
    *out.add_buckets() = Operational(rows, a, b, filter);
  }
  if (group_dimension < 0) return out;
  std::set<std::string> keys;
  for (const Members* series : {&rows.submitted, &rows.delivered, &rows.visits, &rows.approvals}) {
    for (const auto& [member, at] : *series) keys.insert(DimensionValue(member, group_dimension));
  }
  for (const std::string& key : keys) {
    v1::OperationalMetrics m = Operational(rows, from, to, filter, group_dimension, key);
    if (m.submitted() == 0 && m.delivered() == 0 && m.stages().empty() &&
        m.approval_wait().count() == 0) {
      continue;
    }
    v1::OperationalGroup* g = out.add_groups();
    g->set_key(key);
    *g->mutable_metrics() = std::move(m);
  }
  return out;
}

common::v1::Money MoneyOf(double nanos, const std::string& currency) {
  common::v1::Money out;
  out.set_currency_code(currency);
  const auto total = static_cast<int64_t>(std::llround(nanos));
  out.set_units(total / 1'000'000'000);
  out.set_nanos(static_cast<int32_t>(total % 1'000'000'000));
  return out;
}

v1::CampaignOutcome OutcomeOf(std::string key, int64_t leads, double mqls, double spend_nanos,
                              double revenue_nanos, const std::string& currency) {
  v1::CampaignOutcome o;
  o.set_key(std::move(key));
  o.set_leads(leads);
  o.set_mqls(mqls);
  o.set_conversion_rate(leads == 0 ? 0.0 : mqls / static_cast<double>(leads));
  *o.mutable_spend() = MoneyOf(spend_nanos, currency);
  *o.mutable_revenue() = MoneyOf(revenue_nanos, currency);
  if (mqls > 0) *o.mutable_cost_per_mql() = MoneyOf(spend_nanos / mqls, currency);
  if (spend_nanos > 0) o.set_roi((revenue_nanos - spend_nanos) / spend_nanos);
  return o;
}

namespace {

// The group a touch (campaign, channel, source) belongs to.
std::string TouchGroup(absl::string_view campaign, absl::string_view channel,
                       absl::string_view source, const std::string& group_by) {
  const std::string channel_name = ChannelName(Int(channel));
  if (group_by == "channel") return channel_name;
  if (group_by == "source") return std::string(source);
  if (group_by == "campaign_channel") return absl::StrCat(campaign, "/", channel_name);
  return std::string(campaign);
}

struct Sums {
  std::set<std::string> leads;
  double mqls = 0;
  double spend_nanos = 0;
  double revenue_nanos = 0;
};

// Credits `amount` over `touches` (campaign, channel, source, id) by the
// model; without touches, to `fallback`.
void Credit(const Members& touches, v1::AttributionModel model, const std::string& group_by,
            double amount, const std::string& fallback,
            const std::function<void(const std::string&, double)>& add) {
  if (touches.empty()) {
    add(fallback, amount);
    return;
  }
  auto group_of = [&](const std::string& member) {
    std::vector<absl::string_view> f = Fields(member);
    f.resize(4);
    return TouchGroup(f[0], f[1], f[2], group_by);
  };
  if (model == v1::ATTRIBUTION_MODEL_FIRST_TOUCH) {
    add(group_of(touches.front().first), amount);
  } else if (model == v1::ATTRIBUTION_MODEL_LINEAR) {
    for (const auto& [member, at] : touches) {
      add(group_of(member), amount / static_cast<double>(touches.size()));
    }
  } else {
    add(group_of(touches.back().first), amount);
  }
}

// The touches of `lead` up to and including `at`.
Members TouchesUntil(const OutcomeRows& rows, const std::string& lead, int64_t at) {
  Members out;
  auto it = rows.lead_touches.find(lead);
  if (it == rows.lead_touches.end()) return out;
  for (const auto& touch : it->second) {
    if (touch.second <= at) out.push_back(touch);
  }
  return out;
}

}  // namespace

v1::ListCampaignOutcomesResponse Outcomes(const OutcomeRows& rows, const std::string& group_by,
                                          v1::AttributionModel model, const std::string& currency) {
  std::map<std::string, Sums> groups;
  for (const auto& [member, at] : rows.touches) {
    std::vector<absl::string_view> f = Fields(member);
    if (f.size() < 5) continue;
    groups[TouchGroup(f[1], f[2], f[3], group_by)].leads.insert(std::string(f[0]));
  }
  for (const auto& [lead, at] : rows.qualified) {
    Credit(TouchesUntil(rows, lead, at), model, group_by, 1.0, "",
           [&](const std::string& g, double v) { groups[g].mqls += v; });
  }
  v1::ListCampaignOutcomesResponse out;
  int64_t skipped = 0;
  for (const auto& [member, at] : rows.revenue) {
    std::vector<absl::string_view> f = Fields(member);
    if (f.size() < 6) continue;
    if (f[4] != currency) {
      ++skipped;
      continue;
    }
    Credit(TouchesUntil(rows, std::string(f[0]), at), model, group_by,
           static_cast<double>(Int(f[5])), TouchGroup(f[2], f[3], "", group_by),
           [&](const std::string& g, double v) { groups[g].revenue_nanos += v; });
  }
  for (const auto& [member, at] : rows.spend) {
    std::vector<absl::string_view> f = Fields(member);
    if (f.size() < 5) continue;
    if (f[2] != currency) {
      ++skipped;
      continue;
    }
    groups[TouchGroup(f[0], f[1], "", group_by)].spend_nanos += static_cast<double>(Int(f[3]));
  }
  out.set_skipped_currency_rows(skipped);
  for (const auto& [key, s] : groups) {
    *out.add_outcomes() = OutcomeOf(key, static_cast<int64_t>(s.leads.size()), s.mqls,
                                    s.spend_nanos, s.revenue_nanos, currency);
  }
  std::stable_sort(out.mutable_outcomes()->begin(), out.mutable_outcomes()->end(),
                   [](const v1::CampaignOutcome& a, const v1::CampaignOutcome& b) {
                     return a.mqls() > b.mqls();
                   });
  return out;
}

}  // namespace flywheel::reporting
