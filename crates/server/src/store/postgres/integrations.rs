//! [`IntegrationStore`] on PostgreSQL: the integration ledger.

use async_trait::async_trait;
use tokio_postgres::Row;
use uuid::Uuid;

use super::PostgresStore;
use crate::store::integrations::{
    IntegrationAuth, IntegrationRow, IntegrationStore, NewIntegrationRow, scopes_from, scopes_text,
};
use crate::store::{PracticeId, StoreResult, UserId};

/// The columns [`row_from`] reads, in its order, over `integrations i` and its creator `u`.
macro_rules! integration_select {
    () => {
        "SELECT i.id, i.app_name, i.scopes, u.id, u.display_name, i.created_at, i.last_used_at,
                i.records_read, i.revoked_at
         FROM integrations i JOIN users u ON u.id = i.created_by "
    };
}

fn row_from(r: &Row) -> StoreResult<IntegrationRow> {
    Ok(IntegrationRow {
        id: r.try_get(0)?,
        app_name: r.try_get(1)?,
        scopes: scopes_from(&r.try_get::<_, String>(2)?),
        created_by: (r.try_get(3)?, r.try_get(4)?),
        created_at: r.try_get(5)?,
        last_used_at: r.try_get(6)?,
        records_read: r.try_get(7)?,
        revoked_at: r.try_get(8)?,
    })
}

#[async_trait]
impl IntegrationStore for PostgresStore {
    async fn create_integration(&self, new: NewIntegrationRow) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO integrations
                   (id, practice_id, token_hash, app_name, scopes, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &new.id,
                    &new.practice.0,
                    &new.token_hash,
                    &new.app_name,
                    &scopes_text(&new.scopes),
                    &new.created_by.0,
                    &new.created_at,
                ],
            )
            .await?;
        Ok(())
    }

    async fn integrations(&self, practice: PracticeId) -> StoreResult<Vec<IntegrationRow>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(concat!(
                integration_select!(),
                "WHERE i.practice_id = $1 ORDER BY i.created_at DESC, i.seq DESC"
            ))
            .await?;
        client
            .query(&stmt, &[&practice.0])
            .await?
            .iter()
            .map(row_from)
            .collect()
    }

    async fn revoke_integration(
        &self,
        practice: PracticeId,
        id: Uuid,
        by: UserId,
        now: i64,
    ) -> StoreResult<Option<IntegrationRow>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let found = tx
            .query_opt(
                concat!(
                    integration_select!(),
                    "WHERE i.practice_id = $1 AND i.id = $2 AND i.revoked_at IS NULL
                     FOR UPDATE OF i"
                ),
                &[&practice.0, &id],
            )
            .await?
            .map(|r| row_from(&r))
            .transpose()?;
        if found.is_some() {
            tx.execute(
                "UPDATE integrations SET revoked_at = $3, revoked_by = $4
                 WHERE practice_id = $1 AND id = $2 AND revoked_at IS NULL",
                &[&practice.0, &id, &now, &by.0],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(found)
    }

    async fn integration_by_token(
        &self,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<Option<IntegrationAuth>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "UPDATE integrations SET last_used_at = $2
                 WHERE token_hash = $1 AND revoked_at IS NULL
                 RETURNING id, practice_id, scopes",
                &[&token_hash, &now],
            )
            .await?;
        row.map(|r| {
            Ok(IntegrationAuth {
                id: r.try_get(0)?,
                practice: PracticeId(r.try_get(1)?),
                scopes: scopes_from(&r.try_get::<_, String>(2)?),
            })
        })
        .transpose()
    }

    async fn count_integration_reads(&self, id: Uuid, count: i64) -> StoreResult<()> {
        if count <= 0 {
            return Ok(());
        }
        let client = self.client().await?;
        client
            .execute(
                "UPDATE integrations SET records_read = records_read + $2 WHERE id = $1",
                &[&id, &count],
            )
            .await?;
        Ok(())
    }
}
