//! Wire types of the Strongroom sync protocol, shared by the desktop client and the hosted
//! service. Everything that crosses the network is defined here, once, with serde.
//!
//! The protocol is versioned by [`PROTOCOL_VERSION`]; a client sends it in the
//! [`PROTOCOL_HEADER`] header and the server refuses a version it cannot speak with
//! [`ProblemCode::IncompatibleProtocol`].
//!
//! With the `openapi` feature (the server's), every type also derives `utoipa::ToSchema`,
//! for the OpenAPI document; the desktop client leaves it off.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// Header carrying the client's protocol version on every request.
pub const PROTOCOL_HEADER: &str = "strongroom-protocol";

/// The largest page of changes a client may ask for in one pull.
pub const MAX_PAGE_SIZE: u32 = 5000;

/// `GET /v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub status: String,
    pub protocol_version: u32,
}

/// `POST /v1/auth/sign-in` request body. Its `Debug` never shows the password.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignInRequest {
    pub email: String,
    pub password: String,
    /// A human name of the device, shown in the sessions list.
    pub device_name: String,
    /// What the device runs, e.g. `linux x86_64`; shown in the sessions list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The client's version, e.g. `0.1.0`; shown in the sessions list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
}

impl std::fmt::Debug for SignInRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInRequest")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .field("device_name", &self.device_name)
            .field("platform", &self.platform)
            .field("app_version", &self.app_version)
            .finish()
    }
}

/// `POST /v1/auth/sign-in` answer: an opaque bearer token and who it belongs to. Its
/// `Debug` never shows the token.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignInResponse {
    pub token: String,
    pub user: UserInfo,
    pub practice: PracticeInfo,
}

impl std::fmt::Debug for SignInResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInResponse")
            .field("token", &"<redacted>")
            .field("user", &self.user)
            .field("practice", &self.practice)
            .finish()
    }
}

/// One of the caller's live sessions, as `GET /v1/sessions` lists them: a device that is
/// signed in. Never the session's token or its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    /// The session's public id: `DELETE /v1/sessions/{id}` revokes it.
    pub id: String,
    pub device_name: String,
    /// What the device said it runs when it signed in (empty if it did not say).
    pub platform: String,
    /// The client's version when it signed in (empty if it did not say).
    pub app_version: String,
    /// The address it signed in from, if known.
    pub first_ip: Option<String>,
    /// The address of its latest request, if known.
    pub last_ip: Option<String>,
    /// When it signed in: RFC 3339, UTC.
    pub created_at: String,
    /// Its latest request: RFC 3339, UTC.
    pub last_seen_at: String,
    /// When it ends unless it is used before: its latest request plus the idle lifetime.
    pub idle_expires_at: String,
    /// When it ends however much it is used (the absolute lifetime).
    pub expires_at: String,
    /// Whether this is the session the request came with.
    pub current: bool,
}

/// `GET /v1/sessions` answer: the caller's live sessions, the most recently used first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionList {
    pub sessions: Vec<SessionInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInfo {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    /// What the member may do in the practice.
    #[serde(default)]
    pub role: Role,
}

/// A member's role in the practice.
///
/// - `admin`: everything a lawyer may, and manages members, invitations, matter access and
///   the practice's settings;
/// - `lawyer`: reads and writes the matters open to them;
/// - `read_only`: reads the matters open to them, writes nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    #[default]
    Lawyer,
    ReadOnly,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Lawyer, Role::ReadOnly];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Lawyer => "lawyer",
            Role::ReadOnly => "read_only",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether the role may create, change and delete records.
    pub fn may_write(self) -> bool {
        matches!(self, Role::Admin | Role::Lawyer)
    }

    /// Whether the role may manage members, access and settings.
    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PracticeInfo {
    pub id: Uuid,
    pub name: String,
}

/// The status of a matter, as practice tools keep it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MatterStatus {
    Open,
    OnHold,
    Closed,
}

impl MatterStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MatterStatus::Open => "open",
            MatterStatus::OnHold => "on_hold",
            MatterStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(MatterStatus::Open),
            "on_hold" => Some(MatterStatus::OnHold),
            "closed" => Some(MatterStatus::Closed),
            _ => None,
        }
    }
}

/// A matter as the wire carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Matter {
    pub id: Uuid,
    /// The practice's own reference, e.g. `HV-2026-0142`.
    pub number: String,
    pub title: String,
    pub matter_type: String,
    pub status: MatterStatus,
    pub client_name: String,
    pub responsible: String,
    /// Calendar date the matter was opened, ISO 8601 (`YYYY-MM-DD`).
    pub opened_on: String,
    /// Calendar date the matter was closed, if it was.
    #[serde(default)]
    pub closed_on: Option<String>,
    #[serde(default)]
    pub description: String,
    /// The practice's own fields (e.g. "Court file number"), name to value.
    #[serde(default)]
    pub custom_fields: BTreeMap<String, String>,
}

/// Whether a contact is a person or an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    Person,
    Organisation,
}

impl ContactKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContactKind::Person => "person",
            ContactKind::Organisation => "organisation",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "person" => Some(ContactKind::Person),
            "organisation" => Some(ContactKind::Organisation),
            _ => None,
        }
    }
}

/// A person or organisation the practice deals with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    pub id: Uuid,
    pub kind: ContactKind,
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

/// A contact's role on a matter ("client", "other side", "barrister", ...). One contact
/// may hold several roles on one matter, each its own participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Participant {
    pub id: Uuid,
    pub matter_id: Uuid,
    pub contact_id: Uuid,
    pub role: String,
}

/// A file note: the lawyer's record of a call, a meeting, a thought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileNote {
    pub id: Uuid,
    pub matter_id: Uuid,
    pub author: String,
    /// When the note was written, RFC 3339.
    pub written_at: String,
    pub subject: String,
    pub body: String,
}

/// A task on a matter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    pub id: Uuid,
    pub matter_id: Uuid,
    pub title: String,
    #[serde(default)]
    pub due_on: Option<String>,
    #[serde(default)]
    pub assignee: Option<String>,
    pub done: bool,
}

/// Time recorded against a matter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeEntry {
    pub id: Uuid,
    pub matter_id: Uuid,
    pub worked_on: String,
    pub minutes: u32,
    /// Hourly rate in the practice's currency, in cents.
    pub rate_cents: i64,
    pub billable: bool,
    pub narrative: String,
    pub author: String,
}

/// A document's record (the file itself is not synced here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Document {
    pub id: Uuid,
    pub matter_id: Uuid,
    pub name: String,
    pub folder: String,
    pub size_bytes: i64,
    /// SHA-256 of the content, hex.
    pub content_hash: String,
}

/// The kinds of record the change feed carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Matter,
    Contact,
    Participant,
    FileNote,
    Task,
    TimeEntry,
    Document,
}

impl RecordKind {
    pub const ALL: [RecordKind; 7] = [
        RecordKind::Matter,
        RecordKind::Contact,
        RecordKind::Participant,
        RecordKind::FileNote,
        RecordKind::Task,
        RecordKind::TimeEntry,
        RecordKind::Document,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Matter => "matter",
            RecordKind::Contact => "contact",
            RecordKind::Participant => "participant",
            RecordKind::FileNote => "file_note",
            RecordKind::Task => "task",
            RecordKind::TimeEntry => "time_entry",
            RecordKind::Document => "document",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One change in the practice's feed: the record as of server sequence `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// The practice's sequence number, assigned by the server in the write's transaction.
    pub seq: i64,
    /// The record's version, incremented on every write.
    pub version: i64,
    #[serde(flatten)]
    pub record: ChangeRecord,
}

/// The record a change carries, by kind. A deletion carries only the kind and id (a
/// tombstone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeRecord {
    Matter { matter: Matter },
    Contact { contact: Contact },
    Participant { participant: Participant },
    FileNote { file_note: FileNote },
    Task { task: Task },
    TimeEntry { time_entry: TimeEntry },
    Document { document: Document },
    Deleted { record_kind: RecordKind, id: Uuid },
}

impl ChangeRecord {
    /// The kind and id of the record this change is about.
    pub fn key(&self) -> (RecordKind, Uuid) {
        match self {
            ChangeRecord::Matter { matter } => (RecordKind::Matter, matter.id),
            ChangeRecord::Contact { contact } => (RecordKind::Contact, contact.id),
            ChangeRecord::Participant { participant } => (RecordKind::Participant, participant.id),
            ChangeRecord::FileNote { file_note } => (RecordKind::FileNote, file_note.id),
            ChangeRecord::Task { task } => (RecordKind::Task, task.id),
            ChangeRecord::TimeEntry { time_entry } => (RecordKind::TimeEntry, time_entry.id),
            ChangeRecord::Document { document } => (RecordKind::Document, document.id),
            ChangeRecord::Deleted { record_kind, id } => (*record_kind, *id),
        }
    }
}

/// `GET /v1/sync/changes?after=N&limit=M` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangesPage {
    pub changes: Vec<Change>,
    /// The cursor to ask after next time: the `seq` of the last change in this page, or
    /// the request's `after` when the page is empty.
    pub cursor: i64,
    /// Whether more changes wait after `cursor`.
    pub has_more: bool,
}

/// Machine-readable codes carried in problem details (RFC 9457) answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    BadRequest,
    InvalidCredentials,
    Unauthenticated,
    NotFound,
    IncompatibleProtocol,
    RateLimited,
    Internal,
}

/// An RFC 9457 problem details body (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub code: ProblemCode,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_wire_shape_is_flat_and_tagged() {
        let id = Uuid::nil();
        let c = Change {
            seq: 7,
            version: 2,
            record: ChangeRecord::Deleted {
                record_kind: RecordKind::FileNote,
                id,
            },
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["kind"], "deleted");
        assert_eq!(v["record_kind"], "file_note");
        assert_eq!(v["seq"], 7);
        let back: Change = serde_json::from_value(v).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn unknown_kind_is_an_error_not_a_panic() {
        let bad = r#"{"seq":1,"version":1,"kind":"spaceship","id":"00000000-0000-0000-0000-000000000000"}"#;
        assert!(serde_json::from_str::<Change>(bad).is_err());
    }

    #[test]
    fn a_sign_in_without_platform_or_version_still_parses() {
        let req: SignInRequest =
            serde_json::from_str(r#"{"email":"a@b","password":"p","device_name":"Laptop"}"#)
                .unwrap();
        assert_eq!((req.platform, req.app_version), (None, None));
        let req: SignInRequest = serde_json::from_str(
            r#"{"email":"a@b","password":"p","device_name":"L","platform":"linux x86_64","app_version":"0.1.0"}"#,
        )
        .unwrap();
        assert_eq!(req.platform.as_deref(), Some("linux x86_64"));
        assert_eq!(req.app_version.as_deref(), Some("0.1.0"));
    }

    #[test]
    fn debug_never_shows_secrets() {
        let req = SignInRequest {
            email: "a@b".into(),
            password: "hunter2-secret".into(),
            device_name: "d".into(),
            platform: Some("linux x86_64".into()),
            app_version: None,
        };
        assert!(!format!("{req:?}").contains("hunter2-secret"));
        let resp = SignInResponse {
            token: "tok-secret-123".into(),
            user: UserInfo {
                id: Uuid::nil(),
                email: "a@b".into(),
                display_name: "A".into(),
                role: Role::Lawyer,
            },
            practice: PracticeInfo {
                id: Uuid::nil(),
                name: "P".into(),
            },
        };
        assert!(!format!("{resp:?}").contains("tok-secret-123"));
    }

    #[test]
    fn record_kinds_round_trip() {
        for k in RecordKind::ALL {
            assert_eq!(RecordKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert_eq!(RecordKind::parse("nope"), None);
    }

    #[test]
    fn a_matter_from_an_older_server_gets_defaults() {
        let m: Matter = serde_json::from_str(
            r#"{"id":"00000000-0000-0000-0000-000000000000","number":"1","title":"t","matter_type":"x","status":"open","client_name":"c","responsible":"r","opened_on":"2026-01-01"}"#,
        )
        .unwrap();
        assert_eq!(m.closed_on, None);
        assert!(m.custom_fields.is_empty());
    }

    #[test]
    fn status_round_trips() {
        for s in [
            MatterStatus::Open,
            MatterStatus::OnHold,
            MatterStatus::Closed,
        ] {
            assert_eq!(MatterStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(MatterStatus::parse("nope"), None);
    }
}
