//! [`ConsentStore`] on PostgreSQL: consent records and their audit entries. A write takes
//! the member's row lock first, so "only if none" is decided once however many requests
//! race.

use async_trait::async_trait;
use strongroom_protocol::consent::{ConsentChoices, ConsentSource, ConsentSurface};
use tokio_postgres::Row;

use super::PostgresStore;
use super::audit::append_in;
use crate::store::consent::{
    ConsentStore, NewConsent, StoredConsent, UsageEvent, consent_event, items_from, items_text,
};
use crate::store::{PracticeId, StoreError, StoreResult, UserId};

fn record_from_row(r: &Row) -> StoreResult<StoredConsent> {
    let source: String = r.try_get(4)?;
    let surface: String = r.try_get(5)?;
    Ok(StoredConsent {
        id: r.try_get(0)?,
        choices: ConsentChoices {
            functional: r.try_get(1)?,
            analytics: r.try_get(2)?,
            items: items_from(&r.try_get::<_, String>(3)?),
        },
        source: ConsentSource::parse(&source)
            .ok_or_else(|| StoreError::Database("unknown consent source".into()))?,
        surface: ConsentSurface::parse(&surface)
            .ok_or_else(|| StoreError::Database("unknown consent surface".into()))?,
        policy_version: r.try_get(6)?,
        recorded_at: r.try_get(7)?,
    })
}

#[async_trait]
impl ConsentStore for PostgresStore {
    async fn record_consent(&self, new: NewConsent, only_if_none: bool) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let member = tx
            .query_opt(
                "SELECT 1 FROM users WHERE id = $1 AND practice_id = $2 FOR UPDATE",
                &[&new.user.0, &new.practice.0],
            )
            .await?;
        if member.is_none() {
            return Err(StoreError::NotFound);
        }
        if only_if_none {
            let any = tx
                .query_opt(
                    "SELECT 1 FROM consent_records WHERE practice_id = $1 AND user_id = $2
                     LIMIT 1",
                    &[&new.practice.0, &new.user.0],
                )
                .await?;
            if any.is_some() {
                return Ok(false);
            }
        }
        let r = &new.record;
        tx.execute(
            "INSERT INTO consent_records (id, practice_id, user_id, functional, analytics,
               items, source, surface, policy_version, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &r.id,
                &new.practice.0,
                &new.user.0,
                &r.choices.functional,
                &r.choices.analytics,
                &items_text(&r.choices.items),
                &r.source.as_str(),
                &r.surface.as_str(),
                &r.policy_version,
                &r.recorded_at,
            ],
        )
        .await?;
        append_in(&tx, &consent_event(&new)).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn consent_history(
        &self,
        practice: PracticeId,
        user: UserId,
        limit: u32,
    ) -> StoreResult<Vec<StoredConsent>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT id, functional, analytics, items, source, surface, policy_version,
                        recorded_at
                 FROM consent_records WHERE practice_id = $1 AND user_id = $2
                 ORDER BY seq DESC LIMIT $3",
            )
            .await?;
        client
            .query(&stmt, &[&practice.0, &user.0, &i64::from(limit)])
            .await?
            .iter()
            .map(record_from_row)
            .collect()
    }

    async fn usage_events(&self, since: i64) -> StoreResult<Vec<UsageEvent>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT s.practice_id, s.user_id, s.created_at FROM sessions s
                 WHERE s.created_at >= $1
                   AND (SELECT r.analytics FROM consent_records r
                        WHERE r.practice_id = s.practice_id AND r.user_id = s.user_id
                        ORDER BY r.seq DESC LIMIT 1)",
            )
            .await?;
        client
            .query(&stmt, &[&since])
            .await?
            .iter()
            .map(|r| {
                Ok(UsageEvent {
                    practice: PracticeId(r.try_get(0)?),
                    user: UserId(r.try_get(1)?),
                    at: r.try_get(2)?,
                })
            })
            .collect()
    }
}
