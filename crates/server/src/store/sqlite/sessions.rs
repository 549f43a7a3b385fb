//! A member's sessions on SQLite: list, revoke by public id, and the latest address.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::audit::append_in;
use super::{SqliteStore, parse_uuid};
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
