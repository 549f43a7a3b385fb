//! A revoked session wipes this device, and nothing else does; and public-key pins. The
//! core against a real server (or a stub that fails on purpose) over real TLS on loopback,
//! with real vaults and the real OS keyring. Run inside the test environment that
//! `scripts/test` sets up.
//!
//! - Revoked from another device (through `Core::sync` and through `sync_shared`): the next
//!   sync erases the vault and its keyring entries, answers `device_removed`, and the audit
//!   log reads `session_revoked` then `device_wiped`.
//! - A storm of 5xx answers, a 401 `unauthenticated` (an expired session), a revocation code
//!   on anything but a 401, and a dropped connection: never a wipe.
//! - A pin matching the server's key works; a wrong pin is refused by name though the chain
//!   is valid; a malformed pin is a clear input error.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use strongroom_client::{Config, Connection, Core, ErrorCode, profile_for};
use strongroom_keystore::{Keystore, SecretKind};
use strongroom_server::audit::AuditKind;
use strongroom_server::{RunningServer, ServeOptions, seed};
use strongroom_sync::SpkiPin;

struct Env {
    server: RunningServer,
    ca_pem: String,
    server_dir: tempfile::TempDir,
    app_dir: tempfile::TempDir,
    service: String,
}

impl Env {
    async fn new() -> Self {
        Self::with(strongroom_server::ServiceSettings::default()).await
    }

    async fn with(settings: strongroom_server::ServiceSettings) -> Self {
        let server_dir = tempfile::tempdir().unwrap();
        let server = strongroom_server::start_configured(
            ServeOptions {
                data_dir: server_dir.path().to_owned(),
                listen: "127.0.0.1:0".parse().unwrap(),
                seed_demo: true,
            },
            strongroom_server::StoreConfig::Sqlite,
            settings,
        )
        .await
        .unwrap();
        let ca_pem = std::fs::read_to_string(&server.ca_pem_path).unwrap();
        Env {
            server,
            ca_pem,
            server_dir,
            app_dir: tempfile::tempdir().unwrap(),
            service: format!("law.strongroom.test.revoke.{}", uuid::Uuid::new_v4()),
        }
    }

    /// A device of its own: data directory `name` under the app folder, named `name`.
    fn config(&self, name: &str) -> Config {
        let mut cfg = Config::new(self.app_dir.path().join(name));
        cfg.keyring_service = self.service.clone();
        cfg.practice_ca_pem = Some(self.ca_pem.clone());
        cfg.without_os_roots = true;
        cfg.device_name = name.to_owned();
        cfg
    }

    async fn signed_in(&self, name: &str) -> Core {
        signed_in(self.config(name), &self.server.url()).await
    }

    /// A plain HTTPS client trusting the server's CA, for what the core does not do.
    fn http(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).unwrap()])
            .build()
            .unwrap()
    }

    /// Signs in as another device of the demo member and revokes the session of each
    /// device named, as the sessions list would.
    async fn revoke_from_another_device(&self, names: &[&str]) {
        let http = self.http();
        let base = self.server.url();
        let answer: serde_json::Value = http
            .post(format!("{base}v1/auth/sign-in"))
            .json(&serde_json::json!({
                "email": seed::DEMO_EMAIL,
                "password": seed::DEMO_PASSWORD,
                "device_name": "the office desktop",
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = answer["token"].as_str().unwrap();
        let list: serde_json::Value = http
            .get(format!("{base}v1/sessions"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for name in names {
            let id = list["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["device_name"] == *name)
                .unwrap_or_else(|| panic!("no session of {name}: {list}"))["id"]
                .as_str()
                .unwrap()
                .to_owned();
            let resp = http
                .delete(format!("{base}v1/sessions/{id}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 204);
        }
    }

    fn keystore(&self) -> Keystore {
        Keystore::native(self.service.clone())
    }

    /// This device's keyring entries that exist: vault key, session token.
    fn keyring_entries(&self, name: &str) -> (bool, bool) {
        let profile = profile_for(&self.app_dir.path().join(name));
        let ks = self.keystore();
        (
            ks.get(SecretKind::VaultKey, &profile).unwrap().is_some(),
            ks.get(SecretKind::SessionToken, &profile)
                .unwrap()
                .is_some(),
        )
    }

    fn vault_files(&self, name: &str) -> Vec<PathBuf> {
        files_under(&self.app_dir.path().join(name).join("vault"))
    }

    fn cleanup_keyring(&self, name: &str) {
        let profile = profile_for(&self.app_dir.path().join(name));
        let ks = self.keystore();
        for kind in [
            SecretKind::VaultKey,
            SecretKind::PendingVaultKey,
            SecretKind::SessionToken,
        ] {
            ks.delete(kind, &profile).unwrap();
        }
    }

    /// The audit log's kinds, in order, with the device each names.
    async fn audit(&self) -> Vec<(AuditKind, String)> {
        self.server
            .store
            .audit_entries(None, 0, 1000)
            .await
            .unwrap()
            .iter()
            .filter_map(|e| {
                let device = e.details_json().unwrap()["device_name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                e.kind().map(|k| (k, device))
            })
            .collect()
    }
}

async fn signed_in(cfg: Config, url: &str) -> Core {
    let mut core = Core::new(cfg);
    core.start().unwrap();
    core.sign_in(url, seed::DEMO_EMAIL, seed::DEMO_PASSWORD, None)
        .await
        .unwrap();
    core
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
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

/// Revoked from another device: `Core::sync` (the CLI's) and `sync_shared` (the app's)
/// each erase their vault and keyring entries, say `device_removed`, and confirm the wipe;
/// the log reads `session_revoked`, then `device_wiped`, for each.
#[tokio::test]
async fn a_revoked_session_wipes_the_vault_and_its_keys_and_confirms_it() {
    let env = Env::new().await;
    let mut laptop = env.signed_in("laptop").await;
    let desktop = tokio::sync::Mutex::new(env.signed_in("desktop").await);
    assert!(!laptop.matters().unwrap().is_empty());
    assert_eq!(env.keyring_entries("laptop"), (true, true));
    assert!(!env.vault_files("desktop").is_empty());
    laptop.sync().await.unwrap();
    strongroom_client::sync_shared(&desktop).await.unwrap();

    env.revoke_from_another_device(&["laptop", "desktop"]).await;

    let err = laptop.sync().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DeviceRemoved, "{err}");
    assert!(err.to_string().contains("erased"), "{err}");
    let st = laptop.status().unwrap();
    assert!(!st.signed_in);
    assert_eq!(
        st.last_error.as_ref().map(|e| e.code),
        Some(ErrorCode::DeviceRemoved)
    );
    assert!(env.vault_files("laptop").is_empty(), "the vault is gone");
    assert_eq!(env.keyring_entries("laptop"), (false, false));
    assert_eq!(
        laptop.matters().unwrap_err().code(),
        ErrorCode::VaultLocked,
        "nothing left to read"
    );

    let err = strongroom_client::sync_shared(&desktop).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DeviceRemoved, "{err}");
    assert!(env.vault_files("desktop").is_empty());
    assert_eq!(env.keyring_entries("desktop"), (false, false));

    let trail: Vec<_> = env
        .audit()
        .await
        .into_iter()
        .filter(|(k, _)| matches!(k, AuditKind::SessionRevoked | AuditKind::DeviceWiped))
        .collect();
    assert_eq!(
        trail,
        [
            (AuditKind::SessionRevoked, "laptop".to_owned()),
            (AuditKind::SessionRevoked, "desktop".to_owned()),
            (AuditKind::DeviceWiped, "laptop".to_owned()),
            (AuditKind::DeviceWiped, "desktop".to_owned()),
        ]
    );

    // Started again, the device is simply signed out, and may sign in afresh.
    let mut again = Core::new(env.config("laptop"));
    assert!(!again.start().unwrap().signed_in);
    again
        .sign_in(
            &env.server.url(),
            seed::DEMO_EMAIL,
            seed::DEMO_PASSWORD,
            None,
        )
        .await
        .unwrap();
    assert!(!again.matters().unwrap().is_empty());
    env.cleanup_keyring("laptop");
    env.server.stop().await;
}

/// An expired session is `session_expired`: sign in again, and the vault stays.
#[tokio::test]
async fn an_expired_session_never_wipes() {
    let env = Env::with(strongroom_server::ServiceSettings {
        sessions: strongroom_server::sessions::SessionLifetimes {
            idle_secs: 3,
            absolute_secs: 3600,
        },
        ..Default::default()
    })
    .await;
    let mut core = env.signed_in("laptop").await;
    let before = core.matters().unwrap();
    assert!(!before.is_empty());
    tokio::time::sleep(Duration::from_millis(4500)).await;
    for _ in 0..3 {
        let err = core.sync().await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::SessionExpired, "{err}");
    }
    assert_eq!(core.matters().unwrap(), before);
    assert!(core.status().unwrap().signed_in);
    assert_eq!(env.keyring_entries("laptop"), (true, true));
    assert!(
        !env.audit()
            .await
            .iter()
            .any(|(k, _)| *k == AuditKind::DeviceWiped)
    );
    core.close().unwrap();
    env.cleanup_keyring("laptop");
    drop(env.server_dir);
}

/// What the stub answers to `/v1/sync/*` once the first page was served.
type Failure = Arc<Mutex<(u16, String)>>;

/// A stub service over TLS with a trusted certificate: it signs in and serves one page of
/// one matter, then answers every sync request with the status and body in `failure`
/// (status 0: drops the connection).
async fn failing_server(
    dir: &Path,
    failure: Failure,
) -> (SocketAddr, axum_server::Handle<SocketAddr>) {
    use axum::response::IntoResponse;
    use axum::routing::{get, post};
    let paths = strongroom_server::tls::TlsPaths::in_dir(dir);
    strongroom_server::tls::ensure_dev_certificate(&paths).unwrap();
    let cfg = strongroom_server::tls::server_config(&paths).unwrap();
    let served = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let fail = move || {
        let (status, body) = failure.lock().unwrap().clone();
        if status == 0 {
            // Dropping the answer's body mid-way resets the stream.
            panic!("the stub drops this connection");
        }
        (
            axum::http::StatusCode::from_u16(status).unwrap(),
            [("content-type", "application/problem+json")],
            body,
        )
            .into_response()
    };
    let fail_push = fail.clone();
    let app = axum::Router::new()
        .route(
            "/v1/health",
            get(|| async {
                axum::Json(serde_json::json!({"status": "ok", "protocol_version": 1}))
            }),
        )
        .route(
            "/v1/auth/sign-in",
            post(|| async {
                axum::Json(serde_json::json!({
                    "token": "stub-token-0123456789",
                    "user": {"id": uuid::Uuid::nil(), "email": "x@stub.example", "display_name": "X"},
                    "practice": {"id": uuid::Uuid::nil(), "name": "Stub"}
                }))
            }),
        )
        .route(
            "/v1/sync/changes",
            get(move || {
                let first = !served.swap(true, std::sync::atomic::Ordering::SeqCst);
                let fail = fail.clone();
                async move {
                    if first {
                        let body = serde_json::json!({"changes": [{"seq": 1, "version": 1, "kind": "matter", "matter": {
                            "id": uuid::Uuid::new_v4(), "number": "S-1", "title": "Kept through the storm",
                            "matter_type": "Litigation", "status": "open", "client_name": "C",
                            "responsible": "R", "opened_on": "2026-01-01"}}], "cursor": 1, "has_more": false});
                        axum::Json(body).into_response()
                    } else {
                        fail()
                    }
                }
            }),
        )
        .route("/v1/sync/push", post(move || async move { fail_push() }));
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

/// 5xx storms, a lost connection, a 401 that is not a revocation, and a revocation code
/// on a status other than 401: the vault and its keys stay, whatever the number of tries.
#[tokio::test]
async fn a_5xx_storm_or_a_lost_connection_never_wipes() {
    strongroom_server::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let failure: Failure = Arc::new(Mutex::new((503, String::new())));
    let (addr, handle) = failing_server(dir.path(), failure.clone()).await;
    let mut cfg = Config::new(dir.path().join("app"));
    cfg.keyring_service = format!("law.strongroom.test.storm.{}", uuid::Uuid::new_v4());
    cfg.practice_ca_pem = Some(std::fs::read_to_string(dir.path().join("ca.pem")).unwrap());
    cfg.without_os_roots = true;
    let mut core = Core::new(cfg.clone());
    core.start().unwrap();
    let st = core
        .sign_in(&format!("https://{addr}/"), "x@stub.example", "pw", None)
        .await
        .unwrap();
    assert_eq!(st.matter_count, 1, "{st:?}");
    let before = core.matters().unwrap();

    let revoked_body = |status: u16| {
        serde_json::json!({"type": "x", "title": "t", "status": status, "code": "session_revoked"})
            .to_string()
    };
    let cases: Vec<(u16, String, ErrorCode)> = vec![
        (503, String::new(), ErrorCode::ServerUnreachable),
        (
            503,
            serde_json::json!({"type": "x", "title": "t", "status": 503, "code": "internal"})
                .to_string(),
            ErrorCode::ServerUnreachable,
        ),
        (502, "<html>bad gateway</html>".into(), ErrorCode::ServerUnreachable),
        (500, String::new(), ErrorCode::ServerUnreachable),
        (504, String::new(), ErrorCode::ServerUnreachable),
        (503, revoked_body(503), ErrorCode::ServerUnreachable),
        (403, revoked_body(403), ErrorCode::Forbidden),
        (
            401,
            serde_json::json!({"type": "x", "title": "t", "status": 401, "code": "unauthenticated"})
                .to_string(),
            ErrorCode::SessionExpired,
        ),
        (401, "session_revoked".into(), ErrorCode::SessionExpired),
        (0, String::new(), ErrorCode::ServerUnreachable),
    ];
    for (status, body, want) in cases {
        *failure.lock().unwrap() = (status, body.clone());
        for _ in 0..5 {
            let err = core.sync().await.unwrap_err();
            assert_eq!(err.code(), want, "{status} {body}: {err}");
        }
        assert_eq!(core.matters().unwrap(), before, "{status} {body}");
        let st = core.status().unwrap();
        assert!(st.signed_in, "{status}");
        if want == ErrorCode::ServerUnreachable {
            assert_eq!(st.connection, Connection::Offline);
        }
    }
    // A queued edit goes through the push's failures too, and stays queued.
    core.edit(
        strongroom_protocol::RecordKind::Matter,
        before[0].id.parse().unwrap(),
        strongroom_client::EditOp::Upsert {
            fields: serde_json::json!({"title": "Edited offline"})
                .as_object()
                .unwrap()
                .clone(),
        },
    )
    .unwrap();
    *failure.lock().unwrap() = (503, String::new());
    for _ in 0..5 {
        assert_eq!(
            core.sync().await.unwrap_err().code(),
            ErrorCode::ServerUnreachable
        );
    }
    assert_eq!(core.status().unwrap().pending_edits, 1);
    assert!(cfg.vault_path().exists());
    let ks = Keystore::native(cfg.keyring_service.clone());
    let profile = profile_for(&cfg.data_dir);
    assert!(ks.get(SecretKind::VaultKey, &profile).unwrap().is_some());
    assert!(
        ks.get(SecretKind::SessionToken, &profile)
            .unwrap()
            .is_some()
    );
    core.close().unwrap();
    ks.delete(SecretKind::VaultKey, &profile).unwrap();
    ks.delete(SecretKind::SessionToken, &profile).unwrap();
    handle.shutdown();
}

/// The pin of the server's own certificate: sign-in and sync work, and the vault keeps it;
/// a wrong pin is refused by name though the chain is valid, and nothing is made; a
/// malformed one is an input error.
#[tokio::test]
async fn public_key_pins_narrow_trust() {
    let env = Env::new().await;
    let chain = std::fs::read_to_string(env.server_dir.path().join("server.pem")).unwrap();
    let leaf = SpkiPin::of_pem(&chain).unwrap()[0];
    // What the operator's `strongroom-server pin` prints is what the app takes.
    assert_eq!(
        strongroom_server::tls::spki_pins(&chain).unwrap()[0],
        leaf.to_string()
    );
    let other_dir = tempfile::tempdir().unwrap();
    strongroom_server::tls::ensure_dev_certificate(&strongroom_server::tls::TlsPaths::in_dir(
        other_dir.path(),
    ))
    .unwrap();
    let other =
        SpkiPin::of_pem(&std::fs::read_to_string(other_dir.path().join("server.pem")).unwrap())
            .unwrap()[0];
    assert_ne!(leaf, other);

    // A wrong pin: refused, though the practice CA vouches for the certificate.
    let mut cfg = env.config("pinned");
    cfg.server_pins = vec![other.to_string()];
    let mut core = Core::new(cfg.clone());
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
    assert!(
        err.to_string().contains("does not match the pinned key"),
        "{err}"
    );
    assert!(!cfg.vault_path().exists());

    // The right pin never stands in for a valid chain: without the practice CA, the
    // certificate is still refused, for its issuer.
    let mut no_ca = env.config("pinned");
    no_ca.practice_ca_pem = None;
    no_ca.server_pins = vec![leaf.to_string()];
    let mut core = Core::new(no_ca);
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
    assert!(!cfg.vault_path().exists());

    // Malformed: a clear input error, nothing made.
    for bad in ["sha256/short", "md5/AAAA", "not a pin"] {
        cfg.server_pins = vec![bad.to_owned()];
        let mut core = Core::new(cfg.clone());
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
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{bad}: {err}");
        assert!(err.to_string().contains("not a public-key pin"), "{err}");
        assert!(!cfg.vault_path().exists());
    }

    // The practice CA's key pins too: the server sends the CA in its chain.
    let ca_pin = SpkiPin::of_pem(&env.ca_pem).unwrap()[0];
    let mut by_ca = env.config("by-ca");
    by_ca.server_pins = vec![ca_pin.to_string()];
    let mut core = signed_in(by_ca, &env.server.url()).await;
    core.sync().await.unwrap();
    core.close().unwrap();
    env.cleanup_keyring("by-ca");

    // The right pin (beside a spare): signs in and syncs, and the vault keeps the pins.
    cfg.server_pins = vec![other.to_string(), leaf.to_string()];
    let mut core = signed_in(cfg.clone(), &env.server.url()).await;
    assert!(!core.matters().unwrap().is_empty());
    core.sync().await.unwrap();
    core.close().unwrap();
    // Started again with another pin configured, it still syncs: the pins it holds the
    // server to are the ones its vault kept at sign-in (with none kept, the configured,
    // wrong one would refuse the server).
    let mut reconfigured = env.config("pinned");
    reconfigured.server_pins = vec![other.to_string()];
    let mut again = Core::new(reconfigured);
    again.start().unwrap();
    again.sync().await.unwrap();
    again.close().unwrap();
    env.cleanup_keyring("pinned");
    env.server.stop().await;
}
