#include "policy.h"

namespace flywheel::lead_scoring {

const EngagementRule* Model::FindEngagement(const std::string& id) const {
  for (const EngagementRule& rule : engagement) {
    if (rule.id == id) return &rule;
  }
  return nullptr;
}

std::set<std::string> Model::RulesOfGroup(const std::string& group) const {
  std::set<std::string> groups_seen;
  std::vector<std::string> pending = {group};
  while (!pending.empty()) {
    std::string g = std::move(pending.back());
    pending.pop_back();
    if (!groups_seen.insert(g).second) continue;
    for (const ScoreGroup& spec : groups) {
      if (spec.id == g) pending.insert(pending.end(), spec.includes.begin(), spec.includes.end());
    }
  }
  std::set<std::string> rules;
  for (const EngagementRule& rule : engagement) {
    if (groups_seen.contains(rule.group)) rules.insert(rule.id);
  }
  return rules;
}

v1::ScoreBand Model::BandOf(int score) const {
  if (score >= sql_ready) return v1::SCORE_BAND_SQL_READY;
  if (score >= mql) return v1::SCORE_BAND_MQL;
  return v1::SCORE_BAND_COLD;
}

v1::FitGrade Model::GradeOf(int fit_points) const {
  if (fit_points >= grade_a) return v1::FIT_GRADE_A;
  if (fit_points >= grade_b) return v1::FIT_GRADE_B;
  if (fit_points >= grade_c) return v1::FIT_GRADE_C;
  return v1::FIT_GRADE_D;
}

const Model* Policy::ModelFor(const std::string& tenant) const {
  auto it = tenants.find(tenant);
  return it == tenants.end() ? nullptr : &it->second;
}

}  // namespace flywheel::lead_scoring
