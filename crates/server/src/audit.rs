//! The audit log: append-only, and one hash chain over every entry of the service.
//!
//! Each entry carries the hash of the one before it (`prev_hash`; the first carries
//! [`GENESIS_HASH`]) and its own `hash`, the SHA-256 of a canonical encoding of its id, time,
//! practice, actor, kind, details and `prev_hash` ([`entry_hash`]). Ids are consecutive,
//! from one. A one-row head records the last id and its hash, so that dropping entries off
//! the end is noticed too.
//!
//! Invariant: appends are serialised (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: the head row's
//! lock, `SELECT ... FOR UPDATE`), so no two entries ever chain from the same predecessor,
//! and an entry and the head that points at it commit together.
//! Invariant: the database refuses to change or remove an entry (triggers), and the
//! verifier ([`ChainVerifier`], [`AuditLog::verify_audit`]) still finds any edit, deletion or
//! reordering made by someone who removed the triggers.
//! Invariant: no password, session token or email in clear is ever written here; a failed
//! sign-in for an unknown account records only the SHA-256 of the (trimmed, lower-cased)
//! email ([`email_sha256`]).
//!
//! Every entry that concerns a practice is also a link in that practice's own chain
//! (`audit_practice_links`: its number in the practice, and a hash over its entry's hash
//! and the link before), written in the same transaction. A practice's admins read their
//! chain at `GET /v1/audit/entries` and the app checks it with the same code that defines
//! it ([`strongroom_protocol::audit`]), without seeing any other practice's entry.
//!
//! What it does not do: someone who can write to the database and recompute every hash from
//! some entry onwards, head included, leaves a chain that verifies. Recording the head's
//! hash somewhere else from time to time is what catches that.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use strongroom_protocol::audit::AuditEntryWire;

use crate::store::{PracticeId, StoreResult, UserId};

pub use strongroom_protocol::audit::{GENESIS_HASH, entry_hash, practice_link};

/// How many entries [`AuditLog::verify_audit`] reads at a time.
const VERIFY_PAGE: u32 = 1000;

/// What happened. Stored as its snake_case name; later features add their own kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// A user signed in and a session was made. Details: `device_name`, `ip`, and
    /// `second_factor` (`totp` or `recovery_code`) when one was given.
    SignIn,
    /// A sign-in was refused. Details: `reason` (`wrong_password`, `account_disabled`,
    /// `unknown_account`, `wrong_second_factor`, `second_factor_missing`), `device_name`,
    /// `ip`, and for an unknown account `email_sha256`.
    SignInFailed,
    /// A user signed out: the session's token stops working at once. Details: none.
    SignOut,
    /// An admin changed a member's role. Details: `member`, `role`.
    MemberRoleChanged,
    /// An admin disabled a member, ending their sessions. Details: `member`.
    MemberDisabled,
    /// An admin enabled a disabled member. Details: `member`.
    MemberEnabled,
    /// An admin removed a member's credentials: sessions ended, password and second factor
    /// deleted, email freed. Details: `member`.
    MemberCredentialsRemoved,
    /// An admin opened a matter to the practice or restricted it. Details: `matter`,
    /// `restricted`, `members`.
    MatterAccessChanged,
    /// An admin invited someone. Details: `invitation`, `email_sha256`, `role`.
    MemberInvited,
    /// An admin withdrew an invitation. Details: `invitation`.
    InvitationRevoked,
    /// Someone accepted an invitation and became a member (the actor). Details: `role`,
    /// `device_name`, `ip`.
    InvitationAccepted,
    /// A member confirmed an authenticator app as their second factor (and got new
    /// recovery codes). Details: `factor` (`totp`), `replaced` (whether one was there).
    MfaEnabled,
    /// A member removed their second factor and its recovery codes. Details: `factor`.
    MfaDisabled,
    /// A member made a new set of recovery codes; the old ones stopped working. Details:
    /// `count`.
    RecoveryCodesRegenerated,
    /// A recovery code was used, and cannot be again. Details: `during` (`sign_in`,
    /// `reauth`), `remaining`.
    RecoveryCodeUsed,
    /// A member proved who they are again within their session. Details: `session_id`,
    /// `ip`, and `second_factor` when one was given.
    Reauthenticated,
    /// A re-authentication was refused. Details: `reason` (`wrong_password`,
    /// `wrong_second_factor`, `second_factor_missing`), `session_id`, `ip`.
    ReauthFailed,
    /// An admin changed the practice's settings. Details: `mfa_required` (`from`, `to`).
    PracticeSettingsChanged,
    /// A user revoked one of their sessions from the sessions list; its token stops working
    /// at once. Details: `session_id` (its public id), `device_name`, `current` (whether it
    /// was the session that asked), `ip` (of the request).
    SessionRevoked,
    /// The device of a revoked session confirmed that it erased its offline copy and its
    /// key (recorded once per session, after the revocation). Details: `session_id` (its
    /// public id), `device_name`, `ip` (of the confirmation).
    DeviceWiped,
    /// An admin completed an access review. Details: `review` (its id), `dormant_days`,
    /// `disabled` (member ids), `invitations_revoked` (invitation ids).
    AccessReviewCompleted,
    /// An admin exported everything the practice holds. Details: `files`, `records`,
    /// `bytes`, `sha256` (of the archive), `ip`.
    PracticeExported,
    /// A member's cookie consent changed (a new consent record). Details: `record`,
    /// `source` (`user`, `gpc`), `surface` (`desktop`, `web`), `policy_version`,
    /// `functional`, `analytics`, `items` (per-item choices), `ip`.
    ConsentChanged,
    /// A support staff member signed in (no practice; the actor is `staff:<id>`). Details:
    /// `ip`.
    SupportSignIn,
    /// A support staff sign-in was refused. Details: `reason` (`wrong_password`,
    /// `account_disabled`, `unknown_account`), `ip`, and for an unknown account
    /// `email_sha256`.
    SupportSignInFailed,
    /// A support staff member signed out: the session's token stops working at once (no
    /// practice). Details: none.
    SupportSignOut,
    /// Support staff asked the practice for access. Details: `grant_id`, `reason`,
    /// `ticket`, `scope`, `access`, `duration_hours`.
    SupportAccessRequested,
    /// An admin approved a request. Details: `grant_id`, `expires_at`.
    SupportAccessApproved,
    /// An admin declined a request. Details: `grant_id`.
    SupportAccessDeclined,
    /// An admin ended an active grant. Details: `grant_id`.
    SupportAccessRevoked,
    /// Support staff read or wrote the practice's records under a grant. Details:
    /// `grant_id`, `method`, `path`, `record_kind`, `record_ids`, `count`.
    SupportDataAccessed,
    /// Support staff were refused the practice's records (no active grant covering the
    /// request). Details: `grant_id` (null), `method`, `path`, `record_kind`, `reason`.
    SupportAccessRefused,
    /// An admin gave a third-party app an integration token. Details: `integration`,
    /// `app_name`, `scopes`.
    IntegrationCreated,
    /// An admin revoked an integration token. Details: `integration`, `app_name`.
    IntegrationRevoked,
    /// A member changed their notification choices (the actor; by an email's one-click
    /// unsubscribe link too). Details: `source` (`user`, `web`, `unsubscribe_link`),
    /// `changes` (each `category`, `channel`, `enabled`).
    NotificationPreferencesChanged,
    /// The operator recorded a personal-data breach that affects the practice, and its
    /// members were notified (no actor: the service). Details: `incident`, `title`,
    /// `recorded_by`, `members_notified` (in this practice).
    IncidentRecorded,
    /// A member acknowledged a breach notice (the first time only). Details: `incident`.
    IncidentAcknowledged,
    /// The operator published a version of the privacy policy or the terms, and every
    /// member was notified (no practice, no actor). Details: `kind`, `version`,
    /// `members_notified`.
    PolicyPublished,
    /// A member acknowledged the current version of a policy (the first time only).
    /// Details: `kind`, `version`.
    PolicyAcknowledged,
}

impl AuditKind {
    /// Every kind, for parsing.
    pub const ALL: &'static [AuditKind] = &[
        AuditKind::SignIn,
        AuditKind::SignInFailed,
        AuditKind::SignOut,
        AuditKind::MemberRoleChanged,
        AuditKind::MemberDisabled,
        AuditKind::MemberEnabled,
        AuditKind::MemberCredentialsRemoved,
        AuditKind::MatterAccessChanged,
        AuditKind::MemberInvited,
        AuditKind::InvitationRevoked,
        AuditKind::InvitationAccepted,
        AuditKind::MfaEnabled,
        AuditKind::MfaDisabled,
        AuditKind::RecoveryCodesRegenerated,
        AuditKind::RecoveryCodeUsed,
        AuditKind::Reauthenticated,
        AuditKind::ReauthFailed,
        AuditKind::PracticeSettingsChanged,
        AuditKind::SessionRevoked,
        AuditKind::DeviceWiped,
        AuditKind::AccessReviewCompleted,
        AuditKind::PracticeExported,
        AuditKind::ConsentChanged,
        AuditKind::SupportSignIn,
        AuditKind::SupportSignInFailed,
        AuditKind::SupportSignOut,
        AuditKind::SupportAccessRequested,
        AuditKind::SupportAccessApproved,
        AuditKind::SupportAccessDeclined,
        AuditKind::SupportAccessRevoked,
        AuditKind::SupportDataAccessed,
        AuditKind::SupportAccessRefused,
        AuditKind::IntegrationCreated,
        AuditKind::IntegrationRevoked,
        AuditKind::NotificationPreferencesChanged,
        AuditKind::IncidentRecorded,
        AuditKind::IncidentAcknowledged,
        AuditKind::PolicyPublished,
        AuditKind::PolicyAcknowledged,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::SignIn => "sign_in",
            AuditKind::SignInFailed => "sign_in_failed",
            AuditKind::SignOut => "sign_out",
            AuditKind::MemberRoleChanged => "member_role_changed",
            AuditKind::MemberDisabled => "member_disabled",
            AuditKind::MemberEnabled => "member_enabled",
            AuditKind::MemberCredentialsRemoved => "member_credentials_removed",
            AuditKind::MatterAccessChanged => "matter_access_changed",
            AuditKind::MemberInvited => "member_invited",
            AuditKind::InvitationRevoked => "invitation_revoked",
            AuditKind::InvitationAccepted => "invitation_accepted",
            AuditKind::MfaEnabled => "mfa_enabled",
            AuditKind::MfaDisabled => "mfa_disabled",
            AuditKind::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            AuditKind::RecoveryCodeUsed => "recovery_code_used",
            AuditKind::Reauthenticated => "reauthenticated",
            AuditKind::ReauthFailed => "reauth_failed",
            AuditKind::PracticeSettingsChanged => "practice_settings_changed",
            AuditKind::SessionRevoked => "session_revoked",
            AuditKind::DeviceWiped => "device_wiped",
            AuditKind::AccessReviewCompleted => "access_review_completed",
            AuditKind::PracticeExported => "practice_exported",
            AuditKind::ConsentChanged => "consent_changed",
            AuditKind::SupportSignIn => "support_sign_in",
            AuditKind::SupportSignInFailed => "support_sign_in_failed",
            AuditKind::SupportSignOut => "support_sign_out",
            AuditKind::SupportAccessRequested => "support_access_requested",
            AuditKind::SupportAccessApproved => "support_access_approved",
            AuditKind::SupportAccessDeclined => "support_access_declined",
            AuditKind::SupportAccessRevoked => "support_access_revoked",
            AuditKind::SupportDataAccessed => "support_data_accessed",
            AuditKind::SupportAccessRefused => "support_access_refused",
            AuditKind::IntegrationCreated => "integration_created",
            AuditKind::IntegrationRevoked => "integration_revoked",
            AuditKind::NotificationPreferencesChanged => "notification_preferences_changed",
            AuditKind::IncidentRecorded => "incident_recorded",
            AuditKind::IncidentAcknowledged => "incident_acknowledged",
            AuditKind::PolicyPublished => "policy_published",
            AuditKind::PolicyAcknowledged => "policy_acknowledged",
        }
    }

    /// The kind of a stored name, if this server knows it.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

/// Who acted. Stored as `user:<uuid>` for a member, `staff:<uuid>` for support staff (a
/// separate realm, see [`crate::support`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    User(UserId),
    Staff(uuid::Uuid),
}

impl Actor {
    /// The stored form.
    pub fn stored(&self) -> String {
        match self {
            Actor::User(id) => ["user:", &id.0.to_string()].concat(),
            Actor::Staff(id) => ["staff:", &id.to_string()].concat(),
        }
    }
}

/// An event to append. The store gives it its id, time and hashes.
#[derive(Debug, Clone)]
pub struct NewAuditEvent {
    /// The practice it concerns, if any (a sign-in for an unknown email concerns none).
    pub practice: Option<PracticeId>,
    pub actor: Option<Actor>,
    pub kind: AuditKind,
    /// A JSON object of the kind's details. Never a password, a token or an email in clear.
    pub details: serde_json::Value,
}

impl NewAuditEvent {
    /// The details as they are stored and hashed: compact JSON.
    pub fn details_text(&self) -> String {
        serde_json::to_string(&self.details).unwrap_or_else(|_| "{}".into())
    }
}

/// An entry as stored. Text fields are kept exactly as stored, because the hash covers
/// them so: an entry whose fields no longer parse is still an entry, and still verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    /// RFC 3339, UTC.
    pub occurred_at: String,
    /// The practice's UUID, hyphenated and lower-case.
    pub practice_id: Option<String>,
    /// [`Actor::stored`].
    pub actor: Option<String>,
    /// [`AuditKind::as_str`].
    pub kind: String,
    /// Compact JSON.
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// The kind, if this server knows it.
    pub fn kind(&self) -> Option<AuditKind> {
        AuditKind::parse(&self.kind)
    }

    /// The details as JSON, if they parse.
    pub fn details_json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.details).ok()
    }

    /// The practice, if the entry names one that parses.
    pub fn practice(&self) -> Option<PracticeId> {
        self.practice_id
            .as_deref()
            .and_then(|p| p.parse().ok())
            .map(PracticeId)
    }

    /// What [`Self::hash`] should be, computed from the other fields.
    pub fn computed_hash(&self) -> String {
        entry_hash(
            self.id,
            &self.occurred_at,
            self.practice_id.as_deref(),
            self.actor.as_deref(),
            &self.kind,
            &self.details,
            &self.prev_hash,
        )
    }
}

/// A page of a practice's own chain ([`AuditLog::practice_audit`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeAuditPage {
    pub entries: Vec<AuditEntryWire>,
    pub head_seq: i64,
    pub head_link: String,
}

/// The link that follows `(last_seq, last_link)` for entry `e`: its number and link.
pub fn next_link(last: Option<(i64, String)>, e: &AuditEntry) -> (i64, String, String) {
    let (seq, prev) = last.unwrap_or((0, GENESIS_HASH.to_owned()));
    let seq = seq + 1;
    let link = practice_link(seq, &e.hash, &prev);
    (seq, prev, link)
}

/// The head of the log: the last entry's id and hash (0 and [`GENESIS_HASH`] when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    pub last_id: i64,
    pub last_hash: String,
}

/// Builds the entry that follows `head`, at `occurred_at`.
pub fn next_entry(head: &AuditHead, occurred_at: String, event: &NewAuditEvent) -> AuditEntry {
    let mut entry = AuditEntry {
        id: head.last_id + 1,
        occurred_at,
        practice_id: event.practice.map(|p| p.0.to_string()),
        actor: event.actor.map(|a| a.stored()),
        kind: event.kind.as_str().to_owned(),
        details: event.details_text(),
        prev_hash: head.last_hash.clone(),
        hash: String::new(),
    };
    entry.hash = entry.computed_hash();
    entry
}

/// The time of an entry: now, RFC 3339 in UTC.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The SHA-256 (hex) of an email, trimmed and lower-cased, for a sign-in by an unknown
/// account: repeated attempts on one address can be told apart, the address cannot be read.
pub fn email_sha256(email: &str) -> String {
    hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()))
}

/// Why the chain is broken at an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BrokenReason {
    /// The entry is not there: deleted, or the ids skip it.
    Missing,
    /// Its fields do not give its hash, though it follows its predecessor: edited.
    Edited,
    /// Neither its hash nor its link fits this place: moved, swapped or replaced.
    Reordered,
    /// Its hash fits its fields, but it does not chain from the entry before it.
    WrongPredecessor,
    /// The head records another last entry (entry id 0 means the head itself is missing).
    HeadMismatch,
}

impl BrokenReason {
    /// The machine-readable name, as the endpoint gives it.
    pub fn code(self) -> &'static str {
        match self {
            BrokenReason::Missing => "missing",
            BrokenReason::Edited => "edited",
            BrokenReason::Reordered => "reordered",
            BrokenReason::WrongPredecessor => "wrong_predecessor",
            BrokenReason::HeadMismatch => "head_mismatch",
        }
    }

    /// In words, for operators.
    pub fn describe(self) -> &'static str {
        match self {
            BrokenReason::Missing => "missing (deleted, or the ids skip it)",
            BrokenReason::Edited => "edited (its contents do not match its hash)",
            BrokenReason::Reordered => {
                "reordered (neither its hash nor its link to the entry before fits this place)"
            }
            BrokenReason::WrongPredecessor => {
                "wrong predecessor (it does not chain from the entry before it)"
            }
            BrokenReason::HeadMismatch => "the log's head records a different last entry",
        }
    }
}

impl std::fmt::Display for BrokenReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// The verifier's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Intact { entries: u64 },
    Broken { entry_id: i64, reason: BrokenReason },
}

/// Checks entries one at a time, in id order, so that a log of any length is verified in
/// pages. Pure: it sees only the entries (and the head) it is given.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    next_id: i64,
    prev_hash: String,
    count: u64,
    broken: Option<(i64, BrokenReason)>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainVerifier {
    pub fn new() -> Self {
        Self {
            next_id: 1,
            prev_hash: GENESIS_HASH.to_owned(),
            count: 0,
            broken: None,
        }
    }

    /// Whether a break has been found already (later entries are then ignored).
    pub fn is_broken(&self) -> bool {
        self.broken.is_some()
    }

    /// Checks the next entry.
    pub fn push(&mut self, e: &AuditEntry) {
        if self.broken.is_some() {
            return;
        }
        if e.id > self.next_id {
            self.broken = Some((self.next_id, BrokenReason::Missing));
            return;
        }
        if e.id < self.next_id {
            // Given out of order (a store reads in id order, so only a caller can do this).
            self.broken = Some((e.id, BrokenReason::Reordered));
            return;
        }
        let fits_hash = e.computed_hash() == e.hash;
        let follows = e.prev_hash == self.prev_hash;
        let reason = match (fits_hash, follows) {
            (true, true) => None,
            (false, true) => Some(BrokenReason::Edited),
            (false, false) => Some(BrokenReason::Reordered),
            (true, false) => Some(BrokenReason::WrongPredecessor),
        };
        if let Some(reason) = reason {
            self.broken = Some((e.id, reason));
            return;
        }
        self.prev_hash.clone_from(&e.hash);
        self.next_id += 1;
        self.count += 1;
    }

    /// The verdict once every entry up to the head has been pushed. Without a head (`None`)
    /// the log is judged broken at entry 0, after its entries are checked.
    pub fn finish(self, head: Option<&AuditHead>) -> Verdict {
        if let Some((entry_id, reason)) = self.broken {
            return Verdict::Broken { entry_id, reason };
        }
        let last_id = self.next_id - 1;
        match head {
            None => Verdict::Broken {
                entry_id: 0,
                reason: BrokenReason::HeadMismatch,
            },
            Some(h) if last_id < h.last_id => Verdict::Broken {
                entry_id: self.next_id,
                reason: BrokenReason::Missing,
            },
            Some(h) if last_id > h.last_id || self.prev_hash != h.last_hash => Verdict::Broken {
                entry_id: last_id,
                reason: BrokenReason::HeadMismatch,
            },
            Some(_) => Verdict::Intact {
                entries: self.count,
            },
        }
    }
}

/// Verifies a whole log given in id order against its head.
pub fn verify_entries<'a>(
    entries: impl IntoIterator<Item = &'a AuditEntry>,
    head: Option<&AuditHead>,
) -> Verdict {
    let mut v = ChainVerifier::new();
    for e in entries {
        v.push(e);
    }
    v.finish(head)
}

/// The audit log's storage, one global chain. Every [`crate::store::Store`] is one.
#[async_trait]
pub trait AuditLog: Send + Sync + 'static {
    /// Appends an event after the current head, in a transaction that holds the head's lock,
    /// and returns the entry as stored.
    async fn append_audit(&self, event: NewAuditEvent) -> StoreResult<AuditEntry>;

    /// Entries with `id > after_id` in id order, at most `limit`: the practice's own, or with
    /// `None` every practice's (for the operator and the verifier only, never a member).
    async fn audit_entries(
        &self,
        practice: Option<PracticeId>,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>>;

    /// The head: the last entry's id and hash. `None` only if someone removed it.
    async fn audit_head(&self) -> StoreResult<Option<AuditHead>>;

    /// A practice's own entries with their links, numbers `after_seq + 1` on, at most
    /// `limit`, and the practice's head (last number and link) as read in the same
    /// snapshot. See [`strongroom_protocol::audit`].
    async fn practice_audit(
        &self,
        practice: PracticeId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<PracticeAuditPage>;

    /// Reads the head, then every entry up to it in id order, a page at a time, and checks
    /// the chain. Entries appended meanwhile lie past the head and wait for the next run.
    async fn verify_audit(&self) -> StoreResult<Verdict> {
        let head = self.audit_head().await?;
        let mut v = ChainVerifier::new();
        let mut after = 0;
        'pages: loop {
            let page = self.audit_entries(None, after, VERIFY_PAGE).await?;
            let Some(last) = page.last() else {
                break;
            };
            after = last.id;
            for e in &page {
                if head.as_ref().is_some_and(|h| e.id > h.last_id) {
                    break 'pages;
                }
                v.push(e);
                if v.is_broken() {
                    break 'pages;
                }
            }
            if page.len() < VERIFY_PAGE as usize {
                break;
            }
        }
        Ok(v.finish(head.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn event(n: u32) -> NewAuditEvent {
        NewAuditEvent {
            practice: n.is_multiple_of(2).then(|| PracticeId(Uuid::from_u128(7))),
            actor: n
                .is_multiple_of(3)
                .then(|| Actor::User(UserId(Uuid::from_u128(9)))),
            kind: if n.is_multiple_of(2) {
                AuditKind::SignIn
            } else {
                AuditKind::SignInFailed
            },
            details: serde_json::json!({"n": n}),
        }
    }

    /// A chain of `n` entries and its head.
    fn chain(n: u32) -> (Vec<AuditEntry>, AuditHead) {
        let mut head = AuditHead {
            last_id: 0,
            last_hash: GENESIS_HASH.into(),
        };
        let mut out = Vec::new();
        for i in 0..n {
            let e = next_entry(&head, format!("2026-01-01T00:00:{i:02}Z"), &event(i));
            head = AuditHead {
                last_id: e.id,
                last_hash: e.hash.clone(),
            };
            out.push(e);
        }
        (out, head)
    }

    fn broken(entry_id: i64, reason: BrokenReason) -> Verdict {
        Verdict::Broken { entry_id, reason }
    }

    #[test]
    fn kinds_round_trip_by_name() {
        for k in AuditKind::ALL {
            assert_eq!(AuditKind::parse(k.as_str()), Some(*k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert_eq!(AuditKind::parse("SignIn"), None);
    }

    #[test]
    fn every_field_is_in_the_hash_and_fields_cannot_run_into_each_other() {
        let base = entry_hash(1, "t", Some("p"), Some("a"), "k", "{}", GENESIS_HASH);
        let variants = [
            entry_hash(2, "t", Some("p"), Some("a"), "k", "{}", GENESIS_HASH),
            entry_hash(1, "u", Some("p"), Some("a"), "k", "{}", GENESIS_HASH),
            entry_hash(1, "t", None, Some("a"), "k", "{}", GENESIS_HASH),
            entry_hash(1, "t", Some(""), Some("a"), "k", "{}", GENESIS_HASH),
            entry_hash(1, "t", Some("p"), None, "k", "{}", GENESIS_HASH),
            entry_hash(1, "t", Some("p"), Some("a"), "j", "{}", GENESIS_HASH),
            entry_hash(1, "t", Some("p"), Some("a"), "k", "{ }", GENESIS_HASH),
            entry_hash(1, "t", Some("p"), Some("a"), "k", "{}", &"1".repeat(64)),
            // The same bytes split differently between two fields.
            entry_hash(1, "t", Some("pa"), Some(""), "k", "{}", GENESIS_HASH),
        ];
        for (i, v) in variants.iter().enumerate() {
            assert_ne!(*v, base, "variant {i}");
        }
        assert_eq!(
            base,
            entry_hash(1, "t", Some("p"), Some("a"), "k", "{}", GENESIS_HASH)
        );
        assert_eq!(base.len(), 64);
    }

    #[test]
    fn an_untouched_chain_is_intact() {
        let (entries, head) = chain(6);
        assert_eq!(entries[0].prev_hash, GENESIS_HASH);
        assert_eq!(
            verify_entries(&entries, Some(&head)),
            Verdict::Intact { entries: 6 }
        );
        let empty = AuditHead {
            last_id: 0,
            last_hash: GENESIS_HASH.into(),
        };
        assert_eq!(
            verify_entries(&[], Some(&empty)),
            Verdict::Intact { entries: 0 }
        );
    }

    #[test]
    fn editing_any_field_of_any_entry_is_found_at_that_entry() {
        let (entries, head) = chain(5);
        for i in 0..entries.len() {
            for field in 0..6 {
                let mut t = entries.clone();
                let e = &mut t[i];
                match field {
                    0 => e.occurred_at.push('x'),
                    1 => e.practice_id = Some("someone else".into()),
                    2 => e.actor = Some("user:x".into()),
                    3 => e.kind = "export".into(),
                    4 => e.details = r#"{"n":99}"#.into(),
                    _ => e.hash = GENESIS_HASH.into(),
                }
                let id = t[i].id;
                let got = verify_entries(&t, Some(&head));
                assert_eq!(
                    got,
                    broken(id, BrokenReason::Edited),
                    "entry {id} field {field}"
                );
            }
        }
    }

    #[test]
    fn deleting_any_entry_is_found_even_the_last() {
        let (entries, head) = chain(5);
        for i in 0..entries.len() {
            let mut t = entries.clone();
            let gone = t.remove(i).id;
            assert_eq!(
                verify_entries(&t, Some(&head)),
                broken(gone, BrokenReason::Missing),
                "deleted {gone}"
            );
        }
        // Without the head the log is not trusted at all.
        assert_eq!(
            verify_entries(&entries, None),
            broken(0, BrokenReason::HeadMismatch)
        );
    }

    #[test]
    fn swapping_any_two_entries_is_found_at_the_first() {
        let (entries, head) = chain(5);
        for a in 0..entries.len() {
            for b in a + 1..entries.len() {
                // The rows swap places, each taking the other's id.
                let mut t = entries.clone();
                t.swap(a, b);
                t[a].id = entries[a].id;
                t[b].id = entries[b].id;
                assert_eq!(
                    verify_entries(&t, Some(&head)),
                    broken(entries[a].id, BrokenReason::Reordered),
                    "swapped {a} and {b}"
                );
                // Handed over out of id order.
                let mut t = entries.clone();
                t.swap(a, b);
                let got = verify_entries(&t, Some(&head));
                assert!(matches!(got, Verdict::Broken { .. }), "{got:?}");
            }
        }
    }

    #[test]
    fn a_rehashed_entry_or_a_rewritten_tail_is_found() {
        let (entries, head) = chain(4);
        // Edited and rehashed: its hash fits, but the next entry no longer follows it.
        let mut t = entries.clone();
        t[1].details = r#"{"n":42}"#.into();
        t[1].hash = t[1].computed_hash();
        assert_eq!(
            verify_entries(&t, Some(&head)),
            broken(3, BrokenReason::WrongPredecessor)
        );
        // A whole new entry chained from a different predecessor.
        let mut t = entries.clone();
        t[2].prev_hash = t[0].hash.clone();
        t[2].hash = t[2].computed_hash();
        assert_eq!(
            verify_entries(&t, Some(&head)),
            broken(3, BrokenReason::WrongPredecessor)
        );
        // The last entry rewritten and rehashed: only the head tells.
        let mut t = entries.clone();
        t[3].details = r#"{"n":0}"#.into();
        t[3].hash = t[3].computed_hash();
        assert_eq!(
            verify_entries(&t, Some(&head)),
            broken(4, BrokenReason::HeadMismatch)
        );
        // An entry past the head.
        let (longer, _) = chain(5);
        assert_eq!(
            verify_entries(&longer, Some(&head)),
            broken(5, BrokenReason::HeadMismatch)
        );
    }

    /// A log in memory, to drive [`AuditLog::verify_audit`] across pages.
    struct InMemory {
        entries: Vec<AuditEntry>,
        head: Option<AuditHead>,
    }

    #[async_trait]
    impl AuditLog for InMemory {
        async fn append_audit(&self, _event: NewAuditEvent) -> StoreResult<AuditEntry> {
            Err(crate::store::StoreError::Database("read-only".into()))
        }

        async fn audit_entries(
            &self,
            _practice: Option<PracticeId>,
            after_id: i64,
            limit: u32,
        ) -> StoreResult<Vec<AuditEntry>> {
            Ok(self
                .entries
                .iter()
                .filter(|e| e.id > after_id)
                .take(limit as usize)
                .cloned()
                .collect())
        }

        async fn audit_head(&self) -> StoreResult<Option<AuditHead>> {
            Ok(self.head.clone())
        }

        async fn practice_audit(
            &self,
            _practice: PracticeId,
            _after_seq: i64,
            _limit: u32,
        ) -> StoreResult<PracticeAuditPage> {
            Err(crate::store::StoreError::Database("not kept here".into()))
        }
    }

    #[tokio::test]
    async fn verification_reads_every_page_and_stops_at_the_head() {
        let n = 2 * VERIFY_PAGE + 500;
        let (entries, head) = chain(n);
        let log = InMemory {
            entries: entries.clone(),
            head: Some(head.clone()),
        };
        assert_eq!(
            log.verify_audit().await.unwrap(),
            Verdict::Intact {
                entries: u64::from(n)
            }
        );
        // A break on a later page is found.
        let mut gap = entries.clone();
        gap.remove(VERIFY_PAGE as usize + 7);
        let log = InMemory {
            entries: gap,
            head: Some(head.clone()),
        };
        assert_eq!(
            log.verify_audit().await.unwrap(),
            broken(i64::from(VERIFY_PAGE) + 8, BrokenReason::Missing)
        );
        // Entries past the head (appended since it was read) wait for the next run.
        let earlier = AuditHead {
            last_id: entries[1499].id,
            last_hash: entries[1499].hash.clone(),
        };
        let log = InMemory {
            entries,
            head: Some(earlier),
        };
        assert_eq!(
            log.verify_audit().await.unwrap(),
            Verdict::Intact { entries: 1500 }
        );
    }

    #[test]
    fn emails_are_hashed_trimmed_and_case_blind() {
        let h = email_sha256(" Someone@Example.TEST ");
        assert_eq!(h, email_sha256("someone@example.test"));
        assert_eq!(h.len(), 64);
        assert!(!h.contains("someone"));
        assert_ne!(h, email_sha256("someone@example.tests"));
    }
}
