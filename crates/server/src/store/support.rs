//! Support staff, their sessions, and their requests for access to a practice with the
//! practice's decisions (promise 3).
//!
//! Staff are a realm of their own: not users of any practice, with their own table and
//! sessions, so a staff token is no member session and a member's token no staff session.
//! A grant's status is computed from its stored times whenever it is read
//! ([`GrantRow::status`]), so an expiry or a revocation holds from the very next request.
//!
//! Invariant: a grant is found for a practice only by that practice's id, and decided or
//! revoked only within it; the staff side reads only the staff member's own requests.
//! Invariant: a decision is taken only on a request still waiting for one, and a
//! revocation only on an active grant (the store checks, in the statement that writes).

use async_trait::async_trait;
use strongroom_protocol::{SupportAccess, SupportGrantStatus, SupportScope, SupportStaffInfo};
use uuid::Uuid;

use super::{PracticeId, StoreResult, UserId};

/// A support staff member as stored, for sign-in.
#[derive(Debug, Clone)]
pub struct StaffRecord {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub disabled: bool,
}

impl StaffRecord {
    /// What the staff member and the practices they ask are shown.
    pub fn info(&self) -> SupportStaffInfo {
        SupportStaffInfo {
            id: self.id,
            email: self.email.clone(),
            display_name: self.display_name.clone(),
        }
    }
}

/// A new request, as validated by the API.
#[derive(Debug, Clone)]
pub struct NewGrant {
    pub id: Uuid,
    pub practice: PracticeId,
    pub staff: Uuid,
    pub reason: String,
    pub ticket: String,
    pub scope: SupportScope,
    pub access: SupportAccess,
    pub duration_hours: u32,
    pub requested_at: i64,
}

/// A request and what became of it, with the names the lists show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRow {
    pub id: Uuid,
    pub practice: PracticeId,
    pub staff: SupportStaffInfo,
    pub reason: String,
    pub ticket: String,
    pub scope: SupportScope,
    pub access: SupportAccess,
    pub duration_hours: u32,
    pub requested_at: i64,
    /// `Some(true)` approved, `Some(false)` declined, `None` waiting.
    pub approved: Option<bool>,
    pub decided_at: Option<i64>,
    /// The member who decided, and their name.
    pub decided_by: Option<(Uuid, String)>,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<(Uuid, String)>,
}

impl GrantRow {
    /// Where the grant stands at `now`.
    pub fn status(&self, now: i64) -> SupportGrantStatus {
        match self.approved {
            None => SupportGrantStatus::Requested,
            Some(false) => SupportGrantStatus::Declined,
            Some(true) if self.revoked_at.is_some() => SupportGrantStatus::Revoked,
            Some(true) if self.expires_at.is_none_or(|e| now >= e) => SupportGrantStatus::Expired,
            Some(true) => SupportGrantStatus::Active,
        }
    }

    /// Whether the grant reaches a record on `matter` (none: a contact, which belongs to
    /// no matter and is reached only by a practice-wide grant).
    pub fn covers(&self, matter: Option<Uuid>) -> bool {
        match &self.scope {
            SupportScope::Practice => true,
            SupportScope::Matters { matters } => matter.is_some_and(|m| matters.contains(&m)),
        }
    }
}

/// The scope's matters as stored: a JSON array of ids.
pub(crate) fn matters_json(scope: &SupportScope) -> String {
    match scope {
        SupportScope::Practice => "[]".to_owned(),
        SupportScope::Matters { matters } => {
            serde_json::to_string(matters).unwrap_or_else(|_| "[]".to_owned())
        }
    }
}

/// The scope from its stored parts; an unreadable list of matters reaches nothing.
pub(crate) fn scope_from(kind: &str, matters: &str) -> SupportScope {
    match kind {
        "practice" => SupportScope::Practice,
        _ => SupportScope::Matters {
            matters: serde_json::from_str(matters).unwrap_or_default(),
        },
    }
}

/// The stored form of a scope's kind.
pub(crate) fn scope_kind(scope: &SupportScope) -> &'static str {
    match scope {
        SupportScope::Practice => "practice",
        SupportScope::Matters { .. } => "matters",
    }
}

/// The stored decision.
pub(crate) fn approved_from(decision: Option<&str>) -> Option<bool> {
    decision.map(|d| d == "approved")
}

/// One entry of the practice's support access log, as the audit log holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogRow {
    pub id: i64,
    pub occurred_at: String,
    pub kind: String,
    pub details: String,
    /// The staff member, when the actor is one still on record.
    pub staff: Option<SupportStaffInfo>,
}

/// The support part of the store. Every [`crate::store::Store`] is one.
#[async_trait]
pub trait SupportStore: Send + Sync + 'static {
    /// Creates a staff member; `Conflict` when the email is taken.
    async fn create_staff(
        &self,
        email: &str,
        display_name: &str,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<Uuid>;

    async fn staff_by_email(&self, email: &str) -> StoreResult<Option<StaffRecord>>;

    /// Stores a staff session (only the token's hash).
    async fn create_staff_session(
        &self,
        token_hash: &str,
        staff: Uuid,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()>;

    /// The staff member of a live staff session (not revoked, not expired, seen within
    /// `idle_secs`, staff member not disabled); touches `last_seen_at`.
    async fn staff_session(
        &self,
        token_hash: &str,
        now: i64,
        idle_secs: i64,
    ) -> StoreResult<Option<SupportStaffInfo>>;

    /// Ends the live staff session with this token hash; answers whether it was live.
    async fn revoke_staff_session(&self, token_hash: &str) -> StoreResult<bool>;

    async fn create_grant(&self, grant: NewGrant) -> StoreResult<()>;

    /// The practice's requests, newest first.
    async fn practice_grants(&self, practice: PracticeId) -> StoreResult<Vec<GrantRow>>;

    /// A staff member's own requests, newest first.
    async fn staff_grants(&self, staff: Uuid) -> StoreResult<Vec<GrantRow>>;

    /// One of the practice's requests.
    async fn practice_grant(&self, practice: PracticeId, id: Uuid)
    -> StoreResult<Option<GrantRow>>;

    /// Approves (`expires_at` = `now` + the duration) or declines a request still waiting;
    /// answers whether it was waiting.
    async fn decide_grant(
        &self,
        practice: PracticeId,
        id: Uuid,
        by: UserId,
        approve: bool,
        now: i64,
    ) -> StoreResult<bool>;

    /// Ends an active grant at `now`; answers whether it was active.
    async fn revoke_grant(
        &self,
        practice: PracticeId,
        id: Uuid,
        by: UserId,
        now: i64,
    ) -> StoreResult<bool>;

    /// The staff member's grants of the practice that are active at `now`.
    async fn active_grants(
        &self,
        practice: PracticeId,
        staff: Uuid,
        now: i64,
    ) -> StoreResult<Vec<GrantRow>>;

    /// The practice's audit entries of the `kinds` given, newest first, with ids below
    /// `before` (all when none), of one grant when `grant` is given (its `grant_id` detail),
    /// at most `limit`.
    async fn support_access_log(
        &self,
        practice: PracticeId,
        kinds: &[&str],
        grant: Option<Uuid>,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<AccessLogRow>>;
}
