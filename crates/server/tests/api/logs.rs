//! The server's logs never hold a password, a session token or record content: the built
//! binary, logging JSON at trace level, is driven over TLS through sign-in, a refused
//! sign-in, the change feed, the sessions list and sign-out, over HTTP/1.1 and HTTP/2, and
//! everything it wrote is searched. Also: settings it cannot use stop it with the key named
//! and no database password shown.

use std::process::Stdio;
use std::sync::Mutex;

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use super::*;

/// Everything a child process writes to one stream, as it comes.
fn capture(
    stream: impl AsyncRead + Unpin + Send + 'static,
    into: Arc<Mutex<String>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut text = into.lock().unwrap();
            text.push_str(&line);
            text.push('\n');
        }
    })
}

/// A client of the server whose CA is `ca_pem`, speaking HTTP/2 when `h2`.
fn client(ca_pem: &[u8], h2: bool) -> reqwest::Client {
    if !h2 {
        return client_trusting(ca_pem, None);
    }
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(c.unwrap()).unwrap();
    }
    let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    reqwest::Client::builder()
        .use_preconfigured_tls(cfg)
        .build()
        .unwrap()
}

/// The forms a session token could be written in: itself, its raw bytes in hex and in
/// standard base64 (padded or not), and the hash the store keeps.
fn token_forms(token: &str) -> Vec<String> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .unwrap();
    vec![
        token.to_owned(),
        hex::encode(&raw),
        base64::engine::general_purpose::STANDARD.encode(&raw),
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(&raw),
        auth::token_hash(token),
    ]
}

#[tokio::test]
async fn the_servers_logs_hold_no_password_token_or_record_content() {
    let dir = tempfile::tempdir().unwrap();
    // The demo practice, seeded past the binary (whose --seed-demo prints the demo password
    // on purpose, for a developer: that line is not a log and not this test's subject).
    {
        let store = strongroom_server::open_store(dir.path(), StoreConfig::Sqlite)
            .await
            .unwrap();
        seed::seed_demo(store.as_ref()).await.unwrap().unwrap();
    }
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = {:?}\n[log]\nformat = \"json\"\nlevel = \"trace\"\n",
            dir.path().display().to_string()
        ),
    )
    .unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_strongroom-server"))
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let out = Arc::new(Mutex::new(String::new()));
    let readers = [
        capture(child.stdout.take().unwrap(), out.clone()),
        capture(child.stderr.take().unwrap(), out.clone()),
    ];
    let started = std::time::Instant::now();
    let url = loop {
        let found = out.lock().unwrap().lines().find_map(|l| {
            l.strip_prefix("Strongroom server listening on ")
                .map(str::to_owned)
        });
        if let Some(url) = found {
            break url;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the server ended ({status}):\n{}", out.lock().unwrap());
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server did not start:\n{}",
            out.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let ca = std::fs::read(dir.path().join("ca.pem")).unwrap();

    let wrong_pw = "Wrong-Pw-for-the-log-test-7f3a9c";
    let stranger = "stranger-for-the-log-test@example.test";
    let stranger_pw = "Stranger-Pw-for-the-log-test-51d2e8";
    let mut secrets: Vec<String> = vec![
        seed::DEMO_PASSWORD.into(),
        wrong_pw.into(),
        stranger_pw.into(),
        stranger.into(),
    ];
    let mut content = Vec::new();
    for h2 in [false, true] {
        let http = client(&ca, h2);
        let sign_in = |email: &'static str, password: &'static str| {
            http.post(format!("{url}v1/auth/sign-in"))
                .json(&json!({
                    "email": email,
                    "password": password,
                    "device_name": "log-test device",
                    "platform": "linux x86_64",
                    "app_version": "0.1.0",
                }))
                .send()
        };
        let resp = sign_in(seed::DEMO_EMAIL, seed::DEMO_PASSWORD)
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let want = if h2 {
            reqwest::Version::HTTP_2
        } else {
            reqwest::Version::HTTP_11
        };
        assert_eq!(resp.version(), want);
        let token = resp.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        secrets.extend(token_forms(&token));
        assert_eq!(
            sign_in(seed::DEMO_EMAIL, wrong_pw).await.unwrap().status(),
            401
        );
        assert_eq!(sign_in(stranger, stranger_pw).await.unwrap().status(), 401);

        let page: ChangesPage = http
            .get(format!("{url}v1/sync/changes?after=0&limit=100"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page.changes.len(), seed::demo_change_count());
        for change in page.changes {
            match change.record {
                ChangeRecord::Matter { matter } => {
                    content.extend([matter.title, matter.client_name]);
                }
                ChangeRecord::Contact { contact } => content.push(contact.name),
                ChangeRecord::FileNote { file_note } => {
                    content.extend([file_note.subject, file_note.body]);
                }
                _ => {}
            }
        }
        let sessions = http
            .get(format!("{url}v1/sessions"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(sessions.status(), 200);
        let resp = http
            .post(format!("{url}v1/auth/sign-out"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 204);
        // The revoked token, once more: refused, and not logged either.
        let resp = http
            .get(format!("{url}v1/sessions"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
    }
    child.kill().await.unwrap();
    for r in readers {
        r.await.unwrap();
    }
    let log = out.lock().unwrap().clone();

    // The log is there, it is JSON, at trace level, and it recorded what happened: an empty
    // or silenced log cannot pass.
    let events: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let messages: Vec<&str> = events
        .iter()
        .filter_map(|e| e["fields"]["message"].as_str())
        .collect();
    let count = |m: &str| messages.iter().filter(|x| **x == m).count();
    assert_eq!(count("signed in"), 2, "{log}");
    assert_eq!(count("sign-in failed"), 2, "{log}");
    assert_eq!(count("sign-in failed: unknown account"), 2, "{log}");
    assert!(
        events.iter().any(|e| e["level"] == "TRACE"),
        "nothing at trace level:\n{log}"
    );
    assert!(events.len() > 20, "{log}");

    // And none of what it must never hold.
    let mut never: Vec<String> = content.clone();
    never.extend(
        seed::demo_matters()
            .into_iter()
            .flat_map(|m| [m.title, m.client_name]),
    );
    assert!(never.len() >= 16, "{never:?}");
    never.extend(secrets);
    let leaks: Vec<&String> = never.iter().filter(|s| log.contains(s.as_str())).collect();
    assert!(
        leaks.is_empty(),
        "the log holds {leaks:?} ({} lines)",
        log.lines().count()
    );
}

/// A key the server does not know, or a value it cannot use, stops `serve` with status 2
/// and the key named; a database URL's password never shows, not even when the database
/// cannot be reached.
#[tokio::test]
async fn settings_the_server_cannot_use_stop_it_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().display().to_string();
    let config = dir.path().join("server.toml");
    /// A config file, the environment, the exit status, and what the output must hold.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], i32, &'a [&'a str]);
    let cases: &[Case] = &[
        (
            "lisen = \"127.0.0.1:0\"\n",
            &[],
            2,
            &["`lisen`", "unknown key", "server.toml"],
        ),
        (
            "[smtp]\nhost = \"smtp.example.com\"\nfrom = \"a@b.example\"\n",
            &[("STRONGROOM_SMTP_PORT", "seventy")],
            2,
            &["`smtp.port`", "STRONGROOM_SMTP_PORT"],
        ),
        (
            "listen = \"127.0.0.1:0\"\n",
            &[(
                "STRONGROOM_DATABASE_URL",
                "postgres://sr:db-sekrit-pw@127.0.0.1:notaport/x",
            )],
            2,
            &["`database_url`", "STRONGROOM_DATABASE_URL"],
        ),
        // Well formed, but nothing listens there: the server cannot start, and says where
        // it tried without the password.
        (
            "listen = \"127.0.0.1:0\"\ndatabase_url = \"postgres://sr:db-sekrit-pw@127.0.0.1:1/x\"\n",
            &[],
            1,
            &["127.0.0.1:1"],
        ),
    ];
    for (file, env, code, must) in cases {
        std::fs::write(&config, file).unwrap();
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_strongroom-server"))
            .args(["serve", "--data-dir", &data, "--log-level", "trace"])
            .arg("--config")
            .arg(&config)
            .env_clear()
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .unwrap();
        let text = [out.stdout, out.stderr].concat();
        let text = String::from_utf8_lossy(&text);
        assert_eq!(out.status.code(), Some(*code), "{file}\n{text}");
        for m in *must {
            assert!(text.contains(m), "{m:?} not in:\n{text}");
        }
        assert!(!text.contains("db-sekrit-pw"), "{text}");
    }
}
