//! The desktop core against a real server over TLS, with real SQLCipher vaults and the real
//! OS keyring (Secret Service). Run inside the test environment that `scripts/test` sets up.

#[path = "client/convergence.rs"]
mod convergence;
#[path = "client/crash.rs"]
mod crash;
#[path = "client/dashboard.rs"]
mod dashboard;
#[path = "client/desktop_notices.rs"]
mod desktop_notices;
#[path = "client/faults.rs"]
mod faults;
#[path = "client/notices.rs"]
mod notices;
#[path = "client/preferences.rs"]
mod preferences;
#[path = "client/revocation.rs"]
mod revocation;
#[path = "client/screens.rs"]
mod screens;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use strongroom_client::{Config, Connection, Core, ErrorCode, KeyMode, SearchRequest, profile_for};
use strongroom_keystore::{Keystore, SecretKind};
use strongroom_server::{RunningServer, ServeOptions, seed};

struct Env {
    server: RunningServer,
    ca_pem: String,
    server_dir: tempfile::TempDir,
    app_dir: tempfile::TempDir,
    service: String,
}

impl Env {
    /// The demo member as the service's store holds it.
    async fn demo_member(&self) -> strongroom_server::store::UserRecord {
        self.server
            .store
            .user_by_email(seed::DEMO_EMAIL)
            .await
            .unwrap()
            .unwrap()
    }

    /// Tells the demo member something through the service's own notifier (an in-app
    /// notice, and a desktop one where their choice says so).
    async fn notify_demo(
        &self,
        category: strongroom_protocol::notifications::Category,
        title: &str,
        body: &str,
    ) {
        let member = self.demo_member().await;
        self.server
            .notifier
            .notify(
                member.id,
                category,
                &strongroom_server::notifications::Notification {
                    title: title.into(),
                    body: body.into(),
                },
            )
            .await
            .unwrap();
    }

    async fn new() -> Self {
        let server_dir = tempfile::tempdir().unwrap();
        let server = strongroom_server::start(ServeOptions {
            data_dir: server_dir.path().to_owned(),
            listen: "127.0.0.1:0".parse().unwrap(),
            seed_demo: true,
        })
        .await
        .unwrap();
        let ca_pem = std::fs::read_to_string(&server.ca_pem_path).unwrap();
        Env {
            server,
            ca_pem,
            server_dir,
            app_dir: tempfile::tempdir().unwrap(),
            service: format!("law.strongroom.test.{}", uuid::Uuid::new_v4()),
        }
    }

    fn config(&self) -> Config {
        let mut cfg = Config::new(self.app_dir.path().join("data"));
        cfg.keyring_service = self.service.clone();
        cfg.practice_ca_pem = Some(self.ca_pem.clone());
        cfg.without_os_roots = true;
        cfg
    }

    fn vault_path(&self) -> std::path::PathBuf {
        let p = self.config().vault_path();
        assert!(p.starts_with(self.app_dir.path().join("data/vault")));
        p
    }

    /// A core over this environment, started and signed in to the demo practice.
    async fn signed_in(&self) -> Core {
        self.demo_core(self.config(), true).await
    }

    /// A core with `cfg`, started and signed in to the demo practice; synced or not.
    async fn demo_core(&self, cfg: Config, sync: bool) -> Core {
        let mut core = Core::new(cfg);
        core.start().unwrap();
        let url = self.server.url();
        let (email, password) = (seed::DEMO_EMAIL, seed::DEMO_PASSWORD);
        if sync {
            core.sign_in(&url, email, password, None).await.unwrap();
        } else {
            core.sign_in_without_sync(&url, email, password, None)
                .await
                .unwrap();
        }
        core
    }

    /// A plain HTTPS client trusting the server's CA, for what the core does not do.
    fn http(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).unwrap()])
            .build()
            .unwrap()
    }

    fn keystore(&self) -> Keystore {
        Keystore::native(self.service.clone())
    }

    fn cleanup_keyring(&self) {
        self.forget_device(self.app_dir.path());
    }

    /// Deletes the keyring entries of the device whose data directory is `dir/data`.
    fn forget_device(&self, dir: &Path) {
        let profile = profile_for(&dir.join("data"));
        let ks = self.keystore();
        ks.delete(SecretKind::VaultKey, &profile).unwrap();
        ks.delete(SecretKind::SessionToken, &profile).unwrap();
    }
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn assert_no_secret_or_plaintext(dir: &Path, needles: &[&[u8]]) {
    for p in files_under(dir) {
        let bytes = std::fs::read(&p).unwrap();
        for n in needles {
            assert!(
                !bytes.windows(n.len()).any(|w| w == *n),
                "{:?} found in {}",
                String::from_utf8_lossy(&n[..n.len().min(24)]),
                p.display()
            );
        }
    }
}

#[tokio::test]
async fn sign_in_syncs_into_an_encrypted_vault_keyed_from_the_keyring() {
    let env = Env::new().await;
    let mut core = Core::new(env.config());
    let st = core.start().unwrap();
    assert!(!st.signed_in);
    let st = core
        .sign_in(
            &env.server.url(),
            seed::DEMO_EMAIL,
            seed::DEMO_PASSWORD,
            None,
        )
        .await
        .unwrap();
    assert!(st.signed_in);
    assert_eq!(st.connection, Connection::Online);
    assert_eq!(st.practice_name.as_deref(), Some(seed::DEMO_PRACTICE));
    assert_eq!(st.matter_count as usize, seed::demo_matters().len());
    assert!(st.last_sync_at.is_some());
    let titles: Vec<String> = core
        .matters()
        .unwrap()
        .into_iter()
        .map(|m| m.title)
        .collect();
    for m in seed::demo_matters() {
        assert!(titles.contains(&m.title), "{} missing", m.title);
    }
    // The server's sessions list shows what this device runs.
    let store = &env.server.store;
    let user = store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let sessions = store
        .live_sessions(user.practice_id, user.id, now, 3600)
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].platform, strongroom_client::device_platform());
    assert_eq!(sessions[0].app_version, env!("CARGO_PKG_VERSION"));

    // The key and the token are in the keyring, and in no file.
    let profile = profile_for(&env.app_dir.path().join("data"));
    let key = env
        .keystore()
        .get(SecretKind::VaultKey, &profile)
        .unwrap()
        .unwrap();
    assert_eq!(key.len(), 32);
    let token = env
        .keystore()
        .get(SecretKind::SessionToken, &profile)
        .unwrap()
        .unwrap();
    core.close().unwrap();
    let hex_key = strongroom_vault_hex(&key);
    let mut needles: Vec<&[u8]> = vec![&key, hex_key.as_bytes(), &token];
    let demo = seed::demo_matters();
    for m in &demo {
        needles.push(m.title.as_bytes());
        needles.push(m.client_name.as_bytes());
    }
    assert_no_secret_or_plaintext(env.app_dir.path(), &needles);

    // A fresh start opens the vault with the keyring's key, offline-capable.
    let mut again = Core::new(env.config());
    let st = again.start().unwrap();
    assert!(st.signed_in);
    assert_eq!(again.matters().unwrap().len(), demo.len());
    again.close().unwrap();
    env.cleanup_keyring();
    env.server.stop().await;
}

fn strongroom_vault_hex(key: &[u8]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn wrong_password_creates_no_vault() {
    let env = Env::new().await;
    let mut core = Core::new(env.config());
    core.start().unwrap();
    let err = core
        .sign_in(
            &env.server.url(),
            seed::DEMO_EMAIL,
            "not-the-password",
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidCredentials);
    assert!(!env.vault_path().exists());
    let profile = profile_for(&env.app_dir.path().join("data"));
    assert!(
        env.keystore()
            .get(SecretKind::VaultKey, &profile)
            .unwrap()
            .is_none()
    );
    assert!(!core.status().unwrap().signed_in);
    env.server.stop().await;
}

#[tokio::test]
async fn server_gone_means_offline_with_the_vault_intact() {
    let env = Env::new().await;
    let mut core = env.signed_in().await;
    let before = core.matters().unwrap();
    env.server.stop().await;

    let err = core.sync().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::ServerUnreachable);
    let st = core.status().unwrap();
    assert_eq!(st.connection, Connection::Offline);
    assert_eq!(st.last_error.unwrap().code, ErrorCode::ServerUnreachable);
    assert_eq!(core.matters().unwrap(), before);
    core.close().unwrap();

    // And after a restart, still there.
    let mut again = Core::new(env.config());
    again.start().unwrap();
    assert_eq!(again.matters().unwrap(), before);
    assert!(again.sync().await.is_err());
    assert_eq!(again.status().unwrap().connection, Connection::Offline);
    env.cleanup_keyring();
    drop(env.server_dir);
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_by_name() {
    let env = Env::new().await;
    let mut cfg = env.config();
    cfg.practice_ca_pem = None;
    let mut core = Core::new(cfg);
    core.start().unwrap();
    let err = core
        .sign_in(
            &env.server.url(),
            seed::DEMO_EMAIL,
            seed::DEMO_PASSWORD,
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::CertificateRefused, "{err}");
    assert!(err.to_string().contains("unknown issuer"), "{err}");
    assert!(!env.vault_path().exists());

    // Another CA's certificate is no better.
    let other_dir = tempfile::tempdir().unwrap();
    strongroom_server::tls::ensure_dev_certificate(&strongroom_server::tls::TlsPaths::in_dir(
        other_dir.path(),
    ))
    .unwrap();
    let mut cfg = env.config();
    cfg.practice_ca_pem = Some(std::fs::read_to_string(other_dir.path().join("ca.pem")).unwrap());
    let mut core = Core::new(cfg);
    core.start().unwrap();
    let err = core
        .sign_in(
            &env.server.url(),
            seed::DEMO_EMAIL,
            seed::DEMO_PASSWORD,
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::CertificateRefused);
    assert!(!env.vault_path().exists());

    // And plain http is never spoken.
    let err = core
        .sign_in(
            &format!("http://{}", env.server.addr),
            seed::DEMO_EMAIL,
            seed::DEMO_PASSWORD,
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidAddress);
    env.server.stop().await;
}

#[tokio::test]
async fn without_a_keyring_a_passphrase_protects_the_vault() {
    // No D-Bus session here: the Secret Service cannot be reached. nextest runs each test
    // in its own process, so changing this process's environment touches no other test.
    unsafe {
        std::env::set_var(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/strongroom-bus",
        )
    };
    let env = Env::new().await;
    let mut cfg = env.config();
    cfg.passphrase_cost = (8 * 1024, 1);
    let mut core = Core::new(cfg.clone());
    let st = core.start().unwrap();
    assert!(!st.keyring_available);
    assert!(!st.signed_in);
    let url = env.server.url();
    let err = core
        .sign_in(&url, seed::DEMO_EMAIL, seed::DEMO_PASSWORD, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PassphraseRequired);
    let err = core
        .sign_in(&url, seed::DEMO_EMAIL, seed::DEMO_PASSWORD, Some("short"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PassphraseTooShort);
    assert!(
        !cfg.vault_path().exists(),
        "no vault, and never a plaintext one"
    );

    let pass = "a long enough vault passphrase";
    let st = core
        .sign_in(&url, seed::DEMO_EMAIL, seed::DEMO_PASSWORD, Some(pass))
        .await
        .unwrap();
    assert_eq!(st.key_mode, Some(KeyMode::Passphrase));
    assert_eq!(st.matter_count as usize, seed::demo_matters().len());
    core.close().unwrap();

    // A restart waits for the passphrase; a wrong one is refused by name.
    let mut core = Core::new(cfg.clone());
    let st = core.start().unwrap();
    assert!(st.signed_in && st.locked);
    assert_eq!(core.matters().unwrap_err().code(), ErrorCode::VaultLocked);
    assert_eq!(
        core.unlock(Some("not the passphrase")).unwrap_err().code(),
        ErrorCode::WrongPassphrase
    );
    assert_eq!(
        core.unlock(None).unwrap_err().code(),
        ErrorCode::PassphraseRequired
    );
    core.unlock(Some(pass)).unwrap();
    assert_eq!(core.matters().unwrap().len(), seed::demo_matters().len());
    core.sync().await.unwrap();

    // Change the passphrase: the old one stops working, the new one works.
    assert_eq!(
        core.change_passphrase("wrong current one", "another long passphrase")
            .unwrap_err()
            .code(),
        ErrorCode::WrongPassphrase
    );
    core.change_passphrase(pass, "another long passphrase")
        .unwrap();
    core.lock().unwrap();
    assert_eq!(
        core.unlock(Some(pass)).unwrap_err().code(),
        ErrorCode::WrongPassphrase
    );
    core.unlock(Some("another long passphrase")).unwrap();
    core.close().unwrap();

    // Nothing readable in any file: no matter, no client.
    let demo = seed::demo_matters();
    let mut needles: Vec<&[u8]> = Vec::new();
    for m in &demo {
        needles.push(m.title.as_bytes());
        needles.push(m.client_name.as_bytes());
    }
    assert_no_secret_or_plaintext(env.app_dir.path(), &needles);
    env.server.stop().await;
}

#[tokio::test]
async fn lock_unlock_idle_lock_and_key_rotation_with_the_keyring() {
    let env = Env::new().await;
    let mut cfg = env.config();
    cfg.idle_lock = std::time::Duration::from_secs(60);
    let mut core = Core::new(cfg.clone());
    core.start().unwrap();
    core.sign_in(
        &env.server.url(),
        seed::DEMO_EMAIL,
        seed::DEMO_PASSWORD,
        None,
    )
    .await
    .unwrap();
    let before = core.matters().unwrap();

    let st = core.lock().unwrap();
    assert!(st.locked);
    assert_eq!(core.matters().unwrap_err().code(), ErrorCode::VaultLocked);
    core.unlock(None).unwrap();
    assert_eq!(core.matters().unwrap(), before);

    let now = std::time::Instant::now();
    assert!(!core.lock_if_idle(now).unwrap(), "just used: stays open");
    assert!(
        core.lock_if_idle(now + std::time::Duration::from_secs(61))
            .unwrap()
    );
    assert!(core.status().unwrap().locked);
    core.unlock(None).unwrap();

    let profile = profile_for(&env.app_dir.path().join("data"));
    let old = env
        .keystore()
        .get(SecretKind::VaultKey, &profile)
        .unwrap()
        .unwrap();
    core.rotate_key().unwrap();
    let new = env
        .keystore()
        .get(SecretKind::VaultKey, &profile)
        .unwrap()
        .unwrap();
    assert_ne!(old.as_slice(), new.as_slice());
    assert!(
        env.keystore()
            .get(SecretKind::PendingVaultKey, &profile)
            .unwrap()
            .is_none()
    );
    assert_eq!(core.matters().unwrap(), before);
    core.close().unwrap();
    let mut again = Core::new(cfg);
    again.start().unwrap();
    assert_eq!(again.matters().unwrap(), before);
    again.close().unwrap();
    env.cleanup_keyring();
    env.server.stop().await;
}

#[tokio::test]
async fn an_unreadable_vault_is_set_aside_and_a_fresh_sign_in_restores_the_matters() {
    let env = Env::new().await;
    let mut core = env.signed_in().await;
    core.close().unwrap();
    // Damage the first page: the key in the keyring no longer opens it.
    let path = env.vault_path();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[40] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();

    let mut core = Core::new(env.config());
    let st = core.start().unwrap();
    assert!(!st.signed_in, "{st:?}");
    let aside = std::path::PathBuf::from(st.set_aside.expect("the vault was set aside"));
    assert_eq!(
        std::fs::read(&aside).unwrap(),
        bytes,
        "set aside unaltered, never deleted"
    );
    let st = core
        .sign_in(
            &env.server.url(),
            seed::DEMO_EMAIL,
            seed::DEMO_PASSWORD,
            None,
        )
        .await
        .unwrap();
    assert_eq!(st.matter_count as usize, seed::demo_matters().len());
    assert!(st.set_aside.is_none());
    let aside_name = aside.file_name().unwrap().to_string_lossy().into_owned();
    let aside_key = format!("{}:{aside_name}", profile_for(&env.config().data_dir));
    assert!(
        env.keystore()
            .get(SecretKind::VaultKey, &aside_key)
            .unwrap()
            .is_some(),
        "the set-aside vault's key is kept beside it"
    );
    // Signing out wipes the device: the set-aside vault and its key go too.
    core.sign_out().await.unwrap();
    assert!(!aside.exists(), "a wipe leaves no set-aside vault");
    assert!(
        files_under(&env.app_dir.path().join("data/vault")).is_empty(),
        "{:?}",
        files_under(&env.app_dir.path().join("data/vault"))
    );
    assert!(
        env.keystore()
            .get(SecretKind::VaultKey, &aside_key)
            .unwrap()
            .is_none(),
        "nor its key"
    );
    env.cleanup_keyring();
    env.server.stop().await;
}

#[tokio::test]
async fn the_first_sync_builds_the_search_index_and_wipe_removes_everything() {
    let env = Env::new().await;
    let mut core = env.signed_in().await;
    let req = |text: &str| SearchRequest {
        text: text.into(),
        ..Default::default()
    };
    let hits = core.search(&req("okaf")).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].number, "HV-2026-0142");
    let closed = SearchRequest {
        status: Some("closed".into()),
        ..req("")
    };
    assert_eq!(core.search(&closed).unwrap().len(), 1);
    let bad = SearchRequest {
        status: Some("sideways".into()),
        ..req("")
    };
    assert_eq!(
        core.search(&bad).unwrap_err().code(),
        ErrorCode::InvalidInput
    );

    let profile = profile_for(&env.app_dir.path().join("data"));
    let st = core.wipe().unwrap();
    assert!(!st.signed_in);
    assert!(!env.vault_path().exists());
    assert!(files_under(&env.app_dir.path().join("data/vault")).is_empty());
    assert!(
        env.keystore()
            .get(SecretKind::VaultKey, &profile)
            .unwrap()
            .is_none()
    );
    assert!(
        env.keystore()
            .get(SecretKind::SessionToken, &profile)
            .unwrap()
            .is_none()
    );
    env.server.stop().await;
}

/// A hostile server: it speaks TLS with a trusted certificate and signs in, but its second
/// page of changes is malformed.
async fn hostile_server(
    dir: &Path,
    second_page: &'static str,
) -> (SocketAddr, axum_server::Handle<SocketAddr>) {
    use axum::routing::{get, post};
    let paths = strongroom_server::tls::TlsPaths::in_dir(dir);
    strongroom_server::tls::ensure_dev_certificate(&paths).unwrap();
    let cfg = strongroom_server::tls::server_config(&paths).unwrap();
    let app = axum::Router::new()
        .route("/v1/health", get(|| async { axum::Json(serde_json::json!({"status": "ok", "protocol_version": 1})) }))
        .route(
            "/v1/auth/sign-in",
            post(|| async {
                axum::Json(serde_json::json!({
                    "token": "hostile-token-0123456789",
                    "user": {"id": uuid::Uuid::nil(), "email": "x@hostile.example", "display_name": "X"},
                    "practice": {"id": uuid::Uuid::nil(), "name": "Hostile"}
                }))
            }),
        )
        .route(
            "/v1/sync/changes",
            get(move |q: axum::extract::Query<std::collections::HashMap<String, String>>| async move {
                let after = q.get("after").map(String::as_str).unwrap_or("0");
                let body = if after == "0" {
                    serde_json::json!({"changes": [{"seq": 1, "version": 1, "kind": "matter", "matter": {
                        "id": uuid::Uuid::new_v4(), "number": "H-1", "title": "First page matter",
                        "matter_type": "Litigation", "status": "open", "client_name": "C",
                        "responsible": "R", "opened_on": "2026-01-01"}}], "cursor": 1, "has_more": true})
                    .to_string()
                } else {
                    second_page.to_owned()
                };
                ([("content-type", "application/json")], body)
            }),
        );
    let handle = axum_server::Handle::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = axum_server::from_tcp_rustls(
        listener,
        axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(cfg)),
    )
    .unwrap()
    .handle(handle.clone());
    tokio::spawn(async move { server.serve(app.into_make_service()).await });
    handle.listening().await.unwrap();
    (addr, handle)
}

#[tokio::test]
async fn a_malformed_page_is_refused_whole() {
    strongroom_server::install_crypto_provider();
    let seconds: [&'static str; 3] = [
        // One good change, then one that is not a matter.
        r#"{"changes":[{"seq":2,"version":1,"kind":"matter_deleted","id":"00000000-0000-0000-0000-000000000001"},{"seq":3,"version":1,"kind":"matter","matter":{"id":"not-a-uuid"}}],"cursor":3,"has_more":false}"#,
        // Truncated JSON.
        r#"{"changes":[{"seq":2,"version":1,"kind":"matter_del"#,
        // Well-formed but going backwards.
        r#"{"changes":[{"seq":1,"version":2,"kind":"matter_deleted","id":"00000000-0000-0000-0000-000000000001"}],"cursor":1,"has_more":false}"#,
    ];
    for second in seconds {
        let dir = tempfile::tempdir().unwrap();
        let (addr, handle) = hostile_server(dir.path(), second).await;
        let mut cfg = Config::new(dir.path().join("app"));
        cfg.keyring_service = format!("law.strongroom.test.{}", uuid::Uuid::new_v4());
        cfg.practice_ca_pem = Some(std::fs::read_to_string(dir.path().join("ca.pem")).unwrap());
        cfg.without_os_roots = true;
        let mut core = Core::new(cfg.clone());
        core.start().unwrap();
        // Sign-in succeeds; the first sync stops at the bad page.
        let st = core
            .sign_in(&format!("https://{addr}/"), "x@hostile.example", "pw", None)
            .await
            .unwrap();
        assert_eq!(
            st.last_error.as_ref().map(|e| e.code),
            Some(ErrorCode::MalformedResponse),
            "{second}"
        );
        let matters = core.matters().unwrap();
        assert_eq!(matters.len(), 1, "only the first, good page is stored");
        assert_eq!(matters[0].title, "First page matter");
        let err = core.sync().await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::MalformedResponse);
        assert_eq!(core.matters().unwrap().len(), 1);
        core.close().unwrap();
        let ks = Keystore::native(cfg.keyring_service.clone());
        let profile = profile_for(&cfg.data_dir);
        ks.delete(SecretKind::VaultKey, &profile).unwrap();
        ks.delete(SecretKind::SessionToken, &profile).unwrap();
        handle.shutdown();
    }
}

#[tokio::test]
async fn one_sync_at_a_time_and_the_matters_stay_readable_between_batches() {
    let env = Env::new().await;
    let mut core = env.signed_in().await;
    let mut session = core.begin_sync().unwrap();
    assert_eq!(
        core.begin_sync().err().map(|e| e.code()),
        Some(ErrorCode::SyncInProgress)
    );
    // The core is free while the session waits on the network.
    let batch = session.fetch_batch().await;
    assert_eq!(core.matters().unwrap().len(), seed::demo_matters().len());
    assert!(batch.error.is_none());
    core.apply_batch(&batch.pages).unwrap();
    core.finish_sync(Ok(Default::default())).unwrap();
    // Finished: a new sync may start.
    core.sync().await.unwrap();
    core.close().unwrap();
    env.cleanup_keyring();
    env.server.stop().await;
}

/// A first sync in several batches: the next batch is fetched while the one before it
/// waits to be stored, and the batches stored one after the other leave the vault whole,
/// with nothing left to fetch.
#[tokio::test]
async fn a_sync_fetches_the_next_batch_while_one_is_stored() {
    let env = Env::new().await;
    let mut cfg = env.config();
    cfg.bulk_batch_changes = 5;
    let mut core = env.demo_core(cfg, false).await;
    let session = core.begin_sync().unwrap();
    let mut batches = session.prefetch();
    let mut stored = 0;
    let mut report = Default::default();
    loop {
        let batch = batches.next().await;
        assert!(
            batch.error.is_none(),
            "{:?}",
            batch.error.map(|e| e.to_string())
        );
        if batch.more {
            // Not stored yet, and the next one arrives all the same.
            let waited = std::time::Instant::now();
            while !batches.ready() {
                assert!(
                    waited.elapsed() < std::time::Duration::from_secs(10),
                    "the batch after #{stored} was not fetched while #{stored} waited"
                );
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
        core.apply_fetched(&batch, &mut report).unwrap();
        stored += 1;
        if !batch.more {
            break;
        }
    }
    drop(batches);
    let report = core.finish_sync(Ok(report)).unwrap();
    assert!(stored > 3, "several batches: {stored}");
    assert_eq!(report.pages, stored, "one page a batch, each stored once");
    assert_eq!(core.matters().unwrap().len(), seed::demo_matters().len());
    // Nothing is left to fetch: the stored cursor is the feed's end.
    let again = core.sync().await.unwrap();
    assert_eq!(again.applied, 0);
    core.close().unwrap();
    env.cleanup_keyring();
    env.server.stop().await;
}

#[test]
fn the_ui_bindings_are_generated_from_these_types() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/bindings.ts");
    let want = strongroom_client::typescript_bindings();
    if std::env::var_os("STRONGROOM_UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "ui/src/lib/bindings.ts is stale: run STRONGROOM_UPDATE_BINDINGS=1 cargo nextest run -p strongroom-client bindings"
    );
}

/// Two laptops of one member, each with its own vault: edits to different fields of a
/// matter merge; the same field edited on both becomes a conflict on the second to sync,
/// holding both values, with the first's value shown until the member decides; keeping
/// their own value writes it for everyone, and both laptops converge.
#[tokio::test]
async fn two_devices_merge_fields_and_a_clash_waits_for_a_person() {
    use strongroom_client::EditOp;
    use strongroom_protocol::{ChangeRecord, ConflictKind, ConflictResolution, RecordKind};
    let env = Env::new().await;
    let mut first = env.signed_in().await;
    let other_dir = tempfile::tempdir().unwrap();
    let mut cfg = Config::new(other_dir.path().join("data"));
    cfg.keyring_service = env.service.clone();
    cfg.practice_ca_pem = Some(env.ca_pem.clone());
    cfg.without_os_roots = true;
    let mut second = Core::new(cfg);
    second.start().unwrap();
    second
        .sign_in(
            &env.server.url(),
            seed::DEMO_EMAIL,
            seed::DEMO_PASSWORD,
            None,
        )
        .await
        .unwrap();
    // A demo matter as this practice holds it (the seed's ids are made when it runs).
    let listed = first.matters().unwrap();
    let number = &seed::demo_matters()[0].number;
    let matter_id: uuid::Uuid = listed
        .iter()
        .find(|m| &m.number == number)
        .unwrap()
        .id
        .parse()
        .unwrap();
    struct Ids {
        id: uuid::Uuid,
    }
    let matter = Ids { id: matter_id };
    let fields = |v: serde_json::Value| EditOp::Upsert {
        fields: v.as_object().unwrap().clone(),
    };
    let server_matter = || async {
        let store = env.server.store.clone();
        let practice = store
            .user_by_email(seed::DEMO_EMAIL)
            .await
            .unwrap()
            .unwrap()
            .practice_id;
        match store
            .record(
                practice,
                strongroom_server::store::records::Viewer::Service,
                RecordKind::Matter,
                matter.id,
            )
            .await
            .unwrap()
            .unwrap()
            .record
        {
            ChangeRecord::Matter { matter } => matter,
            other => panic!("{other:?}"),
        }
    };
    let title_on = |core: &mut Core| {
        core.matters()
            .unwrap()
            .into_iter()
            .find(|m| m.id == matter.id.to_string())
            .unwrap()
            .title
    };

    // Different fields, edited offline on each: both survive.
    first
        .edit(
            RecordKind::Matter,
            matter.id,
            fields(serde_json::json!({"description": "Written on the first laptop"})),
        )
        .unwrap();
    second
        .edit(
            RecordKind::Matter,
            matter.id,
            fields(serde_json::json!({"title": "Renamed on the second laptop"})),
        )
        .unwrap();
    let r = first.sync().await.unwrap();
    assert_eq!((r.pushed, r.conflicts, r.rejected), (1, 0, 0));
    let r = second.sync().await.unwrap();
    assert_eq!((r.pushed, r.conflicts, r.rejected), (1, 0, 0));
    first.sync().await.unwrap();
    let merged = server_matter().await;
    assert_eq!(merged.title, "Renamed on the second laptop");
    assert_eq!(merged.description, "Written on the first laptop");
    assert_eq!(title_on(&mut first), "Renamed on the second laptop");

    // The same field on both: the second to sync gets a conflict, nothing is overwritten.
    first
        .edit(
            RecordKind::Matter,
            matter.id,
            fields(serde_json::json!({"title": "First's title"})),
        )
        .unwrap();
    second
        .edit(
            RecordKind::Matter,
            matter.id,
            fields(serde_json::json!({"title": "Second's title"})),
        )
        .unwrap();
    first.sync().await.unwrap();
    let r = second.sync().await.unwrap();
    assert_eq!((r.pushed, r.conflicts), (0, 1));
    assert_eq!(server_matter().await.title, "First's title");
    assert_eq!(
        title_on(&mut second),
        "First's title",
        "the service's value shows"
    );
    let conflicts = second.conflicts().unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(second.status().unwrap().open_conflicts, 1);
    // The service's clock was read from its answers: this machine's is within a few
    // seconds of it.
    let skew = second.status().unwrap().clock_skew_secs.unwrap();
    assert!(skew.abs() <= 5, "skew {skew}");
    let c = &conflicts[0];
    assert_eq!(
        (
            c.kind,
            c.field.as_str(),
            c.mine.as_deref(),
            c.theirs.as_deref()
        ),
        (
            ConflictKind::SameField,
            "title",
            Some("\"Second's title\""),
            Some("\"First's title\"")
        )
    );
    // The member keeps their own: it is written for everyone.
    second
        .resolve_conflict(c.server_id.parse().unwrap(), &ConflictResolution::KeepMine)
        .await
        .unwrap();
    assert!(second.conflicts().unwrap().is_empty());
    assert_eq!(second.status().unwrap().open_conflicts, 0);
    second.sync().await.unwrap();
    first.sync().await.unwrap();
    assert_eq!(server_matter().await.title, "Second's title");
    assert_eq!(title_on(&mut first), "Second's title");
    assert_eq!(title_on(&mut second), "Second's title");
    env.cleanup_keyring();
    env.forget_device(other_dir.path());
}

/// A member walled off a matter: their next sync removes it from their laptop, and their
/// pending edit to it is reported as refused, not dropped unseen. Let back in, they get it
/// again.
#[tokio::test]
async fn losing_access_purges_the_matter_and_reports_the_pending_edit() {
    use strongroom_client::EditOp;
    use strongroom_protocol::{RecordKind, Role};
    use strongroom_server::store::UserId;
    let env = Env::new().await;
    let store = env.server.store.clone();
    let admin = store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap();
    let password = "Tidewater-Ledger-2291-fox";
    let hash = strongroom_server::auth::hash_password(password).unwrap();
    store
        .create_user(
            admin.practice_id,
            "walled@harbourvine.example",
            "Walled Lawyer",
            &hash,
            Role::Lawyer,
        )
        .await
        .unwrap();
    let mut core = Core::new(env.config());
    core.start().unwrap();
    core.sign_in(
        &env.server.url(),
        "walled@harbourvine.example",
        password,
        None,
    )
    .await
    .unwrap();
    let before = core.matters().unwrap();
    let walled: uuid::Uuid = before[0].id.parse().unwrap();
    core.edit(
        RecordKind::Matter,
        walled,
        EditOp::Upsert {
            fields: serde_json::json!({"title": "Edited before the wall went up"})
                .as_object()
                .unwrap()
                .clone(),
        },
    )
    .unwrap();
    store
        .set_matter_access(admin.practice_id, walled, true, &[UserId(admin.id.0)])
        .await
        .unwrap();
    let report = core.sync().await.unwrap();
    assert_eq!(report.rejected, 1, "{report:?}");
    let after = core.matters().unwrap();
    assert_eq!(after.len(), before.len() - 1);
    assert!(after.iter().all(|m| m.id != walled.to_string()));
    let refused = core.rejected_edits().unwrap();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].record_id, walled.to_string());
    assert_eq!(core.status().unwrap().rejected_edits, 1);
    // Nothing of it is left in the vault's files either.
    let title = before[0].title.clone();
    assert_no_secret_or_plaintext(&env.app_dir.path().join("data"), &[title.as_bytes()]);

    store
        .set_matter_access(admin.practice_id, walled, false, &[])
        .await
        .unwrap();
    core.sync().await.unwrap();
    assert_eq!(core.matters().unwrap().len(), before.len());

    // The member has seen it: dismissed, it leaves the list and the count, once.
    let views = core.rejected_views().unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].label, before[0].title, "named by its title");
    let seq = refused[0].mutation_seq;
    core.dismiss_rejected_edit(seq).unwrap();
    assert!(core.rejected_edits().unwrap().is_empty());
    assert_eq!(core.status().unwrap().rejected_edits, 0);
    assert_eq!(
        core.dismiss_rejected_edit(seq).unwrap_err().code(),
        ErrorCode::NotFound
    );
    env.cleanup_keyring();
}

/// A second device of the demo member, signed in under its own data directory.
async fn second_device(env: &Env, dir: &Path) -> Core {
    let mut cfg = Config::new(dir.join("data"));
    cfg.keyring_service = env.service.clone();
    cfg.practice_ca_pem = Some(env.ca_pem.clone());
    cfg.without_os_roots = true;
    let mut core = Core::new(cfg);
    core.start().unwrap();
    core.sign_in(
        &env.server.url(),
        seed::DEMO_EMAIL,
        seed::DEMO_PASSWORD,
        None,
    )
    .await
    .unwrap();
    core
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn live_an_edit_on_one_device_shows_on_another_without_asking() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use strongroom_client::{EditOp, LiveOptions, LiveUpdate, run_live};
    use strongroom_protocol::RecordKind;
    let env = Env::new().await;
    let other_dir = tempfile::tempdir().unwrap();
    let first = Arc::new(tokio::sync::Mutex::new(env.signed_in().await));
    let second = Arc::new(tokio::sync::Mutex::new(
        second_device(&env, other_dir.path()).await,
    ));
    // Polling every 10 minutes: only the live stream can bring the edit within the test.
    let opts = LiveOptions {
        first_retry: Duration::from_millis(100),
        max_retry: Duration::from_secs(2),
        poll_interval: Duration::from_secs(600),
    };
    let connected = Arc::new(AtomicUsize::new(0));
    let mut loops = Vec::new();
    for core in [first.clone(), second.clone()] {
        let (opts, connected) = (opts.clone(), connected.clone());
        loops.push(tokio::spawn(async move {
            let control = core.lock().await.live_control();
            run_live(&core, &control, opts, |u| {
                if matches!(u, LiveUpdate::Connected) {
                    connected.fetch_add(1, Ordering::SeqCst);
                }
            })
            .await
        }));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while connected.load(Ordering::SeqCst) < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the live streams never opened"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        second.lock().await.status().unwrap().connection,
        Connection::Online
    );
    let matter_id: uuid::Uuid = first.lock().await.matters().unwrap()[0].id.parse().unwrap();
    // An edit on the first device: its own loop pushes it, the service pokes the second.
    first
        .lock()
        .await
        .edit(
            RecordKind::Matter,
            matter_id,
            EditOp::Upsert {
                fields: serde_json::json!({"title": "Renamed while the other laptop watched"})
                    .as_object()
                    .unwrap()
                    .clone(),
            },
        )
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let title = second
            .lock()
            .await
            .matters()
            .unwrap()
            .into_iter()
            .find(|m| m.id == matter_id.to_string())
            .unwrap()
            .title;
        if title == "Renamed while the other laptop watched" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the edit never reached the second device"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(first.lock().await.status().unwrap().pending_edits, 0);

    // The service goes away: both devices notice and say offline, vaults intact.
    for l in &loops {
        l.abort();
    }
    let survivor = first.clone();
    let control = survivor.lock().await.live_control();
    env.server.stop().await;
    let watcher = tokio::spawn(async move {
        run_live(&survivor, &control, opts, |_| {}).await;
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while first.lock().await.status().unwrap().connection != Connection::Offline {
        assert!(std::time::Instant::now() < deadline, "never went offline");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    watcher.abort();
    assert!(!first.lock().await.matters().unwrap().is_empty());
    env.cleanup_keyring();
    env.forget_device(other_dir.path());
}

#[tokio::test]
async fn a_sync_reports_its_progress_changes_of_total_and_bytes() {
    let env = Env::new().await;
    let mut core = env.signed_in().await;
    assert_eq!(core.status().unwrap().sync_progress, None);
    // Changes made elsewhere while this device was away.
    let store = env.server.store.clone();
    let practice = store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .practice_id;
    for i in 0..12 {
        let m = strongroom_protocol::Matter {
            id: uuid::Uuid::new_v4(),
            number: format!("PR-{i}"),
            title: format!("Progress matter {i}"),
            matter_type: "Commercial".into(),
            status: strongroom_protocol::MatterStatus::Open,
            client_name: "A Client".into(),
            responsible: "A Lawyer".into(),
            opened_on: "2026-03-04".into(),
            closed_on: None,
            description: String::new(),
            custom_fields: Default::default(),
        };
        store.put_matter(practice, &m).await.unwrap();
    }
    let mut seen = Vec::new();
    let report = core
        .sync_with_progress(&mut |p| seen.push(*p))
        .await
        .unwrap();
    assert_eq!(report.applied, 12);
    let last = *seen.last().expect("progress was reported");
    assert_eq!(last.total, Some(12), "the service said how many waited");
    assert_eq!(last.done, 12);
    assert!(last.bytes > 0 && last.bytes == report.bytes);
    assert!(
        seen.windows(2)
            .all(|w| w[0].done <= w[1].done && w[0].bytes <= w[1].bytes)
    );
    // Over once the sync is.
    assert_eq!(core.status().unwrap().sync_progress, None);
    env.cleanup_keyring();
}
