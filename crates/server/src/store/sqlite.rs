//! The embedded SQLite store (WAL), the service's default.
//!
//! One connection behind a mutex, used from blocking threads: SQLite serialises writers
//! anyway, and `BEGIN IMMEDIATE` takes the write lock before the sequence number is read,
//! so sequence numbers commit in order. The audit log is in the `audit` submodule.

mod audit;
mod sessions;

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use strongroom_protocol::{
    Change, ChangeRecord, ChangesPage, Matter, MatterStatus, PracticeInfo, RecordKind, Role,
};
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
];

/// SQLite-backed [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
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
        migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Database("store lock poisoned".into()))?;
            f(&mut guard)
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

/// Creates or replaces a matter at sequence number `?3`.
const UPSERT_MATTER: &str = "INSERT INTO matters
       (practice_id, id, seq, version, deleted, number, title, matter_type, status, client_name,
        responsible, opened_on, closed_on, description, custom_fields)
     VALUES (?1, ?2, ?3, 1, 0, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
     ON CONFLICT (practice_id, id) DO UPDATE SET
       seq = excluded.seq, version = matters.version + 1, deleted = 0,
       number = excluded.number, title = excluded.title, matter_type = excluded.matter_type,
       status = excluded.status, client_name = excluded.client_name,
       responsible = excluded.responsible, opened_on = excluded.opened_on,
       closed_on = excluded.closed_on, description = excluded.description,
       custom_fields = excluded.custom_fields";

/// Takes the practice's next sequence number inside `tx`.
fn next_seq(tx: &rusqlite::Transaction<'_>, practice: PracticeId) -> StoreResult<i64> {
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
                   last_seen_at, expires_at, public_id, platform, app_version, ip, last_ip)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
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
    ) -> StoreResult<Option<Principal>> {
        let token_hash = token_hash.to_owned();
        self.with(move |c| {
            let found = c
                .query_row(
                    "SELECT s.user_id, s.practice_id, u.role, s.public_id
                     FROM sessions s JOIN users u ON u.id = s.user_id
                     WHERE s.token_hash = ?1 AND s.revoked = 0 AND u.disabled = 0
                       AND s.expires_at > ?2 AND s.last_seen_at > ?2 - ?3",
                    params![token_hash, now, idle_secs],
                    |r| {
                        Ok(Principal {
                            user_id: UserId(parse_uuid(&r.get::<_, String>(0)?)?),
                            practice_id: PracticeId(parse_uuid(&r.get::<_, String>(1)?)?),
                            role: parse_role(&r.get::<_, String>(2)?)?,
                            session_id: parse_uuid(&r.get::<_, String>(3)?)?,
                        })
                    },
                )
                .optional()?;
            if found.is_some() {
                c.execute(
                    "UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1",
                    params![token_hash, now],
                )?;
            }
            Ok(found)
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

    async fn put_matter(&self, practice: PracticeId, m: &Matter) -> StoreResult<i64> {
        // A batch of one: the same statement, the same sequence rules.
        self.put_matters(practice, std::slice::from_ref(m))
            .await?
            .pop()
            .ok_or_else(|| StoreError::Database("no sequence number was taken".into()))
    }

    async fn put_matters(&self, practice: PracticeId, matters: &[Matter]) -> StoreResult<Vec<i64>> {
        if matters.is_empty() {
            return Ok(Vec::new());
        }
        let rows = matters
            .iter()
            .map(|m| {
                serde_json::to_string(&m.custom_fields)
                    .map(|custom| (m.clone(), custom))
                    .map_err(|e| StoreError::Database(e.to_string()))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let count = i64::try_from(rows.len())
            .map_err(|_| StoreError::Database("too many matters in one batch".into()))?;
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // The block `last + 1 ..= last + count`, taken under the write lock.
            let last: i64 = tx
                .query_row(
                    "UPDATE practices SET last_seq = last_seq + ?2 WHERE id = ?1 RETURNING last_seq",
                    params![practice.0.to_string(), count],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or(StoreError::NotFound)?;
            let first = last - count + 1;
            let mut seqs = Vec::with_capacity(rows.len());
            {
                let mut stmt = tx.prepare_cached(UPSERT_MATTER)?;
                for ((m, custom), seq) in rows.into_iter().zip(first..) {
                    stmt.execute(params![
                        practice.0.to_string(),
                        m.id.to_string(),
                        seq,
                        m.number,
                        m.title,
                        m.matter_type,
                        m.status.as_str(),
                        m.client_name,
                        m.responsible,
                        m.opened_on,
                        m.closed_on,
                        m.description,
                        custom
                    ])?;
                    seqs.push(seq);
                }
            }
            tx.commit()?;
            Ok(seqs)
        })
        .await
    }

    async fn delete_matter(&self, practice: PracticeId, id: Uuid) -> StoreResult<i64> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let seq = next_seq(&tx, practice)?;
            // The tombstone keeps the id and the sequence number, and forgets the content.
            let n = tx.execute(
                "UPDATE matters SET seq = ?3, version = version + 1, deleted = 1,
                   number = '', title = '', matter_type = '', client_name = '', responsible = '', opened_on = '',
                   closed_on = NULL, description = '', custom_fields = '{}'
                 WHERE practice_id = ?1 AND id = ?2 AND deleted = 0",
                params![practice.0.to_string(), id.to_string(), seq],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            tx.commit()?;
            Ok(seq)
        })
        .await
    }

    async fn changes_after(
        &self,
        practice: PracticeId,
        after: i64,
        limit: u32,
    ) -> StoreResult<ChangesPage> {
        self.with(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, version, deleted, id, number, title, matter_type, status, client_name, responsible, opened_on,
                        closed_on, description, custom_fields
                 FROM matters WHERE practice_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )?;
            let fetch = i64::from(limit) + 1;
            let rows = stmt.query_map(params![practice.0.to_string(), after, fetch], |r| {
                let seq: i64 = r.get(0)?;
                let version: i64 = r.get(1)?;
                let deleted: bool = r.get(2)?;
                let id = parse_uuid(&r.get::<_, String>(3)?)?;
                let record = if deleted {
                    ChangeRecord::Deleted { record_kind: RecordKind::Matter, id }
                } else {
                    let status: String = r.get(7)?;
                    let custom: String = r.get(13)?;
                    ChangeRecord::Matter {
                        matter: Matter {
                            id,
                            number: r.get(4)?,
                            title: r.get(5)?,
                            matter_type: r.get(6)?,
                            status: MatterStatus::parse(&status).unwrap_or(MatterStatus::Open),
                            client_name: r.get(8)?,
                            responsible: r.get(9)?,
                            opened_on: r.get(10)?,
                            closed_on: r.get(11)?,
                            description: r.get(12)?,
                            custom_fields: serde_json::from_str(&custom).map_err(|e| {
                                rusqlite::Error::FromSqlConversionFailure(13, rusqlite::types::Type::Text, Box::new(e))
                            })?,
                        },
                    }
                };
                Ok(Change { seq, version, record })
            })?;
            let mut changes = rows.collect::<Result<Vec<_>, _>>()?;
            let has_more = changes.len() as i64 > i64::from(limit);
            changes.truncate(limit as usize);
            let cursor = changes.last().map_or(after, |c| c.seq);
            Ok(ChangesPage { changes, cursor, has_more })
        })
        .await
    }
}
