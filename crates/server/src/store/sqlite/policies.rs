//! [`PolicyStore`] on SQLite: policy versions and members' acknowledgements.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use strongroom_protocol::policies::PolicyKind;

use super::audit::append_in;
use super::notifications::enqueue_in;
use super::{SqliteStore, parse_uuid};
use crate::store::notifications::Broadcast;
use crate::store::policies::{
    AcknowledgedPolicy, PolicyAck, PolicyRow, PolicyStore, acknowledged_event, published_event,
};
use crate::store::{PracticeId, StoreError, StoreResult, UserId};

fn policy_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<PolicyRow>> {
    let kind: String = r.get(0)?;
    let Some(kind) = PolicyKind::parse(&kind) else {
        return Ok(None);
    };
    Ok(Some(PolicyRow {
        kind,
        version: r.get(1)?,
        published_at: r.get(2)?,
        summary: r.get(3)?,
        text: r.get(4)?,
    }))
}

fn current_version(c: &rusqlite::Connection, kind: PolicyKind) -> StoreResult<Option<String>> {
    Ok(c.query_row(
        "SELECT version FROM policy_versions WHERE kind = ?1 ORDER BY seq DESC LIMIT 1",
        [kind.as_str()],
        |r| r.get(0),
    )
    .optional()?)
}

fn insert(c: &rusqlite::Connection, p: &PolicyRow) -> StoreResult<()> {
    c.execute(
        "INSERT INTO policy_versions (kind, version, published_at, summary, text)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            p.kind.as_str(),
            p.version,
            p.published_at,
            p.summary,
            p.text
        ],
    )?;
    Ok(())
}

#[async_trait]
impl PolicyStore for SqliteStore {
    async fn publish_policy(&self, policy: PolicyRow, message: Broadcast) -> StoreResult<u64> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            insert(&tx, &policy)?;
            let members: Vec<String> = tx
                .prepare_cached(
                    "SELECT id FROM users WHERE disabled = 0 AND credentials_removed_at IS NULL
                     ORDER BY practice_id, id",
                )?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let now_ms = policy.published_at.saturating_mul(1000);
            for m in &members {
                enqueue_in(&tx, &message.for_member(UserId(parse_uuid(m)?), now_ms))?;
            }
            let n = members.len() as u64;
            append_in(&tx, &published_event(&policy, n))?;
            tx.commit()?;
            Ok(n)
        })
        .await
    }

    async fn seed_policy(&self, policy: PolicyRow) -> StoreResult<bool> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if current_version(&tx, policy.kind)?.is_some() {
                return Ok(false);
            }
            insert(&tx, &policy)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn current_policies(&self) -> StoreResult<Vec<PolicyRow>> {
        self.with(move |c| {
            let mut out = Vec::new();
            for kind in PolicyKind::ALL {
                let row = c
                    .query_row(
                        "SELECT kind, version, published_at, summary, text FROM policy_versions
                         WHERE kind = ?1 ORDER BY seq DESC LIMIT 1",
                        [kind.as_str()],
                        policy_from,
                    )
                    .optional()?
                    .flatten();
                out.extend(row);
            }
            Ok(out)
        })
        .await
    }

    async fn policy_version(
        &self,
        kind: PolicyKind,
        version: &str,
    ) -> StoreResult<Option<(PolicyRow, bool)>> {
        let version = version.to_owned();
        self.with(move |c| {
            let row = c
                .query_row(
                    "SELECT kind, version, published_at, summary, text FROM policy_versions
                     WHERE kind = ?1 AND version = ?2",
                    params![kind.as_str(), version],
                    policy_from,
                )
                .optional()?
                .flatten();
            let Some(row) = row else {
                return Ok(None);
            };
            let current = current_version(c, kind)?.as_deref() == Some(row.version.as_str());
            Ok(Some((row, current)))
        })
        .await
    }

    async fn acknowledged_policies(&self, user: UserId) -> StoreResult<Vec<AcknowledgedPolicy>> {
        self.with(move |c| {
            let mut out = Vec::new();
            for kind in PolicyKind::ALL {
                let row = c
                    .query_row(
                        "SELECT v.kind, v.version, v.published_at, v.summary, v.text,
                                a.acknowledged_at
                         FROM policy_acknowledgements a JOIN policy_versions v
                           ON v.kind = a.kind AND v.version = a.version
                         WHERE a.user_id = ?1 AND a.kind = ?2
                         ORDER BY v.seq DESC LIMIT 1",
                        params![user.0.to_string(), kind.as_str()],
                        |r| {
                            let acknowledged_at: i64 = r.get(5)?;
                            Ok(policy_from(r)?.map(|policy| AcknowledgedPolicy {
                                policy,
                                acknowledged_at,
                            }))
                        },
                    )
                    .optional()?
                    .flatten();
                out.extend(row);
            }
            Ok(out)
        })
        .await
    }

    async fn acknowledge_policy(
        &self,
        practice: PracticeId,
        user: UserId,
        kind: PolicyKind,
        version: &str,
        now: i64,
    ) -> StoreResult<PolicyAck> {
        let version = version.to_owned();
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let member = tx
                .query_row(
                    "SELECT 1 FROM users WHERE id = ?1 AND practice_id = ?2",
                    params![user.0.to_string(), practice.0.to_string()],
                    |_| Ok(()),
                )
                .optional()?;
            if member.is_none() {
                return Err(StoreError::NotFound);
            }
            let current = current_version(&tx, kind)?;
            if current.as_deref() != Some(version.as_str()) {
                return Ok(PolicyAck::NotCurrent { current });
            }
            let n = tx.execute(
                "INSERT INTO policy_acknowledgements (user_id, kind, version, acknowledged_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![user.0.to_string(), kind.as_str(), version, now],
            )?;
            if n == 0 {
                return Ok(PolicyAck::Already);
            }
            append_in(&tx, &acknowledged_event(practice, user, kind, &version))?;
            tx.commit()?;
            Ok(PolicyAck::Recorded)
        })
        .await
    }
}
