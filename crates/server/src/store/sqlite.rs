//! The embedded SQLite store (WAL), the service's default.
//!
//! One connection behind a mutex, used from blocking threads: SQLite serialises writers
//! anyway, and `BEGIN IMMEDIATE` takes the write lock before the sequence number is read,
//! so sequence numbers commit in order. The audit log is in the `audit` submodule, second
//! factors in `mfa`.
//!
//! Pokes (see [`super::pokes`]): [`next_seq`] notes the practice on the blocking thread
//! that runs the write; [`SqliteStore::with`] sends the pokes once the write's closure has
//! returned, that is after its transactions committed or rolled back.

mod audit;
mod consent;
mod incidents;
mod integrations;
mod members;
mod mfa;
mod notifications;
mod policies;
mod push;
mod records;
mod sessions;
mod support;

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OptionalExtension, params};
use strongroom_protocol::{PracticeInfo, Role};
use uuid::Uuid;

use super::{
    NewSession, PracticeId, Principal, Store, StoreError, StoreResult, UserId, UserRecord,
};

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_init.sql"),
    include_str!("../../migrations/sqlite/0002_matter_details.sql"),
    include_str!("../../migrations/sqlite/0003_audit_log.sql"),
    include_str!("../../migrations/sqlite/0004_sign_in_failures.sql"),
    include_str!("../../migrations/sqlite/0005_members.sql"),
    include_str!("../../migrations/sqlite/0006_records.sql"),
    include_str!("../../migrations/sqlite/0007_push.sql"),
    include_str!("../../migrations/sqlite/0008_access_revocations.sql"),
    include_str!("../../migrations/sqlite/0009_device_wipes.sql"),
    include_str!("../../migrations/sqlite/0010_privacy_dashboard.sql"),
    include_str!("../../migrations/sqlite/0011_support_and_integrations.sql"),
    include_str!("../../migrations/sqlite/0012_removed_credentials.sql"),
    include_str!("../../migrations/sqlite/0013_notifications.sql"),
    include_str!("../../migrations/sqlite/0014_consent.sql"),
    include_str!("../../migrations/sqlite/0015_incidents_policies.sql"),
];

/// SQLite-backed [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    pokes: super::pokes::Pokes,
}

thread_local! {
    /// The practices whose feed the write running on this thread has moved.
    static MOVED: std::cell::RefCell<Vec<PracticeId>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` and migrates it.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let mut conn = Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;",
        )?;
        // The same plan whatever the bound values. Without it, SQLite (3.5x) plans a
        // `LIMIT ?` with the bound number and so re-prepares such a statement, the change
        // feed's among them, on every execution even from the statement cache: about a
        // tenth of the pull benchmark's CPU went to parsing and planning it again.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        migrate(&mut conn)?;
        audit::backfill_links(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            pokes: Default::default(),
        })
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let conn = self.conn.clone();
        let pokes = self.pokes.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Database("store lock poisoned".into()))?;
            MOVED.with_borrow_mut(Vec::clear);
            let out = f(&mut guard);
            drop(guard);
            // Whatever the outcome: a write that failed part-way may have committed some
            // of its transactions first (a push commits one per mutation), and a poke
            // for a write rolled back costs only an empty pull.
            for practice in MOVED.take() {
                pokes.send(super::pokes::Poke::Practice(practice));
            }
            out
        })
        .await
        .map_err(|e| StoreError::Database(e.to_string()))?
    }
}

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn parse_role(s: &str) -> rusqlite::Result<Role> {
    Role::parse(s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown role {s:?}").into(),
        )
    })
}

fn parse_uuid(s: &str) -> rusqlite::Result<Uuid> {
    s.parse().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// Takes the practice's next sequence number inside the open transaction on `tx`, and
/// notes the practice for a poke once the write commits.
fn next_seq(tx: &Connection, practice: PracticeId) -> StoreResult<i64> {
    MOVED.with_borrow_mut(|m| {
        if !m.contains(&practice) {
            m.push(practice);
        }
    });
    tx.query_row(
        "UPDATE practices SET last_seq = last_seq + 1 WHERE id = ?1 RETURNING last_seq",
        [practice.0.to_string()],
        |r| r.get(0),
    )
    .optional()?
    .ok_or(StoreError::NotFound)
}

#[async_trait]
impl Store for SqliteStore {
    fn pokes(&self) -> &super::pokes::Pokes {
        &self.pokes
    }

    async fn create_practice(&self, name: &str) -> StoreResult<PracticeId> {
        let name = name.to_owned();
        self.with(move |c| {
            let id = Uuid::new_v4();
            c.execute(
                "INSERT INTO practices (id, name, created_at) VALUES (?1, ?2, ?3)",
                params![id.to_string(), name, now_rfc3339()],
            )?;
            Ok(PracticeId(id))
        })
        .await
    }

    async fn practice(&self, id: PracticeId) -> StoreResult<PracticeInfo> {
        self.with(move |c| {
            c.query_row(
                "SELECT name FROM practices WHERE id = ?1",
                [id.0.to_string()],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .map(|name| PracticeInfo { id: id.0, name })
            .ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn create_user(
        &self,
        practice: PracticeId,
        email: &str,
        display_name: &str,
        password_hash: &str,
        role: Role,
    ) -> StoreResult<UserId> {
        let (email, display_name, password_hash) = (
            email.to_owned(),
            display_name.to_owned(),
            password_hash.to_owned(),
        );
        self.with(move |c| {
            let id = Uuid::new_v4();
            c.execute(
                "INSERT INTO users (id, practice_id, email, display_name, password_hash, created_at, role)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![id.to_string(), practice.0.to_string(), email, display_name, password_hash, now_rfc3339(), role.as_str()],
            )?;
            Ok(UserId(id))
        })
        .await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        let email = email.to_owned();
        self.with(move |c| {
            Ok(c.query_row(
                "SELECT id, practice_id, email, display_name, password_hash, disabled, role
                 FROM users WHERE email = ?1",
                [email],
                |r| {
                    Ok(UserRecord {
                        id: UserId(parse_uuid(&r.get::<_, String>(0)?)?),
                        practice_id: PracticeId(parse_uuid(&r.get::<_, String>(1)?)?),
                        email: r.get(2)?,
                        display_name: r.get(3)?,
                        password_hash: r.get(4)?,
                        disabled: r.get(5)?,
                        role: parse_role(&r.get::<_, String>(6)?)?,
                    })
                },
            )
            .optional()?)
        })
        .await
    }

    async fn create_session(&self, s: NewSession) -> StoreResult<()> {
        self.with(move |c| {
            c.execute(
                "INSERT INTO sessions (token_hash, user_id, practice_id, device_name, created_at,
                   last_seen_at, expires_at, public_id, platform, app_version, ip, last_ip,
                   reauth_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?5)",
                params![
                    s.token_hash,
                    s.user_id.0.to_string(),
                    s.practice_id.0.to_string(),
                    s.device_name,
                    s.created_at,
                    s.expires_at,
                    s.public_id.to_string(),
                    s.platform,
                    s.app_version,
                    s.ip,
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn session(
        &self,
        token_hash: &str,
        now: i64,
        idle_secs: i64,
        ip: Option<&str>,
    ) -> StoreResult<Option<Principal>> {
        let token_hash = token_hash.to_owned();
        let ip = ip.map(str::to_owned);
        self.with(move |c| {
            let found = c
                .prepare_cached(
                    "SELECT s.user_id, s.practice_id, u.role, s.public_id, s.reauth_at,
                            p.mfa_required <> 0 AND u.totp_secret IS NULL, s.last_seen_at,
                            s.last_ip
                     FROM sessions s JOIN users u ON u.id = s.user_id
                       JOIN practices p ON p.id = s.practice_id
                     WHERE s.token_hash = ?1 AND s.revoked = 0 AND u.disabled = 0
                       AND s.expires_at > ?2 AND s.last_seen_at > ?2 - ?3",
                )?
                .query_row(params![token_hash, now, idle_secs], |r| {
                    let principal = Principal {
                        user_id: UserId(parse_uuid(&r.get::<_, String>(0)?)?),
                        practice_id: PracticeId(parse_uuid(&r.get::<_, String>(1)?)?),
                        role: parse_role(&r.get::<_, String>(2)?)?,
                        session_id: parse_uuid(&r.get::<_, String>(3)?)?,
                        reauth_at: r.get(4)?,
                        mfa_enrollment_required: r.get(5)?,
                    };
                    let seen: i64 = r.get(6)?;
                    let last_ip: Option<String> = r.get(7)?;
                    Ok((principal, seen, last_ip))
                })
                .optional()?;
            let Some((principal, seen, last_ip)) = found else {
                return Ok(None);
            };
            // `last_seen_at` is in whole seconds: a session seen this second already, from
            // the same address, is not written again (a write would be a transaction and a
            // WAL sync on every request).
            if seen != now || (ip.is_some() && ip != last_ip) {
                c.prepare_cached(
                    "UPDATE sessions SET last_seen_at = ?2, last_ip = coalesce(?3, last_ip)
                     WHERE token_hash = ?1",
                )?
                .execute(params![token_hash, now, ip])?;
            }
            Ok(Some(principal))
        })
        .await
    }

    async fn sign_in_failures(&self, account_key: &str) -> StoreResult<Option<(i64, i64)>> {
        let key = account_key.to_owned();
        self.with(move |c| {
            Ok(c.query_row(
                "SELECT failures, last_failure_at FROM sign_in_failures WHERE account_key = ?1",
                [key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
        })
        .await
    }

    async fn record_sign_in_failure(
        &self,
        account_key: &str,
        now: i64,
        window_secs: i64,
    ) -> StoreResult<i64> {
        let key = account_key.to_owned();
        self.with(move |c| {
            Ok(c.query_row(
                "INSERT INTO sign_in_failures (account_key, failures, last_failure_at) VALUES (?1, 1, ?2)
                 ON CONFLICT (account_key) DO UPDATE SET
                   failures = CASE WHEN ?2 - sign_in_failures.last_failure_at > ?3 THEN 1
                                   ELSE sign_in_failures.failures + 1 END,
                   last_failure_at = ?2
                 RETURNING failures",
                params![key, now, window_secs],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn clear_sign_in_failures(&self, account_key: &str) -> StoreResult<()> {
        let key = account_key.to_owned();
        self.with(move |c| {
            c.execute("DELETE FROM sign_in_failures WHERE account_key = ?1", [key])?;
            Ok(())
        })
        .await
    }

    async fn revoke_session(&self, token_hash: &str) -> StoreResult<bool> {
        let token_hash = token_hash.to_owned();
        self.with(move |c| {
            let n = c.execute(
                "UPDATE sessions SET revoked = 1 WHERE token_hash = ?1 AND revoked = 0",
                [token_hash],
            )?;
            Ok(n > 0)
        })
        .await
    }
}
