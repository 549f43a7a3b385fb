//! Cookie consent records (see [`crate::consent`]): a member's choices, kept as history,
//! one row per change, each written in one transaction with its audit entry.
//!
//! Invariant: a record is read and written only through its own member and practice.
//! The one exception is [`ConsentStore::usage_events`], whose rows only ever leave as
//! sums over at least five practices.
//! Invariant: records are append-only (the migration's triggers refuse an update or a
//! delete), and a record and its `consent_changed` audit entry commit together or not at
//! all.
//! Invariant: a record made "only if none" (Global Privacy Control's, for a member who has
//! not chosen) is written at most once, however many requests race: SQLite writes under
//! its one connection, PostgreSQL under the member's row lock.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::json;
use strongroom_protocol::consent::{ConsentChoices, ConsentSource, ConsentSurface};
use uuid::Uuid;

use super::{PracticeId, StoreResult, UserId};
use crate::audit::{Actor, AuditKind, NewAuditEvent};

/// A consent record as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredConsent {
    pub id: Uuid,
    pub choices: ConsentChoices,
    pub source: ConsentSource,
    pub surface: ConsentSurface,
    pub policy_version: String,
    /// Unix seconds.
    pub recorded_at: i64,
}

/// A record to write.
#[derive(Debug, Clone)]
pub struct NewConsent {
    pub practice: PracticeId,
    pub user: UserId,
    pub record: StoredConsent,
    /// The address of the request, for the audit entry.
    pub ip: Option<String>,
}

/// The per-item choices as stored: a JSON object of booleans.
pub(crate) fn items_text(items: &BTreeMap<String, bool>) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "{}".into())
}

/// Per-item choices from their stored text; text that does not parse chooses nothing.
pub(crate) fn items_from(text: &str) -> BTreeMap<String, bool> {
    serde_json::from_str(text).unwrap_or_default()
}

/// The audit entry of a consent record: what was chosen, never more.
pub(crate) fn consent_event(new: &NewConsent) -> NewAuditEvent {
    let r = &new.record;
    NewAuditEvent {
        practice: Some(new.practice),
        actor: Some(Actor::User(new.user)),
        kind: AuditKind::ConsentChanged,
        details: json!({
            "record": r.id,
            "source": r.source.as_str(),
            "surface": r.surface.as_str(),
            "policy_version": r.policy_version,
            "functional": r.choices.functional,
            "analytics": r.choices.analytics,
            "items": r.choices.items,
            "ip": new.ip,
        }),
    }
}

/// One sign-in (a session made), for the usage report: whose and when. Never leaves the
/// service as such; only sums over at least five practices do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageEvent {
    pub practice: PracticeId,
    pub user: UserId,
    /// Unix seconds.
    pub at: i64,
}

#[async_trait]
pub trait ConsentStore {
    /// Stores `new` and its audit entry in one transaction. With `only_if_none`, writes
    /// nothing when the member has any record already; answers whether it wrote.
    async fn record_consent(&self, new: NewConsent, only_if_none: bool) -> StoreResult<bool>;
    /// The member's records, newest first, at most `limit`.
    async fn consent_history(
        &self,
        practice: PracticeId,
        user: UserId,
        limit: u32,
    ) -> StoreResult<Vec<StoredConsent>>;
    /// Every sign-in since `since` (unix seconds), of every practice, by members whose
    /// latest consent record allows analytics. The one read across practices: it feeds
    /// only the aggregated usage report (see [`crate::usage`]).
    async fn usage_events(&self, since: i64) -> StoreResult<Vec<UsageEvent>>;
}
