//! Wire types of the Strongroom sync protocol, shared by the desktop client and the hosted
//! service. Everything that crosses the network is defined here, once, with serde.
//!
//! The protocol is versioned by [`PROTOCOL_VERSION`]; a client sends it in the
//! [`PROTOCOL_HEADER`] header and the server refuses a version it cannot speak with
//! [`ProblemCode::IncompatibleProtocol`].
//!
//! With the `openapi` feature (the server's), every type also derives `utoipa::ToSchema`,
//! for the OpenAPI document; the desktop client leaves it off.

pub mod audit;
pub mod consent;
pub mod incidents;
pub mod notifications;
pub mod policies;
pub mod privacy;
pub mod support;
pub mod validate;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
pub use support::*;
use uuid::Uuid;

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// Header carrying the client's protocol version on every request.
pub const PROTOCOL_HEADER: &str = "strongroom-protocol";

/// The largest page of changes a client may ask for in one pull.
pub const MAX_PAGE_SIZE: u32 = 5000;

/// `GET /v1/sync/events` (server-sent events): sent on connecting and whenever the
/// practice's feed moves. Its data is `{}`: the client pulls to learn what changed.
pub const EVENT_CHANGED: &str = "changed";

/// `GET /v1/sync/events`: the session stopped being valid; the stream ends after it. Its
/// data is a [`Problem`]; the client's next request learns the rest.
pub const EVENT_ENDED: &str = "ended";

/// How often `GET /v1/sync/events` sends a keep-alive comment, in seconds: a client that
/// hears nothing for several of these treats the stream as lost.
pub const EVENTS_KEEP_ALIVE_SECS: u64 = 15;

/// `GET /v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub status: String,
    pub protocol_version: u32,
}

/// `POST /v1/auth/sign-in` request body. Its `Debug` never shows the password or a code.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignInRequest {
    /// At most 254 characters, with an `@`.
    #[cfg_attr(feature = "openapi", schema(max_length = 254, pattern = "@"))]
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1024))]
    pub password: String,
    /// A human name of the device, shown in the sessions list.
    pub device_name: String,
    /// The current code of the member's authenticator app (6 digits), when they have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 16))]
    pub totp_code: Option<String>,
    /// One of the member's recovery codes (`xxxx-xxxx-xxxx`), instead of `totp_code`; each
    /// works once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub recovery_code: Option<String>,
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
            .field("totp_code", &self.totp_code.as_ref().map(|_| "<redacted>"))
            .field(
                "recovery_code",
                &self.recovery_code.as_ref().map(|_| "<redacted>"),
            )
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
    /// What the device reported holding offline after its last sync; none if it never
    /// reported.
    #[serde(default)]
    pub holdings: Option<privacy::DeviceHoldings>,
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Participant {
    pub id: Uuid,
    pub matter_id: Uuid,
    pub contact_id: Uuid,
    pub role: String,
}

/// A file note: the lawyer's record of a call, a meeting, a thought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
    Matter {
        matter: Matter,
    },
    Contact {
        contact: Contact,
    },
    Participant {
        participant: Participant,
    },
    FileNote {
        file_note: FileNote,
    },
    Task {
        task: Task,
    },
    TimeEntry {
        time_entry: TimeEntry,
    },
    Document {
        document: Document,
    },
    Deleted {
        record_kind: RecordKind,
        id: Uuid,
    },
    /// The member may no longer open this matter: the device removes it and every record
    /// on it (and reports its pending edits to them as refused). Sent only to that member.
    Revoked {
        matter_id: Uuid,
    },
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
            ChangeRecord::Revoked { matter_id } => (RecordKind::Matter, *matter_id),
        }
    }
}

impl ChangeRecord {
    /// The matter this record belongs to: a matter's own id, the `matter_id` of a record
    /// on a matter, none for a contact or a tombstone.
    pub fn matter_id(&self) -> Option<Uuid> {
        match self {
            ChangeRecord::Matter { matter } => Some(matter.id),
            ChangeRecord::Contact { .. } | ChangeRecord::Deleted { .. } => None,
            ChangeRecord::Revoked { matter_id } => Some(*matter_id),
            ChangeRecord::Participant { participant } => Some(participant.matter_id),
            ChangeRecord::FileNote { file_note } => Some(file_note.matter_id),
            ChangeRecord::Task { task } => Some(task.matter_id),
            ChangeRecord::TimeEntry { time_entry } => Some(time_entry.matter_id),
            ChangeRecord::Document { document } => Some(document.matter_id),
        }
    }

    /// The record alone (a `Matter`, a `Contact`, ...) as JSON, as stored and as the
    /// records API takes it; none for a tombstone.
    pub fn body_json(&self) -> Option<String> {
        let value = match self {
            ChangeRecord::Matter { matter } => serde_json::to_string(matter),
            ChangeRecord::Contact { contact } => serde_json::to_string(contact),
            ChangeRecord::Participant { participant } => serde_json::to_string(participant),
            ChangeRecord::FileNote { file_note } => serde_json::to_string(file_note),
            ChangeRecord::Task { task } => serde_json::to_string(task),
            ChangeRecord::TimeEntry { time_entry } => serde_json::to_string(time_entry),
            ChangeRecord::Document { document } => serde_json::to_string(document),
            ChangeRecord::Deleted { .. } | ChangeRecord::Revoked { .. } => return None,
        };
        // Serialising these plain structs cannot fail.
        value.ok()
    }

    /// A record of `kind` from its JSON alone (the inverse of [`ChangeRecord::body_json`]).
    pub fn from_body(kind: RecordKind, body: &str) -> Result<Self, serde_json::Error> {
        Ok(match kind {
            RecordKind::Matter => ChangeRecord::Matter {
                matter: serde_json::from_str(body)?,
            },
            RecordKind::Contact => ChangeRecord::Contact {
                contact: serde_json::from_str(body)?,
            },
            RecordKind::Participant => ChangeRecord::Participant {
                participant: serde_json::from_str(body)?,
            },
            RecordKind::FileNote => ChangeRecord::FileNote {
                file_note: serde_json::from_str(body)?,
            },
            RecordKind::Task => ChangeRecord::Task {
                task: serde_json::from_str(body)?,
            },
            RecordKind::TimeEntry => ChangeRecord::TimeEntry {
                time_entry: serde_json::from_str(body)?,
            },
            RecordKind::Document => ChangeRecord::Document {
                document: serde_json::from_str(body)?,
            },
        })
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
    /// Asked for with `count=true`: how many changes this member has after the request's
    /// `after`, this page's included (for a progress bar: records done of total).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// The most mutations one `POST /v1/sync/push` may carry.
pub const MAX_PUSH_MUTATIONS: usize = 500;

/// The largest body one `POST /v1/sync/push` may have, in bytes: a client sends fewer
/// mutations at a time when its queue is larger.
pub const MAX_PUSH_BYTES: usize = 4 * 1024 * 1024;

/// `POST /v1/sync/push`: a device's queued edits, in its own mutation order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushRequest {
    /// The device's own id, made once per install; with the member, it names the sequence
    /// of mutations the service has applied.
    pub device_id: Uuid,
    /// In increasing `mutation_seq` order, at most [`MAX_PUSH_MUTATIONS`].
    pub mutations: Vec<Mutation>,
}

/// One local edit, as the device's outbox holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mutation {
    /// The device's mutation sequence: from 1, strictly increasing, never reused. The
    /// service applies each once; a mutation it has seen is answered as it was the first
    /// time.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub mutation_seq: i64,
    pub kind: RecordKind,
    pub record_id: Uuid,
    /// The record's version the edit was made against; none for a creation.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub base_version: Option<i64>,
    #[serde(flatten)]
    pub op: MutationOp,
}

/// What a mutation does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum MutationOp {
    /// Create the record (the fields are all of it; `id` may be left out, it is
    /// `record_id`), or change the named fields of the record at `base_version`.
    Upsert {
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        fields: serde_json::Map<String, serde_json::Value>,
    },
    Delete,
}

/// `POST /v1/sync/push` answer: one result per mutation, in the request's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    pub results: Vec<MutationResult>,
}

/// What became of one mutation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MutationResult {
    pub mutation_seq: i64,
    #[serde(flatten)]
    pub outcome: MutationOutcome,
}

/// Applied (perhaps merged with others' edits to other fields), a conflict for a person to
/// resolve, or rejected (the edit cannot be made: no access, a broken rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum MutationOutcome {
    /// The record as it now stands is at `version`, written at `seq`.
    Applied {
        seq: i64,
        version: i64,
    },
    /// Some or all of the edit clashed with someone else's: what did not clash is applied
    /// (`applied`, when anything was), the rest waits in the conflict.
    Conflict {
        conflict: SyncConflict,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        applied: Option<AppliedAt>,
    },
    Rejected {
        code: ProblemCode,
        detail: String,
    },
}

/// Where a write left a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppliedAt {
    pub seq: i64,
    pub version: i64,
}

/// How an edit clashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ConflictKind {
    /// The same field was changed here and elsewhere since the base version.
    SameField,
    /// This device edited a record that was deleted elsewhere.
    EditAgainstDelete,
    /// This device deleted a record that was changed elsewhere.
    DeleteAgainstEdit,
}

/// A clash held for a person: both sides of every field in question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncConflict {
    pub id: Uuid,
    pub kind: ConflictKind,
    pub record_kind: RecordKind,
    pub record_id: Uuid,
    /// The version the edit was made against.
    pub base_version: Option<i64>,
    /// The record's version on the service when the clash was found.
    pub server_version: i64,
    /// Field name to this device's value (`mine`) and the service's (`theirs`). For an
    /// edit against a delete: the edit's fields, `theirs` null. For a delete against an
    /// edit: the fields changed elsewhere since the base, `mine` null.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub fields: BTreeMap<String, ConflictValues>,
}

/// Both sides of one field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConflictValues {
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub mine: serde_json::Value,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub theirs: serde_json::Value,
}

/// `POST /v1/sync/conflicts/{id}/resolve`: the member's decision, which the service
/// applies as a new write (on top of the current version) and syncs to everyone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "resolution", rename_all = "snake_case")]
pub enum ConflictResolution {
    /// Keep this device's values.
    KeepMine,
    /// Keep the service's values (nothing is written).
    KeepTheirs,
    /// Write these values for the fields in question (an edit of both).
    Edit {
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        fields: serde_json::Map<String, serde_json::Value>,
    },
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
    /// The member's role does not allow this.
    Forbidden,
    /// The record does not pass validation; `detail` names the field.
    InvalidRecord,
    /// The record was changed since the version the request names (`If-Match`), or exists
    /// when the request said it must not (`If-None-Match: *`).
    VersionConflict,
    /// The request conflicts with the practice's state (e.g. a contact still on a matter,
    /// an email already a member, the last admin).
    Conflict,
    /// The password was right, and the member has a second factor: sign in again with
    /// `totp_code` or `recovery_code`.
    MfaRequired,
    /// The practice requires a second factor and this member has none yet: the session may
    /// only set one up (`/v1/auth/mfa/totp/setup`, `/confirm`), re-authenticate and sign out.
    MfaEnrollmentRequired,
    /// A sensitive action wants the member to have proved who they are within the last
    /// few minutes: `POST /v1/auth/reauth`, then try again.
    ReauthRequired,
    /// The practice requires a second factor, so the member cannot remove theirs.
    MfaMandatory,
    /// The member has no second factor to act on.
    MfaNotEnrolled,
    /// There is no authenticator being set up to confirm: `POST /v1/auth/mfa/totp/setup`
    /// first.
    NoPendingFactor,
    /// The authenticator code is not right (or was used already).
    WrongCode,
    /// The session was revoked: signed out from another device, removed by its member or
    /// ended by disabling the member. Only the holder of that session's token is told so
    /// (an expired or unknown token is `unauthenticated`); the device erases its offline
    /// copy and confirms with `POST /v1/sessions/wiped`.
    SessionRevoked,
    /// Strictly necessary cookies and storage cannot be turned off (`PUT /v1/me/consent`).
    StrictlyNecessaryLocked,
    /// A browser's state-changing request with the web session cookie lacks the CSRF
    /// defence: the service's own `Origin` and the `X-Strongroom-CSRF: 1` header.
    CsrfRefused,
    /// Support staff have no active grant of this practice that covers the request
    /// (none, pending, declined, expired, revoked, read-only, or outside its scope).
    NoSupportGrant,
    /// Only a request still waiting for a decision can be approved or declined.
    GrantNotPending,
    /// Only an active grant can be revoked.
    GrantNotActive,
    /// The integration token does not hold the scope this route needs.
    InsufficientScope,
    /// An essential notification category cannot be turned off (see
    /// `notifications::Category::essential_reason`).
    EssentialCategory,
    /// The unsubscribe link's token is not one this service signed (forged, altered or
    /// truncated).
    InvalidUnsubscribeToken,
    /// A member acknowledged a version of the privacy policy or the terms that is not the
    /// current one: read the current version (`GET /v1/me/policies`) and acknowledge it.
    PolicyVersionNotCurrent,
}

/// A member of the practice, as an admin sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Member {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    /// Whether the member has a second factor.
    pub mfa_enabled: bool,
    /// When the member last signed in (RFC 3339, UTC); none: never.
    #[serde(default)]
    pub last_sign_in_at: Option<String>,
    /// The member's live sessions (signed-in devices).
    #[serde(default)]
    pub session_count: u32,
    /// When the member joined (RFC 3339, UTC), if known.
    #[serde(default)]
    pub joined_at: Option<String>,
}

/// `PATCH /v1/members/{id}`: what to change; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberUpdate {
    #[serde(default)]
    pub role: Option<Role>,
    /// Disabling a member ends all of their sessions at once.
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// Who may open a matter: everyone in the practice, or only the named members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MatterAccess {
    pub restricted: bool,
    /// When restricted, the members who may open it (ignored otherwise).
    #[serde(default)]
    pub members: Vec<Uuid>,
}

/// `POST /v1/invitations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewInvitation {
    /// An email address: 3 to 254 characters, one `@` with text on either side, no spaces
    /// or control characters (spaces around it are ignored).
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 254,
            pattern = "^[\\t-\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*[^@\\x00-\\x20\\x7F-\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202A-\\u202F\\u205F\\u2066-\\u2069\\u3000]+@[^@\\x00-\\x20\\x7F-\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202A-\\u202F\\u205F\\u2066-\\u2069\\u3000]+[\\t-\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*$"
        )
    )]
    pub email: String,
    pub role: Role,
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Expired,
    Revoked,
}

/// An invitation as an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invitation {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub invited_by: Uuid,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; after this the invitation cannot be accepted.
    pub expires_at: i64,
    pub status: InvitationStatus,
}

/// `POST /v1/invitations` answer: the invitation, and the one-time token that accepts it
/// (sent to the invitee; the service keeps only its hash). Its `Debug` hides the token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationCreated {
    pub invitation: Invitation,
    pub token: String,
    /// Whether the service emailed the token to the invitee (it does when it has a mail
    /// server); otherwise the admin passes it on.
    #[serde(default)]
    pub emailed: bool,
}

impl std::fmt::Debug for InvitationCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InvitationCreated")
            .field("invitation", &self.invitation)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// `POST /v1/invitations/accept`: becomes a member and signs in. Its `Debug` hides the
/// token and password.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AcceptInvitation {
    #[cfg_attr(feature = "openapi", schema(max_length = 256))]
    pub token: String,
    /// 1 to 200 characters, without control characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub display_name: String,
    /// 12 to 1024 characters, and not easily guessed (it must not contain the name or the
    /// email, nor be a common password).
    #[cfg_attr(feature = "openapi", schema(min_length = 12, max_length = 1024))]
    pub password: String,
    #[serde(default)]
    pub device_name: String,
}

impl std::fmt::Debug for AcceptInvitation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcceptInvitation")
            .field("token", &"<redacted>")
            .field("display_name", &self.display_name)
            .field("password", &"<redacted>")
            .field("device_name", &self.device_name)
            .finish()
    }
}

/// `POST /v1/auth/mfa/totp/setup` answer: a new authenticator secret awaiting
/// confirmation. Its `Debug` never shows the secret.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TotpSetup {
    /// The shared secret, base32 (RFC 4648, no padding), to type into an authenticator app.
    pub secret: String,
    /// The same as an `otpauth://totp/...` URI, for a QR code.
    pub otpauth_uri: String,
}

impl std::fmt::Debug for TotpSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpSetup")
            .field("secret", &"<redacted>")
            .field("otpauth_uri", &"<redacted>")
            .finish()
    }
}

/// `POST /v1/auth/mfa/totp/confirm` request body. Its `Debug` never shows the code.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TotpConfirmRequest {
    /// The authenticator's current code for the secret from setup.
    #[cfg_attr(feature = "openapi", schema(max_length = 16))]
    pub code: String,
}

impl std::fmt::Debug for TotpConfirmRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpConfirmRequest")
            .field("code", &"<redacted>")
            .finish()
    }
}

/// A new set of recovery codes, shown once: each works once, instead of an authenticator
/// code. Its `Debug` never shows the codes.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}

impl std::fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoveryCodes")
            .field("codes", &format_args!("<{} redacted>", self.codes.len()))
            .finish()
    }
}

/// `POST /v1/auth/reauth` request body: the member proves who they are again, as at
/// sign-in. Its `Debug` never shows the password or a code.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReauthRequest {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1024))]
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 16))]
    pub totp_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub recovery_code: Option<String>,
}

impl std::fmt::Debug for ReauthRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReauthRequest")
            .field("password", &"<redacted>")
            .field("totp_code", &self.totp_code.as_ref().map(|_| "<redacted>"))
            .field(
                "recovery_code",
                &self.recovery_code.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// The practice's settings (`GET` and `PUT /v1/practice/settings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PracticeSettings {
    /// Whether every member must have a second factor to use the service.
    pub mfa_required: bool,
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
    fn push_wire_shapes_are_flat_and_tagged() {
        let id = Uuid::nil();
        let m: Mutation = serde_json::from_value(serde_json::json!({
            "mutation_seq": 3, "kind": "file_note", "record_id": id, "base_version": 2,
            "op": "upsert", "fields": {"body": "x"}
        }))
        .unwrap();
        assert_eq!(m.base_version, Some(2));
        assert!(matches!(&m.op, MutationOp::Upsert { fields } if fields["body"] == "x"));
        let d: Mutation = serde_json::from_str(&format!(
            r#"{{"mutation_seq":4,"kind":"task","record_id":"{id}","op":"delete"}}"#
        ))
        .unwrap();
        assert_eq!((d.base_version, d.op), (None, MutationOp::Delete));
        let result = MutationResult {
            mutation_seq: 3,
            outcome: MutationOutcome::Conflict {
                conflict: SyncConflict {
                    id,
                    kind: ConflictKind::EditAgainstDelete,
                    record_kind: RecordKind::FileNote,
                    record_id: id,
                    base_version: Some(2),
                    server_version: 3,
                    fields: BTreeMap::from([(
                        "body".to_owned(),
                        ConflictValues {
                            mine: "x".into(),
                            theirs: serde_json::Value::Null,
                        },
                    )]),
                },
                applied: None,
            },
        };
        let v = serde_json::to_value(&result).unwrap();
        assert_eq!(v["outcome"], "conflict");
        assert_eq!(v["conflict"]["kind"], "edit_against_delete");
        assert!(v.get("applied").is_none());
        assert_eq!(serde_json::from_value::<MutationResult>(v).unwrap(), result);
        let r: ConflictResolution =
            serde_json::from_str(r#"{"resolution":"edit","fields":{"subject":"s"}}"#).unwrap();
        assert!(matches!(r, ConflictResolution::Edit { .. }));
        for bad in [
            r#"{"mutation_seq":1,"kind":"spaceship","record_id":"00000000-0000-0000-0000-000000000000","op":"delete"}"#,
            r#"{"mutation_seq":1,"kind":"task","record_id":"00000000-0000-0000-0000-000000000000","op":"upsert","fields":"no"}"#,
        ] {
            assert!(serde_json::from_str::<Mutation>(bad).is_err(), "{bad}");
        }
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
            totp_code: Some("123456".into()),
            recovery_code: Some("abcd-efgh-jkmn".into()),
            platform: Some("linux x86_64".into()),
            app_version: None,
        };
        let shown = format!("{req:?}");
        for secret in ["hunter2-secret", "123456", "abcd-efgh-jkmn"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        let reauth = ReauthRequest {
            password: "hunter2-secret".into(),
            totp_code: Some("123456".into()),
            recovery_code: Some("abcd-efgh-jkmn".into()),
        };
        let shown = format!("{reauth:?}");
        for secret in ["hunter2-secret", "123456", "abcd-efgh-jkmn"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        let setup = TotpSetup {
            secret: "JBSWY3DPEHPK3PXP".into(),
            otpauth_uri: "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP".into(),
        };
        assert!(!format!("{setup:?}").contains("JBSWY3DPEHPK3PXP"));
        let confirm = TotpConfirmRequest {
            code: "654321".into(),
        };
        assert!(!format!("{confirm:?}").contains("654321"));
        let codes = RecoveryCodes {
            codes: vec!["abcd-efgh-jkmn".into()],
        };
        assert!(!format!("{codes:?}").contains("abcd"));
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
