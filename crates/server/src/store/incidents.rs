//! Breach notices (promise 10): what the store keeps of an incident, who was told, when
//! their email left, and when they acknowledged it. The rules are in [`crate::incidents`].
//!
//! Invariant: recording an incident and notifying every enabled member of each affected
//! practice is one transaction: the incident, its practices, each member's outbox row and
//! notice (through the notifications store's own enqueue), each member's recipient row,
//! and an `incident_recorded` entry in each practice's audit chain commit together or not
//! at all. An unknown practice refuses the whole (`Invalid`).
//! Invariant: a member reaches an incident only through their own practice: every read and
//! the acknowledgement take the caller's practice and answer `NotFound` for an incident
//! that does not affect it.
//! Invariant: an acknowledgement is recorded once (the first time counts), with its
//! `incident_acknowledged` audit entry in the same transaction.

use async_trait::async_trait;
use uuid::Uuid;

use super::notifications::Broadcast;
use super::{PracticeId, StoreResult, UserId};

/// An incident to record, checked by [`crate::incidents::check_incident_file`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIncident {
    pub incident: IncidentRow,
    /// The practices it affects: at least one, no repeats.
    pub practices: Vec<PracticeId>,
}

/// An incident as stored. Times are unix seconds, but `recorded_at_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRow {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub occurred_at: Option<i64>,
    pub detected_at: i64,
    pub data_kinds: Vec<String>,
    pub steps_taken: String,
    pub recommendations: String,
    pub contact: String,
    pub regulator_notified: bool,
    pub regulator: Option<String>,
    pub regulator_notified_at: Option<i64>,
    pub recorded_by: String,
    pub recorded_at_ms: i64,
}

/// An incident as one member sees it: with their own notice, email and acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberIncidentRow {
    pub incident: IncidentRow,
    /// Unix seconds.
    pub notice_created_at: Option<i64>,
    pub mail_sent_at_ms: Option<i64>,
    pub acknowledged_at_ms: Option<i64>,
}

/// One member and an incident's notice to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientRow {
    pub user: UserId,
    pub practice: PracticeId,
    pub display_name: String,
    pub email: String,
    /// Disabled, or their credentials removed.
    pub inactive: bool,
    /// Told when the incident was recorded.
    pub notified: bool,
    /// Unix seconds.
    pub notice_created_at: Option<i64>,
    pub mail_id: Option<i64>,
    pub mail_sent_at_ms: Option<i64>,
    pub mail_attempts: i64,
    pub mail_error: Option<String>,
    pub acknowledged_at_ms: Option<i64>,
}

/// What recording an incident did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// Members notified, over every affected practice.
    pub recipients: u64,
}

/// The incidents part of the store. Every [`crate::store::Store`] is one.
#[async_trait]
pub trait IncidentStore: Send + Sync + 'static {
    /// In one transaction: the incident, its practices, and for every enabled member of
    /// each (not disabled, credentials not removed) `message` by email and notice and
    /// their recipient row; an `incident_recorded` audit entry in each practice's chain.
    /// `Invalid` naming a practice that does not exist (nothing is written).
    async fn record_incident(&self, new: NewIncident, message: Broadcast) -> StoreResult<Recorded>;

    /// The incident, whatever practices it affects (for the operator).
    async fn incident(&self, id: Uuid) -> StoreResult<Option<IncidentRow>>;

    /// The practices an incident affects.
    async fn incident_practices(&self, id: Uuid) -> StoreResult<Vec<PracticeId>>;

    /// Everyone told of the incident or who acknowledged it, by practice (for the
    /// operator).
    async fn incident_recipients(&self, id: Uuid) -> StoreResult<Vec<RecipientRow>>;

    /// The incidents that affect `practice`, newest first, as `user` sees them.
    async fn member_incidents(
        &self,
        practice: PracticeId,
        user: UserId,
    ) -> StoreResult<Vec<MemberIncidentRow>>;

    /// Records that `user` acknowledged the incident at `now_ms`, with its audit entry,
    /// the first time only; answers whether this was the first time. `NotFound` when the
    /// incident does not affect `practice`.
    async fn acknowledge_incident(
        &self,
        practice: PracticeId,
        user: UserId,
        id: Uuid,
        now_ms: i64,
    ) -> StoreResult<bool>;

    /// Every member of `practice` (active or not) and the incident's notice to them.
    /// `NotFound` when the incident does not affect `practice`.
    async fn practice_incident_recipients(
        &self,
        practice: PracticeId,
        id: Uuid,
    ) -> StoreResult<Vec<RecipientRow>>;
}

/// The data kinds as stored: a JSON array.
pub(crate) fn kinds_text(kinds: &[String]) -> String {
    serde_json::to_string(kinds).unwrap_or_else(|_| "[]".into())
}

/// The data kinds from their stored text; unreadable text gives none.
pub(crate) fn kinds_from(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// The audit entry of an incident recorded, in one of its practices.
pub(crate) fn recorded_event(
    incident: &IncidentRow,
    practice: PracticeId,
    recipients: u64,
) -> crate::audit::NewAuditEvent {
    crate::audit::NewAuditEvent {
        practice: Some(practice),
        actor: None,
        kind: crate::audit::AuditKind::IncidentRecorded,
        details: serde_json::json!({
            "incident": incident.id,
            "title": incident.title,
            "recorded_by": incident.recorded_by,
            "members_notified": recipients,
        }),
    }
}

/// The audit entry of a member's acknowledgement.
pub(crate) fn acknowledged_event(
    practice: PracticeId,
    user: UserId,
    id: Uuid,
) -> crate::audit::NewAuditEvent {
    crate::audit::NewAuditEvent {
        practice: Some(practice),
        actor: Some(crate::audit::Actor::User(user)),
        kind: crate::audit::AuditKind::IncidentAcknowledged,
        details: serde_json::json!({ "incident": id }),
    }
}
