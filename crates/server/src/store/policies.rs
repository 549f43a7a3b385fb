//! Versioned policies (promises 11 and 12): the privacy policy's and the terms' versions,
//! and which versions each member acknowledged. The rules are in [`crate::policies`].
//!
//! Invariant: a version label is unique per kind, and the current version of a kind is
//! the one published last (highest `seq`).
//! Invariant: publishing a version and notifying every enabled member of every practice is
//! one transaction (the version, each member's outbox row and notice, and a
//! `policy_published` audit entry).
//! Invariant: a member acknowledges only the current version; the check and the write are
//! one transaction, so a version published meanwhile is never acknowledged unseen. The
//! first acknowledgement of a version is recorded with its `policy_acknowledged` audit
//! entry; a repeat changes nothing.

use async_trait::async_trait;
use strongroom_protocol::policies::PolicyKind;

use super::notifications::Broadcast;
use super::{PracticeId, StoreResult, UserId};

/// A version as stored. `published_at` is unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRow {
    pub kind: PolicyKind,
    pub version: String,
    pub published_at: i64,
    pub summary: String,
    pub text: String,
}

/// A version a member acknowledged, with when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcknowledgedPolicy {
    pub policy: PolicyRow,
    /// Unix seconds.
    pub acknowledged_at: i64,
}

/// What an acknowledgement did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyAck {
    /// Recorded now, with its audit entry.
    Recorded,
    /// The member had acknowledged this version already: nothing changed.
    Already,
    /// Not the current version (or no such version); the current one is named.
    NotCurrent { current: Option<String> },
}

/// The policies part of the store. Every [`crate::store::Store`] is one.
#[async_trait]
pub trait PolicyStore: Send + Sync + 'static {
    /// In one transaction: the version, `message` by email and notice to every enabled
    /// member of every practice, and a `policy_published` audit entry. `Conflict` when
    /// the kind has this version already. Answers how many members were notified.
    async fn publish_policy(&self, policy: PolicyRow, message: Broadcast) -> StoreResult<u64>;

    /// Stores `policy` only if its kind has no version yet, notifying nobody (the first
    /// version, as the store is created). Answers whether it was stored.
    async fn seed_policy(&self, policy: PolicyRow) -> StoreResult<bool>;

    /// The current version of each kind that has one, in [`PolicyKind::ALL`]'s order.
    async fn current_policies(&self) -> StoreResult<Vec<PolicyRow>>;

    /// A version, and whether it is its kind's current one.
    async fn policy_version(
        &self,
        kind: PolicyKind,
        version: &str,
    ) -> StoreResult<Option<(PolicyRow, bool)>>;

    /// Per kind, the latest version (by publication) that `user` acknowledged.
    async fn acknowledged_policies(&self, user: UserId) -> StoreResult<Vec<AcknowledgedPolicy>>;

    /// Records that `user` of `practice` acknowledged `version` of `kind` at `now`, if it
    /// is the current version; see [`PolicyAck`].
    async fn acknowledge_policy(
        &self,
        practice: PracticeId,
        user: UserId,
        kind: PolicyKind,
        version: &str,
        now: i64,
    ) -> StoreResult<PolicyAck>;
}

/// The audit entry of a version published (no practice: it concerns every one).
pub(crate) fn published_event(policy: &PolicyRow, notified: u64) -> crate::audit::NewAuditEvent {
    crate::audit::NewAuditEvent {
        practice: None,
        actor: None,
        kind: crate::audit::AuditKind::PolicyPublished,
        details: serde_json::json!({
            "kind": policy.kind.as_str(),
            "version": policy.version,
            "members_notified": notified,
        }),
    }
}

/// The audit entry of a member's acknowledgement.
pub(crate) fn acknowledged_event(
    practice: PracticeId,
    user: UserId,
    kind: PolicyKind,
    version: &str,
) -> crate::audit::NewAuditEvent {
    crate::audit::NewAuditEvent {
        practice: Some(practice),
        actor: Some(crate::audit::Actor::User(user)),
        kind: crate::audit::AuditKind::PolicyAcknowledged,
        details: serde_json::json!({ "kind": kind.as_str(), "version": version }),
    }
}
