//! The audit log on SQLite: an append takes the write lock (`BEGIN IMMEDIATE`) before it
//! reads the head, inserts the entry, its practice's link and moves the head in the same
//! transaction.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::SqliteStore;
use strongroom_protocol::audit::AuditEntryWire;

use crate::audit::{
    AuditEntry, AuditHead, AuditLog, NewAuditEvent, PracticeAuditPage, next_entry, next_link,
    now_rfc3339,
};
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
    link_in(tx, &e)?;
    Ok(e)
}

/// Adds entry `e`'s link to its practice's chain, if it concerns a practice. Inside a
/// transaction holding the write lock.
fn link_in(tx: &rusqlite::Connection, e: &AuditEntry) -> StoreResult<()> {
    let Some(practice) = e.practice_id.as_deref() else {
        return Ok(());
    };
    let last = tx
        .prepare_cached(
            "SELECT seq, link FROM audit_practice_links WHERE practice_id = ?1
             ORDER BY seq DESC LIMIT 1",
        )?
        .query_row([practice], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev, link) = next_link(last, e);
    tx.prepare_cached(
        "INSERT INTO audit_practice_links (entry_id, practice_id, seq, prev_link, link)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![e.id, practice, seq, prev, link])?;
    Ok(())
}

/// Links every entry that has none yet (those written before practices had chains), in
/// entry order: run when the store opens.
pub(super) fn backfill_links(conn: &mut rusqlite::Connection) -> StoreResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let missing = {
        let mut stmt = tx.prepare(
            "SELECT id, occurred_at, practice_id, actor, kind, details, prev_hash, hash
             FROM audit_log
             WHERE practice_id IS NOT NULL
               AND id > coalesce((SELECT max(entry_id) FROM audit_practice_links), 0)
             ORDER BY id",
        )?;
        stmt.query_map([], entry_from_row)?
            .collect::<Result<Vec<_>, _>>()?
    };
    for e in &missing {
        link_in(&tx, e)?;
    }
    tx.commit()?;
    Ok(())
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

    async fn practice_audit(
        &self,
        practice: PracticeId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<PracticeAuditPage> {
        self.with(move |c| {
            let p = practice.0.to_string();
            // One read transaction: the head and the page agree.
            let tx = c.transaction()?;
            let (head_seq, head_link) = tx
                .prepare_cached(
                    "SELECT seq, link FROM audit_practice_links WHERE practice_id = ?1
                     ORDER BY seq DESC LIMIT 1",
                )?
                .query_row([&p], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .unwrap_or((0, crate::audit::GENESIS_HASH.to_owned()));
            let entries = tx
                .prepare_cached(
                    "SELECT a.id, a.occurred_at, a.practice_id, a.actor, a.kind, a.details,
                            a.prev_hash, a.hash, l.seq, l.prev_link, l.link
                     FROM audit_practice_links l JOIN audit_log a ON a.id = l.entry_id
                     WHERE l.practice_id = ?1 AND l.seq > ?2
                     ORDER BY l.seq LIMIT ?3",
                )?
                .query_map(params![p, after_seq, i64::from(limit)], |r| {
                    Ok(AuditEntryWire {
                        id: r.get(0)?,
                        occurred_at: r.get(1)?,
                        practice_id: r.get(2)?,
                        actor: r.get(3)?,
                        kind: r.get(4)?,
                        details: r.get(5)?,
                        prev_hash: r.get(6)?,
                        hash: r.get(7)?,
                        seq: r.get(8)?,
                        prev_link: r.get(9)?,
                        link: r.get(10)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            tx.commit()?;
            Ok(PracticeAuditPage {
                entries,
                head_seq,
                head_link,
            })
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
