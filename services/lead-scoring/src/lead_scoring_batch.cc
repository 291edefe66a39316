// LeadScoring::Apply: a batch of incoming events read, applied in memory and
// written with one round trip to Redis each way per tenant.
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "flywheel/async/when_all.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/events/catalog.h"
#include "lead_scoring.h"

namespace flywheel::lead_scoring {
namespace {

// Read, compute, write: tries before a batch that keeps losing to
// concurrent changes of its leads is left to the consumer's retry.
constexpr int kAttempts = 5;

// One subject's state while the batch is applied to it.
struct Working {
  SubjectRead* read = nullptr;
  // The revision after the events applied so far.
  int64_t revision = 0;
  bool changed = false;
  // A visitor merged into (or linked to) a lead earlier in the batch: its
  // changes went to the lead, and later links of it check nothing.
  bool claimed = false;
  std::vector<std::string_view> seen;
  std::vector<stored::StoredActivity> entries;
  std::vector<VisitorLink> links;
  v1::ScoreBand first_band = v1::SCORE_BAND_UNSPECIFIED;
  std::string first_account;
};

// What one event did, counted once the batch is written.
struct Applied {
  bool activity = true;
  EventOutcome outcome = EventOutcome::kScored;
  bool merged = false;
  std::optional<bool> qualified;  // handed off or not
};

const std::string& TenantOf(const LeadEvent& event) {
  return std::visit([](const auto& e) -> const std::string& { return e.tenant_id(); }, event);
}

}  // namespace

asio::awaitable<std::vector<absl::Status>> LeadScoring::Apply(
    const std::vector<LeadEvent>& events) {
  std::shared_ptr<const Policy> policy = policy_.Get();
  std::vector<absl::Status> statuses(events.size());
  // Tenants in the order they first appear, each with its valid events.
  std::vector<std::pair<const Model*, std::vector<size_t>>> tenants;
  absl::flat_hash_map<std::string_view, size_t> tenant_at;
  for (size_t i = 0; i < events.size(); ++i) {
    const auto* activity = std::get_if<v1::LeadActivity>(&events[i]);
    statuses[i] = activity != nullptr ? CheckActivity(*policy, *activity)
                                      : CheckProfile(*policy, std::get<v1::LeadProfile>(events[i]));
    if (!statuses[i].ok()) {
      if (activity != nullptr) {
        metrics_.Activity(EventOutcome::kRefused);
      } else {
        metrics_.Profile(EventOutcome::kRefused);
      }
      continue;
    }
    const std::string& tenant = TenantOf(events[i]);
    auto [it, added] = tenant_at.try_emplace(tenant, tenants.size());
    if (added) tenants.emplace_back(policy->ModelFor(tenant), std::vector<size_t>{});
    tenants[it->second].second.push_back(i);
  }
  std::vector<asio::awaitable<std::vector<absl::Status>>> runs;
  for (const auto& [model, indexes] : tenants) {
    runs.push_back(ApplyTenant(*model, TenantOf(events[indexes[0]]), events, indexes));
  }
  std::vector<std::vector<absl::Status>> results;
  if (runs.size() == 1) {
    results.push_back(co_await std::move(runs[0]));
  } else if (!runs.empty()) {
    results = co_await async::WhenAll(std::move(runs));
  }
  for (size_t t = 0; t < results.size(); ++t) {
    for (size_t k = 0; k < results[t].size(); ++k) {
      statuses[tenants[t].second[k]] = std::move(results[t][k]);
    }
  }
  co_return statuses;
}

asio::awaitable<std::vector<absl::Status>> LeadScoring::ApplyTenant(
    const Model& model, const std::string& tenant, const std::vector<LeadEvent>& events,
    const std::vector<size_t>& indexes) {
  std::vector<ReadKey> keys;
  keys.reserve(indexes.size());
  for (size_t i : indexes) {
    if (const auto* a = std::get_if<v1::LeadActivity>(&events[i])) {
      keys.push_back({.lead_id = a->lead_id(),
                      .visitor_id = a->anonymous_id(),
                      .activity_id = a->activity_id()});
    } else {
      keys.push_back({.lead_id = std::get<v1::LeadProfile>(events[i]).lead_id()});
    }
  }
  absl::Status failed;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    std::vector<ReadKey> batch_keys = keys;
    absl::StatusOr<BatchRead> read = co_await store_.ReadBatch(tenant, std::move(batch_keys));
    if (!read.ok()) {
      failed = read.status();
      break;
    }
    std::vector<Working> working(read->subjects.size());
    for (size_t s = 0; s < working.size(); ++s) {
      SubjectRead& subject = read->subjects[s];
      working[s] = {.read = &subject,
                    .revision = subject.revision,
                    .first_band = static_cast<v1::ScoreBand>(subject.state.band()),
                    .first_account = subject.state.indexed_account()};
    }
    const absl::Time now = clock_.Now();
    std::vector<Applied> applied(indexes.size());
    std::vector<kafka::OutgoingEvent> outgoing;
    for (size_t k = 0; k < indexes.size(); ++k) {
      const LeadEvent& event = events[indexes[k]];
      const BatchRead::Event& at = read->events[k];
      Working& w = working[at.subject];
      stored::StoredLead& state = w.read->state;
      std::string_view cause;
      if (const auto* activity = std::get_if<v1::LeadActivity>(&event)) {
        if (at.seen) {
          applied[k].outcome = EventOutcome::kDuplicate;
          continue;
        }
        if (at.visitor != SIZE_MAX && !activity->lead_id().empty()) {
          Working& v = working[at.visitor];
          if (v.claimed) {
            w.links.push_back({.visitor = activity->anonymous_id(), .expected_revision = -1});
          } else {
            w.links.push_back(
                {.visitor = activity->anonymous_id(), .expected_revision = v.read->revision});
            if (v.read->revision > 0 || v.changed) {
              MergeInto(model, state, v.read->state);
              w.seen.insert(w.seen.end(), v.seen.begin(), v.seen.end());
              std::move(v.entries.begin(), v.entries.end(), std::back_inserter(w.entries));
              applied[k].merged = true;
            }
            v.claimed = true;
          }
        }
        w.entries.push_back(AddActivity(model, state, *activity));
        w.seen.push_back(activity->activity_id());
        cause = activity->activity_id();
      } else {
        const v1::LeadProfile& profile = std::get<v1::LeadProfile>(event);
        applied[k].activity = false;
        const int64_t update_us = profile.has_update_time()
                                      ? absl::ToUnixMicros(FromProtoTime(profile.update_time()))
                                      : 0;
        if (!state.profile().empty() && update_us < state.profile_us()) {
          applied[k].outcome = EventOutcome::kStale;
          continue;
        }
        state.set_profile(profile.SerializeAsString());
        state.set_profile_us(update_us);
      }
      w.changed = true;
      ++w.revision;
      if (w.read->subject.visitor) continue;
      const Handoff handoff = Evaluate(model, state, now);
      std::vector<kafka::OutgoingEvent> caused = HandoffEvents(
          tenant, w.read->subject.id, model, handoff, state, w.revision, std::string(cause));
      std::move(caused.begin(), caused.end(), std::back_inserter(outgoing));
      if (handoff.qualified_now) applied[k].qualified = handoff.hand_off;
    }
    std::vector<SubjectChange> changes;
    for (Working& w : working) {
      // A claimed visitor's changes went to its lead.
      if (!w.changed || (w.claimed && w.read->subject.visitor)) continue;
      SubjectChange& c = changes.emplace_back();
      c.subject = w.read->subject;
      c.expected_revision = w.read->revision;
      c.revision = w.revision;
      c.seen = std::move(w.seen);
      c.entries = std::move(w.entries);
      c.links = std::move(w.links);
      if (!c.subject.visitor) {
        c.previous_band = w.first_band;
        c.band = static_cast<v1::ScoreBand>(w.read->state.band());
        c.score = w.read->state.score();
        c.previous_account = std::move(w.first_account);
        c.account = ProfileOf(w.read->state).account_id();
        w.read->state.set_indexed_account(c.account);
      }
      c.state = std::move(w.read->state);
    }
    size_t band_changes = 0;
    for (const kafka::OutgoingEvent& e : outgoing) band_changes += e.type == events::kLeadScored;
    absl::StatusOr<bool> written = true;
    if (!changes.empty()) {
      written = co_await store_.CommitBatch(tenant, std::move(changes), std::move(outgoing));
    }
    if (!written.ok()) {
      failed = written.status();
      break;
    }
    if (!*written) {
      metrics_.WriteConflict();
      continue;
    }
    for (size_t n = 0; n < band_changes; ++n) metrics_.BandChanged();
    for (size_t k = 0; k < indexes.size(); ++k) {
      const Applied& a = applied[k];
      if (a.activity) {
        metrics_.Activity(a.outcome);
      } else {
        metrics_.Profile(a.outcome);
      }
      if (a.merged) metrics_.VisitorMerged();
      if (a.qualified) metrics_.Qualified(*a.qualified);
    }
    co_return std::vector<absl::Status>(indexes.size());
  }
  if (failed.ok()) {
    failed = absl::AbortedError(absl::StrCat("leads of tenant ", tenant,
                                             " kept changing while a batch of ", indexes.size(),
                                             " events was applied"));
  }
  co_return std::vector<absl::Status>(indexes.size(), failed);
}

}  // namespace flywheel::lead_scoring
