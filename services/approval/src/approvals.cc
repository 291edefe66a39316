#include "approvals.h"

#include <map>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "audit.h"
#include "chain_audit.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/core/id.h"
#include "flywheel/core/page_token.h"
#include "flywheel/core/proto_enums.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/core/status.h"
#include "flywheel/log/log.h"
#include "inbox.h"

namespace flywheel::approval {
namespace {

// How often a change other than a decision re-reads and retries after
// another change of the same chain won the race.
constexpr int kRetryAttempts = 5;
// How often a change waits for an earlier change's events to be published
// before it gives up (the broker is down).
constexpr int kMaxDrains = 3;
// How many entries one read of the trail fetches.
constexpr size_t kAuditChunk = 1000;
// Who the audit names for what the services do.
constexpr char kRoutingActor[] = "flywheel-routing";
constexpr char kSchedulerActor[] = "flywheel-scheduler";
constexpr char kSystemActor[] = "flywheel-approval";

absl::Status StoreDown(const absl::Status& cause) {
  log::Error("approval store failed", {{"error", cause.ToString()}});
  return absl::UnavailableError("the approval store is unavailable; retry");
}

absl::Status NoChain(const std::string& request_id) {
  return absl::NotFoundError(absl::StrCat("request '", request_id, "' has no approval chain"));
}

// The tenant and request every call names.
absl::Status CheckNames(const std::string& tenant_id, const std::string& request_id) {
  FieldErrors errors;
  if (tenant_id.empty()) errors.Add("tenant_id", "is required");
  if (request_id.empty()) errors.Add("request_id", "is required");
  return errors.ToStatus();
}

bool IsLowerHexSha256(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

std::string CodeName(const absl::Status& status) {
  return absl::AsciiStrToLower(absl::StatusCodeToString(status.code()));
}

v1::AuditEntry ServiceEntry(const std::string& tenant_id, const std::string& request_id,
                            const std::string& actor, v1::AuditAction action, uint32_t version,
                            std::string detail, absl::Time now) {
  v1::AuditEntry e;
  e.set_tenant_id(tenant_id);
  e.set_request_id(request_id);
  *e.mutable_time() = ToProtoTime(now);
  e.set_actor_id(actor);
  e.set_action(action);
  e.set_version(version);
  e.set_detail(std::move(detail));
  return e;
}

// The number a page token of `query` resumes after; `start` without a token.
template <typename Number>
absl::StatusOr<Number> NumberCursor(const google::protobuf::Message& query,
                                    const std::string& token, absl::Time now, Number start) {
  if (token.empty()) return start;
  FLYWHEEL_ASSIGN_OR_RETURN(std::string cursor, DecodePageToken(token, query, now));
  Number n = 0;
  if (!absl::SimpleAtoi(cursor, &n)) return absl::InvalidArgumentError("page_token: malformed");
  return n;
}

}  // namespace

Approvals::Approvals(ApprovalTopics topics, const PolicyHolder& policy, ApprovalStore& store,
                     outbox::Outbox& outbox, ApprovalMetrics& metrics, const Clock& clock)
    : topics_(std::move(topics)),
      policy_(policy),
      store_(store),
      outbox_(outbox),
      metrics_(metrics),
      clock_(clock) {}

asio::awaitable<void> Approvals::Announce(const std::string& tenant_id,
                                          std::vector<kafka::OutgoingEvent> events) {
  if (events.empty()) co_return;
  // Stored with the change, so never lost: the relay publishes what the
  // broker refuses now, and the call still succeeds.
  if (absl::Status published = co_await outbox_.Published(tenant_id, std::move(events));
      !published.ok()) {
    log::Warn("change stored, its events are left to the outbox relay",
              {{"tenant", tenant_id}, {"error", published.ToString()}});
  }
}

void Approvals::CountFacts(const Facts& facts) {
  for (const Fact& fact : facts) {
    if (const auto* c = std::get_if<ChainCompleted>(&fact)) {
      metrics_.CountChain(ShortEnumName(c->status));
    } else if (std::holds_alternative<ChangesRequested>(fact)) {
      metrics_.CountChain("changes_requested");
    } else if (std::holds_alternative<Escalated>(fact)) {
      metrics_.CountChain("escalated");
    }
  }
}

asio::awaitable<absl::StatusOr<ApprovalRecord>> Approvals::Load(const std::string& tenant_id,
                                                                const std::string& request_id) {
  auto record = co_await store_.Read(tenant_id, request_id);
  if (!record.ok()) {
    co_return record.status().code() == absl::StatusCode::kDataLoss ? record.status()
                                                                    : StoreDown(record.status());
  }
  if (!record->has_value()) co_return NoChain(request_id);
  co_return **std::move(record);
}

asio::awaitable<absl::StatusOr<Approvals::Applied>> Approvals::Apply(const std::string& tenant_id,
                                                                     const std::string& request_id,
                                                                     const std::string& actor,
                                                                     int attempts,
                                                                     const Operation& operation) {
  int drains = 0;
  for (int attempt = 1;; ++attempt) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(ApprovalRecord record, co_await Load(tenant_id, request_id));
    FLYWHEEL_CO_ASSIGN_OR_RETURN(Chain chain, Chain::FromProto(record.chain));
    const absl::Time now = clock_.Now();
    FLYWHEEL_CO_ASSIGN_OR_RETURN(Change change, operation(chain, record, now));
    if (change.facts.empty() && change.audit.empty() && !change.version &&
        change.comments.empty()) {
      co_return Applied{record.chain, std::move(change)};
    }

    ApprovalWrite write;
    write.tenant_id = tenant_id;
    write.request_id = request_id;
    write.expected_revision = record.revision;
    write.chain = chain.proto();
    write.chain.set_revision(record.revision + 1);
    std::vector<v1::AuditEntry> entries = std::move(change.audit);
    for (v1::AuditEntry& e : AuditEntriesFor(write.chain, change.facts, actor, now)) {
      entries.push_back(std::move(e));
    }
    const v1::AuditEntry* last = record.last_audit ? &*record.last_audit : nullptr;
    for (v1::AuditEntry& e : entries) {
      write.audit.push_back(Seal(std::move(e), last));
      last = &write.audit.back();
    }
    write.version = change.version;
    write.comments = change.comments;
    InboxChange inbox = DiffInbox(InboxLines(record.chain), InboxLines(write.chain));
    write.inbox_add = std::move(inbox.add);
    write.inbox_remove = std::move(inbox.remove);
    write.events = std::move(change.events);
    for (kafka::OutgoingEvent& e :
         EventsFor(write.chain, change.facts, topics_,
                   absl::StrCat("evt_approval_", request_id, "_r", record.revision + 1), now)) {
      write.events.push_back(std::move(e));
    }

    auto outcome = co_await store_.Write(write);
    if (!outcome.ok()) co_return StoreDown(outcome.status());
    if (*outcome == ApprovalStore::WriteOutcome::kWritten) {
      CountFacts(change.facts);
      co_await Announce(tenant_id, std::move(write.events));
      co_return Applied{std::move(write.chain), std::move(change)};
    }
    if (*outcome == ApprovalStore::WriteOutcome::kOutboxPending && drains < kMaxDrains) {
      // An earlier change's events wait in the outbox: send them first, so
      // this change's cannot overtake them, and try again.
      ++drains;
      --attempt;
      if (absl::Status drained = co_await outbox_.Drained(tenant_id); !drained.ok()) {
        co_return absl::UnavailableError("earlier events of this request could not be published; " +
                                         drained.ToString());
      }
      continue;
    }
    if (attempt >= attempts) {
      co_return absl::AbortedError(absl::StrCat(
          "the approval chain of request ", request_id,
          " changed while this change was made (another change won); read it and retry"));
    }
  }
}

// ---- Events taken in --------------------------------------------------------

asio::awaitable<absl::Status> Approvals::Open(const routing::v1::RequestRouted& routed) {
  FLYWHEEL_CO_RETURN_IF_ERROR(CheckNames(routed.tenant_id(), routed.request_id()));
  const std::shared_ptr<const Policy> policy = policy_.Get();
  const TenantSpec* tenant = policy->FindTenant(routed.tenant_id());
  if (tenant == nullptr) {
    co_return absl::InvalidArgumentError(
        absl::StrCat("tenant '", routed.tenant_id(), "' is not in the approval policy"));
  }
  const ChainSpec* spec = policy->FindChain(routed.tenant_id(), routed.approval_policy_id());
  if (spec == nullptr) {
    co_return absl::InvalidArgumentError(
        absl::StrCat("approval policy '", routed.approval_policy_id(),
                     "' is not defined for tenant '", routed.tenant_id(), "'"));
  }
  auto existing = co_await store_.Read(routed.tenant_id(), routed.request_id());
  if (!existing.ok()) co_return StoreDown(existing.status());
  if (existing->has_value()) co_return absl::OkStatus();  // a redelivery

  const absl::Time now = clock_.Now();
  auto [chain, facts] =
      Chain::Build(*tenant, *spec, TenantId(routed.tenant_id()), RequestId(routed.request_id()),
                   routed.approval_tier(), /*version=*/0, now);
  ApprovalWrite write;
  write.tenant_id = routed.tenant_id();
  write.request_id = routed.request_id();
  write.expected_revision = 0;
  write.chain = chain.proto();
  write.chain.set_revision(1);
  size_t steps = write.chain.steps_size();
  std::vector<v1::AuditEntry> entries;
  entries.push_back(ServiceEntry(
      routed.tenant_id(), routed.request_id(), kRoutingActor, v1::AUDIT_ACTION_CHAIN_CREATED, 0,
      absl::StrCat("policy ", spec->id, ", ", ShortEnumName(routed.approval_tier()), ", ", steps,
                   " step(s) in ", spec->stages.size(), " stage(s)"),
      now));
  for (v1::AuditEntry& e : AuditEntriesFor(write.chain, facts, kSystemActor, now)) {
    entries.push_back(std::move(e));
  }
  const v1::AuditEntry* last = nullptr;
  for (v1::AuditEntry& e : entries) {
    write.audit.push_back(Seal(std::move(e), last));
    last = &write.audit.back();
  }
  write.inbox_add = InboxLines(write.chain);
  write.events = EventsFor(write.chain, facts, topics_,
                           absl::StrCat("evt_approval_", routed.request_id(), "_r1"), now);
  auto outcome = co_await store_.Write(write);
  if (!outcome.ok()) co_return StoreDown(outcome.status());
  if (*outcome == ApprovalStore::WriteOutcome::kStale)
    co_return absl::OkStatus();  // built meanwhile
  if (*outcome == ApprovalStore::WriteOutcome::kOutboxPending) {
    co_return absl::AbortedError("earlier events of this request are still in the outbox");
  }
  metrics_.CountChain("created");
  CountFacts(facts);
  log::Info("approval chain built", {{"request_id", routed.request_id()},
                                     {"policy", spec->id},
                                     {"status", ShortEnumName(write.chain.status())}});
  co_await Announce(routed.tenant_id(), std::move(write.events));
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> Approvals::Escalate(const scheduler::v1::SlaBreached& breached) {
  if (breached.kind() != common::v1::TIMER_KIND_APPROVAL_STEP || breached.escalation_level() != 0) {
    co_return absl::OkStatus();  // not a step's first breach
  }
  FLYWHEEL_CO_RETURN_IF_ERROR(CheckNames(breached.tenant_id(), breached.request_id()));
  // <request_id>/approval/<step_id>/<round>
  const std::vector<std::string> parts = absl::StrSplit(breached.timer_id(), '/');
  uint32_t round = 0;
  if (parts.size() != 4 || parts[0] != breached.request_id() || parts[1] != "approval" ||
      !absl::SimpleAtoi(parts[3], &round)) {
    co_return absl::InvalidArgumentError(
        absl::StrCat("timer '", breached.timer_id(), "' is not an approval step's timer"));
  }
  const std::string step_id = parts[2];
  auto applied = co_await Apply(
      breached.tenant_id(), breached.request_id(), kSchedulerActor, kRetryAttempts,
      [&](Chain& chain, const ApprovalRecord&, absl::Time now) -> absl::StatusOr<Change> {
        Change change;
        if (chain.proto().round() != round) return change;  // a round that is over
        auto facts = chain.Escalate(step_id, now);
        if (!facts.ok()) {
          // Lost the race with a decision, or nobody to escalate to.
          if (facts.status().code() == absl::StatusCode::kFailedPrecondition) return change;
          return facts.status();
        }
        change.facts = *std::move(facts);
        return change;
      });
  if (!applied.ok() && applied.status().code() == absl::StatusCode::kNotFound) {
    co_return absl::InvalidArgumentError(applied.status().message());
  }
  co_return applied.status();
}

asio::awaitable<absl::Status> Approvals::CancelChain(const std::string& tenant_id,
                                                     const std::string& request_id) {
  FLYWHEEL_CO_RETURN_IF_ERROR(CheckNames(tenant_id, request_id));
  auto applied = co_await Apply(
      tenant_id, request_id, kRoutingActor, kRetryAttempts,
      [](Chain& chain, const ApprovalRecord&, absl::Time now) -> absl::StatusOr<Change> {
        Change change;
        auto facts = chain.Cancel(now);
        if (!facts.ok()) {
          // Approved or rejected already: the outcome stands.
          if (facts.status().code() == absl::StatusCode::kFailedPrecondition) return change;
          return facts.status();
        }
        change.facts = *std::move(facts);
        return change;
      });
  if (!applied.ok() && applied.status().code() == absl::StatusCode::kNotFound) {
    co_return absl::OkStatus();  // nothing to cancel
  }
  co_return applied.status();
}

// ---- Calls --------------------------------------------------------------------

asio::awaitable<absl::StatusOr<v1::GetChainResponse>> Approvals::GetChain(
    const v1::GetChainRequest& request) {
  FLYWHEEL_CO_RETURN_IF_ERROR(CheckNames(request.tenant_id(), request.request_id()));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(ApprovalRecord record,
                               co_await Load(request.tenant_id(), request.request_id()));
  v1::GetChainResponse response;
  *response.mutable_chain() = std::move(record.chain);
  co_return response;
}

asio::awaitable<absl::StatusOr<v1::DecideResponse>> Approvals::Decide(
    const std::string& actor, const v1::DecideRequest& request) {
  const std::string decision_label =
      v1::Decision_IsValid(request.decision()) ? ShortEnumName(request.decision()) : "unknown";
  FieldErrors errors;
  if (request.tenant_id().empty()) errors.Add("tenant_id", "is required");
  if (request.request_id().empty()) errors.Add("request_id", "is required");
  if (request.step_id().empty()) errors.Add("step_id", "is required");
  if (request.decision() == v1::DECISION_UNSPECIFIED || !v1::Decision_IsValid(request.decision())) {
    errors.Add("decision", "must be approve, reject or request_changes");
  }
  if (request.version() == 0) errors.Add("version", "is required: the version decided on");
  if (request.comment().size() > kMaxCommentBytes) {
    errors.Add("comment", absl::StrCat("is ", request.comment().size(), " bytes; at most ",
                                       kMaxCommentBytes, " are allowed"));
  }
  if (!errors.empty()) {
    metrics_.CountDecision(decision_label, "invalid_argument");
    co_return errors.ToStatus();
  }
  auto applied = co_await Apply(
      request.tenant_id(), request.request_id(), actor, /*attempts=*/1,
      [&](Chain& chain, const ApprovalRecord& record, absl::Time now) -> absl::StatusOr<Change> {
        DecisionInput input{.decision = request.decision(),
                            .comment = request.comment(),
                            .unresolved_comments = record.unresolved_comments};
        FLYWHEEL_ASSIGN_OR_RETURN(Facts facts, chain.Decide(UserId(actor), request.step_id(), input,
                                                            request.version(), now));
        Change change;
        change.facts = std::move(facts);
        return change;
      });
  if (!applied.ok()) {
    metrics_.CountDecision(decision_label, CodeName(applied.status()));
    co_return applied.status();
  }
  metrics_.CountDecision(decision_label, applied->change.facts.empty() ? "unchanged" : "recorded");
  v1::DecideResponse response;
  *response.mutable_chain() = std::move(applied->chain);
  co_return response;
}

asio::awaitable<absl::StatusOr<v1::SubmitVersionResponse>> Approvals::SubmitVersion(
    const std::string& actor, const v1::SubmitVersionRequest& request) {
  FieldErrors errors;
  if (request.tenant_id().empty()) errors.Add("tenant_id", "is required");
  if (request.request_id().empty()) errors.Add("request_id", "is required");
  if (request.asset_uri().empty()) errors.Add("asset_uri", "is required");
  if (request.asset_uri().size() > 4096) errors.Add("asset_uri", "is longer than 4096 bytes");
  if (!IsLowerHexSha256(request.content_sha256())) {
    errors.Add("content_sha256", "must be the content's SHA-256 as 64 lower-case hex digits");
  }
  if (request.size_bytes() < 0) errors.Add("size_bytes", "must not be negative");
  if (request.change_note().size() > kMaxCommentBytes) {
    errors.Add("change_note", absl::StrCat("is longer than ", kMaxCommentBytes, " bytes"));
  }
  FLYWHEEL_CO_RETURN_IF_ERROR(errors.ToStatus());

  // The same content as the latest version is that version again.
  auto latest = co_await store_.ListVersions(request.tenant_id(), request.request_id(), 0, 1);
  if (!latest.ok()) co_return StoreDown(latest.status());
  if (!latest->empty() && latest->front().content_sha256() == request.content_sha256()) {
    v1::SubmitVersionResponse response;
    *response.mutable_version() = latest->front();
    co_return response;
  }

  auto applied = co_await Apply(
      request.tenant_id(), request.request_id(), actor, kRetryAttempts,
      [&](Chain& chain, const ApprovalRecord& record, absl::Time now) -> absl::StatusOr<Change> {
        const uint32_t number = record.latest_version + 1;
        FLYWHEEL_ASSIGN_OR_RETURN(Facts facts, chain.SubmitVersion(number, now));
        v1::AssetVersion version;
        version.set_tenant_id(request.tenant_id());
        version.set_request_id(request.request_id());
        version.set_version(number);
        version.set_asset_uri(request.asset_uri());
        version.set_content_sha256(request.content_sha256());
        version.set_media_type(request.media_type());
        version.set_size_bytes(request.size_bytes());
        version.set_submitter_id(actor);
        version.set_change_note(request.change_note());
        *version.mutable_submit_time() = ToProtoTime(now);
        Change change;
        change.audit.push_back(ServiceEntry(
            request.tenant_id(), request.request_id(), actor, v1::AUDIT_ACTION_VERSION_SUBMITTED,
            number,
            absl::StrCat(request.asset_uri(), " sha256:", request.content_sha256(),
                         request.change_note().empty() ? "" : " — ", request.change_note()),
            now));
        change.events.push_back(VersionSubmittedEvent(
            version, chain.proto().round(), topics_,
            absl::StrCat("evt_approval_", request.request_id(), "_v", number), now));
        change.facts = std::move(facts);
        change.version = std::move(version);
        return change;
      });
  FLYWHEEL_CO_RETURN_IF_ERROR(applied.status());
  v1::SubmitVersionResponse response;
  *response.mutable_version() = *applied->change.version;
  co_return response;
}

asio::awaitable<absl::StatusOr<v1::ListVersionsResponse>> Approvals::ListVersions(
    const v1::ListVersionsRequest& request) {
  FLYWHEEL_CO_RETURN_IF_ERROR(CheckNames(request.tenant_id(), request.request_id()));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(size_t size, PageSizeOf(request.page_size()));
  const absl::Time now = clock_.Now();
  FLYWHEEL_CO_ASSIGN_OR_RETURN(const uint32_t before,
                               NumberCursor<uint32_t>(request, request.page_token(), now, 0));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(ApprovalRecord record,
                               co_await Load(request.tenant_id(), request.request_id()));
  (void)record;  // the chain must exist; its versions are read next
  auto versions =
      co_await store_.ListVersions(request.tenant_id(), request.request_id(), before, size);
  if (!versions.ok()) co_return StoreDown(versions.status());
  v1::ListVersionsResponse response;
  for (v1::AssetVersion& v : *versions) *response.add_versions() = std::move(v);
  if (response.versions_size() == static_cast<int>(size) &&
      response.versions(response.versions_size() - 1).version() > 1) {
    response.set_next_page_token(EncodePageToken(
        request, now, absl::StrCat(response.versions(response.versions_size() - 1).version())));
  }
  co_return response;
}

asio::awaitable<absl::StatusOr<v1::AddCommentResponse>> Approvals::AddComment(
    const std::string& actor, const v1::AddCommentRequest& request) {
  const v1::Comment& in = request.comment();
  FieldErrors errors;
  if (in.tenant_id().empty()) errors.Add("comment.tenant_id", "is required");
  if (in.request_id().empty()) errors.Add("comment.request_id", "is required");
  if (in.body().empty()) errors.Add("comment.body", "is required");
  if (in.body().size() > kMaxCommentBodyBytes) {
    errors.Add("comment.body", absl::StrCat("is ", in.body().size(), " bytes; at most ",
                                            kMaxCommentBodyBytes, " are allowed"));
  }
  if (in.anchor().size() > kMaxAnchorBytes) {
    errors.Add("comment.anchor", absl::StrCat("is longer than ", kMaxAnchorBytes, " bytes"));
  }
  FLYWHEEL_CO_RETURN_IF_ERROR(errors.ToStatus());
  if (!in.parent_comment_id().empty()) {
    auto parent =
        co_await store_.GetComment(in.tenant_id(), in.request_id(), in.parent_comment_id());
    if (!parent.ok()) co_return StoreDown(parent.status());
    if (!parent->has_value()) {
      co_return absl::NotFoundError(absl::StrCat("comment.parent_comment_id: no comment '",
                                                 in.parent_comment_id(), "' on request '",
                                                 in.request_id(), "'"));
    }
  }
  const std::string comment_id = NewRandomId("cmt");
  auto applied = co_await Apply(
      in.tenant_id(), in.request_id(), actor, kRetryAttempts,
      [&](Chain& chain, const ApprovalRecord& record, absl::Time now) -> absl::StatusOr<Change> {
        const uint32_t version = in.version() == 0 ? chain.proto().current_version() : in.version();
        if (version > record.latest_version) {
          return absl::FailedPreconditionError(
              absl::StrCat("comment.version: version ", version,
                           " does not exist; the current version is ", record.latest_version));
        }
        v1::Comment comment = in;
        comment.set_comment_id(comment_id);
        comment.set_version(version);
        comment.set_author_id(actor);
        comment.set_resolved(false);
        *comment.mutable_create_time() = ToProtoTime(now);
        Change change;
        std::string detail = comment_id;
        if (!comment.anchor().empty()) absl::StrAppend(&detail, " at ", comment.anchor());
        if (!comment.parent_comment_id().empty()) {
          absl::StrAppend(&detail, " in reply to ", comment.parent_comment_id());
        }
        change.audit.push_back(ServiceEntry(in.tenant_id(), in.request_id(), actor,
                                            v1::AUDIT_ACTION_COMMENT_ADDED, version,
                                            std::move(detail), now));
        change.comments.push_back(std::move(comment));
        return change;
      });
  FLYWHEEL_CO_RETURN_IF_ERROR(applied.status());
  v1::AddCommentResponse response;
  *response.mutable_comment() = applied->change.comments.front();
  co_return response;
}

asio::awaitable<absl::StatusOr<v1::ListCommentsResponse>> Approvals::ListComments(
    const v1::ListCommentsRequest& request) {
  FLYWHEEL_CO_RETURN_IF_ERROR(CheckNames(request.tenant_id(), request.request_id()));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(size_t size, PageSizeOf(request.page_size()));
  const absl::Time now = clock_.Now();
  std::string after;
  if (!request.page_token().empty()) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(after, DecodePageToken(request.page_token(), request, now));
  }
  FLYWHEEL_CO_RETURN_IF_ERROR((co_await Load(request.tenant_id(), request.request_id())).status());
  v1::ListCommentsResponse response;
  // Filters may skip comments; read on until the page is full or the
  // comments end.
  for (;;) {
    auto comments =
        co_await store_.ListComments(request.tenant_id(), request.request_id(), after, size);
    if (!comments.ok()) co_return StoreDown(comments.status());
    for (v1::Comment& c : *comments) {
      after = c.comment_id();
      if (request.version() != 0 && c.version() != request.version()) continue;
      if (request.unresolved_only() && c.resolved()) continue;
      *response.add_comments() = std::move(c);
      if (response.comments_size() == static_cast<int>(size)) break;
    }
    if (response.comments_size() == static_cast<int>(size)) {
      response.set_next_page_token(EncodePageToken(request, now, after));
      break;
    }
    if (comments->size() < size) break;
  }
  co_return response;
}

asio::awaitable<absl::StatusOr<v1::ResolveCommentResponse>> Approvals::ResolveComment(
    const std::string& actor, const v1::ResolveCommentRequest& request) {
  FLYWHEEL_CO_RETURN_IF_ERROR(CheckNames(request.tenant_id(), request.request_id()));
  if (request.comment_id().empty()) {
    FieldErrors errors;
    errors.Add("comment_id", "is required");
    co_return errors.ToStatus();
  }
  for (int attempt = 1;; ++attempt) {
    auto stored =
        co_await store_.GetComment(request.tenant_id(), request.request_id(), request.comment_id());
    if (!stored.ok()) co_return StoreDown(stored.status());
    if (!stored->has_value()) {
      co_return absl::NotFoundError(absl::StrCat("no comment '", request.comment_id(),
                                                 "' on request '", request.request_id(), "'"));
    }
    v1::ResolveCommentResponse response;
    *response.mutable_comment() = **stored;
    if (response.comment().resolved()) co_return response;
    response.mutable_comment()->set_resolved(true);
    auto applied = co_await Apply(
        request.tenant_id(), request.request_id(), actor, /*attempts=*/1,
        [&](Chain&, const ApprovalRecord&, absl::Time now) -> absl::StatusOr<Change> {
          Change change;
          change.audit.push_back(ServiceEntry(
              request.tenant_id(), request.request_id(), actor, v1::AUDIT_ACTION_COMMENT_RESOLVED,
              response.comment().version(), response.comment().comment_id(), now));
          change.comments.push_back(response.comment());
          return change;
        });
    if (applied.ok()) co_return response;
    // Another change came first: read the comment again (someone else may
    // have resolved it).
    if (applied.status().code() != absl::StatusCode::kAborted || attempt >= kRetryAttempts) {
      co_return applied.status();
    }
  }
}

asio::awaitable<absl::StatusOr<std::vector<v1::AuditEntry>>> Approvals::WholeTrail(
    const std::string& tenant_id, const std::string& request_id) {
  std::vector<v1::AuditEntry> trail;
  for (;;) {
    const uint64_t after = trail.empty() ? 0 : trail.back().sequence();
    auto chunk = co_await store_.ListAudit(tenant_id, request_id, after, kAuditChunk);
    if (!chunk.ok()) co_return StoreDown(chunk.status());
    const size_t got = chunk->size();
    for (v1::AuditEntry& e : *chunk) trail.push_back(std::move(e));
    if (got < kAuditChunk) break;
  }
  co_return trail;
}

asio::awaitable<absl::StatusOr<v1::ListAuditEntriesResponse>> Approvals::ListAuditEntries(
    const v1::ListAuditEntriesRequest& request) {
  FLYWHEEL_CO_RETURN_IF_ERROR(CheckNames(request.tenant_id(), request.request_id()));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(size_t size, PageSizeOf(request.page_size()));
  const absl::Time now = clock_.Now();
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      const uint64_t after,
      NumberCursor<uint64_t>(request, request.page_token(), now, request.after_sequence()));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(ApprovalRecord record,
                               co_await Load(request.tenant_id(), request.request_id()));
  auto entries = co_await store_.ListAudit(request.tenant_id(), request.request_id(), after, size);
  if (!entries.ok()) co_return StoreDown(entries.status());
  v1::ListAuditEntriesResponse response;
  for (v1::AuditEntry& e : *entries) *response.add_entries() = std::move(e);
  if (response.entries_size() == static_cast<int>(size)) {
    const uint64_t last = response.entries(response.entries_size() - 1).sequence();
    if (last < record.audit_count) {
      response.set_next_page_token(EncodePageToken(request, now, absl::StrCat(last)));
    }
  }
  co_return response;
}

asio::awaitable<absl::StatusOr<v1::VerifyAuditResponse>> Approvals::VerifyAudit(
    const v1::VerifyAuditRequest& request) {
  FLYWHEEL_CO_RETURN_IF_ERROR(CheckNames(request.tenant_id(), request.request_id()));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(ApprovalRecord record,
                               co_await Load(request.tenant_id(), request.request_id()));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<v1::AuditEntry> trail,
                               co_await WholeTrail(request.tenant_id(), request.request_id()));
  const AuditVerdict verdict = Verify(trail);
  v1::VerifyAuditResponse response;
  response.set_entries(trail.size());
  response.set_intact(verdict.intact);
  response.set_broken_at(verdict.position);
  response.set_reason(verdict.reason);
  if (verdict.intact) {
    // The trail alone cannot show entries cut from its end; the count and
    // the last entry's hash kept beside it can.
    if (trail.size() < record.audit_count) {
      response.set_intact(false);
      response.set_broken_at(trail.size() + 1);
      response.set_reason(absl::StrCat(record.audit_count - trail.size(),
                                       " entries are missing from the end: ", record.audit_count,
                                       " were written"));
    } else if (record.last_audit && !trail.empty() &&
               trail.back().entry_sha256() != record.last_audit->entry_sha256()) {
      response.set_intact(false);
      response.set_broken_at(trail.size());
      response.set_reason("the last entry is not the one written last");
    }
  }
  co_return response;
}

asio::awaitable<absl::StatusOr<v1::ExportAuditResponse>> Approvals::ExportAudit(
    const v1::ExportAuditRequest& request) {
  FLYWHEEL_CO_RETURN_IF_ERROR(CheckNames(request.tenant_id(), request.request_id()));
  FLYWHEEL_CO_RETURN_IF_ERROR((co_await Load(request.tenant_id(), request.request_id())).status());
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<v1::AuditEntry> trail,
                               co_await WholeTrail(request.tenant_id(), request.request_id()));
  v1::ExportAuditResponse response;
  response.set_json(ExportJson(trail));
  co_return response;
}

asio::awaitable<absl::StatusOr<v1::ListPendingApprovalsResponse>> Approvals::ListPending(
    const std::string& actor, const v1::ListPendingApprovalsRequest& request) {
  if (request.tenant_id().empty()) {
    FieldErrors errors;
    errors.Add("tenant_id", "is required");
    co_return errors.ToStatus();
  }
  FLYWHEEL_CO_ASSIGN_OR_RETURN(size_t size, PageSizeOf(request.page_size()));
  const absl::Time now = clock_.Now();
  int64_t after_due = 0;
  std::string after_member;
  if (!request.page_token().empty()) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(std::string cursor,
                                 DecodePageToken(request.page_token(), request, now));
    const std::vector<std::string> parts = absl::StrSplit(cursor, absl::MaxSplits(':', 1));
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &after_due) || parts[1].empty()) {
      co_return absl::InvalidArgumentError("page_token: malformed");
    }
    after_member = parts[1];
  }
  v1::ListPendingApprovalsResponse response;
  // Lines whose delegation lapsed are skipped, so read on until the page is
  // full or the inbox ends.
  std::map<std::string, std::optional<ApprovalRecord>> chains;
  for (;;) {
    auto lines = co_await store_.Inbox(request.tenant_id(), actor, after_due, after_member, size);
    if (!lines.ok()) co_return StoreDown(lines.status());
    for (const InboxEntry& line : *lines) {
      after_due = line.due_ms;
      after_member = absl::StrCat(line.request_id, "/", line.step_id);
      auto [it, fresh] = chains.try_emplace(line.request_id);
      if (fresh) {
        auto record = co_await store_.Read(request.tenant_id(), line.request_id);
        if (!record.ok()) co_return StoreDown(record.status());
        it->second = *std::move(record);
      }
      if (!it->second) continue;
      auto chain = Chain::FromProto(it->second->chain);
      if (!chain.ok()) continue;
      for (const PendingStep& p : chain->PendingFor(UserId(actor), now)) {
        if (p.step_id != line.step_id) continue;
        v1::PendingApproval& out = *response.add_pending();
        out.set_request_id(line.request_id);
        for (const v1::ApprovalStep& step : it->second->chain.steps()) {
          if (step.step_id() == p.step_id) *out.mutable_step() = step;
        }
        out.set_version(it->second->chain.current_version());
        out.set_tier(it->second->chain.tier());
        out.set_round(it->second->chain.round());
        out.set_on_behalf_of(p.on_behalf_of);
        out.set_approvals_needed(p.approvals_needed);
      }
      if (response.pending_size() >= static_cast<int>(size)) break;
    }
    if (response.pending_size() >= static_cast<int>(size)) {
      response.set_next_page_token(
          EncodePageToken(request, now, absl::StrCat(after_due, ":", after_member)));
      break;
    }
    if (lines->size() < size) break;
  }
  co_return response;
}

asio::awaitable<absl::StatusOr<v1::DelegateResponse>> Approvals::Delegate(
    const std::string& actor, const v1::DelegateRequest& request) {
  FieldErrors errors;
  if (request.tenant_id().empty()) errors.Add("tenant_id", "is required");
  if (request.request_id().empty()) errors.Add("request_id", "is required");
  if (request.delegate_id().empty()) errors.Add("delegate_id", "is required");
  if (!request.has_valid_until()) errors.Add("valid_until", "is required");
  FLYWHEEL_CO_RETURN_IF_ERROR(errors.ToStatus());
  auto applied = co_await Apply(
      request.tenant_id(), request.request_id(), actor, kRetryAttempts,
      [&](Chain& chain, const ApprovalRecord&, absl::Time now) -> absl::StatusOr<Change> {
        const absl::Time from =
            request.has_valid_from() ? FromProtoTime(request.valid_from()) : now;
        FLYWHEEL_ASSIGN_OR_RETURN(Facts facts,
                                  chain.Delegate(UserId(actor), UserId(request.delegate_id()), from,
                                                 FromProtoTime(request.valid_until()), now));
        Change change;
        change.facts = std::move(facts);
        return change;
      });
  FLYWHEEL_CO_RETURN_IF_ERROR(applied.status());
  v1::DelegateResponse response;
  *response.mutable_chain() = std::move(applied->chain);
  co_return response;
}

asio::awaitable<absl::Status> Approvals::RefreshInboxMetrics() {
  const std::shared_ptr<const Policy> policy = policy_.Get();
  for (const auto& [tenant_id, tenant] : policy->tenants) {
    std::set<std::string> people;
    for (const auto& [group, members] : tenant.groups)
      people.insert(members.begin(), members.end());
    for (const auto& [id, spec] : tenant.chains) {
      for (const StageSpec& stage : spec.stages) {
        for (const StepSpec& step : stage.steps) {
          for (const Designee& d : Expand(tenant, step.approvers)) people.insert(d.user);
          for (const Designee& d : Expand(tenant, step.escalate_to)) people.insert(d.user);
        }
      }
    }
    std::vector<int64_t> sizes;
    for (const std::string& person : people) {
      auto size = co_await store_.InboxSize(tenant_id, person);
      if (!size.ok()) co_return StoreDown(size.status());
      sizes.push_back(*size);
    }
    metrics_.SetInboxSizes(tenant_id, sizes);
  }
  co_return absl::OkStatus();
}

}  // namespace flywheel::approval
