//! [`PushStore`] on SQLite: each mutation in a `BEGIN IMMEDIATE` transaction of its own,
//! its effect inside a savepoint (undone whole when the mutation is refused).

use std::collections::BTreeSet;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use strongroom_protocol::{
    AppliedAt, ConflictResolution, Mutation, MutationResult, RecordKind, SyncConflict,
};
use uuid::Uuid;

use super::records::{may_open, write_one};
use super::{SqliteStore, parse_uuid};
use crate::store::push::{
    Current, Plan, PushStore, Pusher, Rejection, conflict_kind_str, decide, fields_json,
    out_of_order, parse_conflict_kind, parse_fields, parse_result, plan_resolution, replay,
    resolution_str, result_json,
};
use crate::store::records::{Written, body_fields, parse_field_versions};
use crate::store::{PracticeId, StoreError, StoreResult, UserId};

/// The record as `viewer` would change it, if there is a row of it.
fn current(
    c: &Connection,
    practice: &str,
    viewer: &str,
    kind: RecordKind,
    id: &str,
) -> StoreResult<Option<Current>> {
    let row = c
        .prepare_cached(
            "SELECT seq, version, deleted, body, field_versions, matter_id FROM records
             WHERE practice_id = ?1 AND kind = ?2 AND id = ?3",
        )?
        .query_row(params![practice, kind.as_str(), id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })
        .optional()?;
    let Some((seq, version, deleted, body, field_versions, matter)) = row else {
        return Ok(None);
    };
    let visible = match matter {
        Some(m) => may_open(c, practice, Some(viewer), &m)?,
        None => true,
    };
    Ok(Some(Current {
        seq,
        version,
        deleted,
        body: body.as_deref().and_then(body_fields).unwrap_or_default(),
        field_versions: parse_field_versions(&field_versions),
        visible,
    }))
}

/// The versions of a record after `base` that this device's mutations wrote.
fn own_versions(
    c: &Connection,
    user: &str,
    device: &str,
    kind: RecordKind,
    id: &str,
    base: i64,
) -> StoreResult<BTreeSet<i64>> {
    Ok(c.prepare_cached(
        "SELECT written_version FROM mutation_results
         WHERE user_id = ?1 AND device_id = ?2 AND record_kind = ?3 AND record_id = ?4
           AND written_version > ?5",
    )?
    .query_map(params![user, device, kind.as_str(), id, base], |r| r.get(0))?
    .collect::<Result<_, _>>()?)
}

/// Carries out `plan` inside the savepoint `c`: its write and its conflict. A refusal of
/// the write comes back as `Err` inside, for the caller to undo the savepoint.
fn carry_out(
    c: &Connection,
    pusher: &Pusher,
    mutation: &Mutation,
    plan: &Plan,
) -> StoreResult<Result<Option<Written>, Rejection>> {
    let Plan::Change { write, conflict } = plan else {
        return Ok(Ok(None));
    };
    let user = pusher.user.0.to_string();
    let written = match write {
        None => None,
        Some(w) => match write_one(c, pusher.practice, Some(&user), w) {
            Ok(w) => Some(w),
            Err(e) => return Ok(Err(Rejection::from_write_error(e)?)),
        },
    };
    if let Some(conflict) = conflict {
        c.prepare_cached(
            "INSERT INTO sync_conflicts (practice_id, id, user_id, device_id, mutation_seq, kind,
               record_kind, record_id, base_version, server_version, fields, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            pusher.practice.0.to_string(),
            conflict.id.to_string(),
            user,
            pusher.device.to_string(),
            mutation.mutation_seq,
            conflict_kind_str(conflict.kind),
            conflict.record_kind.as_str(),
            conflict.record_id.to_string(),
            conflict.base_version,
            conflict.server_version,
            fields_json(&conflict.fields)?,
            pusher.now,
        ])?;
    }
    Ok(Ok(written))
}

fn apply(c: &mut Connection, pusher: &Pusher, m: &Mutation) -> StoreResult<MutationResult> {
    let p = pusher.practice.0.to_string();
    let u = pusher.user.0.to_string();
    let d = pusher.device.to_string();
    let mut tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.prepare_cached(
        "INSERT INTO devices (practice_id, user_id, device_id, last_mutation_seq, first_seen,
           last_seen)
         VALUES (?1, ?2, ?3, 0, ?4, ?4)
         ON CONFLICT (user_id, device_id) DO UPDATE SET last_seen = excluded.last_seen",
    )?
    .execute(params![p, u, d, pusher.now])?;
    let last: i64 = tx.query_row(
        "SELECT last_mutation_seq FROM devices WHERE user_id = ?1 AND device_id = ?2",
        params![u, d],
        |r| r.get(0),
    )?;
    if m.mutation_seq <= last {
        let stored: Option<(String, String, String)> = tx
            .prepare_cached(
                "SELECT result, record_kind, record_id FROM mutation_results
                 WHERE user_id = ?1 AND device_id = ?2 AND mutation_seq = ?3",
            )?
            .query_row(params![u, d, m.mutation_seq], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let answer = match stored {
            Some((json, kind, id)) => {
                let kind = RecordKind::parse(&kind)
                    .ok_or_else(|| StoreError::Database(format!("unknown record kind {kind:?}")))?;
                replay(
                    parse_result(&json)?,
                    current(&tx, &p, &u, kind, &id)?.as_ref(),
                )
            }
            None => out_of_order(m.mutation_seq, last),
        };
        tx.commit()?;
        return Ok(answer);
    }
    let id = m.record_id.to_string();
    let now = current(&tx, &p, &u, m.kind, &id)?;
    let own = own_versions(&tx, &u, &d, m.kind, &id, m.base_version.unwrap_or(0))?;
    let plan = decide(m, pusher.may_write, now.as_ref(), &own);
    let sp = tx.savepoint()?;
    let (outcome, written_version) = match carry_out(&sp, pusher, m, &plan)? {
        Ok(written) => {
            sp.commit()?;
            (plan.outcome(written), written.map(|w| w.version))
        }
        Err(rejection) => {
            // Dropping the savepoint undoes whatever the refused write did.
            drop(sp);
            (rejection.outcome(), None)
        }
    };
    let result = MutationResult {
        mutation_seq: m.mutation_seq,
        outcome,
    };
    tx.prepare_cached(
        "INSERT INTO mutation_results (user_id, device_id, mutation_seq, record_kind, record_id,
           written_version, result)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        u,
        d,
        m.mutation_seq,
        m.kind.as_str(),
        id,
        written_version,
        result_json(&result)?
    ])?;
    tx.prepare_cached(
        "UPDATE devices SET last_mutation_seq = ?3 WHERE user_id = ?1 AND device_id = ?2",
    )?
    .execute(params![u, d, m.mutation_seq])?;
    tx.commit()?;
    Ok(result)
}

fn conflict_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(SyncConflict, String)> {
    let kind: String = r.get(1)?;
    let record_kind: String = r.get(2)?;
    let bad = |what: String| {
        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, what.into())
    };
    let conflict = SyncConflict {
        id: parse_uuid(&r.get::<_, String>(0)?)?,
        kind: parse_conflict_kind(&kind).map_err(|e| bad(e.to_string()))?,
        record_kind: RecordKind::parse(&record_kind)
            .ok_or_else(|| bad(format!("unknown record kind {record_kind:?}")))?,
        record_id: parse_uuid(&r.get::<_, String>(3)?)?,
        base_version: r.get(4)?,
        server_version: r.get(5)?,
        fields: Default::default(),
    };
    Ok((conflict, r.get(6)?))
}

#[async_trait]
impl PushStore for SqliteStore {
    async fn apply_mutation(
        &self,
        pusher: &Pusher,
        mutation: &Mutation,
    ) -> StoreResult<MutationResult> {
        let (pusher, mutation) = (*pusher, mutation.clone());
        self.with(move |c| apply(c, &pusher, &mutation)).await
    }

    async fn open_conflicts(
        &self,
        practice: PracticeId,
        user: UserId,
    ) -> StoreResult<Vec<SyncConflict>> {
        self.with(move |c| {
            let rows = c
                .prepare_cached(
                    "SELECT c.id, c.kind, c.record_kind, c.record_id, c.base_version,
                            c.server_version, c.fields
                     FROM sync_conflicts c
                     LEFT JOIN records r ON r.practice_id = c.practice_id
                       AND r.kind = c.record_kind AND r.id = c.record_id
                     WHERE c.practice_id = ?1 AND c.user_id = ?2 AND c.resolved_at IS NULL
                       AND (r.matter_id IS NULL
                            OR NOT EXISTS (SELECT 1 FROM matter_restrictions mr
                                           WHERE mr.practice_id = c.practice_id
                                             AND mr.matter_id = r.matter_id)
                            OR EXISTS (SELECT 1 FROM matter_access ma
                                       WHERE ma.practice_id = c.practice_id
                                         AND ma.matter_id = r.matter_id AND ma.user_id = ?2))
                     ORDER BY c.created_at, c.device_id, c.mutation_seq",
                )?
                .query_map(
                    params![practice.0.to_string(), user.0.to_string()],
                    conflict_from_row,
                )?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(mut conflict, fields)| {
                    conflict.fields = parse_fields(&fields)?;
                    Ok(conflict)
                })
                .collect()
        })
        .await
    }

    async fn resolve_conflict(
        &self,
        practice: PracticeId,
        user: UserId,
        id: Uuid,
        resolution: &ConflictResolution,
        now: i64,
    ) -> StoreResult<AppliedAt> {
        let resolution = resolution.clone();
        self.with(move |c| {
            let (p, u) = (practice.0.to_string(), user.0.to_string());
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found = tx
                .query_row(
                    "SELECT id, kind, record_kind, record_id, base_version, server_version,
                            fields, resolved_at
                     FROM sync_conflicts WHERE practice_id = ?1 AND id = ?2 AND user_id = ?3",
                    params![p, id.to_string(), u],
                    |r| Ok((conflict_from_row(r)?, r.get::<_, Option<i64>>(7)?)),
                )
                .optional()?;
            let Some(((mut conflict, fields), resolved_at)) = found else {
                return Err(StoreError::NotFound);
            };
            if resolved_at.is_some() {
                return Err(StoreError::InUse("the conflict is resolved already".into()));
            }
            conflict.fields = parse_fields(&fields)?;
            let record_id = conflict.record_id.to_string();
            let now_stored = current(&tx, &p, &u, conflict.record_kind, &record_id)?;
            let write = plan_resolution(&conflict, &resolution, now_stored.as_ref())
                .map_err(Rejection::into_store_error)?;
            let at = match write {
                Some(w) => {
                    let w = write_one(&tx, practice, Some(&u), &w)?;
                    AppliedAt {
                        seq: w.seq,
                        version: w.version,
                    }
                }
                None => now_stored
                    .map(|c| c.at())
                    .unwrap_or(AppliedAt { seq: 0, version: 0 }),
            };
            tx.execute(
                "UPDATE sync_conflicts SET resolved_at = ?3, resolved_by = ?4, resolution = ?5
                 WHERE practice_id = ?1 AND id = ?2",
                params![p, id.to_string(), now, u, resolution_str(&resolution)],
            )?;
            tx.commit()?;
            Ok(at)
        })
        .await
    }
}
