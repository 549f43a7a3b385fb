//! Scale-out: two instances of the service on one PostgreSQL database behave as one
//! service to a client that alternates between them, because neither keeps state of its
//! own (sessions, back-off, sequence numbers and the audit chain are all in the database).

use reqwest::Method;
use serde_json::{Value, json};
use strongroom_protocol::{Change, ChangeRecord, ChangesPage, FileNote, Role};
use strongroom_server::{ServeOptions, StoreConfig, seed};
use uuid::Uuid;

use super::{Backend, Fixture, client_trusting, sample_matter};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_database_are_one_service() {
    let a = Fixture::new(Backend::Postgres).await;
    let url = a.pg.as_ref().unwrap().url.clone();
    // The second instance: its own data directory and certificate, the same database and
    // the same sealing key for second factors (configuration, like the database URL).
    let b_dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        a._dir.path().join(strongroom_server::mfa::TOTP_KEY_FILE),
        b_dir.path().join(strongroom_server::mfa::TOTP_KEY_FILE),
    )
    .unwrap();
    let b = strongroom_server::start_with_store(
        ServeOptions {
            data_dir: b_dir.path().to_owned(),
            listen: "127.0.0.1:0".parse().unwrap(),
            seed_demo: true, // finds the demo practice there already: a no-op
        },
        StoreConfig::Postgres { url },
    )
    .await
    .unwrap();
    let mut cas = std::fs::read(&a.server.ca_pem_path).unwrap();
    cas.extend(std::fs::read(&b.ca_pem_path).unwrap());
    let http = client_trusting(&cas, None);
    let bases = [a.server.url(), b.url()];
    let at = |i: usize, path: &str| format!("{}{}", bases[i % 2], path.trim_start_matches('/'));
    let call =
        |i: usize, token: Option<String>, method: Method, path: &str, body: Option<Value>| {
            let mut req = http.request(method, at(i, path));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            if let Some(b) = body {
                req = req.json(&b);
            }
            async move {
                let resp = req.send().await.unwrap();
                let status = resp.status().as_u16();
                let etag = resp
                    .headers()
                    .get("etag")
                    .map(|v| v.to_str().unwrap().to_owned());
                (status, etag, resp.text().await.unwrap())
            }
        };
    let sign_in = |i: usize, email: &str, password: &str| {
        call(
            i,
            None,
            Method::POST,
            "/v1/auth/sign-in",
            Some(json!({"email": email, "password": password, "device_name": "alternating"})),
        )
    };

    // A session made on one instance works on the other.
    let (status, _, body) = sign_in(0, seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let token: String = serde_json::from_str::<Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let t = || Some(token.clone());
    for i in 0..4 {
        let (status, _, body) = call(i, t(), Method::GET, "/v1/sync/changes", None).await;
        assert_eq!(status, 200, "instance {i}: {body}");
        let page: ChangesPage = serde_json::from_str(&body).unwrap();
        assert_eq!(page.changes.len(), seed::demo_change_count());
    }

    // A record written through one is read, and versioned, through the other.
    let matter = sample_matter("SCALE-1");
    let path = format!("/v1/records/matter/{}", matter.id);
    let (status, tag, _) = call(
        1,
        t(),
        Method::PUT,
        &path,
        Some(serde_json::to_value(&matter).unwrap()),
    )
    .await;
    assert_eq!((status, tag.as_deref()), (201, Some("\"1\"")));
    let (status, tag, body) = call(0, t(), Method::GET, &path, None).await;
    assert_eq!((status, tag.as_deref()), (200, Some("\"1\"")));
    assert_eq!(
        serde_json::from_str::<Change>(&body).unwrap().record,
        ChangeRecord::Matter {
            matter: matter.clone()
        }
    );

    // Concurrent writers on both instances: one gap-free sequence, every write once.
    let before: i64 = serde_json::from_str::<ChangesPage>(
        &call(
            0,
            t(),
            Method::GET,
            "/v1/sync/changes?after=0&limit=5000",
            None,
        )
        .await
        .2,
    )
    .unwrap()
    .cursor;
    let mut tasks = Vec::new();
    let mut ids = Vec::new();
    for i in 0..40usize {
        let note = FileNote {
            id: Uuid::new_v4(),
            matter_id: matter.id,
            author: "Priya Raman".into(),
            written_at: "2026-11-27T10:00:00Z".into(),
            subject: format!("Note {i}"),
            body: "Written while the other instance writes too.".into(),
        };
        ids.push(note.id);
        let req = http
            .put(at(i, &format!("/v1/records/file_note/{}", note.id)))
            .bearer_auth(&token)
            .json(&note);
        tasks.push(tokio::spawn(async move {
            req.send().await.unwrap().status().as_u16()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 201);
    }
    let (_, _, body) = call(
        1,
        t(),
        Method::GET,
        &format!("/v1/sync/changes?after={before}&limit=5000"),
        None,
    )
    .await;
    let page: ChangesPage = serde_json::from_str(&body).unwrap();
    let seqs: Vec<i64> = page.changes.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, (before + 1..=before + 40).collect::<Vec<_>>());
    let mut got: Vec<Uuid> = page.changes.iter().map(|c| c.record.key().1).collect();
    got.sort();
    ids.sort();
    assert_eq!(got, ids);

    // Back-off is shared: failures on alternating instances add up.
    let store = a.server.store.clone();
    let practice = store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .practice_id;
    let hash = strongroom_server::auth::hash_password("Tidewater-Ledger-2291-fox").unwrap();
    store
        .create_user(
            practice,
            "lawyer@harbourvine.example",
            "Lawyer",
            &hash,
            Role::Lawyer,
        )
        .await
        .unwrap();
    let free = strongroom_server::api::FREE_FAILURES as usize;
    for i in 0..free {
        let (status, _, _) = sign_in(i, "lawyer@harbourvine.example", "wrong-password-123").await;
        assert_eq!(status, 401, "failure {i}");
    }
    for i in 0..2 {
        let (status, _, _) = sign_in(i, "lawyer@harbourvine.example", "wrong-password-123").await;
        assert_eq!(status, 429, "instance {i} knows the other's failures");
    }

    // Signing out on one instance ends the session on both at once.
    let (status, _, body) = sign_in(1, seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let second: String = serde_json::from_str::<Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, _) = call(
        1,
        Some(second.clone()),
        Method::POST,
        "/v1/auth/sign-out",
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _, _) = call(0, Some(second), Method::GET, "/v1/sync/changes", None).await;
    assert_eq!(status, 401);

    // A write through one instance pokes a live stream held by the other (PostgreSQL's
    // LISTEN/NOTIFY carries it between them).
    for (held_by, written_through) in [(1usize, 0usize), (0, 1)] {
        let mut events =
            super::live::EventStream::open(&http, at(held_by, "/v1/sync/events"), &token).await;
        assert_eq!(
            events.next(std::time::Duration::from_secs(5)).await,
            super::live::Next::Event("changed".into())
        );
        let m = super::sample_matter(&format!("POKE-{held_by}"));
        let (status, _, body) = call(
            written_through,
            t(),
            Method::PUT,
            &format!("/v1/records/matter/{}", m.id),
            Some(serde_json::to_value(&m).unwrap()),
        )
        .await;
        assert!(status < 300, "{status}: {body}");
        assert_eq!(
            events.next(std::time::Duration::from_secs(5)).await,
            super::live::Next::Event("changed".into()),
            "a write on instance {written_through} reaches a stream on instance {held_by}"
        );
    }

    // Both instances appended to one audit chain, and it holds.
    for i in 0..2 {
        let (status, _, body) = call(i, t(), Method::GET, "/v1/audit/verify", None).await;
        assert_eq!(status, 200);
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["status"],
            "intact",
            "{body}"
        );
    }
    b.stop().await;
    a.server.stop().await;
}
