//! The storage boundary of the hosted service: one trait, implemented per database.
//!
//! Invariant: every method that touches practice data takes the caller's `PracticeId` and
//! scopes its query by it; nothing here reads across practices.
//! Invariant: a write takes the practice's next sequence number in its own transaction,
//! under a lock that orders writers, so commit order and `seq` order agree.

pub mod consent;
pub mod incidents;
pub mod integrations;
pub mod members;
pub mod mfa;
pub mod notifications;
pub mod pokes;
pub mod policies;
pub mod postgres;
pub mod push;
pub mod records;
pub mod sessions;
pub mod sqlite;
pub mod support;

use async_trait::async_trait;
use strongroom_protocol::{PracticeInfo, Role};
use uuid::Uuid;

use crate::audit::AuditLog;
use crate::store::consent::ConsentStore;
use crate::store::incidents::IncidentStore;
use crate::store::mfa::MfaStore;
use crate::store::policies::PolicyStore;
use crate::store::sessions::SessionStore;
use integrations::IntegrationStore;
use members::MemberStore;
use notifications::NotificationStore;
use push::PushStore;
use records::RecordStore;
use support::SupportStore;

/// A practice's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PracticeId(pub Uuid);

/// A user's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserId(pub Uuid);

/// A user as stored, for sign-in.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: UserId,
    pub practice_id: PracticeId,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub disabled: bool,
    pub role: Role,
}

/// A new session to store. Only the token's hash is ever stored.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token_hash: String,
    /// The session's name in lists; never the token or its hash.
    pub public_id: Uuid,
    pub user_id: UserId,
    pub practice_id: PracticeId,
    pub device_name: String,
    /// What the device says it runs, e.g. `linux x86_64`.
    pub platform: String,
    pub app_version: String,
    /// The address the session was created from.
    pub ip: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Who a valid session speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub practice_id: PracticeId,
    pub role: Role,
    /// The session's public id.
    pub session_id: Uuid,
    /// When the session's user last proved who they are (signing in counts), unix seconds.
    /// See `Principal::require_recent_auth` in [`crate::mfa`].
    pub reauth_at: Option<i64>,
    /// The practice requires a second factor and this member has none yet: the extractor
    /// refuses such a session everywhere but the routes that let them enroll.
    pub mfa_enrollment_required: bool,
}

/// What can go wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    #[error("database error: {0}")]
    Database(String),
    /// The write expected another version: `current` is the live one, if any.
    #[error("the record is at version {current:?}, not the one expected")]
    VersionMismatch { current: Option<i64> },
    /// The write breaks a reference: a missing matter or contact, a stranger as member.
    #[error("{0}")]
    Invalid(String),
    /// The record is still referred to (a contact on a matter).
    #[error("{0}")]
    InUse(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ConstraintViolation) => StoreError::Conflict(e.to_string()),
            _ => StoreError::Database(e.to_string()),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The hosted service's storage, the audit log, second factors and sessions included.
#[async_trait]
pub trait Store:
    AuditLog
    + ConsentStore
    + MemberStore
    + MfaStore
    + PushStore
    + RecordStore
    + SessionStore
    + SupportStore
    + IntegrationStore
    + NotificationStore
    + IncidentStore
    + PolicyStore
    + Send
    + Sync
    + 'static
{
    /// Where this store announces committed writes (see [`pokes`]).
    fn pokes(&self) -> &pokes::Pokes;
    async fn create_practice(&self, name: &str) -> StoreResult<PracticeId>;
    async fn practice(&self, id: PracticeId) -> StoreResult<PracticeInfo>;
    async fn create_user(
        &self,
        practice: PracticeId,
        email: &str,
        display_name: &str,
        password_hash: &str,
        role: Role,
    ) -> StoreResult<UserId>;
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>>;
    async fn create_session(&self, session: NewSession) -> StoreResult<()>;
    /// The principal of a live session: not revoked, not past `expires_at`, seen within
    /// `idle_secs`. Touches `last_seen_at` and, when `ip` is given, records it as the
    /// address of the session's latest request; writes only what changed. A new session
    /// counts as re-authenticated at its `created_at`.
    async fn session(
        &self,
        token_hash: &str,
        now: i64,
        idle_secs: i64,
        ip: Option<&str>,
    ) -> StoreResult<Option<Principal>>;
    /// Failed sign-ins recorded for an account key: (failures, last failure, unix seconds).
    async fn sign_in_failures(&self, account_key: &str) -> StoreResult<Option<(i64, i64)>>;
    /// Records a failed sign-in; a failure more than `window_secs` after the last one
    /// starts the count again. Answers the count.
    async fn record_sign_in_failure(
        &self,
        account_key: &str,
        now: i64,
        window_secs: i64,
    ) -> StoreResult<i64>;
    /// Forgets an account's failed sign-ins (after a successful one).
    async fn clear_sign_in_failures(&self, account_key: &str) -> StoreResult<()>;
    /// Revokes the session with this token hash, if it is live; answers whether it was.
    async fn revoke_session(&self, token_hash: &str) -> StoreResult<bool>;
}
