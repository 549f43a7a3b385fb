//! Wire types of support access (promise 3) and the integration ledger (promise 9).
//!
//! Support staff sign in to a realm of their own, ask a practice for access with a reason,
//! a ticket, a scope, a kind of access and a duration, and act on the practice's records
//! only through a grant that its admins approved, that has not expired and that nobody
//! revoked. The practice lists every request and every staff read made under a grant.
//!
//! Third-party apps hold integration tokens that an admin made, with scopes; the ledger
//! shows each app's scopes, last use and how many records it has read.
//!
//! Times are unix seconds.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The longest a grant may last: seven days.
pub const MAX_SUPPORT_HOURS: u32 = 7 * 24;
/// The most matters one matter-scoped request may name.
pub const MAX_SUPPORT_MATTERS: usize = 50;
/// The longest reason, in characters.
pub const MAX_SUPPORT_REASON_CHARS: usize = 1000;
/// The longest ticket reference, in characters.
pub const MAX_SUPPORT_TICKET_CHARS: usize = 100;

/// `POST /v1/support/auth/sign-in`. Its `Debug` never shows the password.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SupportSignInRequest {
    #[cfg_attr(feature = "openapi", schema(max_length = 254, pattern = "@"))]
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1024))]
    pub password: String,
}

impl std::fmt::Debug for SupportSignInRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupportSignInRequest")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A member of the support staff, as shown to them and to the practices they ask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SupportStaffInfo {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
}

/// `POST /v1/support/auth/sign-in` answer: the staff session's token (shown once; the
/// service keeps only its hash) and who signed in. Its `Debug` hides the token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SupportSignInResponse {
    pub token: String,
    pub staff: SupportStaffInfo,
    /// When the session ends, whatever happens.
    pub expires_at: i64,
}

impl std::fmt::Debug for SupportSignInResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupportSignInResponse")
            .field("token", &"<redacted>")
            .field("staff", &self.staff)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What a grant lets staff do with the records in its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SupportAccess {
    /// Read only.
    Read,
    /// Read, and create or replace records (never delete).
    ReadWrite,
}

impl SupportAccess {
    pub fn as_str(self) -> &'static str {
        match self {
            SupportAccess::Read => "read",
            SupportAccess::ReadWrite => "read_write",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(SupportAccess::Read),
            "read_write" => Some(SupportAccess::ReadWrite),
            _ => None,
        }
    }
}

/// What a request asks to reach: the whole practice, or named matters and the records on
/// them. Restricted matters are never reachable by staff, whatever the scope; contacts
/// (which belong to no matter) only under a practice-wide scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SupportScope {
    Practice,
    /// 1 to 50 matters of the practice.
    Matters {
        matters: Vec<Uuid>,
    },
}

/// `POST /v1/support/requests`: a staff member asks a practice for access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SupportAccessRequest {
    pub practice_id: Uuid,
    /// Why, in words the practice reads: 1 to 1000 characters.
    pub reason: String,
    /// The support ticket it is for: 1 to 100 characters.
    pub ticket: String,
    pub scope: SupportScope,
    pub access: SupportAccess,
    /// How long the grant lasts once approved: 1 to 168 hours (seven days).
    pub duration_hours: u32,
}

/// Where a request or grant stands, computed from its times when it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SupportGrantStatus {
    /// Waiting for an admin of the practice.
    Requested,
    /// Approved, not expired, not revoked: staff may act under it.
    Active,
    Declined,
    /// Approved, and its time ran out.
    Expired,
    /// Approved, then ended by an admin.
    Revoked,
}

/// A matter named by a matter-scoped grant, as the practice sees it: its number and title
/// when it still exists and is open to the whole practice (none otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ScopedMatter {
    pub id: Uuid,
    pub number: Option<String>,
    pub title: Option<String>,
}

/// A grant's scope as listed to the practice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SupportGrantScope {
    Practice,
    Matters { matters: Vec<ScopedMatter> },
}

/// A member of the practice, by id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberRef {
    pub id: Uuid,
    pub display_name: String,
}

/// `GET /v1/support/grants`: one request and what became of it, as the practice sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SupportGrant {
    pub id: Uuid,
    pub practice_id: Uuid,
    pub staff: SupportStaffInfo,
    pub reason: String,
    pub ticket: String,
    pub scope: SupportGrantScope,
    pub access: SupportAccess,
    pub duration_hours: u32,
    pub status: SupportGrantStatus,
    pub requested_at: i64,
    /// When an admin approved or declined it.
    pub decided_at: Option<i64>,
    pub decided_by: Option<MemberRef>,
    /// Set on approval: the approval's time plus the duration.
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<MemberRef>,
}

/// `POST /v1/support/requests` answer and `GET /v1/support/my-grants` entry: a staff
/// member's own request and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StaffGrant {
    pub id: Uuid,
    pub practice_id: Uuid,
    pub reason: String,
    pub ticket: String,
    pub scope: SupportScope,
    pub access: SupportAccess,
    pub duration_hours: u32,
    pub status: SupportGrantStatus,
    pub requested_at: i64,
    pub decided_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// `GET /v1/support/access-log`: one thing support staff did under a grant (or were
/// refused), as the practice's audit log recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SupportAccessEntry {
    /// The audit entry's id.
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub staff: SupportStaffInfo,
    /// The grant it was done under; none for a refusal without any grant.
    pub grant_id: Option<Uuid>,
    /// `true` when it was done, `false` when it was refused.
    pub allowed: bool,
    /// Why it was refused: `no_active_grant`, `out_of_scope` or `read_only_grant`.
    pub refusal: Option<String>,
    /// `GET` or `PUT`.
    pub method: String,
    pub path: String,
    /// The kind of record.
    pub record_kind: String,
    /// The records read or written (a list: those returned).
    pub record_ids: Vec<Uuid>,
    pub count: u64,
}

/// `GET /v1/support/access-log` answer: newest first; ask again with `before` = `next`
/// for older entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SupportAccessLog {
    pub entries: Vec<SupportAccessEntry>,
    /// The cursor for the next (older) page, when there may be one.
    pub next: Option<i64>,
}

/// What an integration token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum IntegrationScope {
    /// `GET /v1/records/{kind}` and `GET /v1/records/{kind}/{id}`.
    #[serde(rename = "records:read")]
    RecordsRead,
    /// `PUT` and `DELETE /v1/records/{kind}/{id}`.
    #[serde(rename = "records:write")]
    RecordsWrite,
}

impl IntegrationScope {
    pub const ALL: [IntegrationScope; 2] = [
        IntegrationScope::RecordsRead,
        IntegrationScope::RecordsWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IntegrationScope::RecordsRead => "records:read",
            IntegrationScope::RecordsWrite => "records:write",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// `POST /v1/integrations`: an admin lets a third-party app in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewIntegration {
    /// The app's name as the ledger shows it: 1 to 100 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 100,
            pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*[^\\x00-\\x20\\x7F-\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000][^\\x00-\\x1F\\x7F-\\x9F]*$"
        )
    )]
    pub app_name: String,
    /// At least one.
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub scopes: Vec<IntegrationScope>,
}

/// A row of the integration ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Integration {
    pub id: Uuid,
    pub app_name: String,
    pub scopes: Vec<IntegrationScope>,
    pub created_by: MemberRef,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// How many records the app has been given, in all.
    pub records_read: i64,
    pub revoked_at: Option<i64>,
}

/// `POST /v1/integrations` answer: the ledger row and the token, shown this once (the
/// service keeps only its SHA-256). Its `Debug` hides the token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IntegrationCreated {
    pub integration: Integration,
    /// `sri_` and 43 characters; sent as `Authorization: Bearer TOKEN`.
    pub token: String,
}

impl std::fmt::Debug for IntegrationCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntegrationCreated")
            .field("integration", &self.integration)
            .field("token", &"<redacted>")
            .finish()
    }
}
