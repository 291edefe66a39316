#pragma once

#include <cstddef>
#include <vector>

#include "absl/time/time.h"
#include "flywheel/leadscoring/v1/events.pb.h"
#include "flywheel/leadscoring/v1/resources.pb.h"
#include "policy.h"
#include "stored_lead.pb.h"

/// The arithmetic of a score, pure and exact: engagement kept as decayed
/// sums at one reference time per lead, so a score at any later instant is
/// sum p_i * 2^(-(t - t_i) / half_life) without revisiting the activities;
/// caps per period; fit from the profile; the band, the grade, the groups
/// and the explanation. No I/O; any thread.
namespace flywheel::lead_scoring {

/// Whether `rule` counts `activity`: its type, and every pattern the rule
/// gives (fnmatch globs over attributes["url"], campaign_id and the named
/// attributes).
bool Matches(const EngagementRule& rule, const v1::LeadActivity& activity);

/// Adds `activity` to `state`: every engagement rule of `model` that
/// matches it scores it, unless the rule's cap for the activity's period is
/// full (then the rule counts it as capped). Returns the history entry
/// saying what each rule gave. Activities may come in any order; the sums
/// stay exact.
stored::StoredActivity AddActivity(const Model& model, stored::StoredLead& state,
                                   const v1::LeadActivity& activity);

/// Adds an anonymous visitor's engagement (`from`) to a lead's (`into`):
/// sums rescaled to one reference time, counts and cap periods added.
/// `into` keeps its own profile and qualifications.
void MergeInto(const Model& model, stored::StoredLead& into, const stored::StoredLead& from);

/// The fit rules `profile` meets and the sum of their points.
struct Fit {
  int points = 0;
  std::vector<const FitRule*> matched;
};
Fit ScoreFit(const Model& model, const v1::LeadProfile& profile);

/// What `ScoreAt` explains.
struct Explain {
  /// The most contributions to list, largest absolute points first; 0: none.
  size_t max_contributions = 0;
  /// The lead's history, newest first, for the activities behind each
  /// contribution; may be null.
  const std::vector<stored::StoredActivity>* history = nullptr;
  /// The most activities listed per contribution.
  size_t max_activities = 10;
};

/// The lead's score at `t` (at or after its latest activity) under
/// `model`; tenant and lead ids are left for the caller to set.
v1::LeadScore ScoreAt(const Model& model, const stored::StoredLead& state, absl::Time t,
                      const Explain& explain = {});

/// The state `model` would have built from `history` (newest first, as
/// kept) and the profile held in `state`: what a Backtest compares.
stored::StoredLead Replay(const Model& model, const stored::StoredLead& state,
                          const std::vector<stored::StoredActivity>& history);

/// What a change to a lead's state means for the hand-off.
struct Handoff {
  /// The score after the change, with its top reasons.
  v1::LeadScore score;
  v1::ScoreBand previous_band = v1::SCORE_BAND_COLD;
  int previous_score = 0;
  /// The band changed (a new lead starts cold): publish lead.scored.
  bool band_changed = false;
  /// The lead crossed MQL for the first time under this model version and
  /// was not handed over within the cool-down: publish lead.qualified.
  bool hand_off = false;
  /// The lead qualified under this model version with this change (handed
  /// off or, within the cool-down, not).
  bool qualified_now = false;
};

/// Scores `state` at `now` and records the outcome in it (band, score, a
/// qualification under the model's version once it reaches MQL). A lead
/// qualifies once per model version whatever its score does afterwards; a
/// qualification within `requalify_cooldown` of an earlier hand-off (under
/// another version) is recorded without a hand-off.
Handoff Evaluate(const Model& model, stored::StoredLead& state, absl::Time now);

/// The profile held in `state`; empty when none arrived.
v1::LeadProfile ProfileOf(const stored::StoredLead& state);

}  // namespace flywheel::lead_scoring
