//! Wire types of breach notices (promise 10): an incident as a member of an affected
//! practice reads it (`GET /v1/me/incidents`), with the fields the regulators ask a
//! notification to carry (GDPR articles 33 and 34; Australia's Notifiable Data Breaches
//! scheme; New Zealand's Privacy Act 2020, part 6), the member's own delivery and
//! acknowledgement, and an admin's view of who in the practice has acknowledged it
//! (`GET /v1/practice/incidents/{id}/acknowledgements`).
//!
//! Invariant: a member's view names no other practice: an incident may affect several,
//! and none learns who else was affected.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Whether, when and to whom the breach was reported to a regulator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RegulatorReport {
    /// Whether a regulator was told.
    pub notified: bool,
    /// Which one (e.g. "Office of the Australian Information Commissioner"); none when
    /// no regulator was told.
    #[serde(default)]
    pub regulator: Option<String>,
    /// When it was told (RFC 3339, UTC), if known.
    #[serde(default)]
    pub notified_at: Option<String>,
}

/// A breach as a member of an affected practice reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberIncident {
    pub id: Uuid,
    /// A short name of what happened.
    pub title: String,
    /// What happened, in plain words: the nature of the breach.
    pub description: String,
    /// When it happened (RFC 3339, UTC); none: not known (yet).
    #[serde(default)]
    pub occurred_at: Option<String>,
    /// When the service became aware of it (RFC 3339, UTC).
    pub detected_at: String,
    /// The kinds of personal information involved (e.g. "contact details").
    pub data_kinds: Vec<String>,
    /// What the service has done to contain it and reduce the harm.
    pub steps_taken: String,
    /// What the member should do to protect themselves and their clients.
    pub recommendations: String,
    /// Who to contact for more information.
    pub contact: String,
    pub regulator: RegulatorReport,
    /// Who recorded the notice on the service's side.
    pub recorded_by: String,
    /// When it was recorded and the notices went out (RFC 3339, UTC).
    pub recorded_at: String,
    /// When this member's notice was put in their inbox; none: they joined after it.
    #[serde(default)]
    pub notice_created_at: Option<String>,
    /// When this member's email left the service (their mail server took it); none: not
    /// (yet) sent.
    #[serde(default)]
    pub email_delivered_at: Option<String>,
    /// When this member acknowledged it; none: not yet.
    #[serde(default)]
    pub acknowledged_at: Option<String>,
}

/// One member of the practice and an incident's notice to them, for an admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IncidentAcknowledgement {
    pub member_id: Uuid,
    pub display_name: String,
    pub email: String,
    /// Whether the member was notified when the incident was recorded (a member who
    /// joined later was not).
    pub notified: bool,
    /// When their email left the service; none: not (yet) sent.
    #[serde(default)]
    pub email_delivered_at: Option<String>,
    /// When they acknowledged it; none: not yet.
    #[serde(default)]
    pub acknowledged_at: Option<String>,
}

/// `GET /v1/practice/incidents/{id}/acknowledgements`: every member of the practice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IncidentAcknowledgements {
    pub incident_id: Uuid,
    pub members: Vec<IncidentAcknowledgement>,
    /// Members who have acknowledged it, of `members`.
    pub acknowledged: u32,
}
