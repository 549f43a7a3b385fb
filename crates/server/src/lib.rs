//! The Strongroom hosted service: axum on rustls over a [`store::Store`].
//!
//! [`start`] runs a server in-process (the binary and the tests both use it): it makes the
//! development certificate on first start, opens the store (the embedded SQLite file by
//! default, or PostgreSQL, see [`StoreConfig`]), optionally seeds the demo practice, and
//! serves `/v1` over TLS only. The binary's operator commands (create a practice or a member,
//! seed benchmark data, verify the audit log) open the store with [`open_existing_store`]
//! and do their work in [`operator`].

pub mod api;
pub mod audit;
pub mod auth;
pub mod config;
pub mod consent;
pub mod events;
pub mod incidents;
pub mod integrations;
pub mod keyfile;
pub mod mailer;
pub mod members;
pub mod mfa;
pub mod notifications;
pub mod operator;
pub mod outbox;
pub mod password_policy;
pub mod policies;
pub mod privacy;
pub mod push;
pub mod records;
pub mod seed;
pub mod sessions;
pub mod store;
pub mod support;
pub mod tls;
pub mod usage;
pub mod web;
pub mod web_session;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use crate::sessions::SessionLifetimes;
use crate::store::Store;
use crate::store::postgres::{PostgresStore, describe_url};
use crate::store::sqlite::SqliteStore;
use crate::tls::TlsPaths;

/// How to run a server. The store is SQLite unless [`start_with_store`] is told otherwise.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Holds the TLS material, and `server.db` when the store is SQLite.
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub seed_demo: bool,
}

/// Which database holds the service's data.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum StoreConfig {
    /// The embedded SQLite file `server.db` in the data directory.
    #[default]
    Sqlite,
    /// A PostgreSQL database, by connection URL (`postgres://user@host:port/db`).
    Postgres { url: String },
}

impl std::fmt::Debug for StoreConfig {
    /// Never prints a password that the URL may carry.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreConfig::Sqlite => f.write_str("Sqlite"),
            StoreConfig::Postgres { url } => f
                .debug_struct("Postgres")
                .field("url", &describe_url(url))
                .finish(),
        }
    }
}

/// A server running in this process.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// The CA a client must trust to reach this server.
    pub ca_pem_path: PathBuf,
    pub store: Arc<dyn Store>,
    handle: axum_server::Handle<SocketAddr>,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<std::io::Result<()>>>>,
    /// The mail outbox's worker, when mail is configured; ended by [`RunningServer::stop`].
    outbox: Option<tokio::task::JoinHandle<()>>,
    /// Notifies members (see [`notifications::Notifier`]).
    pub notifier: Arc<notifications::Notifier>,
}

impl RunningServer {
    /// `https://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("https://{}/", self.addr)
    }

    /// Stops accepting, closes open connections and waits for the server to end.
    pub async fn stop(&self) {
        if let Some(outbox) = &self.outbox {
            outbox.abort();
        }
        self.handle.shutdown();
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

/// Installs the one rustls crypto provider this process uses. Safe to call more than once.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Creates `dir` (owner only) and makes it so if it exists: it holds every practice's data.
fn create_private_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("securing {}", dir.display()))?;
    Ok(())
}

/// Creates the database file owner-only before SQLite opens it (its -wal and -shm files
/// take the same permissions).
fn create_private_file(path: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

/// Opens the store of an existing installation, for an operator command: the SQLite file
/// `server.db` in `data_dir` must be there already (PostgreSQL is reached by its URL).
/// Pending migrations are applied, as a server start would.
pub async fn open_existing_store(
    data_dir: &std::path::Path,
    store: StoreConfig,
) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = match store {
        StoreConfig::Sqlite => {
            let db = data_dir.join("server.db");
            if !db.is_file() {
                anyhow::bail!("there is no database at {}", db.display());
            }
            Arc::new(SqliteStore::open(&db).with_context(|| format!("opening {}", db.display()))?)
        }
        StoreConfig::Postgres { url } => Arc::new(
            PostgresStore::open(&url)
                .await
                .context("opening the PostgreSQL store")?,
        ),
    };
    policies::seed(store.as_ref()).await?;
    Ok(store)
}

/// Opens the store, creating it if it is not there yet: the data directory and `server.db`
/// (owner-only) for SQLite; PostgreSQL is reached by its URL. Migrations are applied, and
/// the first version of each policy stored (see [`policies::seed`]).
pub async fn open_store(
    data_dir: &std::path::Path,
    store: StoreConfig,
) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = match store {
        StoreConfig::Sqlite => {
            create_private_dir(data_dir)?;
            let db = data_dir.join("server.db");
            create_private_file(&db)?;
            Arc::new(SqliteStore::open(&db).with_context(|| format!("opening {}", db.display()))?)
        }
        StoreConfig::Postgres { url } => Arc::new(
            PostgresStore::open(&url)
                .await
                .context("opening the PostgreSQL store")?,
        ),
    };
    policies::seed(store.as_ref()).await?;
    Ok(store)
}

/// Starts a server on the SQLite store and returns once it is listening.
pub async fn start(opts: ServeOptions) -> anyhow::Result<RunningServer> {
    start_with_store(opts, StoreConfig::Sqlite).await
}

/// Starts a server on the given store and returns once it is listening.
pub async fn start_with_store(
    opts: ServeOptions,
    store: StoreConfig,
) -> anyhow::Result<RunningServer> {
    start_configured(opts, store, ServiceSettings::default()).await
}

/// The service's settings beyond where it runs: session lifetimes, and the SMTP server
/// its email goes through (none: invitations are not emailed, only answered to the admin).
#[derive(Debug, Clone, Default)]
pub struct ServiceSettings {
    pub sessions: SessionLifetimes,
    pub smtp: Option<config::SmtpSettings>,
    /// How often an open live stream re-checks its session (default
    /// [`events::SESSION_CHECK_SECS`]): how soon a revocation closes it.
    pub live_recheck: Option<std::time::Duration>,
    /// Serve the UI's browser entry from this folder (the UI's build output, `ui/dist`);
    /// none: the service answers the API only. See [`web`].
    pub web_root: Option<PathBuf>,
    /// Where links in email point (`https://host[:port]`); none: `https://` and the
    /// address the server listens on.
    pub public_url: Option<String>,
    /// How the mail outbox's worker paces itself.
    pub outbox: outbox::OutboxSettings,
}

/// Starts a server on the given store, with these settings, and returns once it is
/// listening.
pub async fn start_configured(
    opts: ServeOptions,
    store: StoreConfig,
    settings: ServiceSettings,
) -> anyhow::Result<RunningServer> {
    let ServiceSettings {
        sessions,
        smtp,
        live_recheck,
        web_root,
        public_url,
        outbox: outbox_settings,
    } = settings;
    if let Some(root) = &web_root {
        web::check_root(root)?;
    }
    let mailer = smtp
        .as_ref()
        .map(mailer::Mailer::new)
        .transpose()
        .context("setting up the mailer")?;
    install_crypto_provider();
    create_private_dir(&opts.data_dir)?;
    let tls_paths = TlsPaths::in_dir(&opts.data_dir);
    tls::ensure_dev_certificate(&tls_paths)?;
    let config = tls::server_config(&tls_paths)?;
    let store = open_store(&opts.data_dir, store).await?;
    if opts.seed_demo {
        seed::seed_demo(store.as_ref()).await?;
    }
    let totp_key = mfa::TotpKey::load_or_create(&opts.data_dir)?;
    let handle = axum_server::Handle::new();
    let listener = std::net::TcpListener::bind(opts.listen)
        .with_context(|| format!("binding {}", opts.listen))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let notifier = Arc::new(notifications::Notifier::new(
        store.clone(),
        notifications::UnsubscribeKey::load_or_create(&opts.data_dir)?,
        &public_url.unwrap_or_else(|| format!("https://{addr}")),
    ));
    let state = api::AppState::new(store.clone())
        .with_totp_key(totp_key)
        .with_sessions(sessions)
        .with_mailer(mailer)
        .with_live_recheck(live_recheck)
        .with_notifier(notifier.clone());
    let outbox = state
        .mailer
        .clone()
        .map(|mailer| outbox::spawn(store.clone(), mailer, outbox_settings, notifier.wake()));
    let app = api::router(state);
    let app = match &web_root {
        Some(root) => web::in_front_of(app, root),
        None => app,
    };
    let rustls_config = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config));
    let server = axum_server::from_tcp_rustls(listener, rustls_config)?.handle(handle.clone());
    let task = tokio::spawn(async move {
        server
            .serve(app.into_make_service_with_connect_info::<SocketAddr>())
            .await
    });
    handle
        .listening()
        .await
        .context("the server did not start listening")?;
    Ok(RunningServer {
        addr,
        ca_pem_path: tls_paths.ca_cert,
        store,
        handle,
        task: std::sync::Mutex::new(Some(task)),
        outbox,
        notifier,
    })
}
