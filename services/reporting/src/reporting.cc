#include "reporting.h"

#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "export.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/core/status.h"
#include "flywheel/events/catalog.h"
#include "flywheel/kafka/payload.h"
#include "flywheel/leadscoring/v1/events.pb.h"
#include "flywheel/reporting/v1/events.pb.h"
#include "weekly_report.h"
#include "work_results.h"

namespace flywheel::reporting {
namespace {

constexpr int kCommitAttempts = 5;
constexpr int64_t kWeekMs = 7 * 86'400'000LL;
// Beyond any time a series holds.
constexpr int64_t kFarMs = INT64_MAX / 4;

int64_t Ms(const google::protobuf::Timestamp& t) { return absl::ToUnixMillis(FromProtoTime(t)); }

int64_t EventMs(const kafka::ConsumedEvent& consumed) {
  if (consumed.event.time) return absl::ToUnixMillis(*consumed.event.time);
  return consumed.record.timestamp ? absl::ToUnixMillis(*consumed.record.timestamp) : 0;
}

// "dev.flywheel.stage.advanced.v1" -> "stage.advanced": a label of few values.
std::string KindOf(const std::string& type) {
  absl::string_view kind(type);
  if (!absl::ConsumePrefix(&kind, "dev.flywheel.")) return "foreign";
  absl::ConsumeSuffix(&kind, ".v1");
  return std::string(kind);
}

int64_t Nanos(const common::v1::Money& money) {
  return money.units() * 1'000'000'000 + money.nanos();
}

// How a request event becomes a merge: decoded, its tenant and request
// named, and the merge of facts.h bound to it.
struct RequestMerge {
  std::string tenant;
  std::string request;
  std::function<void(stored::RequestFacts&)> merge;
};

template <typename Message, typename Apply>
absl::StatusOr<RequestMerge> Bind(const kafka::CloudEvent& event, Apply apply) {
  auto message = std::make_shared<Message>();
  FLYWHEEL_RETURN_IF_ERROR(kafka::DecodeData(event, *message));
  if (message->tenant_id().empty() || message->request_id().empty()) {
    FieldErrors errors;
    if (message->tenant_id().empty()) errors.Add("tenant_id", "required");
    if (message->request_id().empty()) errors.Add("request_id", "required");
    return errors.ToStatus();
  }
  return RequestMerge{message->tenant_id(), message->request_id(),
                      [message, apply](stored::RequestFacts& f) { apply(f, *message); }};
}

// The merge for a request event; NOT_FOUND for a type that is not one.
absl::StatusOr<RequestMerge> RequestMergeFor(const kafka::CloudEvent& e, int64_t at) {
  const std::string& t = e.type;
  if (t == events::kRequestSubmitted) {
    return Bind<intake::v1::RequestSubmitted>(e, MergeSubmitted);
  }
  if (t == events::kRequestUpdated) return Bind<intake::v1::RequestUpdated>(e, MergeUpdated);
  if (t == events::kRequestCancelled) {
    return Bind<intake::v1::RequestCancelled>(
        e, [at](stored::RequestFacts& f, const auto&) { MergeCancelled(f, at); });
  }
  if (t == events::kRequestRouted) return Bind<routing::v1::RequestRouted>(e, MergeRouted);
  if (t == events::kStageAdvanced) {
    return Bind<routing::v1::StageAdvanced>(e, MergeStageAdvanced);
  }
  if (t == events::kWorkflowCompleted) {
    return Bind<routing::v1::WorkflowCompleted>(e, MergeCompleted);
  }
  if (t == events::kApprovalStepStarted) {
    return Bind<approval::v1::StepStarted>(
        e, [at](stored::RequestFacts& f, const auto& m) { MergeStepStarted(f, m, at); });
  }
  if (t == events::kApprovalDecided) {
    return Bind<approval::v1::StepDecided>(
        e, [at](stored::RequestFacts& f, const auto& m) { MergeStepDecided(f, m, at); });
  }
  if (t == events::kApprovalChangesRequested) {
    return Bind<approval::v1::ChangesRequested>(
        e, [at](stored::RequestFacts& f, const auto& m) { MergeChangesRequested(f, m, at); });
  }
  if (t == events::kApprovalVersionSubmitted) {
    return Bind<approval::v1::VersionSubmitted>(e, MergeVersion);
  }
  if (t == events::kSlaWarning) return Bind<scheduler::v1::SlaWarning>(e, MergeWarning);
  if (t == events::kSlaBreached) return Bind<scheduler::v1::SlaBreached>(e, MergeBreached);
  if (t == events::kPublishDone) {
    return Bind<scheduler::v1::PublishDone>(
        e, [at](stored::RequestFacts& f, const auto& m) { MergePublished(f, m, at); });
  }
  return absl::NotFoundError(t);
}

// Known types reporting takes nothing from.
bool Ignored(const std::string& type) {
  for (const char* known :
       {events::kRequestSubmissionReceived, events::kRequestRejected, events::kTaskAssigned,
        events::kApprovalCompleted, events::kApprovalStepEscalated, events::kPublishDue,
        events::kPublishFailed, events::kLeadScored}) {
    if (type == known) return true;
  }
  return false;
}

bool IsLeadEvent(const std::string& type) {
  return type == events::kLeadActivity || type == events::kLeadQualified ||
         type == events::kRevenueAttributed || type == events::kCampaignSpendReported;
}

std::string StripEntries(stored::RequestFacts facts) {
  facts.clear_entries();
  return facts.SerializeAsString();
}

absl::Status CheckCurrency(const std::string& currency) {
  if (currency.size() == 3) return absl::OkStatus();
  FieldErrors errors;
  errors.Add("currency_code", "required: an ISO 4217 code such as EUR");
  return errors.ToStatus();
}

std::string StageName(int64_t stage) {
  if (!common::v1::Stage_IsValid(static_cast<int>(stage))) return "STAGE_UNSPECIFIED";
  return common::v1::Stage_Name(static_cast<common::v1::Stage>(stage));
}

}  // namespace

asio::awaitable<absl::Status> Reporting::Handle(const kafka::ConsumedEvent& consumed) {
  const kafka::CloudEvent& event = consumed.event;
  const std::string kind = KindOf(event.type);
  if (IsLeadEvent(event.type)) co_return co_await HandleLeadEvent(consumed, kind);
  absl::StatusOr<RequestMerge> merge = RequestMergeFor(event, EventMs(consumed));
  if (!merge.ok() && absl::IsNotFound(merge.status())) {
    if (Ignored(event.type)) {
      metrics_.Event(kind, EventOutcome::kIgnored);
    } else {
      metrics_.Unknown(consumed.record.topic);
    }
    co_return absl::OkStatus();
  }
  if (!merge.ok()) {
    metrics_.Event(kind, EventOutcome::kRefused);
    co_return merge.status();
  }
  co_return co_await ApplyToRequest(kind, std::move(merge->tenant), std::move(merge->request),
                                    std::move(merge->merge));
}

asio::awaitable<absl::Status> Reporting::ApplyToRequest(std::string kind, std::string tenant,
                                                        std::string request, Merge merge) {
  absl::Status last;
  for (int attempt = 0; attempt < kCommitAttempts; ++attempt) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(FactsRead read, co_await store_.ReadRequest(tenant, request));
    stored::RequestFacts facts = read.facts;
    facts.set_tenant_id(tenant);
    facts.set_request_id(request);
    std::vector<SeriesEntry> before;
    for (const std::string& e : read.facts.entries()) before.push_back(DecodeEntry(e));
    merge(facts);
    if (read.found && StripEntries(facts) == StripEntries(read.facts)) {
      metrics_.Event(kind, EventOutcome::kDuplicate);
      co_return absl::OkStatus();
    }
    std::vector<SeriesEntry> after = Entries(facts);
    const bool reconciled = read.found && !read.facts.submitted() && facts.submitted();
    last = co_await store_.CommitRequest(tenant, request, read.revision, facts, before, after);
    if (absl::IsAborted(last)) continue;
    FLYWHEEL_CO_RETURN_IF_ERROR(last);
    metrics_.Event(kind, facts.submitted() ? EventOutcome::kApplied : EventOutcome::kPending);
    if (reconciled) metrics_.Reconciled();
    if (kind == "sla.warning") metrics_.Sla("warning");
    if (kind == "sla.breached") metrics_.Sla("breach");
    CountBusiness(facts, before, after);
    co_return absl::OkStatus();
  }
  co_return last;
}

void Reporting::CountBusiness(const stored::RequestFacts& facts,
                              const std::vector<SeriesEntry>& before,
                              const std::vector<SeriesEntry>& after) {
  auto had = [&](const std::string& series, int64_t score, auto&& same) {
    for (const SeriesEntry& e : before) {
      if (e.series == series && e.score == score && same(e)) return true;
    }
    return false;
  };
  for (const SeriesEntry& e : after) {
    std::vector<absl::string_view> f = Fields(e.member);
    if (e.series == kVisitSeries && f.size() >= 9 && f[8] != "0") {
      const std::string stage_id(f[7]);
      auto closed_same = [&](const SeriesEntry& old) {
        std::vector<absl::string_view> g = Fields(old.member);
        return g.size() >= 9 && g[7] == stage_id && g[8] != "0";
      };
      if (had(kVisitSeries, e.score, closed_same)) continue;
      int64_t exit = 0;
      (void)absl::SimpleAtoi(f[8], &exit);
      int64_t stage = 0;
      (void)absl::SimpleAtoi(f[6], &stage);
      metrics_.StageVisit(StageName(stage), facts.request_type_id(), facts.team_id(),
                          static_cast<double>(exit - e.score) / 1000.0);
    }
    if (e.series == kDeliveredSeries && f.size() >= 11) {
      bool delivered_before = false;
      for (const SeriesEntry& old : before) delivered_before |= old.series == kDeliveredSeries;
      if (delivered_before) continue;
      int64_t cycle = 0;
      (void)absl::SimpleAtoi(f[6], &cycle);
      metrics_.Delivered(facts.request_type_id(), facts.team_id(),
                         f[7] == "1" ? "true" : (f[7] == "2" ? "false" : "no_due_time"),
                         static_cast<double>(cycle) / 1000.0);
    }
  }
}

asio::awaitable<absl::Status> Reporting::HandleLeadEvent(const kafka::ConsumedEvent& consumed,
                                                         const std::string& kind) {
  const kafka::CloudEvent& event = consumed.event;
  const std::string s(1, kSep);
  absl::StatusOr<bool> changed = false;
  if (event.type == events::kLeadActivity) {
    leadscoring::v1::LeadActivity a;
    if (absl::Status d = kafka::DecodeData(event, a); !d.ok()) {
      metrics_.Event(kind, EventOutcome::kRefused);
      co_return d;
    }
    if (a.lead_id().empty()) {  // a visitor not known yet: no lead to count
      metrics_.Event(kind, EventOutcome::kIgnored);
      co_return absl::OkStatus();
    }
    const std::string campaign = a.campaign_id().empty() ? a.utm().campaign() : a.campaign_id();
    std::string touch =
        absl::StrCat(campaign, s, static_cast<int>(a.channel()), s, a.utm().source(), s,
                     a.activity_id().empty() ? event.id : a.activity_id());
    changed =
        co_await store_.AddTouch(a.tenant_id(), a.lead_id(), Ms(a.occur_time()), std::move(touch));
  } else if (event.type == events::kLeadQualified) {
    leadscoring::v1::LeadQualified q;
    if (absl::Status d = kafka::DecodeData(event, q); !d.ok()) {
      metrics_.Event(kind, EventOutcome::kRefused);
      co_return d;
    }
    changed = co_await store_.AddQualified(q.tenant_id(), q.lead_id(), EventMs(consumed));
    if (changed.ok() && *changed) {
      metrics_.Qualified(
          q.last_touch_channel() == 0 ? "none" : common::v1::Channel_Name(q.last_touch_channel()));
    }
  } else if (event.type == events::kRevenueAttributed) {
    v1::RevenueAttributed r;
    if (absl::Status d = kafka::DecodeData(event, r); !d.ok()) {
      metrics_.Event(kind, EventOutcome::kRefused);
      co_return d;
    }
    std::string member = absl::StrCat(r.lead_id(), s, r.opportunity_id(), s, r.campaign_id(), s,
                                      static_cast<int>(r.channel()), s, r.amount().currency_code(),
                                      s, Nanos(r.amount()));
    changed = co_await store_.Replace(r.tenant_id(), kRevenueSeries, r.opportunity_id(),
                                      Ms(r.close_time()), std::move(member), event.id);
  } else {
    v1::CampaignSpendReported sp;
    if (absl::Status d = kafka::DecodeData(event, sp); !d.ok()) {
      metrics_.Event(kind, EventOutcome::kRefused);
      co_return d;
    }
    std::string member =
        absl::StrCat(sp.campaign_id(), s, static_cast<int>(sp.channel()), s,
                     sp.amount().currency_code(), s, Nanos(sp.amount()), s, sp.spend_id());
    changed = co_await store_.Replace(sp.tenant_id(), kSpendSeries, sp.spend_id(),
                                      Ms(sp.period().start_time()), std::move(member), event.id);
  }
  if (!changed.ok()) co_return changed.status();
  metrics_.Event(kind, *changed ? EventOutcome::kApplied : EventOutcome::kDuplicate);
  co_return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<OperationalRows>> Reporting::ReadOperational(std::string tenant,
                                                                            int64_t from,
                                                                            int64_t to) {
  OperationalRows rows;
  FLYWHEEL_CO_ASSIGN_OR_RETURN(rows.submitted,
                               co_await store_.Range(tenant, kSubmittedSeries, from, to));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(rows.delivered,
                               co_await store_.Range(tenant, kDeliveredSeries, from, to));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(rows.visits, co_await store_.Range(tenant, kVisitSeries, from, to));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(Members exited,
                               co_await store_.Range(tenant, kVisitExitSeries, from, kFarMs));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(Members open,
                               co_await store_.Range(tenant, kOpenVisitSeries, -kFarMs, to));
  // Each visit once, scored by its enter time.
  absl::flat_hash_set<std::string> seen;
  for (const auto& [member, enter] : rows.visits) seen.insert(member);
  for (auto& [member, exit] : exited) {
    const size_t sep = member.rfind(kSep);
    int64_t enter = 0;
    if (sep == std::string::npos || !absl::SimpleAtoi(member.substr(sep + 1), &enter) ||
        enter >= to) {
      continue;
    }
    member.resize(sep);
    if (seen.insert(member).second) rows.visits.emplace_back(std::move(member), enter);
  }
  for (auto& [member, enter] : open) {
    if (seen.insert(member).second) rows.visits.emplace_back(std::move(member), enter);
  }
  FLYWHEEL_CO_ASSIGN_OR_RETURN(rows.approvals,
                               co_await store_.Range(tenant, kApprovalSeries, from, to));
  co_return rows;
}

asio::awaitable<absl::StatusOr<OutcomeRows>> Reporting::ReadOutcomes(std::string tenant,
                                                                     int64_t from, int64_t to) {
  OutcomeRows rows;
  FLYWHEEL_CO_ASSIGN_OR_RETURN(rows.touches, co_await store_.Range(tenant, kTouchSeries, from, to));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(rows.qualified,
                               co_await store_.Range(tenant, kQualifiedSeries, from, to));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(rows.revenue,
                               co_await store_.Range(tenant, kRevenueSeries, from, to));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(rows.spend, co_await store_.Range(tenant, kSpendSeries, from, to));
  std::vector<std::string> leads;
  for (const auto& [lead, at] : rows.qualified) leads.push_back(lead);
  for (const auto& [member, at] : rows.revenue) leads.emplace_back(Fields(member)[0]);
  for (const std::string& lead : leads) {
    if (rows.lead_touches.contains(lead)) continue;
    FLYWHEEL_CO_ASSIGN_OR_RETURN(rows.lead_touches[lead],
                                 co_await store_.LeadTouches(tenant, lead, to));
  }
  co_return rows;
}

asio::awaitable<absl::StatusOr<v1::GetOperationalMetricsResponse>> Reporting::GetOperationalMetrics(
    const v1::GetOperationalMetricsRequest& request) {
  FLYWHEEL_CO_RETURN_IF_ERROR(CheckRange(request.range(), "range"));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(int group, OperationalGroupBy(request.group_by(), "group_by"));
  const int64_t from = Ms(request.range().start_time());
  const int64_t to = Ms(request.range().end_time());
  FLYWHEEL_CO_ASSIGN_OR_RETURN(OperationalRows rows,
                               co_await ReadOperational(request.tenant_id(), from, to));
  co_return OperationalResponse(rows, from, to, request.filter(), request.granularity(), group);
}

asio::awaitable<absl::StatusOr<v1::ListCampaignOutcomesResponse>> Reporting::Outcomes(
    std::string tenant, int64_t from, int64_t to, std::string group_by, v1::AttributionModel model,
    std::string currency) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(OutcomeRows rows, co_await ReadOutcomes(tenant, from, to));
  co_return reporting::Outcomes(rows, group_by, model, currency);
}

asio::awaitable<absl::StatusOr<v1::ListCampaignOutcomesResponse>> Reporting::ListCampaignOutcomes(
    const v1::ListCampaignOutcomesRequest& request) {
  FLYWHEEL_CO_RETURN_IF_ERROR(CheckRange(request.range(), "range"));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::string group, OutcomeGroupBy(request.group_by(), "group_by"));
  FLYWHEEL_CO_RETURN_IF_ERROR(CheckCurrency(request.currency_code()));
  co_return co_await Outcomes(request.tenant_id(), Ms(request.range().start_time()),
                              Ms(request.range().end_time()), group, request.attribution(),
                              request.currency_code());
}

asio::awaitable<absl::StatusOr<v1::GetWorkResultsResponse>> Reporting::GetWorkResults(
    const v1::GetWorkResultsRequest& request) {
  FLYWHEEL_CO_RETURN_IF_ERROR(CheckRange(request.range(), "range"));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(int group, WorkGroupBy(request.group_by(), "group_by"));
  FLYWHEEL_CO_RETURN_IF_ERROR(CheckCurrency(request.currency_code()));
  co_return co_await WorkResultsOf(request.tenant_id(), Ms(request.range().start_time()),
                                   Ms(request.range().end_time()), request.filter(), group,
                                   request.attribution(), request.currency_code());
}

asio::awaitable<absl::StatusOr<v1::GetWorkResultsResponse>> Reporting::WorkResultsOf(
    std::string tenant, int64_t from, int64_t to, v1::ReportFilter filter, int group,
    v1::AttributionModel model, std::string currency) {
  // Only the deliveries of the range and the campaigns' outcomes: no stage
  // visits, so this read does not grow with the history before the range.
  FLYWHEEL_CO_ASSIGN_OR_RETURN(Members delivered,
                               co_await store_.Range(tenant, kDeliveredSeries, from, to));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::ListCampaignOutcomesResponse by_campaign,
                               co_await Outcomes(tenant, from, to, "campaign", model, currency));
  co_return WorkResults(delivered, from, to, filter, group, by_campaign, currency);
}

asio::awaitable<absl::StatusOr<v1::GetRequestTimelineResponse>> Reporting::GetRequestTimeline(
    const v1::GetRequestTimelineRequest& request) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      FactsRead read, co_await store_.ReadRequest(request.tenant_id(), request.request_id()));
  if (!read.found) co_return absl::NotFoundError("no events of request " + request.request_id());
  const stored::RequestFacts& f = read.facts;
  v1::GetRequestTimelineResponse out;
  auto time = [](int64_t ms) { return ToProtoTime(absl::FromUnixMillis(ms)); };
  out.set_request_id(f.request_id());
  out.set_submitted(f.submitted());
  if (f.submit_ms() > 0) *out.mutable_submit_time() = time(f.submit_ms());
  if (const int64_t d = DeliveredMs(f); d > 0) *out.mutable_deliver_time() = time(d);
  if (f.due_ms() > 0) *out.mutable_due_time() = time(f.due_ms());
  for (const stored::Visit& v : f.visits()) {
    v1::StageVisit* visit = out.add_stages();
    visit->set_stage_id(v.stage_id());
    visit->set_stage(static_cast<common::v1::Stage>(v.stage()));
    *visit->mutable_enter_time() = time(v.enter_ms());
    if (v.exit_ms() > 0) *visit->mutable_exit_time() = time(v.exit_ms());
  }
  out.set_version_count(static_cast<uint32_t>(f.versions_size()));
  out.set_revisions(static_cast<uint32_t>(f.changes_size()));
  out.set_sla_warnings(static_cast<uint32_t>(f.warned_size()));
  out.set_sla_breaches(static_cast<uint32_t>(f.breached_size()));
  out.set_team_id(f.team_id());
  out.set_request_type_id(f.request_type_id());
  out.set_template_id(f.template_id());
  out.set_campaign_id(f.campaign_id());
  out.set_channel(static_cast<common::v1::Channel>(f.channel()));
  co_return out;
}

asio::awaitable<absl::StatusOr<v1::ExportReportResponse>> Reporting::ExportReport(
    const v1::ExportReportRequest& request) {
  FieldErrors errors;
  if (request.format() != v1::EXPORT_FORMAT_CSV &&
      request.format() != v1::EXPORT_FORMAT_JSON_LINES) {
    errors.Add("format", "required: EXPORT_FORMAT_CSV or EXPORT_FORMAT_JSON_LINES");
  }
  if (request.kind() != v1::REPORT_KIND_OPERATIONAL_METRICS &&
      request.kind() != v1::REPORT_KIND_CAMPAIGN_OUTCOMES &&
      request.kind() != v1::REPORT_KIND_WORK_RESULTS) {
    errors.Add("kind",
               "required: REPORT_KIND_OPERATIONAL_METRICS, REPORT_KIND_CAMPAIGN_OUTCOMES or "
               "REPORT_KIND_WORK_RESULTS");
  }
  FLYWHEEL_CO_RETURN_IF_ERROR(errors.ToStatus());
  v1::ExportReportResponse out;
  out.set_content_type(request.format() == v1::EXPORT_FORMAT_CSV ? "text/csv"
                                                                 : "application/x-ndjson");
  if (request.kind() == v1::REPORT_KIND_OPERATIONAL_METRICS) {
    v1::GetOperationalMetricsRequest query;
    query.set_tenant_id(request.tenant_id());
    *query.mutable_range() = request.range();
    *query.mutable_filter() = request.filter();
    query.set_granularity(request.granularity());
    query.set_group_by(request.group_by());
    FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::GetOperationalMetricsResponse metrics,
                                 co_await GetOperationalMetrics(query));
    out.set_data(Render(OperationalTable(metrics), request.format()));
  } else if (request.kind() == v1::REPORT_KIND_WORK_RESULTS) {
    v1::GetWorkResultsRequest query;
    query.set_tenant_id(request.tenant_id());
    *query.mutable_range() = request.range();
    *query.mutable_filter() = request.filter();
    query.set_group_by(request.group_by());
    query.set_currency_code(request.currency_code());
    query.set_attribution(request.attribution());
    FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::GetWorkResultsResponse results,
                                 co_await GetWorkResults(query));
    out.set_data(Render(WorkResultsTable(results), request.format()));
  } else {
    v1::ListCampaignOutcomesRequest query;
    query.set_tenant_id(request.tenant_id());
    *query.mutable_range() = request.range();
    query.set_group_by(request.group_by());
    query.set_currency_code(request.currency_code());
    query.set_attribution(request.attribution());
    FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::ListCampaignOutcomesResponse outcomes,
                                 co_await ListCampaignOutcomes(query));
    out.set_data(Render(OutcomesTable(outcomes), request.format()));
  }
  co_return out;
}

asio::awaitable<absl::StatusOr<v1::RenderWeeklyReportResponse>> Reporting::RenderWeeklyReport(
    const v1::RenderWeeklyReportRequest& request) {
  const absl::Time at = request.has_week_time() ? FromProtoTime(request.week_time()) : clock_.Now();
  // The ISO week holding `at`, and the seven before it for the trends.
  const int64_t week_start = WeekStart(absl::ToUnixMillis(at));
  const int64_t trend_start = week_start - 7 * kWeekMs;
  const int64_t week_end = week_start + kWeekMs;
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      OperationalRows rows, co_await ReadOperational(request.tenant_id(), trend_start, week_end));
  WeeklyData data;
  data.tenant = request.tenant_id();
  const v1::ReportFilter all;
  for (int64_t start = trend_start; start < week_end; start += kWeekMs) {
    data.trend.push_back(Operational(rows, start, start + kWeekMs, all));
  }
  data.week = data.trend.back();
  const std::string currency = request.currency_code().empty() ? "EUR" : request.currency_code();
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      data.by_channel, co_await Outcomes(request.tenant_id(), week_start, week_end, "channel",
                                         v1::ATTRIBUTION_MODEL_LAST_TOUCH, currency));
  data.currency = currency;
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      data.work, co_await WorkResultsOf(request.tenant_id(), week_start, week_end, all,
                                        kRequestType, v1::ATTRIBUTION_MODEL_LAST_TOUCH, currency));
  v1::RenderWeeklyReportResponse out;
  out.set_html(RenderWeeklyHtml(data));
  *out.mutable_week() = data.week.range();
  co_return out;
}

}  // namespace flywheel::reporting
