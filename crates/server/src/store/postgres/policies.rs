//! [`PolicyStore`] on PostgreSQL: policy versions and members' acknowledgements. Publishing
//! and seeding take a transaction-scoped advisory lock per kind, so two publishers (or two
//! servers seeding at once) go one after the other; an acknowledgement takes the same lock
//! shared, so it never checks "current" while a new version is being published.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use strongroom_protocol::policies::PolicyKind;
use tokio_postgres::Row;
use uuid::Uuid;

use super::PostgresStore;
use super::audit::append_in;
use super::notifications::enqueue_in;
use crate::store::notifications::Broadcast;
use crate::store::policies::{
    AcknowledgedPolicy, PolicyAck, PolicyRow, PolicyStore, acknowledged_event, published_event,
};
use crate::store::{PracticeId, StoreError, StoreResult, UserId};

/// The advisory lock key of a kind's versions ("policy" and the kind's index).
fn lock_key(kind: PolicyKind) -> i64 {
    0x706f_6c69_6379_0000 + if kind == PolicyKind::Privacy { 1 } else { 2 }
}

fn policy_from(r: &Row) -> StoreResult<Option<PolicyRow>> {
    let Some(kind) = PolicyKind::parse(r.try_get(0)?) else {
        return Ok(None);
    };
    Ok(Some(PolicyRow {
        kind,
        version: r.try_get(1)?,
        published_at: r.try_get(2)?,
        summary: r.try_get(3)?,
        text: r.try_get(4)?,
    }))
}

async fn current_version<C: GenericClient>(c: &C, kind: PolicyKind) -> StoreResult<Option<String>> {
    Ok(c.query_opt(
        "SELECT version FROM policy_versions WHERE kind = $1 ORDER BY seq DESC LIMIT 1",
        &[&kind.as_str()],
    )
    .await?
    .map(|r| r.try_get(0))
    .transpose()?)
}

async fn insert<C: GenericClient>(c: &C, p: &PolicyRow) -> StoreResult<()> {
    c.execute(
        "INSERT INTO policy_versions (kind, version, published_at, summary, text)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &p.kind.as_str(),
            &p.version,
            &p.published_at,
            &p.summary,
            &p.text,
        ],
    )
    .await?;
    Ok(())
}

#[async_trait]
impl PolicyStore for PostgresStore {
    async fn publish_policy(&self, policy: PolicyRow, message: Broadcast) -> StoreResult<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[&lock_key(policy.kind)],
        )
        .await?;
        insert(&tx, &policy).await?;
        let members: Vec<Uuid> = tx
            .query(
                "SELECT id FROM users WHERE NOT disabled AND credentials_removed_at IS NULL
                 ORDER BY practice_id, id",
                &[],
            )
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        let now_ms = policy.published_at.saturating_mul(1000);
        for m in &members {
            enqueue_in(&tx, &message.for_member(UserId(*m), now_ms)).await?;
        }
        let n = members.len() as u64;
        append_in(&tx, &published_event(&policy, n)).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn seed_policy(&self, policy: PolicyRow) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[&lock_key(policy.kind)],
        )
        .await?;
        if current_version(&tx, policy.kind).await?.is_some() {
            return Ok(false);
        }
        insert(&tx, &policy).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn current_policies(&self) -> StoreResult<Vec<PolicyRow>> {
        let client = self.client().await?;
        let mut out = Vec::new();
        for kind in PolicyKind::ALL {
            let row = client
                .query_opt(
                    "SELECT kind, version, published_at, summary, text FROM policy_versions
                     WHERE kind = $1 ORDER BY seq DESC LIMIT 1",
                    &[&kind.as_str()],
                )
                .await?;
            if let Some(r) = row
                && let Some(p) = policy_from(&r)?
            {
                out.push(p);
            }
        }
        Ok(out)
    }

    async fn policy_version(
        &self,
        kind: PolicyKind,
        version: &str,
    ) -> StoreResult<Option<(PolicyRow, bool)>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT kind, version, published_at, summary, text FROM policy_versions
                 WHERE kind = $1 AND version = $2",
                &[&kind.as_str(), &version],
            )
            .await?;
        let Some(row) = row.as_ref().map(policy_from).transpose()?.flatten() else {
            return Ok(None);
        };
        let current =
            current_version(&client, kind).await?.as_deref() == Some(row.version.as_str());
        Ok(Some((row, current)))
    }

    async fn acknowledged_policies(&self, user: UserId) -> StoreResult<Vec<AcknowledgedPolicy>> {
        let client = self.client().await?;
        let mut out = Vec::new();
        for kind in PolicyKind::ALL {
            let row = client
                .query_opt(
                    "SELECT v.kind, v.version, v.published_at, v.summary, v.text,
                            a.acknowledged_at
                     FROM policy_acknowledgements a JOIN policy_versions v
                       ON v.kind = a.kind AND v.version = a.version
                     WHERE a.user_id = $1 AND a.kind = $2
                     ORDER BY v.seq DESC LIMIT 1",
                    &[&user.0, &kind.as_str()],
                )
                .await?;
            if let Some(r) = row
                && let Some(policy) = policy_from(&r)?
            {
                out.push(AcknowledgedPolicy {
                    policy,
                    acknowledged_at: r.try_get(5)?,
                });
            }
        }
        Ok(out)
    }

    async fn acknowledge_policy(
        &self,
        practice: PracticeId,
        user: UserId,
        kind: PolicyKind,
        version: &str,
        now: i64,
    ) -> StoreResult<PolicyAck> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "SELECT pg_advisory_xact_lock_shared($1)",
            &[&lock_key(kind)],
        )
        .await?;
        let member = tx
            .query_opt(
                "SELECT 1 FROM users WHERE id = $1 AND practice_id = $2 FOR UPDATE",
                &[&user.0, &practice.0],
            )
            .await?;
        if member.is_none() {
            return Err(StoreError::NotFound);
        }
        let current = current_version(&tx, kind).await?;
        if current.as_deref() != Some(version) {
            return Ok(PolicyAck::NotCurrent { current });
        }
        let n = tx
            .execute(
                "INSERT INTO policy_acknowledgements (user_id, kind, version, acknowledged_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[&user.0, &kind.as_str(), &version, &now],
            )
            .await?;
        if n == 0 {
            return Ok(PolicyAck::Already);
        }
        append_in(&tx, &acknowledged_event(practice, user, kind, version)).await?;
        tx.commit().await?;
        Ok(PolicyAck::Recorded)
    }
}
