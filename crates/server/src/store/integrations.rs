//! The integration ledger (promise 9): tokens an admin gave third-party apps, with their
//! scopes, last use, how many records each has read, and their revocation.
//!
//! Invariant: only the SHA-256 of an integration token is stored; a token is found only
//! while its integration is not revoked, so a revocation holds from its very next request.
//! Invariant: an integration is listed and revoked only through its own practice.

use async_trait::async_trait;
use strongroom_protocol::IntegrationScope;
use uuid::Uuid;

use super::{PracticeId, StoreResult, UserId};

/// A ledger row as stored, with its creator's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationRow {
    pub id: Uuid,
    pub app_name: String,
    pub scopes: Vec<IntegrationScope>,
    pub created_by: (Uuid, String),
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub records_read: i64,
    pub revoked_at: Option<i64>,
}

/// A new integration, as validated by the API.
#[derive(Debug, Clone)]
pub struct NewIntegrationRow {
    pub id: Uuid,
    pub practice: PracticeId,
    pub token_hash: String,
    pub app_name: String,
    pub scopes: Vec<IntegrationScope>,
    pub created_by: UserId,
    pub created_at: i64,
}

/// Who a live integration token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationAuth {
    pub id: Uuid,
    pub practice: PracticeId,
    pub scopes: Vec<IntegrationScope>,
}

/// Scopes as stored: space-separated names.
pub(crate) fn scopes_text(scopes: &[IntegrationScope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Scopes from their stored text; an unknown name grants nothing.
pub(crate) fn scopes_from(text: &str) -> Vec<IntegrationScope> {
    text.split_whitespace()
        .filter_map(IntegrationScope::parse)
        .collect()
}

/// The integrations part of the store. Every [`crate::store::Store`] is one.
#[async_trait]
pub trait IntegrationStore: Send + Sync + 'static {
    async fn create_integration(&self, new: NewIntegrationRow) -> StoreResult<()>;

    /// The practice's ledger, newest first.
    async fn integrations(&self, practice: PracticeId) -> StoreResult<Vec<IntegrationRow>>;

    /// Revokes one of the practice's live integrations at `now`; answers it as it was
    /// before, or `None` when the practice has no live integration of that id.
    async fn revoke_integration(
        &self,
        practice: PracticeId,
        id: Uuid,
        by: UserId,
        now: i64,
    ) -> StoreResult<Option<IntegrationRow>>;

    /// The live (not revoked) integration of this token hash; records `now` as its last
    /// use.
    async fn integration_by_token(
        &self,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<Option<IntegrationAuth>>;

    /// Adds `count` records to what the integration has read.
    async fn count_integration_reads(&self, id: Uuid, count: i64) -> StoreResult<()>;
}
