#include "lead_scoring.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/core/page_token.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/core/status.h"
#include "flywheel/events/catalog.h"
#include "policy_parser.h"

namespace flywheel::lead_scoring {
namespace {

// Leads read per round trip when a listing filters, backtests or rolls up.
constexpr size_t kScanChunk = 200;
// Leads one account roll-up reads at most.
constexpr size_t kMostAccountLeads = 2000;
// Band changes a Backtest lists by default and at most.
constexpr int kDefaultChanges = 50;
constexpr int kMostChanges = 500;

absl::Status NoModel(const std::string& tenant) {
  return absl::FailedPreconditionError(
      absl::StrCat("the lead-scoring policy has no model for tenant \"", tenant, "\""));
}

absl::Status NoModelEvent(const std::string& tenant) {
  FieldErrors errors;
  errors.Add("tenant_id",
             absl::StrCat("the lead-scoring policy has no model for tenant \"", tenant, "\""));
  return errors.ToStatus();
}

}  // namespace

absl::Status LeadScoring::CheckActivity(const Policy& policy, const v1::LeadActivity& a) const {
  FieldErrors errors;
  if (a.tenant_id().empty()) {
    errors.Add("tenant_id", "is required");
  } else if (policy.ModelFor(a.tenant_id()) == nullptr) {
    return NoModelEvent(a.tenant_id());
  }
  if (a.lead_id().empty() && a.anonymous_id().empty()) {
    errors.Add("lead_id", "is required (or anonymous_id, for a visitor not known yet)");
  }
  if (a.activity_id().empty()) errors.Add("activity_id", "is required");
  if (a.activity_type().empty()) {
    errors.Add("activity_type", "is required");
  } else if (!policy.activity_types.contains(a.activity_type())) {
    errors.Add("activity_type", absl::StrCat("unknown activity type \"", a.activity_type(), "\""));
  }
  if (!a.has_occur_time()) {
    errors.Add("occur_time", "is required");
  } else {
    const absl::Duration ahead = FromProtoTime(a.occur_time()) - clock_.Now();
    if (ahead > options_.max_future_skew) {
      errors.Add("occur_time",
                 absl::StrCat("is ", absl::FormatDuration(absl::Trunc(ahead, absl::Seconds(1))),
                              " ahead of the service's clock; at most ",
                              absl::FormatDuration(options_.max_future_skew), " is accepted"));
    }
  }
  return errors.ToStatus();
}

void LeadScoring::Index(LeadCommit& commit, const stored::StoredLead& before,
                        stored::StoredLead& after) {
  commit.previous_band = static_cast<v1::ScoreBand>(before.band());
  commit.band = static_cast<v1::ScoreBand>(after.band());
  commit.score = after.score();
  commit.previous_account = before.indexed_account();
  commit.account = ProfileOf(after).account_id();
  after.set_indexed_account(commit.account);
}

std::vector<kafka::OutgoingEvent> LeadScoring::HandoffEvents(
    const std::string& tenant, const std::string& lead, const Model& model, const Handoff& handoff,
    const stored::StoredLead& state, int64_t revision, const std::string& cause_activity) {
  std::vector<kafka::OutgoingEvent> events;
  const absl::Time at = FromProtoTime(handoff.score.compute_time());
  v1::LeadScore score = handoff.score;
  score.set_tenant_id(tenant);
  score.set_lead_id(lead);
  if (handoff.band_changed) {
    v1::LeadScored scored;
    scored.set_tenant_id(tenant);
    scored.set_lead_id(lead);
    *scored.mutable_score() = score;
    scored.set_previous_score(handoff.previous_score);
    scored.set_previous_band(handoff.previous_band);
    scored.set_cause_activity_id(cause_activity);
    events.push_back({.topic = options_.scores_topic,
                      .type = events::kLeadScored,
                      .key = lead,
                      .data = scored.SerializeAsString(),
                      .extensions = {{"tenant", tenant}},
                      .id = absl::StrCat(lead, "/scored/", revision),
                      .time = at});
  }
  if (handoff.hand_off) {
    v1::LeadQualified qualified;
    qualified.set_tenant_id(tenant);
    qualified.set_lead_id(lead);
    *qualified.mutable_score() = score;
    qualified.set_mql_threshold(model.mql);
    qualified.set_last_touch_campaign_id(state.last_campaign());
    qualified.set_last_touch_channel(static_cast<common::v1::Channel>(state.last_channel()));
    // One id per lead and model version: the hand-off's identity.
    events.push_back({.topic = options_.scores_topic,
                      .type = events::kLeadQualified,
                      .key = lead,
                      .data = qualified.SerializeAsString(),
                      .extensions = {{"tenant", tenant}},
                      .id = absl::StrCat(lead, "/qualified/", model.id, "/", model.version),
                      .time = at});
  }
  return events;
}

absl::Status LeadScoring::CheckProfile(const Policy& policy, const v1::LeadProfile& p) {
  FieldErrors errors;
  if (p.tenant_id().empty()) errors.Add("tenant_id", "is required");
  if (p.lead_id().empty()) errors.Add("lead_id", "is required");
  if (!errors.empty()) return errors.ToStatus();
  if (policy.ModelFor(p.tenant_id()) == nullptr) return NoModelEvent(p.tenant_id());
  return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<v1::GetScoreResponse>> LeadScoring::GetScore(
    const v1::GetScoreRequest& r) {
  FieldErrors errors;
  if (r.tenant_id().empty()) errors.Add("tenant_id", "is required");
  if (r.lead_id().empty()) errors.Add("lead_id", "is required");
  FLYWHEEL_CO_RETURN_IF_ERROR(errors.ToStatus());
  std::shared_ptr<const Policy> policy = policy_.Get();
  const Model* model = policy->ModelFor(r.tenant_id());
  if (model == nullptr) co_return NoModel(r.tenant_id());
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::optional<LeadView> view,
                               co_await store_.Get(r.tenant_id(), r.lead_id(), r.explain()));
  if (!view) co_return absl::NotFoundError(absl::StrCat("no lead ", r.lead_id()));
  const absl::Time at = r.has_as_of_time() ? FromProtoTime(r.as_of_time()) : clock_.Now();
  Explain explain;
  if (r.explain()) explain = {.max_contributions = SIZE_MAX, .history = &view->history};
  v1::GetScoreResponse out;
  *out.mutable_score() = ScoreAt(*model, view->state, at, explain);
  out.mutable_score()->set_tenant_id(r.tenant_id());
  out.mutable_score()->set_lead_id(r.lead_id());
  co_return out;
}

asio::awaitable<absl::StatusOr<v1::ListLeadsResponse>> LeadScoring::ListLeads(
    const v1::ListLeadsRequest& r) {
  FieldErrors errors;
  if (r.tenant_id().empty()) errors.Add("tenant_id", "is required");
  FLYWHEEL_CO_RETURN_IF_ERROR(errors.ToStatus());
  FLYWHEEL_CO_ASSIGN_OR_RETURN(size_t page_size, PageSizeOf(r.page_size()));
  const absl::Time now = clock_.Now();
  size_t offset = 0;
  if (!r.page_token().empty()) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(std::string cursor, DecodePageToken(r.page_token(), r, now));
    if (!absl::SimpleAtoi(cursor, &offset)) {
      co_return absl::InvalidArgumentError("page_token: malformed");
    }
  }
  std::shared_ptr<const Policy> policy = policy_.Get();
  const Model* model = policy->ModelFor(r.tenant_id());
  if (model == nullptr) co_return NoModel(r.tenant_id());
  v1::ListLeadsResponse out;
  const LeadIndex index = {.band = r.account_id().empty() ? r.band() : v1::SCORE_BAND_UNSPECIFIED,
                           .account = r.account_id()};
  bool more = true;
  while (more && static_cast<size_t>(out.leads_size()) < page_size) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                                 co_await store_.List(r.tenant_id(), index, offset, kScanChunk));
    more = ids.size() == kScanChunk;
    for (const std::string& id : ids) {
      if (static_cast<size_t>(out.leads_size()) >= page_size) {
        more = true;
        break;
      }
      ++offset;
      FLYWHEEL_CO_ASSIGN_OR_RETURN(std::optional<LeadView> view,
                                   co_await store_.Get(r.tenant_id(), id, false));
      if (!view) continue;
      if (r.band() != v1::SCORE_BAND_UNSPECIFIED && view->state.band() != r.band()) continue;
      if (!r.segment().empty()) {
        const auto& attributes = ProfileOf(view->state).attributes();
        auto it = attributes.find("segment");
        if (it == attributes.end() || it->second != r.segment()) continue;
      }
      v1::LeadScore* score = out.add_leads();
      *score = ScoreAt(*model, view->state, now);
      score->set_tenant_id(r.tenant_id());
      score->set_lead_id(id);
    }
  }
  if (more) out.set_next_page_token(EncodePageToken(r, now, absl::StrCat(offset)));
  co_return out;
}

asio::awaitable<absl::StatusOr<v1::GetAccountScoreResponse>> LeadScoring::GetAccountScore(
    const v1::GetAccountScoreRequest& r) {
  FieldErrors errors;
  if (r.tenant_id().empty()) errors.Add("tenant_id", "is required");
  if (r.account_id().empty()) errors.Add("account_id", "is required");
  FLYWHEEL_CO_RETURN_IF_ERROR(errors.ToStatus());
  std::shared_ptr<const Policy> policy = policy_.Get();
  const Model* model = policy->ModelFor(r.tenant_id());
  if (model == nullptr) co_return NoModel(r.tenant_id());
  // Named first: an aggregate temporary inside co_await breaks under gcc 12.
  const LeadIndex index = {.account = r.account_id()};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                               co_await store_.List(r.tenant_id(), index, 0, kMostAccountLeads));
  if (ids.empty()) co_return absl::NotFoundError(absl::StrCat("no account ", r.account_id()));
  const absl::Time now = clock_.Now();
  v1::GetAccountScoreResponse out;
  v1::AccountScore& account = *out.mutable_account();
  account.set_tenant_id(r.tenant_id());
  account.set_account_id(r.account_id());
  account.set_aggregate(model->account_aggregate);
  *account.mutable_compute_time() = ToProtoTime(now);
  int64_t sum = 0;
  int32_t max = INT32_MIN;
  for (const std::string& id : ids) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(std::optional<LeadView> view,
                                 co_await store_.Get(r.tenant_id(), id, false));
    if (!view) continue;
    v1::LeadScore* score = account.add_leads();
    *score = ScoreAt(*model, view->state, now);
    score->set_tenant_id(r.tenant_id());
    score->set_lead_id(id);
    sum += score->score();
    max = std::max(max, score->score());
    if (score->band() != v1::SCORE_BAND_COLD) account.set_mql_count(account.mql_count() + 1);
  }
  const int n = account.leads_size();
  account.set_lead_count(n);
  std::stable_sort(account.mutable_leads()->begin(), account.mutable_leads()->end(),
                   [](const auto& a, const auto& b) { return a.score() > b.score(); });
  switch (model->account_aggregate) {
    case v1::ACCOUNT_AGGREGATE_MAX:
      account.set_score(n == 0 ? 0 : max);
      break;
    case v1::ACCOUNT_AGGREGATE_AVERAGE:
      account.set_score(n == 0 ? 0 : static_cast<int32_t>(std::lround(double(sum) / n)));
      break;
    default:
      account.set_score(static_cast<int32_t>(sum));
  }
  co_return out;
}

asio::awaitable<absl::StatusOr<v1::BacktestResponse>> LeadScoring::Backtest(
    const v1::BacktestRequest& r) {
  FieldErrors errors;
  if (r.tenant_id().empty()) errors.Add("tenant_id", "is required");
  if (r.model_yaml().empty()) errors.Add("model_yaml", "is required");
  if (r.max_changes() < 0 || r.max_changes() > kMostChanges) {
    errors.Add("max_changes", absl::StrCat("must be between 0 and ", kMostChanges));
  }
  FLYWHEEL_CO_RETURN_IF_ERROR(errors.ToStatus());
  std::shared_ptr<const Policy> policy = policy_.Get();
  const Model* model = policy->ModelFor(r.tenant_id());
  if (model == nullptr) co_return NoModel(r.tenant_id());
  absl::StatusOr<Model> candidate = ParseModel(r.model_yaml(), policy->activity_types);
  if (!candidate.ok()) {
    FieldErrors bad;
    bad.Add("model_yaml", std::string(candidate.status().message()));
    co_return bad.ToStatus();
  }
  const size_t max_changes = r.max_changes() == 0 ? kDefaultChanges : r.max_changes();
  const absl::Time at = r.has_as_of_time() ? FromProtoTime(r.as_of_time()) : clock_.Now();
  v1::BacktestResponse out;
  std::vector<v1::BandChange> changes;
  const LeadIndex every_lead;
  for (size_t offset = 0;; offset += kScanChunk) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(
        std::vector<std::string> ids,
        co_await store_.List(r.tenant_id(), every_lead, offset, kScanChunk));
    for (const std::string& id : ids) {
      FLYWHEEL_CO_ASSIGN_OR_RETURN(std::optional<LeadView> view,
                                   co_await store_.Get(r.tenant_id(), id, true));
      if (!view) continue;
      const v1::LeadScore now = ScoreAt(*model, view->state, at);
      const v1::LeadScore then =
          ScoreAt(*candidate, Replay(*candidate, view->state, view->history), at);
      out.set_leads(out.leads() + 1);
      const bool now_mql = now.band() != v1::SCORE_BAND_COLD;
      const bool then_mql = then.band() != v1::SCORE_BAND_COLD;
      const bool now_sql = now.band() == v1::SCORE_BAND_SQL_READY;
      const bool then_sql = then.band() == v1::SCORE_BAND_SQL_READY;
      out.set_current_mql(out.current_mql() + now_mql);
      out.set_candidate_mql(out.candidate_mql() + then_mql);
      out.set_current_sql_ready(out.current_sql_ready() + now_sql);
      out.set_candidate_sql_ready(out.candidate_sql_ready() + then_sql);
      out.set_would_cross_mql(out.would_cross_mql() + (!now_mql && then_mql));
      out.set_would_cross_sql_ready(out.would_cross_sql_ready() + (!now_sql && then_sql));
      if (now.band() != then.band()) {
        v1::BandChange change;
        change.set_lead_id(id);
        change.set_current_band(now.band());
        change.set_current_score(now.score());
        change.set_candidate_band(then.band());
        change.set_candidate_score(then.score());
        changes.push_back(std::move(change));
      }
    }
    if (ids.size() < kScanChunk) break;
  }
  out.set_band_changes_count(changes.size());
  std::sort(changes.begin(), changes.end(),
            [](const auto& a, const auto& b) { return a.lead_id() < b.lead_id(); });
  for (size_t i = 0; i < changes.size() && i < max_changes; ++i) {
    *out.add_band_changes() = std::move(changes[i]);
  }
  co_return out;
}

}  // namespace flywheel::lead_scoring
