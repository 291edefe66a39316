#include "scoring.h"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "flywheel/core/proto_time.h"

namespace flywheel::lead_scoring {
namespace {

// Cap periods kept per rule: enough for activities arriving out of order
// within a few periods of each other.
constexpr int kCapWindowsKept = 16;

bool Glob(const std::string& pattern, const std::string& value) {
  return fnmatch(pattern.c_str(), value.c_str(), 0) == 0;
}

bool AnyGlob(const std::vector<std::string>& patterns, const std::string& value) {
  if (patterns.empty()) return true;
  if (value.empty()) return false;
  return std::any_of(patterns.begin(), patterns.end(),
                     [&value](const std::string& p) { return Glob(p, value); });
}

std::string AttributeOf(const google::protobuf::Map<std::string, std::string>& attributes,
                        const std::string& key) {
  auto it = attributes.find(key);
  return it == attributes.end() ? std::string() : it->second;
}

// What decay leaves of one point after `elapsed`: 2^(-elapsed / half_life);
// 1 without a half-life.
double Decay(const Model& model, absl::Duration elapsed) {
  if (model.half_life <= absl::ZeroDuration()) return 1.0;
  return std::exp2(-absl::FDivDuration(elapsed, model.half_life));
}

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

// Adds `points` at `at_us` to a decaying sum, moving the lead's reference
// time forward (and rescaling every sum) when the activity is newer.
void AddDecaying(const Model& model, stored::StoredLead& state, stored::RuleSum& sum, double points,
                 int64_t at_us) {
  if (state.ref_us() == 0) state.set_ref_us(at_us);
  if (at_us <= state.ref_us()) {
    sum.set_decaying(sum.decaying() +
                     points * Decay(model, absl::Microseconds(state.ref_us() - at_us)));
    return;
  }
  const double factor = Decay(model, absl::Microseconds(at_us - state.ref_us()));
  for (auto& [id, other] : *state.mutable_rules()) other.set_decaying(other.decaying() * factor);
  state.set_ref_us(at_us);
  sum.set_decaying(sum.decaying() + points);
}

// Takes one place in the rule's cap period of `at_us`; false when full.
bool TakeCap(const Cap& cap, stored::RuleCaps& caps, int64_t at_us) {
  const int64_t window = at_us / absl::ToInt64Microseconds(cap.per);
  auto* windows = caps.mutable_windows();
  auto it = std::find_if(windows->begin(), windows->end(),
                         [window](const stored::CapWindow& w) { return w.window() == window; });
  if (it == windows->end()) {
    stored::CapWindow fresh;
    fresh.set_window(window);
    windows->Add(std::move(fresh));
    std::sort(windows->begin(), windows->end(),
              [](const auto& a, const auto& b) { return a.window() < b.window(); });
    while (windows->size() > kCapWindowsKept) windows->erase(windows->begin());
    it = std::find_if(windows->begin(), windows->end(),
                      [window](const stored::CapWindow& w) { return w.window() == window; });
    // A period older than every one kept is not tracked: its cap is unknown,
    // so the activity is not scored rather than scored twice over.
    if (it == windows->end()) return false;
  }
  if (static_cast<int>(it->count()) >= cap.count) return false;
  it->set_count(it->count() + 1);
  return true;
}

// A rule's points at `t`.
double ValueAt(const Model& model, const stored::StoredLead& state, const stored::RuleSum& sum,
               absl::Time t) {
  return sum.decaying() * Decay(model, t - FromMicros(state.ref_us())) + sum.flat();
}

}  // namespace

bool Matches(const EngagementRule& rule, const v1::LeadActivity& activity) {
  if (rule.activity != activity.activity_type()) return false;
  if (rule.url && !Glob(*rule.url, AttributeOf(activity.attributes(), "url"))) return false;
  if (rule.campaign && !Glob(*rule.campaign, activity.campaign_id())) return false;
  for (const auto& [key, pattern] : rule.attributes) {
    if (!Glob(pattern, AttributeOf(activity.attributes(), key))) return false;
  }
  return true;
}

stored::StoredActivity AddActivity(const Model& model, stored::StoredLead& state,
                                   const v1::LeadActivity& activity) {
  const int64_t at_us = Micros(FromProtoTime(activity.occur_time()));
  stored::StoredActivity entry;
  entry.set_id(activity.activity_id());
  entry.set_type(activity.activity_type());
  entry.set_time_us(at_us);
  entry.set_campaign(activity.campaign_id());
  *entry.mutable_attributes() = activity.attributes();
  for (const EngagementRule& rule : model.engagement) {
    if (!Matches(rule, activity)) continue;
    stored::RuleSum& sum = (*state.mutable_rules())[rule.id];
    stored::ScoredBy* scored = entry.add_scored();
    scored->set_rule(rule.id);
    const bool decays = rule.decays && model.half_life > absl::ZeroDuration();
    scored->set_decays(decays);
    if (rule.cap && !TakeCap(*rule.cap, (*state.mutable_caps())[rule.id], at_us)) {
      sum.set_capped(sum.capped() + 1);
      continue;
    }
    scored->set_points(rule.points);
    if (decays) {
      AddDecaying(model, state, sum, rule.points, at_us);
    } else {
      sum.set_flat(sum.flat() + rule.points);
    }
    sum.set_raw(sum.raw() + rule.points);
    sum.set_count(sum.count() + 1);
    sum.set_last_us(std::max(sum.last_us(), at_us));
  }
  if (at_us >= state.last_activity_us()) {
    state.set_last_activity_us(at_us);
    state.set_last_channel(activity.channel());
    if (!activity.campaign_id().empty()) state.set_last_campaign(activity.campaign_id());
  }
  return entry;
}

void MergeInto(const Model& model, stored::StoredLead& into, const stored::StoredLead& from) {
  // Bring both to the later reference time, then add sum by sum.
  const int64_t ref = std::max(into.ref_us(), from.ref_us());
  const double into_factor =
      into.ref_us() == 0 ? 1.0 : Decay(model, absl::Microseconds(ref - into.ref_us()));
  const double from_factor =
      from.ref_us() == 0 ? 1.0 : Decay(model, absl::Microseconds(ref - from.ref_us()));
  for (auto& [id, sum] : *into.mutable_rules()) sum.set_decaying(sum.decaying() * into_factor);
  into.set_ref_us(ref);
  for (const auto& [id, theirs] : from.rules()) {
    stored::RuleSum& sum = (*into.mutable_rules())[id];
    sum.set_decaying(sum.decaying() + theirs.decaying() * from_factor);
    sum.set_flat(sum.flat() + theirs.flat());
    sum.set_raw(sum.raw() + theirs.raw());
    sum.set_count(sum.count() + theirs.count());
    sum.set_capped(sum.capped() + theirs.capped());
    sum.set_last_us(std::max(sum.last_us(), theirs.last_us()));
  }
  for (const auto& [id, theirs] : from.caps()) {
    stored::RuleCaps& caps = (*into.mutable_caps())[id];
    for (const stored::CapWindow& w : theirs.windows()) {
      auto it =
          std::find_if(caps.mutable_windows()->begin(), caps.mutable_windows()->end(),
                       [&w](const stored::CapWindow& mine) { return mine.window() == w.window(); });
      if (it != caps.mutable_windows()->end()) {
        it->set_count(it->count() + w.count());
      } else {
        *caps.add_windows() = w;
      }
    }
    std::sort(caps.mutable_windows()->begin(), caps.mutable_windows()->end(),
              [](const auto& a, const auto& b) { return a.window() < b.window(); });
    while (caps.windows_size() > kCapWindowsKept) {
      caps.mutable_windows()->erase(caps.mutable_windows()->begin());
    }
  }
  if (from.last_activity_us() > into.last_activity_us()) {
    into.set_last_activity_us(from.last_activity_us());
    into.set_last_channel(from.last_channel());
    if (!from.last_campaign().empty()) into.set_last_campaign(from.last_campaign());
  }
}

Fit ScoreFit(const Model& model, const v1::LeadProfile& profile) {
  Fit fit;
  const std::string email_domain = AttributeOf(profile.attributes(), "email_domain");
  for (const FitRule& rule : model.fit) {
    bool holds = AnyGlob(rule.seniority, profile.seniority()) &&
                 AnyGlob(rule.job_function, profile.job_function()) &&
                 AnyGlob(rule.industry, profile.industry()) &&
                 AnyGlob(rule.country, profile.country_code()) &&
                 AnyGlob(rule.job_title, profile.job_title()) &&
                 AnyGlob(rule.email_domain, email_domain);
    if (rule.company_size_min || rule.company_size_max) {
      const int64_t size = profile.company_size();
      holds = holds && size > 0 && (!rule.company_size_min || size >= *rule.company_size_min) &&
              (!rule.company_size_max || size <= *rule.company_size_max);
    }
    if (!holds) continue;
    fit.points += rule.points;
    fit.matched.push_back(&rule);
  }
  return fit;
}

v1::LeadProfile ProfileOf(const stored::StoredLead& state) {
  v1::LeadProfile profile;
  if (!state.profile().empty()) profile.ParseFromString(state.profile());
  return profile;
}

v1::LeadScore ScoreAt(const Model& model, const stored::StoredLead& state, absl::Time t,
                      const Explain& explain) {
  v1::LeadScore out;
  out.set_model_id(model.id);
  out.set_model_version(model.version);
  *out.mutable_compute_time() = ToProtoTime(t);
  const v1::LeadProfile profile = ProfileOf(state);
  out.set_account_id(profile.account_id());

  std::map<std::string, double> values;
  double engagement = 0;
  for (const auto& [id, sum] : state.rules()) {
    values[id] = ValueAt(model, state, sum, t);
    engagement += values[id];
  }
  const Fit fit = state.profile().empty() ? Fit{} : ScoreFit(model, profile);
  out.set_fit_score(fit.points);
  out.set_engagement_score(static_cast<int32_t>(std::lround(engagement)));
  out.set_score(static_cast<int32_t>(std::lround(fit.points + engagement)));
  out.set_band(model.BandOf(out.score()));
  out.set_grade(state.profile().empty() ? v1::FIT_GRADE_UNSPECIFIED : model.GradeOf(fit.points));
  for (const stored::Qualification& q : state.qualified()) {
    if (q.version() != model.version) continue;
    out.set_qualified(true);
    *out.mutable_qualify_time() = ToProtoTime(FromMicros(q.time_us()));
  }
  for (const ScoreGroup& group : model.groups) {
    double points = 0;
    for (const std::string& rule : model.RulesOfGroup(group.id)) {
      auto it = values.find(rule);
      if (it != values.end()) points += it->second;
    }
    v1::GroupScore* g = out.add_group_scores();
    g->set_group_id(group.id);
    g->set_score(static_cast<int32_t>(std::lround(points)));
  }
  if (explain.max_contributions == 0) return out;

  std::vector<v1::ScoreContribution> contributions;
  for (const FitRule* rule : fit.matched) {
    v1::ScoreContribution c;
    c.set_rule_id(rule->id);
    c.set_description(rule->description);
    c.set_component(v1::SCORE_COMPONENT_FIT);
    c.set_occurrences(1);
    c.set_raw_points(rule->points);
    c.set_points(rule->points);
    contributions.push_back(std::move(c));
  }
  for (const auto& [id, sum] : state.rules()) {
    v1::ScoreContribution c;
    c.set_rule_id(id);
    c.set_component(v1::SCORE_COMPONENT_ENGAGEMENT);
    if (const EngagementRule* rule = model.FindEngagement(id)) {
      c.set_description(rule->description);
      c.set_group_id(rule->group);
    } else {
      c.set_description("a rule of an earlier model version");
    }
    c.set_occurrences(sum.count());
    c.set_raw_points(sum.raw());
    c.set_points(values[id]);
    c.set_capped(sum.capped());
    if (sum.last_us() != 0)
      *c.mutable_last_activity_time() = ToProtoTime(FromMicros(sum.last_us()));
    if (explain.history != nullptr) {
      for (const stored::StoredActivity& a : *explain.history) {
        if (static_cast<size_t>(c.activities_size()) >= explain.max_activities) break;
        for (const stored::ScoredBy& by : a.scored()) {
          if (by.rule() != id || by.points() == 0) continue;
          v1::ContributingActivity* ca = c.add_activities();
          ca->set_activity_id(a.id());
          ca->set_activity_type(a.type());
          *ca->mutable_occur_time() = ToProtoTime(FromMicros(a.time_us()));
          ca->set_raw_points(by.points());
          ca->set_points(by.decays() ? by.points() * Decay(model, t - FromMicros(a.time_us()))
                                     : by.points());
        }
      }
    }
    contributions.push_back(std::move(c));
  }
  std::stable_sort(contributions.begin(), contributions.end(), [](const auto& a, const auto& b) {
    return std::abs(a.points()) > std::abs(b.points());
  });
  for (size_t i = 0; i < contributions.size() && i < explain.max_contributions; ++i) {
    *out.add_contributions() = std::move(contributions[i]);
  }
  return out;
}

stored::StoredLead Replay(const Model& model, const stored::StoredLead& state,
                          const std::vector<stored::StoredActivity>& history) {
  stored::StoredLead replayed;
  replayed.set_profile(state.profile());
  replayed.set_profile_us(state.profile_us());
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    v1::LeadActivity activity;
    activity.set_activity_id(it->id());
    activity.set_activity_type(it->type());
    *activity.mutable_occur_time() = ToProtoTime(FromMicros(it->time_us()));
    activity.set_campaign_id(it->campaign());
    *activity.mutable_attributes() = it->attributes();
    AddActivity(model, replayed, activity);
  }
  return replayed;
}

Handoff Evaluate(const Model& model, stored::StoredLead& state, absl::Time now) {
  Handoff out;
  out.score = ScoreAt(model, state, now, {.max_contributions = 3});
  out.previous_band =
      state.band() == 0 ? v1::SCORE_BAND_COLD : static_cast<v1::ScoreBand>(state.band());
  out.previous_score = state.score();
  out.band_changed = out.score.band() != out.previous_band;
  state.set_band(out.score.band());
  state.set_score(out.score.score());
  if (out.score.score() < model.mql || out.score.qualified()) return out;
  bool cooling = false;
  for (const stored::Qualification& q : state.qualified()) {
    cooling =
        cooling || (q.handed_off() && now - FromMicros(q.time_us()) < model.requalify_cooldown);
  }
  stored::Qualification* q = state.add_qualified();
  q->set_version(model.version);
  q->set_time_us(Micros(now));
  q->set_handed_off(!cooling);
  out.hand_off = !cooling;
  out.qualified_now = true;
  out.score.set_qualified(true);
  *out.score.mutable_qualify_time() = ToProtoTime(now);
  return out;
}

}  // namespace flywheel::lead_scoring
