//! [`IntegrationStore`] on SQLite: the integration ledger.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use super::{SqliteStore, parse_uuid};
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

fn row_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<IntegrationRow> {
    Ok(IntegrationRow {
        id: parse_uuid(&r.get::<_, String>(0)?)?,
        app_name: r.get(1)?,
        scopes: scopes_from(&r.get::<_, String>(2)?),
        created_by: (parse_uuid(&r.get::<_, String>(3)?)?, r.get(4)?),
        created_at: r.get(5)?,
        last_used_at: r.get(6)?,
        records_read: r.get(7)?,
        revoked_at: r.get(8)?,
    })
}

#[async_trait]
impl IntegrationStore for SqliteStore {
    async fn create_integration(&self, new: NewIntegrationRow) -> StoreResult<()> {
        self.with(move |c| {
            c.execute(
                "INSERT INTO integrations
                   (id, practice_id, token_hash, app_name, scopes, created_by, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    new.id.to_string(),
                    new.practice.0.to_string(),
                    new.token_hash,
                    new.app_name,
                    scopes_text(&new.scopes),
                    new.created_by.0.to_string(),
                    new.created_at
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn integrations(&self, practice: PracticeId) -> StoreResult<Vec<IntegrationRow>> {
        self.with(move |c| {
            let mut stmt = c.prepare_cached(concat!(
                integration_select!(),
                "WHERE i.practice_id = ?1 ORDER BY i.created_at DESC, i.rowid DESC"
            ))?;
            let rows = stmt
                .query_map(params![practice.0.to_string()], row_from)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn revoke_integration(
        &self,
        practice: PracticeId,
        id: Uuid,
        by: UserId,
        now: i64,
    ) -> StoreResult<Option<IntegrationRow>> {
        self.with(move |c| {
            let tx = c.transaction()?;
            let found = tx
                .query_row(
                    concat!(
                        integration_select!(),
                        "WHERE i.practice_id = ?1 AND i.id = ?2 AND i.revoked_at IS NULL"
                    ),
                    params![practice.0.to_string(), id.to_string()],
                    row_from,
                )
                .optional()?;
            if found.is_some() {
                tx.execute(
                    "UPDATE integrations SET revoked_at = ?3, revoked_by = ?4
                     WHERE practice_id = ?1 AND id = ?2 AND revoked_at IS NULL",
                    params![
                        practice.0.to_string(),
                        id.to_string(),
                        now,
                        by.0.to_string()
                    ],
                )?;
            }
            tx.commit()?;
            Ok(found)
        })
        .await
    }

    async fn integration_by_token(
        &self,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<Option<IntegrationAuth>> {
        let token_hash = token_hash.to_owned();
        self.with(move |c| {
            Ok(c.query_row(
                "UPDATE integrations SET last_used_at = ?2
                 WHERE token_hash = ?1 AND revoked_at IS NULL
                 RETURNING id, practice_id, scopes",
                params![token_hash, now],
                |r| {
                    Ok(IntegrationAuth {
                        id: parse_uuid(&r.get::<_, String>(0)?)?,
                        practice: PracticeId(parse_uuid(&r.get::<_, String>(1)?)?),
                        scopes: scopes_from(&r.get::<_, String>(2)?),
                    })
                },
            )
            .optional()?)
        })
        .await
    }

    async fn count_integration_reads(&self, id: Uuid, count: i64) -> StoreResult<()> {
        if count <= 0 {
            return Ok(());
        }
        self.with(move |c| {
            c.execute(
                "UPDATE integrations SET records_read = records_read + ?2 WHERE id = ?1",
                params![id.to_string(), count],
            )?;
            Ok(())
        })
        .await
    }
}
