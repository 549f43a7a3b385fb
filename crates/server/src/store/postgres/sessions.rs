//! A member's sessions on PostgreSQL: list, revoke by public id, and the latest address.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::PostgresStore;
use super::audit::append_in;
use strongroom_protocol::privacy::DeviceHoldings;

use crate::store::sessions::{
    MemberActivity, RevokedSession, SessionRecord, SessionStore, WipeConfirmation, holdings_from,
    revoked_event, wiped_event,
};
use crate::store::{PracticeId, StoreResult, UserId};

/// The columns [`record_from_row`] reads, in its order.
macro_rules! session_columns {
    () => {
        "public_id, device_name, platform, app_version, ip, last_ip, created_at, last_seen_at, \
         expires_at, holdings_matters, holdings_records, holdings_synced_at"
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
        holdings: holdings_from(r.try_get(9)?, r.try_get(10)?, r.try_get(11)?),
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

    async fn revoke_other_sessions(
        &self,
        practice: PracticeId,
        user: UserId,
        keep: uuid::Uuid,
        now: i64,
        idle_secs: i64,
        ip: Option<&str>,
    ) -> StoreResult<Vec<SessionRecord>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(concat!(
                "UPDATE sessions SET revoked = TRUE WHERE public_id <> $5 AND public_id <> $6 AND ",
                live_session_of!(),
                " RETURNING ",
                session_columns!()
            ))
            .await?;
        let revoked = tx
            .query(
                &stmt,
                &[
                    &practice.0,
                    &user.0,
                    &now,
                    &idle_secs,
                    &keep.to_string(),
                    &keep.simple().to_string(),
                ],
            )
            .await?
            .iter()
            .map(record_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        for r in &revoked {
            append_in(&tx, &revoked_event(practice, user, r, false, ip)).await?;
        }
        tx.commit().await?;
        Ok(revoked)
    }

    async fn report_holdings(
        &self,
        practice: PracticeId,
        user: UserId,
        session: uuid::Uuid,
        holdings: &DeviceHoldings,
    ) -> StoreResult<()> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "UPDATE sessions SET holdings_matters = $4, holdings_records = $5,
                                     holdings_synced_at = $6
                 WHERE practice_id = $1 AND user_id = $2 AND public_id IN ($3, $7) AND NOT revoked",
            )
            .await?;
        let matters = i64::try_from(holdings.matters).unwrap_or(i64::MAX);
        let records = i64::try_from(holdings.records).unwrap_or(i64::MAX);
        client
            .execute(
                &stmt,
                &[
                    &practice.0,
                    &user.0,
                    &session.to_string(),
                    &matters,
                    &records,
                    &holdings.last_sync_at,
                    &session.simple().to_string(),
                ],
            )
            .await?;
        Ok(())
    }

    async fn member_activity(
        &self,
        practice: PracticeId,
        now: i64,
        idle_secs: i64,
    ) -> StoreResult<Vec<MemberActivity>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT u.id, extract(epoch FROM u.created_at)::bigint,
                        (SELECT max(s.created_at) FROM sessions s WHERE s.user_id = u.id),
                        (SELECT count(*) FROM sessions s
                         WHERE s.user_id = u.id AND NOT s.revoked AND s.expires_at > $2
                           AND s.last_seen_at > $2::bigint - $3::bigint)
                 FROM users u WHERE u.practice_id = $1",
            )
            .await?;
        client
            .query(&stmt, &[&practice.0, &now, &idle_secs])
            .await?
            .iter()
            .map(|r| {
                Ok(MemberActivity {
                    user: UserId(r.try_get(0)?),
                    joined_at: r.try_get(1)?,
                    last_sign_in: r.try_get(2)?,
                    live_sessions: u32::try_from(r.try_get::<_, i64>(3)?).unwrap_or(u32::MAX),
                })
            })
            .collect()
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
