//! A member's sessions, one per signed-in device: listing them and revoking one by its
//! public id. The address of each one's latest request is kept by `Store::session`, which
//! every authenticated request goes through.
//!
//! Invariant: a session is found here only through its own user and practice; the list
//! and the revocation never reach another member's sessions, and never carry the token's
//! hash.

use async_trait::async_trait;

use super::{PracticeId, StoreResult, UserId};

/// A session as the sessions list shows it. Never the token or its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The session's public id, as stored.
    pub public_id: String,
    pub device_name: String,
    pub platform: String,
    pub app_version: String,
    /// The address it was created from.
    pub ip: Option<String>,
    /// The address of its latest request.
    pub last_ip: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

/// The sessions part of the store. Every [`crate::store::Store`] is one.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// The user's live sessions (not revoked, not past `expires_at`, seen within
    /// `idle_secs` of `now`), the most recently seen first.
    async fn live_sessions(
        &self,
        practice: PracticeId,
        user: UserId,
        now: i64,
        idle_secs: i64,
    ) -> StoreResult<Vec<SessionRecord>>;

    /// Revokes the user's live session with this public id; answers it as it was, or
    /// `None` when the user has no live session of that id.
    async fn revoke_own_session(
        &self,
        practice: PracticeId,
        user: UserId,
        public_id: &str,
        now: i64,
        idle_secs: i64,
    ) -> StoreResult<Option<SessionRecord>>;
}
