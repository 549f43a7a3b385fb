//! A member's sessions on PostgreSQL: list, revoke by public id, and the latest address.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::PostgresStore;
use super::audit::append_in;
use crate::store::sessions::{
    RevokedSession, SessionRecord, SessionStore, WipeConfirmation, wiped_event,
};
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

/// The revoked session of token hash `$1`, and whether its wipe is confirmed.
macro_rules! revoked_session_by_token {
    () => {
        "SELECT s.practice_id, s.user_id, s.public_id, s.device_name, s.wiped_at IS NOT NULL
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND (s.revoked OR u.disabled)"
    };
}

fn revoked_from_row(r: &Row) -> StoreResult<RevokedSession> {
    Ok(RevokedSession {
        practice: PracticeId(r.try_get(0)?),
        user: UserId(r.try_get(1)?),
        public_id: r.try_get(2)?,
        device_name: r.try_get(3)?,
        wiped: r.try_get(4)?,
    })
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

    async fn revoked_session(&self, token_hash: &str) -> StoreResult<Option<RevokedSession>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(revoked_session_by_token!()).await?;
        match client.query_opt(&stmt, &[&token_hash]).await? {
            Some(r) => Ok(Some(revoked_from_row(&r)?)),
            None => Ok(None),
        }
    }

    async fn confirm_wipe(
        &self,
        token_hash: &str,
        now: i64,
        ip: Option<&str>,
    ) -> StoreResult<WipeConfirmation> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // The session's row lock first: two confirmations at once record one entry.
        let stmt = tx
            .prepare_cached(concat!(revoked_session_by_token!(), " FOR UPDATE OF s"))
            .await?;
        let outcome = match tx.query_opt(&stmt, &[&token_hash]).await? {
            None => WipeConfirmation::NotRevoked,
            Some(r) => {
                let s = revoked_from_row(&r)?;
                if s.wiped {
                    WipeConfirmation::AlreadyRecorded
                } else {
                    let mark = tx
                        .prepare_cached("UPDATE sessions SET wiped_at = $2 WHERE token_hash = $1")
                        .await?;
                    tx.execute(&mark, &[&token_hash, &now]).await?;
                    append_in(&tx, &wiped_event(&s, ip)).await?;
                    WipeConfirmation::Recorded(s)
                }
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }
}
