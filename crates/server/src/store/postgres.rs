//! The PostgreSQL store, for a hosted service that outgrows one file.
//!
//! `tokio-postgres` behind a `deadpool-postgres` pool, no TLS (the database is on loopback
//! or a private network). Migrations of its own (`migrations/postgres/NNNN_*.sql`) are
//! applied in order on open, under an advisory lock, and recorded in `schema_migrations`.
//!
//! Invariant: a write takes the practice's next sequence number in its own transaction with
//! `UPDATE practices SET last_seq = last_seq + 1 ... RETURNING last_seq`. The row lock that
//! update takes is held until commit, so the next writer of that practice gets its number
//! only after the previous one is committed and visible: commit order and `seq` order
//! agree, numbers have no gaps (a rolled-back write gives its number back), and a reader's
//! cursor never passes a change that is still to commit.
//!
//! Pokes (see [`super::pokes`]): the same statement that takes a sequence number queues a
//! `NOTIFY strongroom_feed` with the practice's id, which PostgreSQL delivers only when the
//! transaction commits, to every server on the database. Each server keeps one connection
//! listening on that channel ([`listen`]) and turns what it hears into local pokes; when
//! that connection drops, it reconnects and pokes [`Poke::All`], since it may have missed
//! some.
//!
//! The audit log is in the `audit` submodule, second factors in `mfa`.

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

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime, Transaction,
};
use strongroom_protocol::{PracticeInfo, Role};
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

use super::pokes::{Poke, Pokes};
use super::{
    NewSession, PracticeId, Principal, Store, StoreError, StoreResult, UserId, UserRecord,
};

/// The migrations, in order: (version, SQL). Landed ones are never edited.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_init.sql")),
    (
        2,
        include_str!("../../migrations/postgres/0002_audit_log.sql"),
    ),
    (
        3,
        include_str!("../../migrations/postgres/0003_sign_in_failures.sql"),
    ),
    (
        4,
        include_str!("../../migrations/postgres/0004_members.sql"),
    ),
    (
        5,
        include_str!("../../migrations/postgres/0005_records.sql"),
    ),
    (6, include_str!("../../migrations/postgres/0006_push.sql")),
    (
        7,
        include_str!("../../migrations/postgres/0007_access_revocations.sql"),
    ),
    (
        8,
        include_str!("../../migrations/postgres/0008_device_wipes.sql"),
    ),
    (
        9,
        include_str!("../../migrations/postgres/0009_privacy_dashboard.sql"),
    ),
    (
        10,
        include_str!("../../migrations/postgres/0010_support_and_integrations.sql"),
    ),
    (
        11,
        include_str!("../../migrations/postgres/0011_removed_credentials.sql"),
    ),
    (
        12,
        include_str!("../../migrations/postgres/0012_notifications.sql"),
    ),
    (
        13,
        include_str!("../../migrations/postgres/0013_consent.sql"),
    ),
    (
        14,
        include_str!("../../migrations/postgres/0014_incidents_policies.sql"),
    ),
];

/// The advisory lock key that lets one server migrate a database at a time ("strongro").
const MIGRATION_LOCK: i64 = 0x7374_726f_6e67_726f;

/// Connections the pool keeps at most.
const POOL_SIZE: usize = 16;

/// An error's message with its cause (the driver's own message leaves the cause out).
fn pg_message(e: &tokio_postgres::Error) -> String {
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

fn pool_message(e: &PoolError) -> String {
    match e {
        PoolError::Backend(e) => pg_message(e),
        other => other.to_string(),
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
            StoreError::Conflict(pg_message(&e))
        } else {
            StoreError::Database(pg_message(&e))
        }
    }
}

impl From<PoolError> for StoreError {
    fn from(e: PoolError) -> Self {
        match e {
            PoolError::Backend(e) => e.into(),
            other => StoreError::Database(other.to_string()),
        }
    }
}

/// PostgreSQL-backed [`Store`].
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    pokes: Pokes,
    /// Stops the listener when the last clone of the store goes.
    _listener: Arc<AbortOnDrop>,
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

/// Where a connection string points, without its password: for messages.
pub fn describe_url(url: &str) -> String {
    let Ok(cfg) = url.parse::<tokio_postgres::Config>() else {
        return "an unparsable PostgreSQL URL".into();
    };
    let host = cfg
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    let db = cfg.get_dbname().or(cfg.get_user()).unwrap_or("");
    format!("postgres://{host}:{port}/{db}")
}

impl PostgresStore {
    /// Connects to the database at `url` (a `postgres://` URL or a `key=value` string) and
    /// migrates it. Fails if it cannot connect, or the database was migrated by a newer
    /// server.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let mut cfg: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Database(format!("the PostgreSQL URL does not parse: {e}")))?;
        if cfg.get_connect_timeout().is_none() {
            cfg.connect_timeout(Duration::from_secs(10));
        }
        if cfg.get_application_name().is_none() {
            cfg.application_name("strongroom-server");
        }
        let manager = Manager::from_config(
            cfg.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(30)))
            .create_timeout(Some(Duration::from_secs(15)))
            .build()
            .map_err(|e| StoreError::Database(e.to_string()))?;
        let pokes = Pokes::default();
        let listener = tokio::spawn(listen(cfg, pokes.clone()));
        let store = Self {
            pool,
            pokes,
            _listener: Arc::new(AbortOnDrop(listener)),
        };
        let mut client = store.pool.get().await.map_err(|e| {
            StoreError::Database(format!(
                "cannot connect to PostgreSQL at {}: {}",
                describe_url(url),
                pool_message(&e)
            ))
        })?;
        migrate(&mut client).await?;
        audit::backfill_links(&mut client).await?;
        Ok(store)
    }

    async fn client(&self) -> StoreResult<Object> {
        Ok(self.pool.get().await?)
    }
}

/// Listens on the `strongroom_feed` channel for as long as the store lives, reconnecting after a second
/// when the connection fails, and turns each notification into a poke.
async fn listen(cfg: tokio_postgres::Config, pokes: Pokes) {
    use futures_util::StreamExt;
    loop {
        match cfg.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let mut messages =
                    futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                let listening = async { client.batch_execute("LISTEN strongroom_feed").await };
                // The connection's messages must be polled for the LISTEN to complete.
                let mut listening = std::pin::pin!(listening);
                let ready = loop {
                    tokio::select! {
                        done = &mut listening => break done.is_ok(),
                        msg = messages.next() => match msg {
                            Some(Ok(_)) => continue,
                            _ => break false,
                        },
                    }
                };
                if ready {
                    // Whatever happened while nobody listened.
                    pokes.send(Poke::All);
                    while let Some(Ok(msg)) = messages.next().await {
                        if let tokio_postgres::AsyncMessage::Notification(n) = msg
                            && let Ok(id) = n.payload().parse::<Uuid>()
                        {
                            pokes.send(Poke::Practice(PracticeId(id)));
                        }
                    }
                }
                tracing::warn!("the PostgreSQL feed listener lost its connection; reconnecting");
            }
            Err(e) => {
                tracing::warn!(error = %pg_message(&e), "the PostgreSQL feed listener cannot connect");
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Applies the migrations not yet recorded, in one transaction, one migrator at a time.
async fn migrate(client: &mut Object) -> StoreResult<()> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    integer PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now()
        )",
    )
    .await?;
    let applied: Vec<i32> = tx
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let known = MIGRATIONS.last().map_or(0, |(v, _)| *v);
    if let Some(newer) = applied.iter().find(|v| **v > known) {
        return Err(StoreError::Database(format!(
            "the database has migration {newer}, newer than this server knows ({known})"
        )));
    }
    for (version, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[version],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Takes the practice's row lock inside `tx`, before a write reads what it will change:
/// this practice's writers go one at a time until `tx` ends. A missing practice takes no
/// lock (the write's sequence number then fails with `NotFound`).
async fn lock_practice(tx: &Transaction<'_>, practice: PracticeId) -> StoreResult<()> {
    let stmt = tx
        .prepare_cached("SELECT 1 FROM practices WHERE id = $1 FOR UPDATE")
        .await?;
    tx.execute(&stmt, &[&practice.0]).await?;
    Ok(())
}

/// Takes the practice's next sequence number inside `tx`; the row lock it takes orders
/// this practice's writers until `tx` ends.
async fn next_seq(tx: &Transaction<'_>, practice: PracticeId) -> StoreResult<i64> {
    // PostgreSQL folds the same notification queued twice in one transaction into one.
    let stmt = tx
        .prepare_cached(
            "WITH s AS (UPDATE practices SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq),
                  n AS (SELECT pg_notify('strongroom_feed', $2) FROM s)
             SELECT last_seq FROM s, n",
        )
        .await?;
    tx.query_opt(&stmt, &[&practice.0, &practice.0.to_string()])
        .await?
        .map(|r| r.get(0))
        .ok_or(StoreError::NotFound)
}

fn parse_role(s: &str) -> StoreResult<Role> {
    Role::parse(s).ok_or_else(|| StoreError::Database(format!("unknown role {s:?}")))
}

#[async_trait]
impl Store for PostgresStore {
    fn pokes(&self) -> &Pokes {
        &self.pokes
    }

    async fn create_practice(&self, name: &str) -> StoreResult<PracticeId> {
        let id = Uuid::new_v4();
        self.client()
            .await?
            .execute(
                "INSERT INTO practices (id, name) VALUES ($1, $2)",
                &[&id, &name],
            )
            .await?;
        Ok(PracticeId(id))
    }

    async fn practice(&self, id: PracticeId) -> StoreResult<PracticeInfo> {
        self.client()
            .await?
            .query_opt("SELECT name FROM practices WHERE id = $1", &[&id.0])
            .await?
            .map(|r| PracticeInfo {
                id: id.0,
                name: r.get(0),
            })
            .ok_or(StoreError::NotFound)
    }

    async fn create_user(
        &self,
        practice: PracticeId,
        email: &str,
        display_name: &str,
        password_hash: &str,
        role: Role,
    ) -> StoreResult<UserId> {
        let id = Uuid::new_v4();
        self.client()
            .await?
            .execute(
                "INSERT INTO users (id, practice_id, email, display_name, password_hash, role)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &id,
                    &practice.0,
                    &email,
                    &display_name,
                    &password_hash,
                    &role.as_str(),
                ],
            )
            .await?;
        Ok(UserId(id))
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT id, practice_id, email, display_name, password_hash, disabled, role
                 FROM users WHERE lower(email) = lower($1)",
            )
            .await?;
        let Some(r) = client.query_opt(&stmt, &[&email]).await? else {
            return Ok(None);
        };
        Ok(Some(UserRecord {
            id: UserId(r.try_get(0)?),
            practice_id: PracticeId(r.try_get(1)?),
            email: r.try_get(2)?,
            display_name: r.try_get(3)?,
            password_hash: r.try_get(4)?,
            disabled: r.try_get(5)?,
            role: parse_role(r.try_get(6)?)?,
        }))
    }

    async fn create_session(&self, s: NewSession) -> StoreResult<()> {
        self.client()
            .await?
            .execute(
                "INSERT INTO sessions
                   (token_hash, user_id, practice_id, device_name, created_at, last_seen_at,
                    expires_at, public_id, platform, app_version, ip, last_ip, reauth_at)
                 VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $10, $5)",
                &[
                    &s.token_hash,
                    &s.user_id.0,
                    &s.practice_id.0,
                    &s.device_name,
                    &s.created_at,
                    &s.expires_at,
                    &s.public_id.to_string(),
                    &s.platform,
                    &s.app_version,
                    &s.ip,
                ],
            )
            .await?;
        Ok(())
    }

    async fn session(
        &self,
        token_hash: &str,
        now: i64,
        idle_secs: i64,
        ip: Option<&str>,
    ) -> StoreResult<Option<Principal>> {
        let client = self.client().await?;
        // Checks and touches the session, and notes its address, in one statement.
        // `last_seen_at` is in whole seconds, so a session seen this second already, from
        // the same address, is not written again: most requests then only read, and
        // commit without a WAL flush.
        let stmt = client
            .prepare_cached(
                "WITH live AS (
                   SELECT s.user_id, s.practice_id, u.role, s.public_id, s.reauth_at,
                     p.mfa_required AND u.totp_secret IS NULL AS enroll
                   FROM sessions s JOIN users u ON u.id = s.user_id
                     JOIN practices p ON p.id = s.practice_id
                   WHERE s.token_hash = $1 AND NOT s.revoked AND NOT u.disabled
                     AND s.expires_at > $2 AND s.last_seen_at > $2::bigint - $3::bigint
                 ), touched AS (
                   UPDATE sessions SET last_seen_at = $2, last_ip = coalesce($4, last_ip)
                   WHERE token_hash = $1 AND EXISTS (SELECT 1 FROM live)
                     AND (last_seen_at <> $2 OR last_ip IS DISTINCT FROM coalesce($4, last_ip))
                 )
                 SELECT user_id, practice_id, role, public_id, reauth_at, enroll FROM live",
            )
            .await?;
        let Some(r) = client
            .query_opt(&stmt, &[&token_hash, &now, &idle_secs, &ip])
            .await?
        else {
            return Ok(None);
        };
        let public_id: String = r.try_get(3)?;
        Ok(Some(Principal {
            user_id: UserId(r.try_get(0)?),
            practice_id: PracticeId(r.try_get(1)?),
            role: parse_role(r.try_get(2)?)?,
            session_id: public_id
                .parse()
                .map_err(|_| StoreError::Database("a session's public id is not a UUID".into()))?,
            reauth_at: r.try_get(4)?,
            mfa_enrollment_required: r.try_get(5)?,
        }))
    }

    async fn sign_in_failures(&self, account_key: &str) -> StoreResult<Option<(i64, i64)>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT failures, last_failure_at FROM sign_in_failures WHERE account_key = $1",
                &[&account_key],
            )
            .await?;
        Ok(match row {
            Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
            None => None,
        })
    }

    async fn record_sign_in_failure(
        &self,
        account_key: &str,
        now: i64,
        window_secs: i64,
    ) -> StoreResult<i64> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "INSERT INTO sign_in_failures (account_key, failures, last_failure_at) VALUES ($1, 1, $2)
                 ON CONFLICT (account_key) DO UPDATE SET
                   failures = CASE WHEN $2 - sign_in_failures.last_failure_at > $3 THEN 1
                                   ELSE sign_in_failures.failures + 1 END,
                   last_failure_at = $2
                 RETURNING failures",
                &[&account_key, &now, &window_secs],
            )
            .await?;
        Ok(row.try_get(0)?)
    }

    async fn clear_sign_in_failures(&self, account_key: &str) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM sign_in_failures WHERE account_key = $1",
                &[&account_key],
            )
            .await?;
        Ok(())
    }

    async fn revoke_session(&self, token_hash: &str) -> StoreResult<bool> {
        let client = self.client().await?;
        let n = client
            .execute(
                "UPDATE sessions SET revoked = TRUE WHERE token_hash = $1 AND NOT revoked",
                &[&token_hash],
            )
            .await?;
        Ok(n > 0)
    }
}
