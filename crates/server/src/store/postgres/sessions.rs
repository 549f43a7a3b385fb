//! A member's sessions on PostgreSQL: list, revoke by public id, and the latest address.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::PostgresStore;
use crate::store::sessions::{SessionRecord, SessionStore};
use crate::store::{PracticeId, StoreResult, UserId};

/// The columns [`record_from_row`] reads, in its order.
macro_rules! session_columns {
    () => {
        "public_id, device_name, platform, app_version, ip, last_ip, created_at, last_seen_at, \
         expires_at"
    };
}

/// A live session of user `$2` in practice `$1` at time `$3` with idle lifetime `$4`.
macro_rules! live_session_of {
    () => {
        "practice_id = $1 AND user_id = $2 AND NOT revoked AND expires_at > $3 \
         AND last_seen_at > $3::bigint - $4::bigint"
    };
}

fn record_from_row(r: &Row) -> StoreResult<SessionRecord> {
    Ok(SessionRecord {
        public_id: r.try_get(0)?,
        device_name: r.try_get(1)?,
        platform: r.try_get(2)?,
        app_version: r.try_get(3)?,
        ip: r.try_get(4)?,
        last_ip: r.try_get(5)?,
        created_at: r.try_get(6)?,
        last_seen_at: r.try_get(7)?,
        expires_at: r.try_get(8)?,
    })
}

#[async_trait]
impl SessionStore for PostgresStore {
    async fn live_sessions(
        &self,
        practice: PracticeId,
        user: UserId,
        now: i64,
        idle_secs: i64,
    ) -> StoreResult<Vec<SessionRecord>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(concat!(
                "SELECT ",
                session_columns!(),
                " FROM sessions WHERE ",
                live_session_of!(),
                " ORDER BY last_seen_at DESC, created_at DESC, public_id"
            ))
            .await?;
        client
            .query(&stmt, &[&practice.0, &user.0, &now, &idle_secs])
            .await?
            .iter()
            .map(record_from_row)
            .collect()
    }

    async fn revoke_own_session(
        &self,
        practice: PracticeId,
        user: UserId,
        public_id: &str,
        now: i64,
        idle_secs: i64,
    ) -> StoreResult<Option<SessionRecord>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(concat!(
                "UPDATE sessions SET revoked = TRUE WHERE public_id = $5 AND ",
                live_session_of!(),
                " RETURNING ",
                session_columns!()
            ))
            .await?;
        match client
            .query_opt(&stmt, &[&practice.0, &user.0, &now, &idle_secs, &public_id])
            .await?
        {
            Some(r) => Ok(Some(record_from_row(&r)?)),
            None => Ok(None),
        }
    }
}
