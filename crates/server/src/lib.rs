//! The Strongroom hosted service: axum on rustls over a [`store::Store`].
//!
//! [`start`] runs a server in-process (the binary and the tests both use it): it makes the
//! development certificate on first start, opens the embedded SQLite store, optionally
//! seeds the demo practice, and serves `/v1` over TLS only.

pub mod api;
pub mod auth;
pub mod seed;
pub mod store;
pub mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use crate::store::Store;
use crate::store::sqlite::SqliteStore;
use crate::tls::TlsPaths;

/// How to run a server.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Holds `server.db` and the TLS material.
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub seed_demo: bool,
}

/// A server running in this process.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// The CA a client must trust to reach this server.
    pub ca_pem_path: PathBuf,
    pub store: Arc<SqliteStore>,
    handle: axum_server::Handle<SocketAddr>,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<std::io::Result<()>>>>,
}

impl RunningServer {
    /// `https://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("https://{}/", self.addr)
    }

    /// Stops accepting, closes open connections and waits for the server to end.
    pub async fn stop(&self) {
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

/// Starts a server and returns once it is listening.
pub async fn start(opts: ServeOptions) -> anyhow::Result<RunningServer> {
    install_crypto_provider();
    std::fs::create_dir_all(&opts.data_dir)
        .with_context(|| format!("creating {}", opts.data_dir.display()))?;
    let tls_paths = TlsPaths::in_dir(&opts.data_dir);
    tls::ensure_dev_certificate(&tls_paths)?;
    let config = tls::server_config(&tls_paths)?;
    let store = Arc::new(SqliteStore::open(&opts.data_dir.join("server.db"))?);
    if opts.seed_demo {
        seed::seed_demo(store.as_ref()).await?;
    }
    let dyn_store: Arc<dyn Store> = store.clone();
    let app = api::router(api::AppState { store: dyn_store });
    let handle = axum_server::Handle::new();
    let listener = std::net::TcpListener::bind(opts.listen)
        .with_context(|| format!("binding {}", opts.listen))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
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
    })
}
