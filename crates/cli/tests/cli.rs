//! The built `strongroom-cli` binary against a real server over TLS (its dev CA passed with
//! `--ca-file`), with a temporary data directory and the real OS keyring under a service
//! name of its own. Run inside the test environment (`scripts/with-test-env`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use strongroom_client::profile_for;
use strongroom_keystore::{Keystore, SecretKind};
use strongroom_server::{RunningServer, ServeOptions, seed};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

/// The vault passphrase of the test without a keyring.
const PASSPHRASE: &str = "correct horse battery staple";

struct Env {
    server: RunningServer,
    _server_dir: tempfile::TempDir,
    app_dir: tempfile::TempDir,
    service: String,
}

impl Env {
    async fn new() -> Self {
        let server_dir = tempfile::tempdir().unwrap();
        let server = strongroom_server::start(ServeOptions {
            data_dir: server_dir.path().to_owned(),
            listen: "127.0.0.1:0".parse().unwrap(),
            seed_demo: true,
        })
        .await
        .unwrap();
        Env {
            server,
            _server_dir: server_dir,
            app_dir: tempfile::tempdir().unwrap(),
            service: format!("law.strongroom.test.cli.{}", uuid::Uuid::new_v4()),
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.app_dir.path().join("data")
    }

    /// Runs the binary with `args` after this environment's data dir and keyring service,
    /// `stdin` on its standard input. Checks no secret is in argv or the output.
    async fn cli(&self, args: &[&str], stdin: &str) -> Output {
        self.cli_with(args, stdin, &[]).await
    }

    /// [`Env::cli`] with extra environment variables.
    async fn cli_with(&self, args: &[&str], stdin: &str, vars: &[(&str, &str)]) -> Output {
        let data_dir = self.data_dir();
        let mut all: Vec<&str> = vec![
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--keyring-service",
            &self.service,
        ];
        all.extend_from_slice(args);
        let secrets = [seed::DEMO_PASSWORD, PASSPHRASE];
        assert!(!all.iter().any(|a| secrets.iter().any(|s| a.contains(s))));
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_strongroom-cli"))
            .args(&all)
            .env_remove("STRONGROOM_DATA_DIR")
            .envs(vars.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).await.unwrap();
        drop(input);
        let out = child.wait_with_output().await.unwrap();
        for text in [&out.stdout, &out.stderr] {
            let text = String::from_utf8_lossy(text);
            for s in secrets {
                assert!(!text.contains(s), "a secret was printed by {args:?}");
            }
        }
        out
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let profile = profile_for(&self.data_dir());
        let ks = Keystore::native(self.service.clone());
        for kind in [
            SecretKind::VaultKey,
            SecretKind::PendingVaultKey,
            SecretKind::SessionToken,
        ] {
            let _ = ks.delete(kind, &profile);
        }
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn signs_in_syncs_reads_and_exports_then_reports_offline() {
    let env = Env::new().await;
    let url = env.server.url();
    let ca = env.server.ca_pem_path.to_str().unwrap().to_owned();
    let sign_in = [
        "sign-in",
        "--server",
        &url,
        "--email",
        seed::DEMO_EMAIL,
        "--ca-file",
        &ca,
    ];

    // Nothing to do before signing in.
    let o = env.cli(&["matters"], "").await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("error (not_signed_in)"),
        "{}",
        stderr(&o)
    );

    // A wrong password: exit 1, its code, and no vault.
    let o = env.cli(&sign_in, "not-the-password-at-all\n").await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("error (invalid_credentials)"),
        "{}",
        stderr(&o)
    );
    assert!(!env.data_dir().join("vault/vault.db").exists());

    // The right one, on stdin.
    let o = env
        .cli(&sign_in, &format!("{}\n", seed::DEMO_PASSWORD))
        .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains(seed::DEMO_PRACTICE), "{text}");
    assert!(text.contains("8 matters"), "{text}");

    // Signing in again is refused.
    let o = env
        .cli(&sign_in, &format!("{}\n", seed::DEMO_PASSWORD))
        .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error (already_signed_in)"));

    let o = env.cli(&["status", "--json"], "").await;
    assert!(o.status.success(), "{}", stderr(&o));
    let st = json(&o);
    assert_eq!(st["signed_in"], true);
    assert_eq!(st["locked"], false);
    assert_eq!(st["key_mode"], "keyring");
    assert_eq!(st["practice_name"], seed::DEMO_PRACTICE);
    assert_eq!(st["matter_count"], 8);
    assert_eq!(st["pending_edits"], 0);
    assert!(st["last_sync_at"].is_string());
    let o = env.cli(&["status"], "").await;
    assert!(stdout(&o).contains("matters: 8"), "{}", stdout(&o));

    let demo = seed::demo_matters();
    assert_eq!(demo.len(), 8);
    let o = env.cli(&["matters", "--json"], "").await;
    assert!(o.status.success(), "{}", stderr(&o));
    let matters = json(&o);
    let titles: Vec<&str> = matters
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["title"].as_str().unwrap())
        .collect();
    for m in &demo {
        assert!(titles.contains(&m.title.as_str()), "{} missing", m.title);
    }

    // "Harbour" names the practice, not a matter: no hits, and no failure.
    let o = env.cli(&["search", "harbour", "--json"], "").await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o), serde_json::json!([]));
    let o = env.cli(&["search", "okaf"], "").await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("HV-2026-0142"), "{}", stdout(&o));
    let o = env
        .cli(&["search", "", "--status", "closed", "--json"], "")
        .await;
    assert_eq!(json(&o).as_array().unwrap().len(), 1);
    let o = env.cli(&["search", "", "--limit", "2", "--json"], "").await;
    assert_eq!(json(&o).as_array().unwrap().len(), 2);
    let o = env.cli(&["search", "okaf", "--status", "nope"], "").await;
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error (invalid_input)"));

    let o = env.cli(&["conflicts", "--json"], "").await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o), serde_json::json!([]));

    let o = env.cli(&["sync"], "").await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("pushed 0 edits"), "{}", stdout(&o));

    // The vault holds no matter in plaintext.
    for p in files_under(&env.data_dir()) {
        let bytes = std::fs::read(&p).unwrap();
        for m in &demo {
            let n = m.title.as_bytes();
            assert!(!bytes.windows(n.len()).any(|w| w == n), "{}", p.display());
        }
    }

    // Offline: exit 2, and it says so.
    env.server.stop().await;
    let o = env.cli(&["sync"], "").await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("error (server_unreachable)"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("offline"), "{}", stderr(&o));

    // The export works offline, owner-only, and refuses to overwrite.
    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("matters.json");
    let file_arg = file.to_str().unwrap();
    let o = env.cli(&["export", "--out", file_arg], "").await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("plaintext"), "{}", stderr(&o));
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let exported: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(exported, matters);
    std::fs::write(&file, b"keep me").unwrap();
    let o = env.cli(&["export", "--out", file_arg], "").await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("refusing to overwrite"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");
}

/// Where no keyring answers (here: a session bus that does not exist), the vault key comes
/// from a passphrase: the second line of `sign-in`'s input, the first of every other command.
#[tokio::test(flavor = "multi_thread")]
async fn without_a_keyring_the_passphrase_comes_from_stdin() {
    let env = Env::new().await;
    let no_bus = [(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/strongroom-no-bus",
    )];
    let url = env.server.url();
    let ca = env.server.ca_pem_path.to_str().unwrap().to_owned();
    let sign_in = [
        "sign-in",
        "--server",
        &url,
        "--email",
        seed::DEMO_EMAIL,
        "--ca-file",
        &ca,
    ];
    let passphrase = PASSPHRASE;

    // Only the password: the passphrase is required.
    let o = env
        .cli_with(&sign_in, &format!("{}\n", seed::DEMO_PASSWORD), &no_bus)
        .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("error (passphrase_required)"),
        "{}",
        stderr(&o)
    );

    let o = env
        .cli_with(
            &sign_in,
            &format!("{}\n{passphrase}\n", seed::DEMO_PASSWORD),
            &no_bus,
        )
        .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("8 matters"), "{}", stdout(&o));

    // Status without the passphrase says what it can; with it, everything.
    let o = env.cli_with(&["status", "--json"], "", &no_bus).await;
    let st = json(&o);
    assert_eq!(st["signed_in"], true);
    assert_eq!(st["locked"], true);
    assert_eq!(st["key_mode"], "passphrase");
    let o = env
        .cli_with(&["status", "--json"], &format!("{passphrase}\n"), &no_bus)
        .await;
    assert_eq!(json(&o)["matter_count"], 8);

    let o = env.cli_with(&["matters"], "", &no_bus).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error (passphrase_required)"));
    let o = env
        .cli_with(&["matters"], "the wrong passphrase\n", &no_bus)
        .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error (wrong_passphrase)"));
    let o = env
        .cli_with(&["matters", "--json"], &format!("{passphrase}\n"), &no_bus)
        .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o).as_array().unwrap().len(), 8);
    env.server.stop().await;
}

/// Revokes every live session of the demo member named `device`, as another device's
/// sessions list would (through the store: the CLI is what is under test here).
async fn revoke_device(env: &Env, device: &str) {
    let store = &env.server.store;
    let demo = store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let live = store
        .live_sessions(demo.practice_id, demo.id, now, 3600)
        .await
        .unwrap();
    let mut revoked = 0;
    for s in live.iter().filter(|s| s.device_name == device) {
        store
            .revoke_own_session(demo.practice_id, demo.id, &s.public_id, now, 3600)
            .await
            .unwrap();
        revoked += 1;
    }
    assert!(revoked > 0, "no live session of {device}: {live:?}");
}

/// `--pin`: a wrong pin is refused by name, a malformed one is an input error, the right
/// one signs in. Then the session is revoked elsewhere: the next `sync` erases the vault
/// and its keys, says `device_removed`, and leaves the device signed out.
#[tokio::test(flavor = "multi_thread")]
async fn pins_and_a_revoked_session_wipe_the_device() {
    use strongroom_sync::SpkiPin;
    let env = Env::new().await;
    let url = env.server.url();
    let ca = env.server.ca_pem_path.to_str().unwrap().to_owned();
    let chain = env.server.ca_pem_path.with_file_name("server.pem");
    let leaf = SpkiPin::of_pem(&std::fs::read_to_string(chain).unwrap()).unwrap()[0].to_string();
    // Another server's key: its certificate is issued by another CA, but that does not
    // matter, this server's chain is valid and only its key is not the pinned one.
    let other = tempfile::tempdir().unwrap();
    strongroom_server::tls::ensure_dev_certificate(&strongroom_server::tls::TlsPaths::in_dir(
        other.path(),
    ))
    .unwrap();
    let wrong = SpkiPin::of_pem(&std::fs::read_to_string(other.path().join("server.pem")).unwrap())
        .unwrap()[0]
        .to_string();
    assert_ne!(leaf, wrong);
    let sign_in = |pin: &str| {
        vec![
            "sign-in".to_owned(),
            "--server".into(),
            url.clone(),
            "--email".into(),
            seed::DEMO_EMAIL.into(),
            "--ca-file".into(),
            ca.clone(),
            "--pin".into(),
            pin.to_owned(),
        ]
    };
    let password = format!("{}\n", seed::DEMO_PASSWORD);
    let args = sign_in(&wrong);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = env.cli(&args, &password).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("error (certificate_refused)"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("does not match the pinned key"),
        "{}",
        stderr(&o)
    );
    let args = sign_in("sha256/nope");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = env.cli(&args, &password).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("error (invalid_input)"),
        "{}",
        stderr(&o)
    );
    assert!(files_under(&env.data_dir().join("vault")).is_empty());

    let args = sign_in(&leaf);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = env.cli(&args, &password).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let o = env.cli(&["sync"], "").await;
    assert!(o.status.success(), "{}", stderr(&o));

    revoke_device(&env, &format!("Strongroom CLI ({})", std::env::consts::OS)).await;
    let o = env.cli(&["sync"], "").await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("error (device_removed)"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("erased"), "{}", stderr(&o));
    assert!(files_under(&env.data_dir().join("vault")).is_empty());
    let profile = profile_for(&env.data_dir());
    let ks = Keystore::native(env.service.clone());
    assert!(ks.get(SecretKind::VaultKey, &profile).unwrap().is_none());
    assert!(
        ks.get(SecretKind::SessionToken, &profile)
            .unwrap()
            .is_none()
    );
    let o = env.cli(&["status", "--json"], "").await;
    assert_eq!(json(&o)["signed_in"], false);
    env.server.stop().await;
}

/// Without a keyring the session token lives inside the vault: a revoked session still
/// erases the vault (and its passphrase parameters), and the wipe is still confirmed.
#[tokio::test(flavor = "multi_thread")]
async fn without_a_keyring_a_revoked_session_still_wipes_and_confirms() {
    use strongroom_server::audit::AuditKind;
    let env = Env::new().await;
    let no_bus = [(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/strongroom-no-bus",
    )];
    let url = env.server.url();
    let ca = env.server.ca_pem_path.to_str().unwrap().to_owned();
    let sign_in = [
        "sign-in",
        "--server",
        &url,
        "--email",
        seed::DEMO_EMAIL,
        "--ca-file",
        &ca,
    ];
    let o = env
        .cli_with(
            &sign_in,
            &format!("{}\n{PASSPHRASE}\n", seed::DEMO_PASSWORD),
            &no_bus,
        )
        .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!files_under(&env.data_dir().join("vault")).is_empty());

    revoke_device(&env, &format!("Strongroom CLI ({})", std::env::consts::OS)).await;
    let o = env
        .cli_with(&["sync"], &format!("{PASSPHRASE}\n"), &no_bus)
        .await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("error (device_removed)"),
        "{}",
        stderr(&o)
    );
    assert!(files_under(&env.data_dir().join("vault")).is_empty());
    let wiped = env
        .server
        .store
        .audit_entries(None, 0, 1000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind() == Some(AuditKind::DeviceWiped))
        .count();
    assert_eq!(wiped, 1);
    env.server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_sync_killed_part_way_resumes_where_it_stopped() {
    let env = Env::new().await;
    // A practice of 20,000 matters: forty batches of 500, each stored with its cursor.
    let seeded = strongroom_server::operator::seed_benchmark(
        env.server.store.as_ref(),
        20_000,
        0,
        |_, _| {},
    )
    .await
    .unwrap();
    let total = 20_000u64;
    let ca = env.server.ca_pem_path.to_str().unwrap().to_owned();
    let out = env
        .cli(
            &[
                "sign-in",
                "--server",
                &env.server.url(),
                "--email",
                &seeded.email,
                "--ca-file",
                &ca,
                "--no-sync",
            ],
            &format!("{}\n", seeded.password),
        )
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let status = json(&env.cli(&["status", "--json"], "").await);
    assert_eq!(status["matter_count"], 0, "signed in, nothing synced yet");

    // The first sync, killed (SIGKILL) once a batch is stored.
    let data_dir = env.data_dir();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_strongroom-cli"))
        .args([
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--keyring-service",
            &env.service,
            "sync",
            "--batch-changes",
            "500",
            "--progress-json",
        ])
        .env_remove("STRONGROOM_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let stored = loop {
        let line = tokio::time::timeout(std::time::Duration::from_secs(120), lines.next_line())
            .await
            .expect("progress within two minutes")
            .unwrap()
            .expect("a progress line before the sync ends");
        let Ok(p) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        assert_eq!(p["total"], total, "the service said how many wait");
        let done = p["done"].as_u64().unwrap();
        if done > 0 {
            break done;
        }
    };
    child.start_kill().unwrap();
    let killed = child.wait().await.unwrap();
    assert!(!killed.success(), "killed part-way");
    assert!(stored < total, "killed part-way: {stored} of {total}");

    // Resumed: it completes, fetching only what was not stored yet.
    let out = env.cli(&["sync", "--json"], "").await;
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json(&out);
    let fetched = report["applied"].as_u64().unwrap();
    assert!(
        fetched <= total - stored,
        "the resumed sync fetched {fetched} changes; {stored} of {total} were stored already"
    );
    assert!(fetched > 0);
    // Nothing lost, nothing doubled.
    let status = json(&env.cli(&["status", "--json"], "").await);
    assert_eq!(status["matter_count"], total);
    let matters = json(&env.cli(&["matters", "--json"], "").await);
    let ids: std::collections::HashSet<&str> = matters
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len() as u64, total);
}
