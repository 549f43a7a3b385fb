//! Members of a practice as admins manage them, and invitations to join.
//!
//! Invariant: a practice always keeps at least one admin who is not disabled: a change
//! that would leave none is refused inside the transaction that would make it.
//! Invariant: disabling a member revokes every session of theirs in the same transaction;
//! the session check also refuses a disabled member's tokens.
//! Invariant: an invitation's token is stored only as its SHA-256; it is accepted once,
//! before it expires, unless revoked.

use async_trait::async_trait;
use strongroom_protocol::privacy::ReviewRecord;
use strongroom_protocol::{Invitation, InvitationStatus, Member, Role};
use uuid::Uuid;

use super::{PracticeId, StoreResult, UserId, UserRecord};

/// The address a member's email becomes when their credentials are removed: it can never
/// receive mail nor be typed at sign-in by mistake, and frees theirs for an invitation.
pub(crate) fn removed_email(member: UserId) -> String {
    format!("removed-{}@removed.invalid", member.0)
}

/// A completed access review to record.
#[derive(Debug, Clone)]
pub struct ReviewRow {
    pub id: Uuid,
    pub by: UserId,
    /// Unix seconds.
    pub completed_at: i64,
    pub dormant_days: u32,
    pub disabled: Vec<Uuid>,
    pub invitations_revoked: Vec<Uuid>,
}

/// Ids as the review tables keep them: a JSON array.
pub(crate) fn ids_json(ids: &[Uuid]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

/// Ids kept by [`ids_json`]; what does not parse is left out.
pub(crate) fn ids_from_json(text: &str) -> Vec<Uuid> {
    serde_json::from_str(text).unwrap_or_default()
}

/// A new invitation to store.
#[derive(Debug, Clone)]
pub struct NewInvitationRow {
    pub id: Uuid,
    pub practice_id: PracticeId,
    pub email: String,
    pub role: Role,
    pub token_hash: String,
    pub invited_by: UserId,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What accepting an invitation makes.
#[derive(Debug, Clone)]
pub struct Acceptance {
    pub token_hash: String,
    pub now: i64,
    pub display_name: String,
    pub password_hash: String,
}

/// Where an invitation stands at `now`: accepted, withdrawn, expired, or still pending.
pub(crate) fn invitation_status(
    accepted: Option<i64>,
    revoked: bool,
    expires_at: i64,
    now: i64,
) -> InvitationStatus {
    if accepted.is_some() {
        InvitationStatus::Accepted
    } else if revoked {
        InvitationStatus::Revoked
    } else if expires_at <= now {
        InvitationStatus::Expired
    } else {
        InvitationStatus::Pending
    }
}

/// Why a member change was refused.
pub const LAST_ADMIN: &str = "the practice must keep at least one admin who is not disabled";

#[async_trait]
pub trait MemberStore: Send + Sync {
    /// The practice's members, by email.
    async fn members(&self, practice: PracticeId) -> StoreResult<Vec<Member>>;

    /// Changes a member's role and/or disabled flag; disabling revokes all their
    /// sessions. `NotFound` for a member of another practice; `InUse(LAST_ADMIN)` when no
    /// enabled admin would be left. Answers the member as changed.
    async fn update_member(
        &self,
        practice: PracticeId,
        member: UserId,
        role: Option<Role>,
        disabled: Option<bool>,
    ) -> StoreResult<Member>;

    async fn create_invitation(&self, invitation: NewInvitationRow) -> StoreResult<()>;

    /// The practice's invitations, newest first, with their status as of `now`.
    async fn invitations(&self, practice: PracticeId, now: i64) -> StoreResult<Vec<Invitation>>;

    /// Revokes a pending invitation; `NotFound` if there is none of that id pending in the
    /// practice.
    async fn revoke_invitation(&self, practice: PracticeId, id: Uuid) -> StoreResult<()>;

    /// Accepts a pending, unexpired invitation: makes the member with the invited role and
    /// marks it accepted, in one transaction. `NotFound` for an unknown, used, revoked or
    /// expired token; `Conflict` when the email is a member already.
    async fn accept_invitation(&self, acceptance: Acceptance) -> StoreResult<UserRecord>;

    /// The name of everyone who is or was a member of the practice (credentials removed
    /// included), for the audit log.
    async fn member_names(&self, practice: PracticeId) -> StoreResult<Vec<(Uuid, String)>>;

    /// Removes a member's credentials, in one transaction: every session ends, the password,
    /// second factor and recovery codes are deleted, the member is disabled and their email
    /// address is freed (kept as `removed-<id>@removed.invalid`) for a new invitation.
    /// The row stays for the record, out of the members list. `NotFound` for no such
    /// member of this practice, or one removed already.
    async fn remove_credentials(
        &self,
        practice: PracticeId,
        member: UserId,
        now: i64,
    ) -> StoreResult<()>;

    /// Records a completed access review.
    async fn record_access_review(
        &self,
        practice: PracticeId,
        review: &ReviewRow,
    ) -> StoreResult<()>;

    /// The practice's latest access review, with its reviewer's name.
    async fn last_access_review(&self, practice: PracticeId) -> StoreResult<Option<ReviewRecord>>;
}
