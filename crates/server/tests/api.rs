//! The hosted service over real TLS on loopback: health, sign-in, the change feed, tenant
//! isolation and hostile input.

use std::sync::Arc;

use serde_json::{Value, json};
use strongroom_protocol::{ChangesPage, Matter, MatterStatus};
use strongroom_server::store::Store;
use strongroom_server::{RunningServer, ServeOptions, auth, seed};
use uuid::Uuid;

struct Fixture {
    server: RunningServer,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let server = strongroom_server::start(ServeOptions {
            data_dir: dir.path().to_owned(),
            listen: "127.0.0.1:0".parse().unwrap(),
            seed_demo: true,
        })
        .await
        .unwrap();
        let http = client_trusting(&std::fs::read(&server.ca_pem_path).unwrap(), None);
        Fixture {
            server,
            http,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.server.url(), path.trim_start_matches('/'))
    }

    async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.http
            .post(self.url("/v1/auth/sign-in"))
            .json(&json!({"email": email, "password": password, "device_name": "test"}))
            .send()
            .await
            .unwrap()
    }

    async fn token(&self, email: &str, password: &str) -> String {
        let resp = self.sign_in(email, password).await;
        assert_eq!(resp.status(), 200);
        resp.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn changes(&self, token: &str, query: &str) -> reqwest::Response {
        self.http
            .get(self.url(&format!("/v1/sync/changes{query}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }
}

fn client_trusting(
    ca_pem: &[u8],
    versions: Option<&[&'static rustls::SupportedProtocolVersion]>,
) -> reqwest::Client {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions.unwrap_or(rustls::DEFAULT_VERSIONS))
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(cfg)
        .build()
        .unwrap()
}

#[tokio::test]
async fn health_over_tls_1_2_and_1_3() {
    let f = Fixture::new().await;
    for versions in [
        &[&rustls::version::TLS12][..],
        &[&rustls::version::TLS13][..],
    ] {
        let http = client_trusting(
            &std::fs::read(&f.server.ca_pem_path).unwrap(),
            Some(versions),
        );
        let v: Value = http
            .get(f.url("/v1/health"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["status"], "ok");
        assert_eq!(v["protocol_version"], 1);
    }
    // Plain HTTP on the TLS port gets no answer.
    let plain = reqwest::Client::new();
    assert!(
        plain
            .get(format!("http://{}/v1/health", f.server.addr))
            .send()
            .await
            .is_err()
    );
    f.server.stop().await;
}

#[tokio::test]
async fn sign_in_and_pull_the_demo_practice() {
    let f = Fixture::new().await;
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let resp = f.changes(&token, "?after=0&limit=3").await;
    assert_eq!(resp.status(), 200);
    let page: ChangesPage = resp.json().await.unwrap();
    assert_eq!(page.changes.len(), 3);
    assert!(page.has_more);
    assert_eq!(page.cursor, page.changes[2].seq);
    let mut all = page.changes;
    let mut cursor = page.cursor;
    loop {
        let p: ChangesPage = f
            .changes(&token, &format!("?after={cursor}&limit=3"))
            .await
            .json()
            .await
            .unwrap();
        all.extend(p.changes);
        cursor = p.cursor;
        if !p.has_more {
            break;
        }
    }
    assert_eq!(all.len(), seed::demo_matters().len());
    let seqs: Vec<i64> = all.iter().map(|c| c.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    // An empty page keeps the cursor.
    let p: ChangesPage = f
        .changes(&token, &format!("?after={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((p.changes.len(), p.cursor, p.has_more), (0, cursor, false));
    f.server.stop().await;
}

#[tokio::test]
async fn wrong_password_unknown_user_and_bad_tokens_are_refused() {
    let f = Fixture::new().await;
    for (email, pw) in [
        (seed::DEMO_EMAIL, "wrong-password"),
        ("nobody@example.test", "whatever-password"),
    ] {
        let resp = f.sign_in(email, pw).await;
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "invalid_credentials");
        assert!(!body.to_string().contains(pw));
    }
    for token in ["", "garbage", &"x".repeat(5000)] {
        let resp = f.changes(token, "").await;
        assert_eq!(resp.status(), 401, "token {token:.20}");
    }
    let resp = f.http.get(f.url("/v1/sync/changes")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    f.server.stop().await;
}

#[tokio::test]
async fn another_practice_sees_nothing_of_this_one() {
    let f = Fixture::new().await;
    let store = f.server.store.clone();
    let other = store.create_practice("Other & Partners").await.unwrap();
    let hash = auth::hash_password("other-practice-password").unwrap();
    store
        .create_user(other, "lawyer@other.example", "Other Lawyer", &hash)
        .await
        .unwrap();
    let theirs = Matter {
        id: Uuid::new_v4(),
        number: "OP-1".into(),
        title: "Other practice's matter".into(),
        matter_type: "Litigation".into(),
        status: MatterStatus::Open,
        client_name: "Their Client".into(),
        responsible: "Other Lawyer".into(),
        opened_on: "2026-01-01".into(),
        closed_on: None,
        description: "Their description".into(),
        custom_fields: [("Court".to_owned(), "Federal".to_owned())].into(),
    };
    store.put_matter(other, &theirs).await.unwrap();

    let their_token = f
        .token("lawyer@other.example", "other-practice-password")
        .await;
    let page: ChangesPage = f
        .changes(&their_token, "?after=0&limit=1000")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page.changes.len(), 1, "only their own matter");
    assert_eq!(
        page.changes[0].record,
        strongroom_protocol::ChangeRecord::Matter {
            matter: theirs.clone()
        }
    );
    let body = serde_json::to_string(&page).unwrap();
    for demo in seed::demo_matters() {
        assert!(!body.contains(&demo.title), "leaked {}", demo.title);
    }

    let demo_token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let page: ChangesPage = f
        .changes(&demo_token, "?after=0&limit=1000")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page.changes.len(), seed::demo_matters().len());
    assert!(
        !serde_json::to_string(&page)
            .unwrap()
            .contains("Other practice's matter")
    );
    f.server.stop().await;
}

#[tokio::test]
async fn tokens_are_stored_only_as_hashes() {
    let f = Fixture::new().await;
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let dir = f._dir.path().to_owned();
    f.server.stop().await;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()));
    }
    let hash = auth::token_hash(&token);
    let db = std::fs::read(dir.join("server.db")).unwrap();
    let wal = std::fs::read(dir.join("server.db-wal")).unwrap_or_default();
    assert!(
        [db, wal]
            .iter()
            .any(|b| b.windows(hash.len()).any(|w| w == hash.as_bytes()))
    );
}

#[tokio::test]
async fn hostile_input_gets_4xx_problems_never_5xx() {
    let f = Fixture::new().await;
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"{".to_vec(),
        b"null".to_vec(),
        b"{\"email\":1}".to_vec(),
        json!({"email": "a@b", "password": "", "device_name": ""})
            .to_string()
            .into_bytes(),
        json!({"email": "no-at-sign", "password": "x", "device_name": ""})
            .to_string()
            .into_bytes(),
        json!({"email": "a@b", "password": "x".repeat(2000), "device_name": ""})
            .to_string()
            .into_bytes(),
        vec![0xff, 0xfe, 0x00],
        vec![b'a'; 200_000],
    ];
    for body in bodies {
        let resp = f
            .http
            .post(f.url("/v1/auth/sign-in"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        assert!(
            (400..500).contains(&status),
            "{status} for {:?}",
            String::from_utf8_lossy(&body[..body.len().min(40)])
        );
    }
    for q in [
        "?after=-1",
        "?after=abc",
        "?limit=0",
        "?limit=5001",
        "?limit=-5",
        "?after=99999999999999999999",
    ] {
        let resp = f.changes(&token, q).await;
        assert_eq!(resp.status(), 400, "{q}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "bad_request");
    }
    let resp = f.http.get(f.url("/v1/nope")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    // A client speaking another protocol version is told so plainly.
    let resp = f
        .http
        .get(f.url("/v1/sync/changes"))
        .bearer_auth(&token)
        .header("strongroom-protocol", "99")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["code"],
        "incompatible_protocol"
    );
    f.server.stop().await;
}

#[tokio::test]
async fn deletes_leave_tombstones_in_the_feed() {
    let f = Fixture::new().await;
    let store = f.server.store.clone();
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let page: ChangesPage = f
        .changes(&token, "?after=0&limit=1000")
        .await
        .json()
        .await
        .unwrap();
    let strongroom_protocol::ChangeRecord::Matter { matter } = &page.changes[0].record else {
        panic!("expected a matter")
    };
    let user = store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap();
    let seq = store
        .delete_matter(user.practice_id, matter.id)
        .await
        .unwrap();
    let after: ChangesPage = f
        .changes(&token, &format!("?after={}", page.cursor))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after.changes.len(), 1);
    assert_eq!(after.changes[0].seq, seq);
    assert_eq!(
        after.changes[0].record,
        strongroom_protocol::ChangeRecord::Deleted {
            record_kind: strongroom_protocol::RecordKind::Matter,
            id: matter.id
        }
    );
    assert!(
        !serde_json::to_string(&after)
            .unwrap()
            .contains(&matter.title)
    );
    f.server.stop().await;
}

#[tokio::test]
async fn the_data_directory_and_database_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new().await;
    let _ = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let dir = f._dir.path().to_owned();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    for name in ["server.db", "server.db-wal", "server-key.pem"] {
        let p = dir.join(name);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{name}");
        }
    }
    f.server.stop().await;
}

#[tokio::test]
async fn a_flood_of_sign_ins_is_turned_away_not_queued() {
    let f = Fixture::new().await;
    let mut tasks = Vec::new();
    for _ in 0..24 {
        let http = f.http.clone();
        let url = f.url("/v1/auth/sign-in");
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .json(&json!({"email": seed::DEMO_EMAIL, "password": "wrong-password-guess", "device_name": "x"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&429),
        "some must be turned away: {statuses:?}"
    );
    assert!(
        statuses.contains(&401),
        "some must be checked: {statuses:?}"
    );
    f.server.stop().await;
}
