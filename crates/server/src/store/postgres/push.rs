//! [`PushStore`] on PostgreSQL: each mutation in a transaction of its own that holds the
//! practice's lock from the start, its effect inside a savepoint (undone whole when the
//! mutation is refused).

use std::collections::BTreeSet;

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Transaction};
use strongroom_protocol::{
    AppliedAt, ConflictResolution, Mutation, MutationResult, RecordKind, SyncConflict,
};
use tokio_postgres::Row;
use uuid::Uuid;

use super::records::{may_open, write_one};
use super::{PostgresStore, lock_practice};
use crate::store::push::{
    Current, Plan, PushStore, Pusher, Rejection, conflict_kind_str, decide, fields_json,
    out_of_order, parse_conflict_kind, parse_fields, parse_result, plan_resolution, replay,
    resolution_str, result_json,
};
use crate::store::records::{Written, body_fields, parse_field_versions};
use crate::store::{PracticeId, StoreError, StoreResult, UserId};

/// The record as `viewer` would change it, if there is a row of it.
async fn current(
    c: &impl GenericClient,
    practice: Uuid,
    viewer: Uuid,
    kind: RecordKind,
    id: Uuid,
) -> StoreResult<Option<Current>> {
    let stmt = c
        .prepare_cached(
            "SELECT seq, version, deleted, body, field_versions, matter_id FROM records
             WHERE practice_id = $1 AND kind = $2 AND id = $3",
        )
        .await?;
    let Some(r) = c
        .query_opt(&stmt, &[&practice, &kind.as_str(), &id])
        .await?
    else {
        return Ok(None);
    };
    let body: Option<String> = r.try_get(3)?;
    let field_versions: String = r.try_get(4)?;
    let matter: Option<Uuid> = r.try_get(5)?;
    let visible = match matter {
        Some(m) => may_open(c, practice, Some(viewer), m).await?,
        None => true,
    };
    Ok(Some(Current {
        seq: r.try_get(0)?,
        version: r.try_get(1)?,
        deleted: r.try_get(2)?,
        body: body.as_deref().and_then(body_fields).unwrap_or_default(),
        field_versions: parse_field_versions(&field_versions),
        visible,
    }))
}

/// The versions of a record after `base` that this device's mutations wrote.
async fn own_versions(
    c: &impl GenericClient,
    pusher: &Pusher,
    kind: RecordKind,
    id: Uuid,
    base: i64,
) -> StoreResult<BTreeSet<i64>> {
    let stmt = c
        .prepare_cached(
            "SELECT written_version FROM mutation_results
             WHERE user_id = $1 AND device_id = $2 AND record_kind = $3 AND record_id = $4
               AND written_version > $5",
        )
        .await?;
    c.query(
        &stmt,
        &[&pusher.user.0, &pusher.device, &kind.as_str(), &id, &base],
    )
    .await?
    .iter()
    .map(|r| Ok(r.try_get(0)?))
    .collect()
}

/// Carries out `plan` inside the savepoint `sp`: its write and its conflict. A refusal of
/// the write comes back as `Err` inside, for the caller to undo the savepoint.
async fn carry_out(
    sp: &Transaction<'_>,
    pusher: &Pusher,
    mutation: &Mutation,
    plan: &Plan,
) -> StoreResult<Result<Option<Written>, Rejection>> {
    let Plan::Change { write, conflict } = plan else {
        return Ok(Ok(None));
    };
    let written = match write {
        None => None,
        Some(w) => match write_one(sp, pusher.practice, Some(pusher.user.0), w).await {
            Ok(w) => Some(w),
            Err(e) => return Ok(Err(Rejection::from_write_error(e)?)),
        },
    };
    if let Some(conflict) = conflict {
        let stmt = sp
            .prepare_cached(
                "INSERT INTO sync_conflicts (practice_id, id, user_id, device_id, mutation_seq,
                   kind, record_kind, record_id, base_version, server_version, fields, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .await?;
        sp.execute(
            &stmt,
            &[
                &pusher.practice.0,
                &conflict.id,
                &pusher.user.0,
                &pusher.device,
                &mutation.mutation_seq,
                &conflict_kind_str(conflict.kind),
                &conflict.record_kind.as_str(),
                &conflict.record_id,
                &conflict.base_version,
                &conflict.server_version,
                &fields_json(&conflict.fields)?,
                &pusher.now,
            ],
        )
        .await?;
    }
    Ok(Ok(written))
}

fn conflict_from_row(r: &Row) -> StoreResult<SyncConflict> {
    let kind: String = r.try_get("kind")?;
    let record_kind: String = r.try_get("record_kind")?;
    let fields: String = r.try_get("fields")?;
    Ok(SyncConflict {
        id: r.try_get("id")?,
        kind: parse_conflict_kind(&kind)?,
        record_kind: RecordKind::parse(&record_kind)
            .ok_or_else(|| StoreError::Database(format!("unknown record kind {record_kind:?}")))?,
        record_id: r.try_get("record_id")?,
        base_version: r.try_get("base_version")?,
        server_version: r.try_get("server_version")?,
        fields: parse_fields(&fields)?,
    })
}

#[async_trait]
impl PushStore for PostgresStore {
    async fn apply_mutation(&self, pusher: &Pusher, m: &Mutation) -> StoreResult<MutationResult> {
        let (p, u, d) = (pusher.practice.0, pusher.user.0, pusher.device);
        let mut client = self.client().await?;
        let mut tx = client.transaction().await?;
        lock_practice(&tx, pusher.practice).await?;
        let stmt = tx
            .prepare_cached(
                "INSERT INTO devices (practice_id, user_id, device_id, last_mutation_seq,
                   first_seen, last_seen)
                 VALUES ($1, $2, $3, 0, $4, $4)
                 ON CONFLICT (user_id, device_id) DO UPDATE SET last_seen = excluded.last_seen
                 RETURNING last_mutation_seq",
            )
            .await?;
        let last: i64 = tx
            .query_one(&stmt, &[&p, &u, &d, &pusher.now])
            .await?
            .try_get(0)?;
        if m.mutation_seq <= last {
            let stored = tx
                .query_opt(
                    "SELECT result, record_kind, record_id FROM mutation_results
                     WHERE user_id = $1 AND device_id = $2 AND mutation_seq = $3",
                    &[&u, &d, &m.mutation_seq],
                )
                .await?;
            let answer = match stored {
                Some(r) => {
                    let json: String = r.try_get(0)?;
                    let kind: String = r.try_get(1)?;
                    let kind = RecordKind::parse(&kind).ok_or_else(|| {
                        StoreError::Database(format!("unknown record kind {kind:?}"))
                    })?;
                    let now = current(&tx, p, u, kind, r.try_get(2)?).await?;
                    replay(parse_result(&json)?, now.as_ref())
                }
                None => out_of_order(m.mutation_seq, last),
            };
            tx.commit().await?;
            return Ok(answer);
        }
        let stored = current(&tx, p, u, m.kind, m.record_id).await?;
        let own = own_versions(
            &tx,
            pusher,
            m.kind,
            m.record_id,
            m.base_version.unwrap_or(0),
        )
        .await?;
        let plan = decide(m, pusher.may_write, stored.as_ref(), &own);
        let sp = tx.transaction().await?;
        let (outcome, written_version) = match carry_out(&sp, pusher, m, &plan).await? {
            Ok(written) => {
                sp.commit().await?;
                (plan.outcome(written), written.map(|w| w.version))
            }
            Err(rejection) => {
                sp.rollback().await?;
                (rejection.outcome(), None)
            }
        };
        let result = MutationResult {
            mutation_seq: m.mutation_seq,
            outcome,
        };
        let stmt = tx
            .prepare_cached(
                "INSERT INTO mutation_results (user_id, device_id, mutation_seq, record_kind,
                   record_id, written_version, result)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .await?;
        tx.execute(
            &stmt,
            &[
                &u,
                &d,
                &m.mutation_seq,
                &m.kind.as_str(),
                &m.record_id,
                &written_version,
                &result_json(&result)?,
            ],
        )
        .await?;
        let stmt = tx
            .prepare_cached(
                "UPDATE devices SET last_mutation_seq = $3 WHERE user_id = $1 AND device_id = $2",
            )
            .await?;
        tx.execute(&stmt, &[&u, &d, &m.mutation_seq]).await?;
        tx.commit().await?;
        Ok(result)
    }

    async fn open_conflicts(
        &self,
        practice: PracticeId,
        user: UserId,
    ) -> StoreResult<Vec<SyncConflict>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT c.id, c.kind, c.record_kind, c.record_id, c.base_version,
                        c.server_version, c.fields
                 FROM sync_conflicts c
                 LEFT JOIN records r ON r.practice_id = c.practice_id
                   AND r.kind = c.record_kind AND r.id = c.record_id
                 WHERE c.practice_id = $1 AND c.user_id = $2 AND c.resolved_at IS NULL
                   AND (r.matter_id IS NULL
                        OR NOT EXISTS (SELECT 1 FROM matter_restrictions mr
                                       WHERE mr.practice_id = c.practice_id
                                         AND mr.matter_id = r.matter_id)
                        OR EXISTS (SELECT 1 FROM matter_access ma
                                   WHERE ma.practice_id = c.practice_id
                                     AND ma.matter_id = r.matter_id AND ma.user_id = $2))
                 ORDER BY c.created_at, c.device_id, c.mutation_seq",
            )
            .await?;
        client
            .query(&stmt, &[&practice.0, &user.0])
            .await?
            .iter()
            .map(conflict_from_row)
            .collect()
    }

    async fn resolve_conflict(
        &self,
        practice: PracticeId,
        user: UserId,
        id: Uuid,
        resolution: &ConflictResolution,
        now: i64,
    ) -> StoreResult<AppliedAt> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        lock_practice(&tx, practice).await?;
        let Some(row) = tx
            .query_opt(
                "SELECT id, kind, record_kind, record_id, base_version, server_version, fields,
                        resolved_at
                 FROM sync_conflicts WHERE practice_id = $1 AND id = $2 AND user_id = $3",
                &[&practice.0, &id, &user.0],
            )
            .await?
        else {
            return Err(StoreError::NotFound);
        };
        let resolved_at: Option<i64> = row.try_get("resolved_at")?;
        if resolved_at.is_some() {
            return Err(StoreError::InUse("the conflict is resolved already".into()));
        }
        let conflict = conflict_from_row(&row)?;
        let stored = current(
            &tx,
            practice.0,
            user.0,
            conflict.record_kind,
            conflict.record_id,
        )
        .await?;
        let write = plan_resolution(&conflict, resolution, stored.as_ref())
            .map_err(Rejection::into_store_error)?;
        let at = match write {
            Some(w) => {
                let w = write_one(&tx, practice, Some(user.0), &w).await?;
                AppliedAt {
                    seq: w.seq,
                    version: w.version,
                }
            }
            None => stored
                .map(|c| c.at())
                .unwrap_or(AppliedAt { seq: 0, version: 0 }),
        };
        tx.execute(
            "UPDATE sync_conflicts SET resolved_at = $3, resolved_by = $4, resolution = $5
             WHERE practice_id = $1 AND id = $2",
            &[&practice.0, &id, &now, &user.0, &resolution_str(resolution)],
        )
        .await?;
        tx.commit().await?;
        Ok(at)
    }
}
