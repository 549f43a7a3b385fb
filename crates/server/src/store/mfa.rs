//! Storage of second factors and re-authentication: a member's TOTP secret (confirmed and
//! pending, both sealed by [`crate::mfa`] before they get here), the last time step
//! accepted, hashed recovery codes, the time a session last re-authenticated, and the
//! practice's `mfa_required` setting. Every [`crate::store::Store`] is one.
//!
//! Invariant: a TOTP time step and a recovery code are each accepted at most once, by a
//! single conditional `UPDATE` (`totp_last_step < step`, `used_at IS NULL`), so two
//! requests racing with the same code cannot both succeed.
//! Invariant: confirming a factor and replacing its recovery codes happen in one
//! transaction; removing a factor removes its codes with it.

use async_trait::async_trait;
use uuid::Uuid;

use super::{PracticeId, StoreResult, UserId, UserRecord};

/// A member as sign-in and the second-factor routes need them.
#[derive(Clone)]
pub struct MfaUser {
    pub user: UserRecord,
    /// The confirmed TOTP secret, sealed; `None` when the member has no authenticator.
    pub totp_secret: Option<String>,
    /// A secret from setup awaiting confirmation, sealed.
    pub totp_pending: Option<String>,
    /// The last TOTP time step accepted: only later ones are.
    pub totp_last_step: i64,
    /// Whether the member's practice requires a second factor.
    pub practice_mfa_required: bool,
}

impl std::fmt::Debug for MfaUser {
    /// Never prints the password hash or a secret, even sealed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaUser")
            .field("id", &self.user.id)
            .field("practice_id", &self.user.practice_id)
            .field("enrolled", &self.totp_secret.is_some())
            .field("pending", &self.totp_pending.is_some())
            .field("totp_last_step", &self.totp_last_step)
            .field("practice_mfa_required", &self.practice_mfa_required)
            .finish_non_exhaustive()
    }
}

/// The storage of second factors, re-authentication and the practice's MFA setting.
#[async_trait]
pub trait MfaStore: Send + Sync + 'static {
    /// The member with this id, their factors and their practice's setting.
    async fn mfa_user(&self, user: UserId) -> StoreResult<Option<MfaUser>>;

    /// Stores (or with `None` forgets) a secret awaiting confirmation. The confirmed
    /// secret, if any, is untouched.
    async fn set_totp_pending(&self, user: UserId, sealed: Option<&str>) -> StoreResult<()>;

    /// Makes the pending secret the member's factor, if it is still `pending`: the step its
    /// code was accepted at becomes the last accepted one, and `recovery_hashes` replace any
    /// recovery codes. One transaction. Answers false (and changes nothing) when the pending
    /// secret is no longer `pending`.
    async fn confirm_totp(
        &self,
        user: UserId,
        pending: &str,
        step: i64,
        recovery_hashes: &[String],
    ) -> StoreResult<bool>;

    /// Accepts TOTP time step `step` if it is later than the last accepted one, and records
    /// it; answers whether it was accepted.
    async fn accept_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool>;

    /// Removes the member's factor, a pending one and every recovery code; answers whether
    /// there was a confirmed factor.
    async fn remove_totp(&self, user: UserId) -> StoreResult<bool>;

    /// Replaces every recovery code of the member with these hashes, in one transaction.
    async fn replace_recovery_codes(
        &self,
        user: UserId,
        recovery_hashes: &[String],
    ) -> StoreResult<()>;

    /// Marks the unused recovery code with this hash used at `now`; answers whether there
    /// was one.
    async fn use_recovery_code(&self, user: UserId, hash: &str, now: i64) -> StoreResult<bool>;

    /// How many unused recovery codes the member has.
    async fn recovery_codes_left(&self, user: UserId) -> StoreResult<i64>;

    /// Records that the member of session `session_id` (its public id) proved who they are
    /// at `now`. Scoped by the user too; answers whether the session was found.
    async fn set_reauth_at(&self, user: UserId, session_id: Uuid, now: i64) -> StoreResult<bool>;

    /// Whether the practice requires a second factor of every member.
    async fn mfa_required(&self, practice: PracticeId) -> StoreResult<bool>;

    /// Sets whether the practice requires a second factor.
    async fn set_mfa_required(&self, practice: PracticeId, required: bool) -> StoreResult<()>;
}
