//! A member's sessions on SQLite: list, revoke by public id, and the latest address.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::store::sessions::{SessionRecord, SessionStore};
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
}
