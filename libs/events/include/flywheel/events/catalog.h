#pragma once

namespace flywheel::events {

// Topics carry one aggregate's stream: every event about one request (or
// lead) goes to one topic with the aggregate id as key, so consumers see an
// aggregate's events in the order they happened. `ce_type` tells them apart.

/// Partitions of each aggregate stream when a service creates it. A
/// partition is the unit of parallelism: one consumer handles one partition's
/// events in order, different partitions at once (kafka::ConsumerOptions::
/// concurrency), so this bounds how many events of a stream are in flight.
inline constexpr int kStreamPartitions = 12;

/// Lifecycle of work requests: submitted, updated, cancelled, rejected.
inline constexpr char kRequestsTopic[] = "flywheel.intake.requests.v1";
/// Submissions other services publish for intake to validate.
inline constexpr char kSubmissionsTopic[] = "flywheel.intake.submissions.v1";
/// Workflow instances: routed, task assigned, stage changes.
inline constexpr char kWorkflowsTopic[] = "flywheel.routing.workflows.v1";
/// Commands to the scheduler: start, pause, resume, cancel timers. Routing
/// (stage timers) and approval (step timers) write it, keyed by request id.
inline constexpr char kTimerRequestsTopic[] = "flywheel.scheduler.timer-requests.v1";
/// Team capacity changes, keyed by team id.
inline constexpr char kCapacityTopic[] = "flywheel.routing.capacity.v1";
/// Approval chains: steps started and decided, changes requested, versions
/// submitted, chains completed.
inline constexpr char kApprovalsTopic[] = "flywheel.approval.approvals.v1";
/// SLA warnings and breaches of the scheduler's timers.
inline constexpr char kSlaTopic[] = "flywheel.scheduler.sla.v1";
/// PublishDue of the scheduler's publishing slots, keyed by request id.
inline constexpr char kPublishingTopic[] = "flywheel.scheduler.publishing.v1";
/// PublishDone and PublishFailed from the publishing connectors, keyed by
/// request id.
inline constexpr char kPublishResultsTopic[] = "flywheel.scheduler.publish-results.v1";
/// The scheduler's own journal of its timers (compacted, keyed by tenant and
/// timer, raw protobuf, not CloudEvents): what it rebuilds Redis from.
inline constexpr char kTimerJournalTopic[] = "flywheel.scheduler.timer-journal.v1";
/// The scheduler's own journal of its publishing calendar and recurring work
/// (compacted, keyed by kind, tenant and id, raw protobuf, not CloudEvents):
/// the slots, blackouts, approved requests and recurring schedules it
/// rebuilds Redis from.
inline constexpr char kCalendarJournalTopic[] = "flywheel.scheduler.calendar-journal.v1";
/// What leads do (page views, email clicks, form submits...), from web
/// analytics, email, webinar and CRM systems; keyed by lead id, or by the
/// anonymous visitor id before the lead is known.
inline constexpr char kLeadActivityTopic[] = "flywheel.leadscoring.lead-activity.v1";
/// Lead profiles from the CRM, compacted on lead id.
inline constexpr char kLeadProfilesTopic[] = "flywheel.leadscoring.lead-profiles.v1";
/// lead.scored (band changes) and lead.qualified (the MQL hand-off), keyed
/// by lead id.
inline constexpr char kLeadScoresTopic[] = "flywheel.leadscoring.scores.v1";
/// Campaign spend from finance and ad platforms, keyed by campaign id.
inline constexpr char kCampaignSpendTopic[] = "flywheel.reporting.campaign-spend.v1";
/// Won revenue from the CRM, keyed by lead id.
inline constexpr char kRevenueTopic[] = "flywheel.reporting.revenue.v1";

/// Where each service's consumers put what they cannot handle, with the
/// reason in the `flywheel_dlq_reason` header.
inline constexpr char kIntakeDeadLetterTopic[] = "flywheel.intake.dead-letter.v1";
inline constexpr char kRoutingDeadLetterTopic[] = "flywheel.routing.dead-letter.v1";
inline constexpr char kApprovalDeadLetterTopic[] = "flywheel.approval.dead-letter.v1";
inline constexpr char kSchedulerDeadLetterTopic[] = "flywheel.scheduler.dead-letter.v1";
inline constexpr char kLeadScoringDeadLetterTopic[] = "flywheel.leadscoring.dead-letter.v1";
inline constexpr char kReportingDeadLetterTopic[] = "flywheel.reporting.dead-letter.v1";

inline constexpr char kRequestSubmissionReceived[] = "dev.flywheel.request.submission-received.v1";
inline constexpr char kRequestSubmitted[] = "dev.flywheel.request.submitted.v1";
inline constexpr char kRequestUpdated[] = "dev.flywheel.request.updated.v1";
inline constexpr char kRequestCancelled[] = "dev.flywheel.request.cancelled.v1";
inline constexpr char kRequestRejected[] = "dev.flywheel.request.rejected.v1";
inline constexpr char kRequestRouted[] = "dev.flywheel.request.routed.v1";
inline constexpr char kTaskAssigned[] = "dev.flywheel.task.assigned.v1";
inline constexpr char kStageAdvanced[] = "dev.flywheel.stage.advanced.v1";
inline constexpr char kWorkflowCompleted[] = "dev.flywheel.workflow.completed.v1";
inline constexpr char kTimerRequested[] = "dev.flywheel.timer.requested.v1";
inline constexpr char kCapacityChanged[] = "dev.flywheel.capacity.changed.v1";
inline constexpr char kApprovalStepStarted[] = "dev.flywheel.approval.step-started.v1";
inline constexpr char kApprovalDecided[] = "dev.flywheel.approval.decided.v1";
inline constexpr char kApprovalChangesRequested[] = "dev.flywheel.approval.changes-requested.v1";
inline constexpr char kApprovalCompleted[] = "dev.flywheel.approval.completed.v1";
inline constexpr char kApprovalVersionSubmitted[] = "dev.flywheel.approval.version-submitted.v1";
inline constexpr char kApprovalStepEscalated[] = "dev.flywheel.approval.step-escalated.v1";
inline constexpr char kSlaWarning[] = "dev.flywheel.sla.warning.v1";
inline constexpr char kSlaBreached[] = "dev.flywheel.sla.breached.v1";
inline constexpr char kPublishDue[] = "dev.flywheel.publish.due.v1";
inline constexpr char kPublishDone[] = "dev.flywheel.publish.done.v1";
inline constexpr char kPublishFailed[] = "dev.flywheel.publish.failed.v1";
inline constexpr char kLeadActivity[] = "dev.flywheel.lead.activity.v1";
inline constexpr char kLeadProfile[] = "dev.flywheel.lead.profile.v1";
inline constexpr char kLeadScored[] = "dev.flywheel.lead.scored.v1";
inline constexpr char kLeadQualified[] = "dev.flywheel.lead.qualified.v1";
inline constexpr char kCampaignSpendReported[] = "dev.flywheel.campaign.spend-reported.v1";
inline constexpr char kRevenueAttributed[] = "dev.flywheel.revenue.attributed.v1";

}  // namespace flywheel::events
