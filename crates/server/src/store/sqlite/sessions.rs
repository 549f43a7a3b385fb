//! A member's sessions on SQLite: list, revoke by public id, and the latest address.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::audit::append_in;
use super::{SqliteStore, parse_uuid};
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

/// A live session of user `?2` in practice `?1` at time `?3` with idle lifetime `?4`.
macro_rules! live_session_of {
    () => {
        "practice_id = ?1 AND user_id = ?2 AND revoked = 0 AND expires_at > ?3 \
         AND last_seen_at > ?3 - ?4"
    };
}

/// The revoked session of token hash `?1`, and whether its wipe is confirmed.
macro_rules! revoked_session_by_token {
    () => {
        "SELECT s.practice_id, s.user_id, s.public_id, s.device_name, s.wiped_at IS NOT NULL
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = ?1 AND (s.revoked <> 0 OR u.disabled <> 0)"
    };
}

fn revoked_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RevokedSession> {
    Ok(RevokedSession {
        practice: PracticeId(parse_uuid(&r.get::<_, String>(0)?)?),
        user: UserId(parse_uuid(&r.get::<_, String>(1)?)?),
        public_id: r.get(2)?,
        device_name: r.get(3)?,
        wiped: r.get(4)?,
    })
}

fn record_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRecord> {
    Ok(SessionRecord {
        public_id: r.get(0)?,
        device_name: r.get(1)?,
        platform: r.get(2)?,
        app_version: r.get(3)?,
        ip: r.get(4)?,
        last_ip: r.get(5)?,
        created_at: r.get(6)?,
        last_seen_at: r.get(7)?,
        expires_at: r.get(8)?,
        holdings: holdings_from(r.get(9)?, r.get(10)?, r.get(11)?),
    })
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn live_sessions(
        &self,
        practice: PracticeId,
        user: UserId,
        now: i64,
        idle_secs: i64,
    ) -> StoreResult<Vec<SessionRecord>> {
        self.with(move |c| {
            let mut stmt = c.prepare_cached(concat!(
                "SELECT ",
                session_columns!(),
                " FROM sessions WHERE ",
                live_session_of!(),
                " ORDER BY last_seen_at DESC, created_at DESC, public_id"
            ))?;
            let rows = stmt
                .query_map(
                    params![practice.0.to_string(), user.0.to_string(), now, idle_secs],
                    record_from_row,
                )?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn revoke_own_session(
        &self,
        practice: PracticeId,
        user: UserId,
        public_id: &str,
        now: i64,
        idle_secs: i64,
    ) -> StoreResult<Option<SessionRecord>> {
        let public_id = public_id.to_owned();
        self.with(move |c| {
            Ok(c.query_row(
                concat!(
                    "UPDATE sessions SET revoked = 1 WHERE public_id = ?5 AND ",
                    live_session_of!(),
                    " RETURNING ",
                    session_columns!()
                ),
                params![
                    practice.0.to_string(),
                    user.0.to_string(),
                    now,
                    idle_secs,
                    public_id
                ],
                record_from_row,
            )
            .optional()?)
        })
        .await
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
        let ip = ip.map(str::to_owned);
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let revoked = tx
                .prepare_cached(concat!(
                    "UPDATE sessions SET revoked = 1 WHERE public_id NOT IN (?5, ?6) AND ",
                    live_session_of!(),
                    " RETURNING ",
                    session_columns!()
                ))?
                .query_map(
                    params![
                        practice.0.to_string(),
                        user.0.to_string(),
                        now,
                        idle_secs,
                        keep.to_string(),
                        keep.simple().to_string()
                    ],
                    record_from_row,
                )?
                .collect::<Result<Vec<_>, _>>()?;
            for r in &revoked {
                append_in(&tx, &revoked_event(practice, user, r, false, ip.as_deref()))?;
            }
            tx.commit()?;
            Ok(revoked)
        })
        .await
    }

    async fn report_holdings(
        &self,
        practice: PracticeId,
        user: UserId,
        session: uuid::Uuid,
        holdings: &DeviceHoldings,
    ) -> StoreResult<()> {
        let h = holdings.clone();
        self.with(move |c| {
            c.prepare_cached(
                "UPDATE sessions SET holdings_matters = ?4, holdings_records = ?5,
                                     holdings_synced_at = ?6
                 WHERE practice_id = ?1 AND user_id = ?2 AND public_id IN (?3, ?7) AND revoked = 0",
            )?
            .execute(params![
                practice.0.to_string(),
                user.0.to_string(),
                session.to_string(),
                i64::try_from(h.matters).unwrap_or(i64::MAX),
                i64::try_from(h.records).unwrap_or(i64::MAX),
                h.last_sync_at,
                session.simple().to_string()
            ])?;
            Ok(())
        })
        .await
    }

    async fn member_activity(
        &self,
        practice: PracticeId,
        now: i64,
        idle_secs: i64,
    ) -> StoreResult<Vec<MemberActivity>> {
        self.with(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT u.id, unixepoch(u.created_at),
                        (SELECT max(s.created_at) FROM sessions s WHERE s.user_id = u.id),
                        (SELECT count(*) FROM sessions s
                         WHERE s.user_id = u.id AND s.revoked = 0 AND s.expires_at > ?2
                           AND s.last_seen_at > ?2 - ?3)
                 FROM users u WHERE u.practice_id = ?1",
            )?;
            let rows = stmt
                .query_map(params![practice.0.to_string(), now, idle_secs], |r| {
                    Ok(MemberActivity {
                        user: UserId(parse_uuid(&r.get::<_, String>(0)?)?),
                        joined_at: r.get(1)?,
                        last_sign_in: r.get(2)?,
                        live_sessions: u32::try_from(r.get::<_, i64>(3)?).unwrap_or(u32::MAX),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn revoked_session(&self, token_hash: &str) -> StoreResult<Option<RevokedSession>> {
        let token_hash = token_hash.to_owned();
        self.with(move |c| {
            Ok(c.prepare_cached(revoked_session_by_token!())?
                .query_row([token_hash], revoked_from_row)
                .optional()?)
        })
        .await
    }

    async fn confirm_wipe(
        &self,
        token_hash: &str,
        now: i64,
        ip: Option<&str>,
    ) -> StoreResult<WipeConfirmation> {
        let token_hash = token_hash.to_owned();
        let ip = ip.map(str::to_owned);
        self.with(move |c| {
            // The write lock first: two confirmations at once record one entry.
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found = tx
                .prepare_cached(revoked_session_by_token!())?
                .query_row([&token_hash], revoked_from_row)
                .optional()?;
            let outcome = match found {
                None => WipeConfirmation::NotRevoked,
                Some(s) if s.wiped => WipeConfirmation::AlreadyRecorded,
                Some(s) => {
                    tx.execute(
                        "UPDATE sessions SET wiped_at = ?2 WHERE token_hash = ?1",
                        params![token_hash, now],
                    )?;
                    append_in(&tx, &wiped_event(&s, ip.as_deref()))?;
                    WipeConfirmation::Recorded(s)
                }
            };
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }
}
