//! [`RecordStore`] on SQLite: one `records` table, writes under `BEGIN IMMEDIATE`.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use strongroom_protocol::{Change, ChangeRecord, ChangesPage, RecordKind};
use uuid::Uuid;

use super::{SqliteStore, next_seq, parse_uuid};
use crate::store::records::{
    Expect, ListQuery, RecordStore, RecordWrite, Viewer, Written, field_versions_after, revocation,
};
use crate::store::{PracticeId, StoreError, StoreResult, UserId};

fn viewer_id(viewer: Viewer) -> Option<String> {
    match viewer {
        Viewer::Member(u) => Some(u.0.to_string()),
        // No member has the nil id, so no restricted matter names it.
        Viewer::Outsider => Some(Uuid::nil().to_string()),
        Viewer::Service => None,
    }
}

/// Whether `viewer` (`None`: the service) may open matter `matter`.
pub(super) fn may_open(
    c: &Connection,
    practice: &str,
    viewer: Option<&str>,
    matter: &str,
) -> StoreResult<bool> {
    let Some(viewer) = viewer else {
        return Ok(true);
    };
    Ok(c.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM matter_restrictions WHERE practice_id = ?1 AND matter_id = ?2)
             OR EXISTS (SELECT 1 FROM matter_access
                        WHERE practice_id = ?1 AND matter_id = ?2 AND user_id = ?3)",
        params![practice, matter, viewer],
        |r| r.get(0),
    )?)
}

/// Whether a live record of `kind` and `id` exists.
fn is_live(c: &Connection, practice: &str, kind: RecordKind, id: &str) -> StoreResult<bool> {
    Ok(c.query_row(
        "SELECT EXISTS (SELECT 1 FROM records
                        WHERE practice_id = ?1 AND kind = ?2 AND id = ?3 AND deleted = 0)",
        params![practice, kind.as_str(), id],
        |r| r.get(0),
    )?)
}

/// Leaves a tombstone for a record at the next sequence number.
fn tombstone(
    tx: &Connection,
    practice: PracticeId,
    kind: RecordKind,
    id: &str,
) -> StoreResult<Written> {
    let seq = next_seq(tx, practice)?;
    let version = tx.query_row(
        "UPDATE records SET seq = ?4, version = version + 1, deleted = 1, body = NULL,
           field_versions = '{}'
         WHERE practice_id = ?1 AND kind = ?2 AND id = ?3 RETURNING version",
        params![practice.0.to_string(), kind.as_str(), id, seq],
        |r| r.get(0),
    )?;
    Ok(Written { seq, version })
}

/// Creates or replaces a record: its version and field versions are computed by the
/// caller (see [`field_versions_after`]) under the write lock.
const UPSERT: &str = "INSERT INTO records
       (practice_id, kind, id, matter_id, seq, version, deleted, body, field_versions)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8)
     ON CONFLICT (practice_id, kind, id) DO UPDATE SET
       matter_id = excluded.matter_id, seq = excluded.seq, version = excluded.version,
       deleted = 0, body = excluded.body, field_versions = excluded.field_versions";

/// A record's row as a write finds it.
struct Stored {
    matter: Option<String>,
    version: i64,
    deleted: bool,
    body: Option<String>,
    field_versions: String,
}

fn stored(
    c: &Connection,
    practice: &str,
    kind: RecordKind,
    id: &str,
) -> StoreResult<Option<Stored>> {
    Ok(c.prepare_cached(
        "SELECT matter_id, version, deleted, body, field_versions FROM records
         WHERE practice_id = ?1 AND kind = ?2 AND id = ?3",
    )?
    .query_row(params![practice, kind.as_str(), id], |r| {
        Ok(Stored {
            matter: r.get(0)?,
            version: r.get(1)?,
            deleted: r.get(2)?,
            body: r.get(3)?,
            field_versions: r.get(4)?,
        })
    })
    .optional()?)
}

/// A record's new row, as a write makes it.
struct NewRow<'a> {
    kind: RecordKind,
    id: &'a str,
    matter: Option<&'a str>,
    seq: i64,
    body: &'a str,
}

/// Writes `row` over what is stored (`current`) at the next version, keeping its field
/// versions; answers the new version.
fn upsert(
    c: &Connection,
    practice: &str,
    row: NewRow<'_>,
    current: Option<&Stored>,
) -> StoreResult<i64> {
    let version = current.map_or(1, |s| s.version + 1);
    let field_versions = field_versions_after(
        current.and_then(|s| s.body.as_deref()),
        current.map_or("{}", |s| &s.field_versions),
        row.body,
        version,
    );
    c.prepare_cached(UPSERT)?.execute(params![
        practice,
        row.kind.as_str(),
        row.id,
        row.matter,
        row.seq,
        version,
        row.body,
        field_versions
    ])?;
    Ok(version)
}

pub(super) fn write_one(
    tx: &Connection,
    practice: PracticeId,
    viewer: Option<&str>,
    write: &RecordWrite,
) -> StoreResult<Written> {
    let p = practice.0.to_string();
    let (kind, id) = write.record.key();
    let id = id.to_string();
    let current = stored(tx, &p, kind, &id)?;
    if let Some(Stored {
        matter: Some(matter),
        ..
    }) = &current
        && !may_open(tx, &p, viewer, matter)?
    {
        return Err(StoreError::NotFound);
    }
    let live_version = current.as_ref().filter(|s| !s.deleted).map(|s| s.version);
    let expected = match write.expect {
        Expect::Any => true,
        Expect::Absent => live_version.is_none(),
        Expect::Version(v) => live_version == Some(v),
    };
    if !expected {
        return Err(StoreError::VersionMismatch {
            current: live_version,
        });
    }
    if let ChangeRecord::Deleted { .. } = &write.record {
        if live_version.is_none() {
            return Err(StoreError::NotFound);
        }
        match kind {
            RecordKind::Contact => {
                let on_matters: i64 = tx.query_row(
                    "SELECT count(*) FROM records
                     WHERE practice_id = ?1 AND kind = 'participant' AND deleted = 0
                       AND json_extract(body, '$.contact_id') = ?2",
                    params![p, id],
                    |r| r.get(0),
                )?;
                if on_matters > 0 {
                    return Err(StoreError::InUse(format!(
                        "the contact takes part in {on_matters} matter role(s); remove those first"
                    )));
                }
            }
            RecordKind::Matter => {
                let children = {
                    let mut stmt = tx.prepare_cached(
                        "SELECT kind, id FROM records
                         WHERE practice_id = ?1 AND matter_id = ?2 AND kind <> 'matter' AND deleted = 0
                         ORDER BY seq",
                    )?;
                    stmt.query_map(params![p, id], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                    })?
                    .collect::<Result<Vec<_>, _>>()?
                };
                for (child_kind, child_id) in children {
                    let child_kind = RecordKind::parse(&child_kind).ok_or_else(|| {
                        StoreError::Database(format!("unknown record kind {child_kind:?}"))
                    })?;
                    tombstone(tx, practice, child_kind, &child_id)?;
                }
            }
            _ => {}
        }
        return tombstone(tx, practice, kind, &id);
    }
    let matter = write.record.matter_id().map(|m| m.to_string());
    if kind != RecordKind::Matter
        && let Some(m) = &matter
        && !(is_live(tx, &p, RecordKind::Matter, m)? && may_open(tx, &p, viewer, m)?)
    {
        return Err(StoreError::Invalid(
            "matter_id: there is no such matter".into(),
        ));
    }
    if let ChangeRecord::Participant { participant } = &write.record
        && !is_live(
            tx,
            &p,
            RecordKind::Contact,
            &participant.contact_id.to_string(),
        )?
    {
        return Err(StoreError::Invalid(
            "contact_id: there is no such contact".into(),
        ));
    }
    let body = write
        .record
        .body_json()
        .ok_or_else(|| StoreError::Database("a record without a body".into()))?;
    let seq = next_seq(tx, practice)?;
    let version = upsert(
        tx,
        &p,
        NewRow {
            kind,
            id: &id,
            matter: matter.as_deref(),
            seq,
            body: &body,
        },
        current.as_ref(),
    )?;
    Ok(Written { seq, version })
}

fn change_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Change> {
    let seq: i64 = r.get(0)?;
    let version: i64 = r.get(1)?;
    let deleted: bool = r.get(2)?;
    let kind: String = r.get(3)?;
    let id = parse_uuid(&r.get::<_, String>(4)?)?;
    let kind = RecordKind::parse(&kind).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            3,
            rusqlite::types::Type::Text,
            format!("unknown record kind {kind:?}").into(),
        )
    })?;
    let record = if deleted {
        ChangeRecord::Deleted {
            record_kind: kind,
            id,
        }
    } else {
        let body: String = r.get(5)?;
        ChangeRecord::from_body(kind, &body).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, Box::new(e))
        })?
    };
    Ok(Change {
        seq,
        version,
        record,
    })
}

/// A page of `limit` from rows fetched with `limit + 1`.
fn page(mut changes: Vec<Change>, after: i64, limit: u32) -> ChangesPage {
    let has_more = changes.len() > limit as usize;
    changes.truncate(limit as usize);
    let cursor = changes.last().map_or(after, |c| c.seq);
    ChangesPage {
        changes,
        cursor,
        has_more,
        total: None,
    }
}

#[async_trait]
impl RecordStore for SqliteStore {
    async fn write_records(
        &self,
        practice: PracticeId,
        viewer: Viewer,
        writes: &[RecordWrite],
    ) -> StoreResult<Vec<Written>> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let writes = writes.to_vec();
        self.with(move |c| {
            let viewer = viewer_id(viewer);
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut written = Vec::with_capacity(writes.len());
            for w in &writes {
                written.push(write_one(&tx, practice, viewer.as_deref(), w)?);
            }
            tx.commit()?;
            Ok(written)
        })
        .await
    }

    async fn record(
        &self,
        practice: PracticeId,
        viewer: Viewer,
        kind: RecordKind,
        id: Uuid,
    ) -> StoreResult<Option<Change>> {
        self.with(move |c| {
            let p = practice.0.to_string();
            let found = c
                .query_row(
                    "SELECT seq, version, deleted, kind, id, body, matter_id FROM records
                     WHERE practice_id = ?1 AND kind = ?2 AND id = ?3 AND deleted = 0",
                    params![p, kind.as_str(), id.to_string()],
                    |r| Ok((change_from_row(r)?, r.get::<_, Option<String>>(6)?)),
                )
                .optional()?;
            let Some((change, matter)) = found else {
                return Ok(None);
            };
            if let Some(m) = matter
                && !may_open(c, &p, viewer_id(viewer).as_deref(), &m)?
            {
                return Ok(None);
            }
            Ok(Some(change))
        })
        .await
    }

    async fn list_records(
        &self,
        practice: PracticeId,
        viewer: Viewer,
        q: ListQuery,
    ) -> StoreResult<ChangesPage> {
        self.with(move |c| {
            let p = practice.0.to_string();
            let fetch = i64::from(q.limit) + 1;
            let viewer = viewer_id(viewer);
            let changes = match q.matter {
                None => {
                    let mut stmt = c.prepare_cached(
                        "SELECT seq, version, deleted, kind, id, body FROM records r
                         WHERE practice_id = ?1 AND kind = ?2 AND seq > ?3 AND deleted = 0
                           AND (r.matter_id IS NULL OR ?4 IS NULL
                                OR NOT EXISTS (SELECT 1 FROM matter_restrictions mr
                                               WHERE mr.practice_id = r.practice_id AND mr.matter_id = r.matter_id)
                                OR EXISTS (SELECT 1 FROM matter_access ma
                                           WHERE ma.practice_id = r.practice_id AND ma.matter_id = r.matter_id
                                             AND ma.user_id = ?4))
                         ORDER BY seq LIMIT ?5",
                    )?;
                    stmt.query_map(
                        params![p, q.kind.as_str(), q.after, viewer, fetch],
                        change_from_row,
                    )?
                    .collect::<Result<Vec<_>, _>>()?
                }
                Some(matter) => {
                    let m = matter.to_string();
                    if !may_open(c, &p, viewer.as_deref(), &m)? {
                        Vec::new()
                    } else {
                        let mut stmt = c.prepare_cached(
                            "SELECT seq, version, deleted, kind, id, body FROM records
                             WHERE practice_id = ?1 AND matter_id = ?2 AND kind = ?3 AND seq > ?4
                               AND deleted = 0
                             ORDER BY seq LIMIT ?5",
                        )?;
                        stmt.query_map(
                            params![p, m, q.kind.as_str(), q.after, fetch],
                            change_from_row,
                        )?
                        .collect::<Result<Vec<_>, _>>()?
                    }
                }
            };
            Ok(page(changes, q.after, q.limit))
        })
        .await
    }

    async fn changes_after(
        &self,
        practice: PracticeId,
        viewer: Viewer,
        after: i64,
        limit: u32,
    ) -> StoreResult<ChangesPage> {
        self.with(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, version, deleted, kind, id, body FROM records r
                 WHERE practice_id = ?1 AND seq > ?2
                   AND (r.matter_id IS NULL OR ?3 IS NULL
                        OR NOT EXISTS (SELECT 1 FROM matter_restrictions mr
                                       WHERE mr.practice_id = r.practice_id AND mr.matter_id = r.matter_id)
                        OR EXISTS (SELECT 1 FROM matter_access ma
                                   WHERE ma.practice_id = r.practice_id AND ma.matter_id = r.matter_id
                                     AND ma.user_id = ?3))
                 ORDER BY seq LIMIT ?4",
            )?;
            let fetch = i64::from(limit) + 1;
            let changes = stmt
                .query_map(
                    params![practice.0.to_string(), after, viewer_id(viewer), fetch],
                    change_from_row,
                )?
                .collect::<Result<Vec<_>, _>>()?;
            let mut changes = changes;
            if let Some(user) = viewer_id(viewer) {
                // Matters this member may no longer open, meant for them alone.
                let mut stmt = c.prepare_cached(
                    "SELECT seq, matter_id FROM access_revocations
                     WHERE practice_id = ?1 AND user_id = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4",
                )?;
                let revoked = stmt
                    .query_map(params![practice.0.to_string(), user, after, fetch], |r| {
                        Ok(revocation(r.get(0)?, parse_uuid(&r.get::<_, String>(1)?)?))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                if !revoked.is_empty() {
                    changes.extend(revoked);
                    changes.sort_by_key(|c| c.seq);
                }
            }
            Ok(page(changes, after, limit))
        })
        .await
    }

    async fn count_changes_after(
        &self,
        practice: PracticeId,
        viewer: Viewer,
        after: i64,
    ) -> StoreResult<u64> {
        self.with(move |c| {
            // The same rows as `changes_after`'s, counted.
            let records: i64 = c
                .prepare_cached(
                    "SELECT count(*) FROM records r
                     WHERE practice_id = ?1 AND seq > ?2
                       AND (r.matter_id IS NULL OR ?3 IS NULL
                            OR NOT EXISTS (SELECT 1 FROM matter_restrictions mr
                                           WHERE mr.practice_id = r.practice_id AND mr.matter_id = r.matter_id)
                            OR EXISTS (SELECT 1 FROM matter_access ma
                                       WHERE ma.practice_id = r.practice_id AND ma.matter_id = r.matter_id
                                         AND ma.user_id = ?3))",
                )?
                .query_row(
                    params![practice.0.to_string(), after, viewer_id(viewer)],
                    |r| r.get(0),
                )?;
            let revoked: i64 = match viewer_id(viewer) {
                Some(user) => c
                    .prepare_cached(
                        "SELECT count(*) FROM access_revocations
                         WHERE practice_id = ?1 AND user_id = ?2 AND seq > ?3",
                    )?
                    .query_row(params![practice.0.to_string(), user, after], |r| r.get(0))?,
                None => 0,
            };
            Ok(u64::try_from(records + revoked).unwrap_or(0))
        })
        .await
    }

    async fn matter_access(
        &self,
        practice: PracticeId,
        matter: Uuid,
    ) -> StoreResult<(bool, Vec<UserId>)> {
        self.with(move |c| {
            let (p, m) = (practice.0.to_string(), matter.to_string());
            if !is_live(c, &p, RecordKind::Matter, &m)? {
                return Err(StoreError::NotFound);
            }
            let restricted: bool = c.query_row(
                "SELECT EXISTS (SELECT 1 FROM matter_restrictions WHERE practice_id = ?1 AND matter_id = ?2)",
                params![p, m],
                |r| r.get(0),
            )?;
            let mut stmt = c.prepare_cached(
                "SELECT user_id FROM matter_access WHERE practice_id = ?1 AND matter_id = ?2
                 ORDER BY user_id",
            )?;
            let members = stmt
                .query_map(params![p, m], |r| {
                    Ok(UserId(parse_uuid(&r.get::<_, String>(0)?)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok((restricted, members))
        })
        .await
    }

    async fn set_matter_access(
        &self,
        practice: PracticeId,
        matter: Uuid,
        restricted: bool,
        members: &[UserId],
    ) -> StoreResult<()> {
        let members = members.to_vec();
        self.with(move |c| {
            let (p, m) = (practice.0.to_string(), matter.to_string());
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if !is_live(&tx, &p, RecordKind::Matter, &m)? {
                return Err(StoreError::NotFound);
            }
            tx.execute(
                "DELETE FROM matter_access WHERE practice_id = ?1 AND matter_id = ?2",
                params![p, m],
            )?;
            tx.execute(
                "DELETE FROM matter_restrictions WHERE practice_id = ?1 AND matter_id = ?2",
                params![p, m],
            )?;
            if restricted {
                tx.execute(
                    "INSERT INTO matter_restrictions (practice_id, matter_id) VALUES (?1, ?2)",
                    params![p, m],
                )?;
                for member in &members {
                    let u = member.0.to_string();
                    let ours: bool = tx.query_row(
                        "SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1 AND practice_id = ?2)",
                        params![u, p],
                        |r| r.get(0),
                    )?;
                    if !ours {
                        return Err(StoreError::Invalid(
                            "members: not a member of this practice".into(),
                        ));
                    }
                    tx.execute(
                        "INSERT OR IGNORE INTO matter_access (practice_id, matter_id, user_id)
                         VALUES (?1, ?2, ?3)",
                        params![p, m, u],
                    )?;
                }
                // Whoever may not open it now hears so through the feed.
                let shut_out: Vec<String> = tx
                    .prepare(
                        "SELECT id FROM users WHERE practice_id = ?1 AND id NOT IN
                           (SELECT user_id FROM matter_access WHERE practice_id = ?1 AND matter_id = ?2)
                         ORDER BY id",
                    )?
                    .query_map(params![p, m], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                for user in shut_out {
                    let seq = next_seq(&tx, practice)?;
                    tx.execute(
                        "INSERT INTO access_revocations (practice_id, seq, user_id, matter_id)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![p, seq, user, m],
                    )?;
                }
            }
            // Whoever may open it now gets all of it again (a member let back in has a
            // cursor past it): the matter, then its records, each at a new number.
            let live: Vec<(String, String)> = tx
                .prepare(
                    "SELECT kind, id FROM records
                     WHERE practice_id = ?1 AND matter_id = ?2 AND deleted = 0
                     ORDER BY kind <> 'matter', seq",
                )?
                .query_map(params![p, m], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            for (kind, id) in live {
                let seq = next_seq(&tx, practice)?;
                tx.execute(
                    "UPDATE records SET seq = ?4 WHERE practice_id = ?1 AND kind = ?2 AND id = ?3",
                    params![p, kind, id, seq],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn bulk_put(
        &self,
        practice: PracticeId,
        records: &[ChangeRecord],
    ) -> StoreResult<Vec<i64>> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let rows = records
            .iter()
            .map(|r| {
                let (kind, id) = r.key();
                let body = r
                    .body_json()
                    .ok_or_else(|| StoreError::Database("bulk_put takes no tombstones".into()))?;
                Ok((
                    kind,
                    id.to_string(),
                    r.matter_id().map(|m| m.to_string()),
                    body,
                ))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let count = i64::try_from(rows.len())
            .map_err(|_| StoreError::Database("too many records in one batch".into()))?;
        self.with(move |c| {
            let p = practice.0.to_string();
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // The block `last - count + 1 ..= last`, taken under the write lock.
            let last: i64 = tx
                .query_row(
                    "UPDATE practices SET last_seq = last_seq + ?2 WHERE id = ?1 RETURNING last_seq",
                    params![p, count],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or(StoreError::NotFound)?;
            let mut seqs = Vec::with_capacity(rows.len());
            for ((kind, id, matter, body), seq) in rows.into_iter().zip(last - count + 1..) {
                let current = stored(&tx, &p, kind, &id)?;
                upsert(
                    &tx,
                    &p,
                    NewRow {
                        kind,
                        id: &id,
                        matter: matter.as_deref(),
                        seq,
                        body: &body,
                    },
                    current.as_ref(),
                )?;
                seqs.push(seq);
            }
            tx.commit()?;
            Ok(seqs)
        })
        .await
    }
}
