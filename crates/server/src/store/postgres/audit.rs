//! The audit log on PostgreSQL: an append locks the one-row head (`SELECT ... FOR UPDATE`),
//! inserts the entry and moves the head in the same transaction, so the next append waits
//! for this one to commit and chains from it.

use async_trait::async_trait;
use tokio_postgres::Row;
use uuid::Uuid;

use super::PostgresStore;
use crate::audit::{AuditEntry, AuditHead, AuditLog, NewAuditEvent, next_entry, now_rfc3339};
use crate::store::{PracticeId, StoreError, StoreResult};

fn entry_from_row(r: &Row) -> StoreResult<AuditEntry> {
    let practice: Option<Uuid> = r.try_get(2)?;
    Ok(AuditEntry {
        id: r.try_get(0)?,
        occurred_at: r.try_get(1)?,
        practice_id: practice.map(|p| p.to_string()),
        actor: r.try_get(3)?,
        kind: r.try_get(4)?,
        details: r.try_get(5)?,
        prev_hash: r.try_get(6)?,
        hash: r.try_get(7)?,
    })
}

fn head_from_row(r: &Row) -> StoreResult<AuditHead> {
    Ok(AuditHead {
        last_id: r.try_get(0)?,
        last_hash: r.try_get(1)?,
    })
}

/// Appends `event` inside `tx`, locking the head until `tx` ends: the entry commits with
/// whatever else the transaction does, or not at all.
pub(super) async fn append_in(
    tx: &deadpool_postgres::Transaction<'_>,
    event: &NewAuditEvent,
) -> StoreResult<AuditEntry> {
    let lock = tx
        .prepare_cached("SELECT last_id, last_hash FROM audit_head WHERE singleton FOR UPDATE")
        .await?;
    let head = match tx.query_opt(&lock, &[]).await? {
        Some(r) => head_from_row(&r)?,
        None => return Err(StoreError::Database("the audit log has no head".into())),
    };
    // The time is taken under the lock, so entries' times follow their ids.
    let e = next_entry(&head, now_rfc3339(), event);
    let practice: Option<Uuid> = event.practice.map(|p| p.0);
    let insert = tx
        .prepare_cached(
            "INSERT INTO audit_log
               (id, occurred_at, practice_id, actor, kind, details, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .await?;
    tx.execute(
        &insert,
        &[
            &e.id,
            &e.occurred_at,
            &practice,
            &e.actor,
            &e.kind,
            &e.details,
            &e.prev_hash,
            &e.hash,
        ],
    )
    .await?;
    let advance = tx
        .prepare_cached("UPDATE audit_head SET last_id = $1, last_hash = $2 WHERE singleton")
        .await?;
    tx.execute(&advance, &[&e.id, &e.hash]).await?;
    Ok(e)
}

#[async_trait]
impl AuditLog for PostgresStore {
    async fn append_audit(&self, event: NewAuditEvent) -> StoreResult<AuditEntry> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let e = append_in(&tx, &event).await?;
        tx.commit().await?;
        Ok(e)
    }

    async fn audit_entries(
        &self,
        practice: Option<PracticeId>,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        let client = self.client().await?;
        let limit = i64::from(limit);
        let rows = match practice {
            None => {
                let stmt = client
                    .prepare_cached(
                        "SELECT id, occurred_at, practice_id, actor, kind, details, prev_hash, hash
                         FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2",
                    )
                    .await?;
                client.query(&stmt, &[&after_id, &limit]).await?
            }
            Some(p) => {
                let stmt = client
                    .prepare_cached(
                        "SELECT id, occurred_at, practice_id, actor, kind, details, prev_hash, hash
                         FROM audit_log WHERE practice_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                    )
                    .await?;
                client.query(&stmt, &[&p.0, &after_id, &limit]).await?
            }
        };
        rows.iter().map(entry_from_row).collect()
    }

    async fn audit_head(&self) -> StoreResult<Option<AuditHead>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("SELECT last_id, last_hash FROM audit_head WHERE singleton")
            .await?;
        match client.query_opt(&stmt, &[]).await? {
            Some(r) => Ok(Some(head_from_row(&r)?)),
            None => Ok(None),
        }
    }
}
