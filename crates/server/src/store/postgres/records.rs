//! [`RecordStore`] on PostgreSQL: one `records` table; a write's transaction takes the
//! practice row's lock before it reads what it changes (versions, field versions) and
//! holds it until it commits.

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Transaction};
use strongroom_protocol::{Change, ChangeRecord, ChangesPage, RecordKind};
use tokio_postgres::Row;
use uuid::Uuid;

use super::{PostgresStore, lock_practice, next_seq};
use crate::store::records::{
    Expect, ListQuery, RecordStore, RecordWrite, Viewer, Written, field_versions_after, revocation,
};
use crate::store::{PracticeId, StoreError, StoreResult, UserId};

fn viewer_id(viewer: Viewer) -> Option<Uuid> {
    match viewer {
        Viewer::Member(u) => Some(u.0),
        // No member has the nil id, so no restricted matter names it.
        Viewer::Outsider => Some(Uuid::nil()),
        Viewer::Service => None,
    }
}

/// Whether `viewer` (`None`: the service) may open matter `matter`.
pub(super) async fn may_open(
    c: &impl GenericClient,
    practice: Uuid,
    viewer: Option<Uuid>,
    matter: Uuid,
) -> StoreResult<bool> {
    let Some(viewer) = viewer else {
        return Ok(true);
    };
    let stmt = c
        .prepare_cached(
            "SELECT NOT EXISTS (SELECT 1 FROM matter_restrictions
                                WHERE practice_id = $1 AND matter_id = $2)
                 OR EXISTS (SELECT 1 FROM matter_access
                            WHERE practice_id = $1 AND matter_id = $2 AND user_id = $3)",
        )
        .await?;
    Ok(c.query_one(&stmt, &[&practice, &matter, &viewer])
        .await?
        .try_get(0)?)
}

async fn is_live(
    c: &impl GenericClient,
    practice: Uuid,
    kind: RecordKind,
    id: Uuid,
) -> StoreResult<bool> {
    let stmt = c
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM records
                            WHERE practice_id = $1 AND kind = $2 AND id = $3 AND NOT deleted)",
        )
        .await?;
    Ok(c.query_one(&stmt, &[&practice, &kind.as_str(), &id])
        .await?
        .try_get(0)?)
}

async fn tombstone(
    tx: &Transaction<'_>,
    practice: PracticeId,
    kind: RecordKind,
    id: Uuid,
) -> StoreResult<Written> {
    let seq = next_seq(tx, practice).await?;
    let stmt = tx
        .prepare_cached(
            "UPDATE records SET seq = $4, version = version + 1, deleted = true, body = NULL,
               field_versions = '{}'
             WHERE practice_id = $1 AND kind = $2 AND id = $3 RETURNING version",
        )
        .await?;
    let version = tx
        .query_one(&stmt, &[&practice.0, &kind.as_str(), &id, &seq])
        .await?
        .try_get(0)?;
    Ok(Written { seq, version })
}

/// Creates or replaces a record: its version and field versions are computed by the
/// caller (see [`field_versions_after`]) under the practice's lock.
const UPSERT: &str = "INSERT INTO records
       (practice_id, kind, id, matter_id, seq, version, deleted, body, field_versions)
     VALUES ($1, $2, $3, $4, $5, $6, false, $7, $8)
     ON CONFLICT (practice_id, kind, id) DO UPDATE SET
       matter_id = excluded.matter_id, seq = excluded.seq, version = excluded.version,
       deleted = false, body = excluded.body, field_versions = excluded.field_versions";

/// A record's row as a write finds it.
struct Stored {
    matter: Option<Uuid>,
    version: i64,
    deleted: bool,
    body: Option<String>,
    field_versions: String,
}

impl Stored {
    fn from_row(r: &Row) -> StoreResult<Self> {
        Ok(Stored {
            matter: r.try_get("matter_id")?,
            version: r.try_get("version")?,
            deleted: r.try_get("deleted")?,
            body: r.try_get("body")?,
            field_versions: r.try_get("field_versions")?,
        })
    }

    /// The version and field versions of a write of `body` over `current`.
    fn next(current: Option<&Stored>, body: &str) -> (i64, String) {
        let version = current.map_or(1, |s| s.version + 1);
        let field_versions = field_versions_after(
            current.and_then(|s| s.body.as_deref()),
            current.map_or("{}", |s| &s.field_versions),
            body,
            version,
        );
        (version, field_versions)
    }
}

async fn stored(
    c: &impl GenericClient,
    practice: Uuid,
    kind: RecordKind,
    id: Uuid,
) -> StoreResult<Option<Stored>> {
    let stmt = c
        .prepare_cached(
            "SELECT matter_id, version, deleted, body, field_versions FROM records
             WHERE practice_id = $1 AND kind = $2 AND id = $3",
        )
        .await?;
    match c
        .query_opt(&stmt, &[&practice, &kind.as_str(), &id])
        .await?
    {
        Some(r) => Ok(Some(Stored::from_row(&r)?)),
        None => Ok(None),
    }
}

/// Applies one write inside `tx`, which holds the practice's lock (see [`lock_practice`]).
pub(super) async fn write_one(
    tx: &Transaction<'_>,
    practice: PracticeId,
    viewer: Option<Uuid>,
    write: &RecordWrite,
) -> StoreResult<Written> {
    let p = practice.0;
    let (kind, id) = write.record.key();
    let current = stored(tx, p, kind, id).await?;
    if let Some(Stored {
        matter: Some(matter),
        ..
    }) = &current
        && !may_open(tx, p, viewer, *matter).await?
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
                let on_matters: i64 = tx
                    .query_one(
                        "SELECT count(*) FROM records
                         WHERE practice_id = $1 AND kind = 'participant' AND NOT deleted
                           AND (body::jsonb ->> 'contact_id') = $2",
                        &[&p, &id.to_string()],
                    )
                    .await?
                    .try_get(0)?;
                if on_matters > 0 {
                    return Err(StoreError::InUse(format!(
                        "the contact takes part in {on_matters} matter role(s); remove those first"
                    )));
                }
            }
            RecordKind::Matter => {
                let children = tx
                    .query(
                        "SELECT kind, id FROM records
                         WHERE practice_id = $1 AND matter_id = $2 AND kind <> 'matter' AND NOT deleted
                         ORDER BY seq",
                        &[&p, &id],
                    )
                    .await?;
                for row in children {
                    let child_kind: String = row.try_get(0)?;
                    let child_id: Uuid = row.try_get(1)?;
                    let child_kind = RecordKind::parse(&child_kind).ok_or_else(|| {
                        StoreError::Database(format!("unknown record kind {child_kind:?}"))
                    })?;
                    tombstone(tx, practice, child_kind, child_id).await?;
                }
            }
            _ => {}
        }
        return tombstone(tx, practice, kind, id).await;
    }
    let matter = write.record.matter_id();
    if kind != RecordKind::Matter
        && let Some(m) = matter
        && !(is_live(tx, p, RecordKind::Matter, m).await? && may_open(tx, p, viewer, m).await?)
    {
        return Err(StoreError::Invalid(
            "matter_id: there is no such matter".into(),
        ));
    }
    if let ChangeRecord::Participant { participant } = &write.record
        && !is_live(tx, p, RecordKind::Contact, participant.contact_id).await?
    {
        return Err(StoreError::Invalid(
            "contact_id: there is no such contact".into(),
        ));
    }
    let body = write
        .record
        .body_json()
        .ok_or_else(|| StoreError::Database("a record without a body".into()))?;
    let seq = next_seq(tx, practice).await?;
    let (version, field_versions) = Stored::next(current.as_ref(), &body);
    let stmt = tx.prepare_cached(UPSERT).await?;
    tx.execute(
        &stmt,
        &[
            &p,
            &kind.as_str(),
            &id,
            &matter,
            &seq,
            &version,
            &body,
            &field_versions,
        ],
    )
    .await?;
    Ok(Written { seq, version })
}

fn change_from_row(r: &Row) -> StoreResult<Change> {
    let seq: i64 = r.try_get(0)?;
    let version: i64 = r.try_get(1)?;
    let deleted: bool = r.try_get(2)?;
    let kind: String = r.try_get(3)?;
    let id: Uuid = r.try_get(4)?;
    let kind = RecordKind::parse(&kind)
        .ok_or_else(|| StoreError::Database(format!("unknown record kind {kind:?}")))?;
    let record = if deleted {
        ChangeRecord::Deleted {
            record_kind: kind,
            id,
        }
    } else {
        let body: String = r.try_get(5)?;
        ChangeRecord::from_body(kind, &body).map_err(|e| {
            StoreError::Database(format!("a stored {} does not parse: {e}", kind.as_str()))
        })?
    };
    Ok(Change {
        seq,
        version,
        record,
    })
}

fn page(rows: &[Row], after: i64, limit: u32) -> StoreResult<ChangesPage> {
    let changes = rows
        .iter()
        .map(change_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(page_of(changes, after, limit))
}

/// A page of `limit` from changes in `seq` order fetched with `limit + 1`.
fn page_of(mut changes: Vec<Change>, after: i64, limit: u32) -> ChangesPage {
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
impl RecordStore for PostgresStore {
    async fn write_records(
        &self,
        practice: PracticeId,
        viewer: Viewer,
        writes: &[RecordWrite],
    ) -> StoreResult<Vec<Written>> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        lock_practice(&tx, practice).await?;
        let viewer = viewer_id(viewer);
        let mut written = Vec::with_capacity(writes.len());
        for w in writes {
            written.push(write_one(&tx, practice, viewer, w).await?);
        }
        tx.commit().await?;
        Ok(written)
    }

    async fn record(
        &self,
        practice: PracticeId,
        viewer: Viewer,
        kind: RecordKind,
        id: Uuid,
    ) -> StoreResult<Option<Change>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT seq, version, deleted, kind, id, body, matter_id FROM records
                 WHERE practice_id = $1 AND kind = $2 AND id = $3 AND NOT deleted",
            )
            .await?;
        let Some(row) = client
            .query_opt(&stmt, &[&practice.0, &kind.as_str(), &id])
            .await?
        else {
            return Ok(None);
        };
        let matter: Option<Uuid> = row.try_get(6)?;
        if let Some(m) = matter
            && !may_open(&client, practice.0, viewer_id(viewer), m).await?
        {
            return Ok(None);
        }
        Ok(Some(change_from_row(&row)?))
    }

    async fn list_records(
        &self,
        practice: PracticeId,
        viewer: Viewer,
        q: ListQuery,
    ) -> StoreResult<ChangesPage> {
        let client = self.client().await?;
        let fetch = i64::from(q.limit) + 1;
        let viewer = viewer_id(viewer);
        let rows = match q.matter {
            None => {
                let stmt = client
                    .prepare_cached(
                        "SELECT seq, version, deleted, kind, id, body FROM records r
                         WHERE practice_id = $1 AND kind = $2 AND seq > $3 AND NOT deleted
                           AND (r.matter_id IS NULL OR $4::uuid IS NULL
                                OR NOT EXISTS (SELECT 1 FROM matter_restrictions mr
                                               WHERE mr.practice_id = r.practice_id AND mr.matter_id = r.matter_id)
                                OR EXISTS (SELECT 1 FROM matter_access ma
                                           WHERE ma.practice_id = r.practice_id AND ma.matter_id = r.matter_id
                                             AND ma.user_id = $4))
                         ORDER BY seq LIMIT $5",
                    )
                    .await?;
                client
                    .query(
                        &stmt,
                        &[&practice.0, &q.kind.as_str(), &q.after, &viewer, &fetch],
                    )
                    .await?
            }
            Some(matter) => {
                if !may_open(&client, practice.0, viewer, matter).await? {
                    Vec::new()
                } else {
                    let stmt = client
                        .prepare_cached(
                            "SELECT seq, version, deleted, kind, id, body FROM records
                             WHERE practice_id = $1 AND matter_id = $2 AND kind = $3 AND seq > $4
                               AND NOT deleted
                             ORDER BY seq LIMIT $5",
                        )
                        .await?;
                    client
                        .query(
                            &stmt,
                            &[&practice.0, &matter, &q.kind.as_str(), &q.after, &fetch],
                        )
                        .await?
                }
            }
        };
        page(&rows, q.after, q.limit)
    }

    async fn changes_after(
        &self,
        practice: PracticeId,
        viewer: Viewer,
        after: i64,
        limit: u32,
    ) -> StoreResult<ChangesPage> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT seq, version, deleted, kind, id, body FROM records r
                 WHERE practice_id = $1 AND seq > $2
                   AND (r.matter_id IS NULL OR $3::uuid IS NULL
                        OR NOT EXISTS (SELECT 1 FROM matter_restrictions mr
                                       WHERE mr.practice_id = r.practice_id AND mr.matter_id = r.matter_id)
                        OR EXISTS (SELECT 1 FROM matter_access ma
                                   WHERE ma.practice_id = r.practice_id AND ma.matter_id = r.matter_id
                                     AND ma.user_id = $3))
                 ORDER BY seq LIMIT $4",
            )
            .await?;
        let fetch = i64::from(limit) + 1;
        let rows = client
            .query(&stmt, &[&practice.0, &after, &viewer_id(viewer), &fetch])
            .await?;
        let mut changes = rows
            .iter()
            .map(change_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        if let Some(user) = viewer_id(viewer) {
            // Matters this member may no longer open, meant for them alone.
            let stmt = client
                .prepare_cached(
                    "SELECT seq, matter_id FROM access_revocations
                     WHERE practice_id = $1 AND user_id = $2 AND seq > $3 ORDER BY seq LIMIT $4",
                )
                .await?;
            let revoked = client
                .query(&stmt, &[&practice.0, &user, &after, &fetch])
                .await?;
            if !revoked.is_empty() {
                for r in &revoked {
                    changes.push(revocation(r.try_get(0)?, r.try_get(1)?));
                }
                changes.sort_by_key(|c| c.seq);
            }
        }
        Ok(page_of(changes, after, limit))
    }

    async fn count_changes_after(
        &self,
        practice: PracticeId,
        viewer: Viewer,
        after: i64,
    ) -> StoreResult<u64> {
        let client = self.client().await?;
        // The same rows as `changes_after`'s, counted.
        let stmt = client
            .prepare_cached(
                "SELECT count(*) FROM records r
                 WHERE practice_id = $1 AND seq > $2
                   AND (r.matter_id IS NULL OR $3::uuid IS NULL
                        OR NOT EXISTS (SELECT 1 FROM matter_restrictions mr
                                       WHERE mr.practice_id = r.practice_id AND mr.matter_id = r.matter_id)
                        OR EXISTS (SELECT 1 FROM matter_access ma
                                   WHERE ma.practice_id = r.practice_id AND ma.matter_id = r.matter_id
                                     AND ma.user_id = $3))",
            )
            .await?;
        let records: i64 = client
            .query_one(&stmt, &[&practice.0, &after, &viewer_id(viewer)])
            .await?
            .try_get(0)?;
        let revoked: i64 = match viewer_id(viewer) {
            Some(user) => {
                let stmt = client
                    .prepare_cached(
                        "SELECT count(*) FROM access_revocations
                         WHERE practice_id = $1 AND user_id = $2 AND seq > $3",
                    )
                    .await?;
                client
                    .query_one(&stmt, &[&practice.0, &user, &after])
                    .await?
                    .try_get(0)?
            }
            None => 0,
        };
        Ok(u64::try_from(records + revoked).unwrap_or(0))
    }

    async fn matter_access(
        &self,
        practice: PracticeId,
        matter: Uuid,
    ) -> StoreResult<(bool, Vec<UserId>)> {
        let client = self.client().await?;
        if !is_live(&client, practice.0, RecordKind::Matter, matter).await? {
            return Err(StoreError::NotFound);
        }
        let restricted: bool = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM matter_restrictions
                                WHERE practice_id = $1 AND matter_id = $2)",
                &[&practice.0, &matter],
            )
            .await?
            .try_get(0)?;
        let members = client
            .query(
                "SELECT user_id FROM matter_access WHERE practice_id = $1 AND matter_id = $2
                 ORDER BY user_id",
                &[&practice.0, &matter],
            )
            .await?
            .iter()
            .map(|r| r.try_get(0).map(UserId))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((restricted, members))
    }

    async fn set_matter_access(
        &self,
        practice: PracticeId,
        matter: Uuid,
        restricted: bool,
        members: &[UserId],
    ) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let p = practice.0;
        // Writers of this practice's access and records go one at a time.
        tx.execute("SELECT 1 FROM practices WHERE id = $1 FOR UPDATE", &[&p])
            .await?;
        if !is_live(&tx, p, RecordKind::Matter, matter).await? {
            return Err(StoreError::NotFound);
        }
        tx.execute(
            "DELETE FROM matter_access WHERE practice_id = $1 AND matter_id = $2",
            &[&p, &matter],
        )
        .await?;
        tx.execute(
            "DELETE FROM matter_restrictions WHERE practice_id = $1 AND matter_id = $2",
            &[&p, &matter],
        )
        .await?;
        if restricted {
            tx.execute(
                "INSERT INTO matter_restrictions (practice_id, matter_id) VALUES ($1, $2)",
                &[&p, &matter],
            )
            .await?;
            for member in members {
                let ours: bool = tx
                    .query_one(
                        "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND practice_id = $2)",
                        &[&member.0, &p],
                    )
                    .await?
                    .try_get(0)?;
                if !ours {
                    return Err(StoreError::Invalid(
                        "members: not a member of this practice".into(),
                    ));
                }
                tx.execute(
                    "INSERT INTO matter_access (practice_id, matter_id, user_id)
                     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    &[&p, &matter, &member.0],
                )
                .await?;
            }
            // Whoever may not open it now hears so through the feed.
            let shut_out = tx
                .query(
                    "SELECT id FROM users WHERE practice_id = $1 AND id NOT IN
                       (SELECT user_id FROM matter_access WHERE practice_id = $1 AND matter_id = $2)
                     ORDER BY id",
                    &[&p, &matter],
                )
                .await?;
            for row in shut_out {
                let user: Uuid = row.try_get(0)?;
                let seq = next_seq(&tx, practice).await?;
                tx.execute(
                    "INSERT INTO access_revocations (practice_id, seq, user_id, matter_id)
                     VALUES ($1, $2, $3, $4)",
                    &[&p, &seq, &user, &matter],
                )
                .await?;
            }
        }
        // Whoever may open it now gets all of it again (a member let back in has a cursor
        // past it): the matter, then its records, each at a new number.
        let live = tx
            .query(
                "SELECT kind, id FROM records
                 WHERE practice_id = $1 AND matter_id = $2 AND NOT deleted
                 ORDER BY kind <> 'matter', seq",
                &[&p, &matter],
            )
            .await?;
        for row in live {
            let kind: String = row.try_get(0)?;
            let id: Uuid = row.try_get(1)?;
            let seq = next_seq(&tx, practice).await?;
            tx.execute(
                "UPDATE records SET seq = $4 WHERE practice_id = $1 AND kind = $2 AND id = $3",
                &[&p, &kind, &id, &seq],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn bulk_put(
        &self,
        practice: PracticeId,
        records: &[ChangeRecord],
    ) -> StoreResult<Vec<i64>> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let count = i64::try_from(records.len())
            .map_err(|_| StoreError::Database("too many records in one batch".into()))?;
        let mut kinds = Vec::with_capacity(records.len());
        let mut ids = Vec::with_capacity(records.len());
        let mut matters = Vec::with_capacity(records.len());
        let mut bodies = Vec::with_capacity(records.len());
        for r in records {
            let (kind, id) = r.key();
            kinds.push(kind.as_str());
            ids.push(id);
            matters.push(r.matter_id());
            bodies.push(
                r.body_json()
                    .ok_or_else(|| StoreError::Database("bulk_put takes no tombstones".into()))?,
            );
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let last: i64 = tx
            .query_opt(
                "UPDATE practices SET last_seq = last_seq + $2 WHERE id = $1 RETURNING last_seq",
                &[&practice.0, &count],
            )
            .await?
            .ok_or(StoreError::NotFound)?
            .try_get(0)?;
        let seqs: Vec<i64> = (last - count + 1..=last).collect();
        // What is stored already of these records (the practice's lock is held: the
        // sequence numbers above took it).
        let mut existing = std::collections::HashMap::new();
        for r in tx
            .query(
                "SELECT kind, id, matter_id, version, deleted, body, field_versions FROM records
                 WHERE practice_id = $1
                   AND (kind, id) IN (SELECT * FROM unnest($2::text[], $3::uuid[]))",
                &[&practice.0, &kinds, &ids],
            )
            .await?
        {
            let kind: String = r.try_get("kind")?;
            let id: Uuid = r.try_get("id")?;
            existing.insert((kind, id), Stored::from_row(&r)?);
        }
        let mut versions = Vec::with_capacity(records.len());
        let mut field_versions = Vec::with_capacity(records.len());
        for ((kind, id), body) in kinds.iter().zip(&ids).zip(&bodies) {
            let (version, fields) = Stored::next(existing.get(&((*kind).to_owned(), *id)), body);
            versions.push(version);
            field_versions.push(fields);
        }
        tx.execute(
            "INSERT INTO records
               (practice_id, kind, id, matter_id, seq, version, deleted, body, field_versions)
             SELECT $1, k, i, m, s, v, false, b, f
             FROM unnest($2::text[], $3::uuid[], $4::uuid[], $5::bigint[], $6::bigint[],
                         $7::text[], $8::text[])
                  AS t (k, i, m, s, v, b, f)
             ON CONFLICT (practice_id, kind, id) DO UPDATE SET
               matter_id = excluded.matter_id, seq = excluded.seq,
               version = excluded.version, deleted = false, body = excluded.body,
               field_versions = excluded.field_versions",
            &[
                &practice.0,
                &kinds,
                &ids,
                &matters,
                &seqs,
                &versions,
                &bodies,
                &field_versions,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(seqs)
    }
}
