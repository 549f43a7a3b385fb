//! A member's sessions, one per signed-in device: listing them and revoking one by its
//! public id. The address of each one's latest request is kept by `Store::session`, which
//! every authenticated request goes through.
//!
//! Invariant: a session is found here only through its own user and practice; the list
//! and the revocation never reach another member's sessions, and never carry the token's
//! hash.

use async_trait::async_trait;

use serde_json::json;

use strongroom_protocol::privacy::DeviceHoldings;

use super::{PracticeId, StoreResult, UserId};
use crate::audit::{Actor, AuditKind, NewAuditEvent};

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
    /// What the device reported holding offline, if it has.
    pub holdings: Option<DeviceHoldings>,
}

/// The holdings a device reported, when it reported all of them.
pub(crate) fn holdings_from(
    matters: Option<i64>,
    records: Option<i64>,
    synced: Option<String>,
) -> Option<DeviceHoldings> {
    Some(DeviceHoldings {
        matters: u64::try_from(matters?).ok()?,
        records: u64::try_from(records?).ok()?,
        last_sync_at: synced?,
    })
}

/// How a member uses the service: for the members list and the access review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberActivity {
    pub user: UserId,
    /// Their latest sign-in (a session's creation), unix seconds; `None`: never.
    pub last_sign_in: Option<i64>,
    /// Their live sessions.
    pub live_sessions: u32,
    /// When they joined, unix seconds.
    pub joined_at: Option<i64>,
}

/// The audit entry of a session revoked from its member's sessions list.
pub(crate) fn revoked_event(
    practice: PracticeId,
    user: UserId,
    r: &SessionRecord,
    current: bool,
    ip: Option<&str>,
) -> NewAuditEvent {
    NewAuditEvent {
        practice: Some(practice),
        actor: Some(Actor::User(user)),
        kind: AuditKind::SessionRevoked,
        details: json!({
            "session_id": r.public_id,
            "device_name": r.device_name,
            "current": current,
            "ip": ip,
        }),
    }
}

/// A session that was revoked (signed out, removed from a sessions list, or ended by
/// disabling its member), as its own token finds it, whether or not it has expired since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedSession {
    pub practice: PracticeId,
    pub user: UserId,
    /// The session's public id, as stored.
    pub public_id: String,
    pub device_name: String,
    /// Whether its device has confirmed the wipe already.
    pub wiped: bool,
}

/// What a device's confirmation that it wiped itself did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WipeConfirmation {
    /// Recorded now, with its audit entry, in one transaction.
    Recorded(RevokedSession),
    /// Recorded before; nothing changed.
    AlreadyRecorded,
    /// The token is no revoked session's (live, expired or unknown); nothing changed.
    NotRevoked,
}

/// The audit entry of a confirmed wipe.
pub(crate) fn wiped_event(session: &RevokedSession, ip: Option<&str>) -> NewAuditEvent {
    NewAuditEvent {
        practice: Some(session.practice),
        actor: Some(Actor::User(session.user)),
        kind: AuditKind::DeviceWiped,
        details: json!({
            "session_id": session.public_id,
            "device_name": session.device_name,
            "ip": ip,
        }),
    }
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

    /// Revokes every live session of the user but the one with public id `keep` (stored in
    /// either of a UUID's text forms), each with
    /// its `session_revoked` audit entry, in one transaction; answers those revoked.
    async fn revoke_other_sessions(
        &self,
        practice: PracticeId,
        user: UserId,
        keep: uuid::Uuid,
        now: i64,
        idle_secs: i64,
        ip: Option<&str>,
    ) -> StoreResult<Vec<SessionRecord>>;

    /// Records what the device of the user's live session `session` (its public id)
    /// holds offline.
    async fn report_holdings(
        &self,
        practice: PracticeId,
        user: UserId,
        session: uuid::Uuid,
        holdings: &DeviceHoldings,
    ) -> StoreResult<()>;

    /// Every member's latest sign-in, live sessions and joining time.
    async fn member_activity(
        &self,
        practice: PracticeId,
        now: i64,
        idle_secs: i64,
    ) -> StoreResult<Vec<MemberActivity>>;

    /// The revoked session with this token hash (revoked, or its member disabled), expired
    /// since or not; `None` for a live, merely expired or unknown one.
    async fn revoked_session(&self, token_hash: &str) -> StoreResult<Option<RevokedSession>>;

    /// Records that the device of the revoked session with this token hash wiped itself:
    /// `wiped_at` and a `device_wiped` audit entry in one transaction, only the first time.
    async fn confirm_wipe(
        &self,
        token_hash: &str,
        now: i64,
        ip: Option<&str>,
    ) -> StoreResult<WipeConfirmation>;
}
