//! The audit log on SQLite: an append takes the write lock (`BEGIN IMMEDIATE`) before it
//! reads the head, inserts the entry and moves the head in the same transaction.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::SqliteStore;
use crate::audit::{AuditEntry, AuditHead, AuditLog, NewAuditEvent, next_entry, now_rfc3339};
use crate::store::{PracticeId, StoreError, StoreResult};

fn entry_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.get(0)?,
        occurred_at: r.get(1)?,
        practice_id: r.get(2)?,
        actor: r.get(3)?,
        kind: r.get(4)?,
        details: r.get(5)?,
        prev_hash: r.get(6)?,
        hash: r.get(7)?,
    })
}

/// Appends `event` inside `tx`, which must hold the write lock (`BEGIN IMMEDIATE`): the
/// entry commits with whatever else the transaction does, or not at all.
pub(super) fn append_in(
    tx: &rusqlite::Transaction<'_>,
    event: &NewAuditEvent,
) -> StoreResult<AuditEntry> {
    let head = tx
        .query_row(
            "SELECT last_id, last_hash FROM audit_head WHERE singleton = 1",
            [],
            |r| {
                Ok(AuditHead {
                    last_id: r.get(0)?,
                    last_hash: r.get(1)?,
                })
            },
        )
        .optional()?
        .ok_or_else(|| StoreError::Database("the audit log has no head".into()))?;
    let e = next_entry(&head, now_rfc3339(), event);
    tx.execute(
        "INSERT INTO audit_log
           (id, occurred_at, practice_id, actor, kind, details, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            e.id,
            e.occurred_at,
            e.practice_id,
            e.actor,
            e.kind,
            e.details,
            e.prev_hash,
            e.hash
        ],
    )?;
    tx.execute(
        "UPDATE audit_head SET last_id = ?1, last_hash = ?2 WHERE singleton = 1",
        params![e.id, e.hash],
    )?;
    Ok(e)
}

#[async_trait]
impl AuditLog for SqliteStore {
    async fn append_audit(&self, event: NewAuditEvent) -> StoreResult<AuditEntry> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let e = append_in(&tx, &event)?;
            tx.commit()?;
            Ok(e)
        })
        .await
    }

    async fn audit_entries(
        &self,
        practice: Option<PracticeId>,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        self.with(move |c| {
            let rows = match practice {
                None => {
                    let mut stmt = c.prepare_cached(
                        "SELECT id, occurred_at, practice_id, actor, kind, details, prev_hash, hash
                         FROM audit_log WHERE id > ?1 ORDER BY id LIMIT ?2",
                    )?;
                    stmt.query_map(params![after_id, i64::from(limit)], entry_from_row)?
                        .collect::<Result<Vec<_>, _>>()?
                }
                Some(p) => {
                    let mut stmt = c.prepare_cached(
                        "SELECT id, occurred_at, practice_id, actor, kind, details, prev_hash, hash
                         FROM audit_log WHERE practice_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
                    )?;
                    stmt.query_map(
                        params![p.0.to_string(), after_id, i64::from(limit)],
                        entry_from_row,
                    )?
                    .collect::<Result<Vec<_>, _>>()?
                }
            };
            Ok(rows)
        })
        .await
    }

    async fn audit_head(&self) -> StoreResult<Option<AuditHead>> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT last_id, last_hash FROM audit_head WHERE singleton = 1",
                [],
                |r| {
                    Ok(AuditHead {
                        last_id: r.get(0)?,
                        last_hash: r.get(1)?,
                    })
                },
            )
            .optional()?)
        })
        .await
    }
}
