#include "work_results.h"

#include <cmath>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "facts.h"
#include "flywheel/core/field_errors.h"

namespace flywheel::reporting {
namespace {

double Nanos(const common::v1::Money& m) {
  return static_cast<double>(m.units()) * 1e9 + static_cast<double>(m.nanos());
}

// A sum of shares of campaign outcomes.
struct Produced {
  double leads = 0;
  double mqls = 0;
  double spend_nanos = 0;
  double revenue_nanos = 0;

  void Add(const v1::CampaignOutcome& o, double share) {
    leads += share * static_cast<double>(o.leads());
    mqls += share * o.mqls();
    spend_nanos += share * Nanos(o.spend());
    revenue_nanos += share * Nanos(o.revenue());
  }
};

}  // namespace

absl::StatusOr<int> WorkGroupBy(const std::string& group_by, std::string_view field) {
  if (group_by.empty() || group_by == "request_type") return kRequestType;
  if (group_by == "template") return kTemplate;
  if (group_by == "channel") return kChannel;
  FieldErrors errors;
  errors.Add(field, absl::StrCat("unknown group-by \"", group_by,
                                 "\"; one of request_type, template, channel"));
  return errors.ToStatus();
}

v1::GetWorkResultsResponse WorkResults(const Members& delivered, int64_t from, int64_t to,
                                       const v1::ReportFilter& filter, int group_dimension,
                                       const v1::ListCampaignOutcomesResponse& by_campaign,
                                       const std::string& currency) {
  // Every request of a campaign delivered in the range, whatever the
  // filter, so a filter never moves outcomes between groups.
  std::map<std::string, int64_t> campaign_work;
  // Per group that passes the filter: its requests per campaign.
  std::map<std::string, std::map<std::string, int64_t>> group_work;
  for (const auto& [member, at] : delivered) {
    if (at < from || at >= to) continue;
    std::vector<absl::string_view> f = Fields(member);
    if (f.size() < 6) continue;
    const std::string campaign(f[kCampaign]);
    ++campaign_work[campaign];
    if (PassesFilter(f, filter)) ++group_work[DimensionValue(member, group_dimension)][campaign];
  }
  std::map<std::string, const v1::CampaignOutcome*> outcomes;
  for (const v1::CampaignOutcome& o : by_campaign.outcomes()) outcomes[o.key()] = &o;

  v1::GetWorkResultsResponse out;
  OperationalRows rows;
  rows.delivered = delivered;
  for (const auto& [key, campaigns] : group_work) {
    const v1::OperationalMetrics cost = Operational(rows, from, to, filter, group_dimension, key);
    v1::WorkResult* r = out.add_results();
    r->set_key(key);
    r->set_delivered(cost.delivered());
    *r->mutable_cycle_time() = cost.cycle_time();
    r->set_mean_revisions(cost.mean_revisions());
    r->set_on_time_rate(cost.on_time_rate());
    Produced produced;
    for (const auto& [campaign, requests] : campaigns) {
      if (campaign.empty()) continue;
      r->set_campaigns(r->campaigns() + 1);
      auto it = outcomes.find(campaign);
      if (it == outcomes.end()) continue;
      produced.Add(*it->second,
                   static_cast<double>(requests) / static_cast<double>(campaign_work[campaign]));
    }
    r->set_leads(produced.leads);
    r->set_mqls(produced.mqls);
    *r->mutable_spend() = MoneyOf(produced.spend_nanos, currency);
    *r->mutable_revenue() = MoneyOf(produced.revenue_nanos, currency);
    if (produced.spend_nanos > 0) {
      r->set_roi((produced.revenue_nanos - produced.spend_nanos) / produced.spend_nanos);
    }
    *r->mutable_revenue_per_request() = MoneyOf(
        cost.delivered() == 0 ? 0.0
                              : produced.revenue_nanos / static_cast<double>(cost.delivered()),
        currency);
  }

  Produced without;
  for (const auto& [campaign, o] : outcomes) {
    if (campaign.empty() || !campaign_work.contains(campaign)) without.Add(*o, 1.0);
  }
  *out.mutable_without_work() =
      OutcomeOf("", static_cast<int64_t>(std::llround(without.leads)), without.mqls,
                without.spend_nanos, without.revenue_nanos, currency);
  out.set_skipped_currency_rows(by_campaign.skipped_currency_rows());
  return out;
}

}  // namespace flywheel::reporting
