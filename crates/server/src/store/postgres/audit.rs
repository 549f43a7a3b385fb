//! The audit log on PostgreSQL: an append locks the one-row head (`SELECT ... FOR UPDATE`),
//! inserts the entry and moves the head in the same transaction, so the next append waits
//! for this one to commit and chains from it.

use async_trait::async_trait;
use tokio_postgres::Row;
use uuid::Uuid;

use super::PostgresStore;
use strongroom_protocol::audit::AuditEntryWire;

use crate::audit::{
    AuditEntry, AuditHead, AuditLog, GENESIS_HASH, NewAuditEvent, PracticeAuditPage, next_entry,
    next_link, now_rfc3339,
};
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
    link_in(tx, &e).await?;
    Ok(e)
}

/// Adds entry `e`'s link to its practice's chain, if it concerns a practice. Inside a
/// transaction holding the audit head's lock.
async fn link_in(tx: &deadpool_postgres::Transaction<'_>, e: &AuditEntry) -> StoreResult<()> {
    let Some(practice) = e.practice() else {
        return Ok(());
    };
    let last_stmt = tx
        .prepare_cached(
            "SELECT seq, link FROM audit_practice_links WHERE practice_id = $1
             ORDER BY seq DESC LIMIT 1",
        )
        .await?;
    let last = match tx.query_opt(&last_stmt, &[&practice.0]).await? {
        Some(r) => Some((r.try_get::<_, i64>(0)?, r.try_get::<_, String>(1)?)),
        None => None,
    };
    let (seq, prev, link) = next_link(last, e);
    let insert = tx
        .prepare_cached(
            "INSERT INTO audit_practice_links (entry_id, practice_id, seq, prev_link, link)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .await?;
    tx.execute(&insert, &[&e.id, &practice.0, &seq, &prev, &link])
        .await?;
    Ok(())
}

/// Links every entry that has none yet (those written before practices had chains), in
/// entry order, holding the audit head's lock: run when the store opens.
pub(super) async fn backfill_links(client: &mut deadpool_postgres::Object) -> StoreResult<()> {
    let tx = client.transaction().await?;
    tx.query_opt(
        "SELECT last_id FROM audit_head WHERE singleton FOR UPDATE",
        &[],
    )
    .await?;
    let rows = tx
        .query(
            "SELECT id, occurred_at, practice_id, actor, kind, details, prev_hash, hash
             FROM audit_log
             WHERE practice_id IS NOT NULL
               AND id > coalesce((SELECT max(entry_id) FROM audit_practice_links), 0)
             ORDER BY id",
            &[],
        )
        .await?;
    for r in &rows {
        link_in(&tx, &entry_from_row(r)?).await?;
    }
    tx.commit().await?;
    Ok(())
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

    async fn practice_audit(
        &self,
        practice: PracticeId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<PracticeAuditPage> {
        let mut client = self.client().await?;
        // One snapshot: the head and the page agree.
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let head = tx
            .query_opt(
                "SELECT seq, link FROM audit_practice_links WHERE practice_id = $1
                 ORDER BY seq DESC LIMIT 1",
                &[&practice.0],
            )
            .await?;
        let (head_seq, head_link) = match head {
            Some(r) => (r.try_get(0)?, r.try_get(1)?),
            None => (0, GENESIS_HASH.to_owned()),
        };
        let rows = tx
            .query(
                "SELECT a.id, a.occurred_at, a.practice_id, a.actor, a.kind, a.details,
                        a.prev_hash, a.hash, l.seq, l.prev_link, l.link
                 FROM audit_practice_links l JOIN audit_log a ON a.id = l.entry_id
                 WHERE l.practice_id = $1 AND l.seq > $2
                 ORDER BY l.seq LIMIT $3",
                &[&practice.0, &after_seq, &i64::from(limit)],
            )
            .await?;
        let entries = rows
            .iter()
            .map(|r| {
                let e = entry_from_row(r)?;
                Ok(AuditEntryWire {
                    id: e.id,
                    seq: r.try_get(8)?,
                    occurred_at: e.occurred_at,
                    practice_id: e.practice_id,
                    actor: e.actor,
                    kind: e.kind,
                    details: e.details,
                    prev_hash: e.prev_hash,
                    hash: e.hash,
                    prev_link: r.try_get(9)?,
                    link: r.try_get(10)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        tx.commit().await?;
        Ok(PracticeAuditPage {
            entries,
            head_seq,
            head_link,
        })
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
