//! One session per device: `GET /v1/sessions` lists the caller's own, with what each
//! device said it is and where it was seen from; `DELETE /v1/sessions/{id}` revokes one.
//! Run on both stores from `on_both_stores!` in `api.rs`.

use std::net::IpAddr;

use super::*;

/// Signs in as a device that says what it is; answers the token.
async fn sign_in_device(
    f: &Fixture,
    email: &str,
    password: &str,
    device: &str,
    platform: Option<&str>,
    version: Option<&str>,
) -> String {
    let mut body = json!({"email": email, "password": password, "device_name": device});
    if let Some(p) = platform {
        body["platform"] = json!(p);
    }
    if let Some(v) = version {
        body["app_version"] = json!(v);
    }
    let resp = f
        .http
        .post(f.url("/v1/auth/sign-in"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

impl Fixture {
    /// `GET /v1/sessions` with `token`, by `http`.
    async fn sessions_by(&self, http: &reqwest::Client, token: &str) -> reqwest::Response {
        http.get(self.url("/v1/sessions"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// The sessions list `token` sees (which must be answered).
    pub(crate) async fn sessions(&self, token: &str) -> Vec<Value> {
        let resp = self.sessions_by(&self.http, token).await;
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        body["sessions"].as_array().unwrap().clone()
    }

    /// `DELETE /v1/sessions/{id}` with `token`: the status and the body.
    pub(crate) async fn revoke(&self, token: &str, id: &str) -> (u16, Value) {
        let resp = self
            .http
            .delete(self.url(&["/v1/sessions/", id].concat()))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body = resp.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// A client like the fixture's whose connections come from `local` (another loopback
    /// address).
    fn http_from(&self, local: IpAddr) -> reqwest::Client {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(&std::fs::read(&self.server.ca_pem_path).unwrap()) {
            roots.add(c.unwrap()).unwrap();
        }
        let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        reqwest::Client::builder()
            .use_preconfigured_tls(cfg)
            .local_address(local)
            .build()
            .unwrap()
    }
}

fn by_device<'a>(list: &'a [Value], device: &str) -> &'a Value {
    list.iter()
        .find(|s| s["device_name"] == device)
        .unwrap_or_else(|| panic!("no session of {device} in {list:#?}"))
}

fn time_of(v: &Value) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(
        v.as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap_or_else(|e| panic!("{v} is not RFC 3339: {e}"))
}

/// Two sign-ins of one member are two sessions, each with what its device said it is
/// (cleaned of control characters), its times, and `current` on the one that asks; the
/// answer never holds a token or a token's hash.
pub(crate) async fn each_device_is_a_session_listed_with_its_metadata(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (email, pw) = (seed::DEMO_EMAIL, seed::DEMO_PASSWORD);
    let laptop = sign_in_device(
        &f,
        email,
        pw,
        "Priya's laptop",
        Some("linux x86_64"),
        Some("0.1.0"),
    )
    .await;
    let phone = sign_in_device(
        &f,
        email,
        pw,
        "  Phone\u{0}\n",
        Some("macos\taarch64\u{202E}"),
        Some(&"9".repeat(150)),
    )
    .await;
    // A client from before devices said what they are.
    let old = f.token(email, pw).await;

    let list = f.sessions(&laptop).await;
    assert_eq!(list.len(), 3, "{list:#?}");
    let mine = by_device(&list, "Priya's laptop");
    assert_eq!(mine["current"], true);
    assert_eq!(
        (&mine["platform"], &mine["app_version"]),
        (&json!("linux x86_64"), &json!("0.1.0"))
    );
    assert_eq!(
        (&mine["first_ip"], &mine["last_ip"]),
        (&json!("127.0.0.1"), &json!("127.0.0.1"))
    );
    let theirs = by_device(&list, "Phone");
    assert_eq!(theirs["current"], false);
    assert_eq!(theirs["platform"], "macosaarch64");
    assert_eq!(theirs["app_version"], "9".repeat(100));
    let older = by_device(&list, "test");
    assert_eq!(
        (&older["platform"], &older["app_version"]),
        (&json!(""), &json!(""))
    );
    assert_eq!(
        list.iter().filter(|s| s["current"] == true).count(),
        1,
        "{list:#?}"
    );
    // Every id is distinct, and the times are what the lifetimes say.
    let ids: std::collections::BTreeSet<&str> =
        list.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3);
    for s in &list {
        let created = time_of(&s["created_at"]);
        let seen = time_of(&s["last_seen_at"]);
        assert!(seen >= created, "{s}");
        assert_eq!(
            time_of(&s["idle_expires_at"]) - seen,
            time::Duration::seconds(strongroom_server::api::SESSION_IDLE_SECS)
        );
        assert_eq!(
            time_of(&s["expires_at"]) - created,
            time::Duration::seconds(strongroom_server::api::SESSION_ABSOLUTE_SECS)
        );
    }
    // The phone sees the same sessions, with `current` on itself.
    let from_phone = f.sessions(&phone).await;
    assert_eq!(by_device(&from_phone, "Phone")["current"], true);
    assert_eq!(by_device(&from_phone, "Priya's laptop")["current"], false);

    // No token, and no token's hash, in any answer.
    let body = serde_json::to_string(&[list, from_phone]).unwrap();
    for token in [&laptop, &phone, &old] {
        assert!(!body.contains(token.as_str()), "a token in {body}");
        assert!(!body.contains(&auth::token_hash(token)), "a hash in {body}");
    }
    assert!(!body.contains("token"), "{body}");
    // Only for a live session.
    assert_eq!(f.sessions_by(&f.http, "garbage").await.status(), 401);
    f.server.stop().await;
}

/// Revoking another device's session ends it on its very next request, leaves the caller's
/// own going, is audited, and cannot be done twice; a session may revoke itself.
pub(crate) async fn revoking_a_device_ends_its_session_at_once(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (email, pw) = (seed::DEMO_EMAIL, seed::DEMO_PASSWORD);
    let laptop = sign_in_device(&f, email, pw, "laptop", Some("linux x86_64"), None).await;
    let phone = sign_in_device(&f, email, pw, "phone", Some("android aarch64"), None).await;
    assert_eq!(f.changes(&phone, "").await.status(), 200);
    let list = f.sessions(&laptop).await;
    let phone_id = by_device(&list, "phone")["id"].as_str().unwrap().to_owned();
    let laptop_id = by_device(&list, "laptop")["id"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_eq!(f.revoke(&laptop, &phone_id).await.0, 204);
    assert_eq!(f.changes(&phone, "").await.status(), 401);
    assert_eq!(f.sessions_by(&f.http, &phone).await.status(), 401);
    assert_eq!(f.changes(&laptop, "").await.status(), 200);
    let list = f.sessions(&laptop).await;
    assert_eq!(list.len(), 1, "{list:#?}");
    assert_eq!(list[0]["id"], laptop_id);
    // Gone is gone: the same id again is not found.
    let (status, body) = f.revoke(&laptop, &phone_id).await;
    assert_eq!((status, &body["code"]), (404, &json!("not_found")));

    // Recorded, naming the session by its public id only.
    let demo = f.server.store.user_by_email(email).await.unwrap().unwrap();
    let entries = f.server.store.audit_entries(None, 0, 100).await.unwrap();
    let revoked: Vec<_> = entries
        .iter()
        .filter(|e| e.kind() == Some(AuditKind::SessionRevoked))
        .collect();
    assert_eq!(revoked.len(), 1, "{entries:#?}");
    assert_eq!(revoked[0].practice_id, Some(demo.practice_id.0.to_string()));
    assert_eq!(revoked[0].actor, Some(Actor::User(demo.id).stored()));
    assert_eq!(
        revoked[0].details_json().unwrap(),
        json!({"session_id": phone_id, "device_name": "phone", "current": false, "ip": "127.0.0.1"})
    );
    let stored = serde_json::to_string(&entries).unwrap();
    for token in [&laptop, &phone] {
        assert!(!stored.contains(token.as_str()));
        assert!(!stored.contains(&auth::token_hash(token)));
    }

    // A session may end itself this way too.
    assert_eq!(f.revoke(&laptop, &laptop_id).await.0, 204);
    assert_eq!(f.changes(&laptop, "").await.status(), 401);
    assert_eq!(
        store_verdict(&f).await,
        Verdict::Intact {
            entries: entries.len() as u64 + 1
        }
    );
    f.server.stop().await;
}

async fn store_verdict(f: &Fixture) -> Verdict {
    f.server.store.verify_audit().await.unwrap()
}

/// A member sees only their own sessions, and another member's session id (in the same
/// practice or another) is answered exactly like one that never existed: 404, and the
/// session goes on.
pub(crate) async fn a_member_cannot_see_or_revoke_another_members_sessions(backend: Backend) {
    let f = Fixture::new(backend).await;
    let store = f.server.store.clone();
    let demo = store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap();
    let hash = auth::hash_password("colleague-password-123").unwrap();
    store
        .create_user(
            demo.practice_id,
            "colleague@harbourvine.example",
            "Colleague",
            &hash,
            Role::Admin,
        )
        .await
        .unwrap();
    let other = store.create_practice("Other & Partners").await.unwrap();
    store
        .create_user(other, "lawyer@other.example", "Other", &hash, Role::Admin)
        .await
        .unwrap();

    let priya = sign_in_device(
        &f,
        seed::DEMO_EMAIL,
        seed::DEMO_PASSWORD,
        "priya-laptop",
        None,
        None,
    )
    .await;
    let colleague = sign_in_device(
        &f,
        "colleague@harbourvine.example",
        "colleague-password-123",
        "colleague-laptop",
        None,
        None,
    )
    .await;
    let stranger = sign_in_device(
        &f,
        "lawyer@other.example",
        "colleague-password-123",
        "stranger-laptop",
        None,
        None,
    )
    .await;

    let priya_id = f.sessions(&priya).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (token, own) in [
        (&colleague, "colleague-laptop"),
        (&stranger, "stranger-laptop"),
    ] {
        let list = f.sessions(token).await;
        assert_eq!(list.len(), 1, "{list:#?}");
        assert_eq!(list[0]["device_name"], own);
        assert!(!serde_json::to_string(&list).unwrap().contains("priya"));

        let (status, body) = f.revoke(token, &priya_id).await;
        let (unknown_status, unknown_body) = f.revoke(token, &Uuid::new_v4().to_string()).await;
        assert_eq!(status, 404);
        assert_eq!(
            (status, &body),
            (unknown_status, &unknown_body),
            "another's session is answered like none at all"
        );
    }
    // Ids that cannot be anyone's are not found either.
    for id in ["x", &"a".repeat(200), "%00", "..%2F..%2Fsessions"] {
        assert_eq!(f.revoke(&colleague, id).await.0, 404, "{id}");
    }
    // Without a session: not even that.
    assert_eq!(f.revoke("garbage", &priya_id).await.0, 401);
    assert_eq!(f.changes(&priya, "").await.status(), 200);
    assert_eq!(f.sessions(&priya).await.len(), 1);
    assert!(
        !f.server
            .store
            .audit_entries(None, 0, 100)
            .await
            .unwrap()
            .iter()
            .any(|e| e.kind() == Some(AuditKind::SessionRevoked))
    );
    f.server.stop().await;
}

/// Each request keeps its session's last address and last use current; the first address
/// stays the one it signed in from.
pub(crate) async fn a_sessions_last_ip_and_last_seen_move_with_use(backend: Backend) {
    let f = Fixture::new(backend).await;
    let token = sign_in_device(
        &f,
        seed::DEMO_EMAIL,
        seed::DEMO_PASSWORD,
        "laptop",
        None,
        None,
    )
    .await;
    let before = f.sessions(&token).await[0].clone();
    assert_eq!(before["last_ip"], "127.0.0.1");
    // Put its sign-in and last use 100 seconds back, past the store.
    f.raw_sql(
        "UPDATE sessions SET created_at = created_at - 100, last_seen_at = last_seen_at - 100",
    )
    .await
    .unwrap();

    // From another loopback address.
    let elsewhere = f.http_from("127.0.0.2".parse().unwrap());
    let resp = elsewhere
        .get(f.url("/v1/sync/changes"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // As the store has it now, read past the API (a request would move it again).
    let demo = f
        .server
        .store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let stored = f
        .server
        .store
        .live_sessions(demo.practice_id, demo.id, now, 3600)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].public_id, before["id"].as_str().unwrap());
    assert_eq!(
        (stored[0].ip.as_deref(), stored[0].last_ip.as_deref()),
        (Some("127.0.0.1"), Some("127.0.0.2"))
    );
    assert!(
        stored[0].last_seen_at - stored[0].created_at >= 100,
        "last seen moved on: {:?}",
        stored[0]
    );

    // The list, asked from there, shows it so; asked from home, shows home again.
    let resp = f.sessions_by(&elsewhere, &token).await;
    assert_eq!(resp.status(), 200);
    let there: Value = resp.json().await.unwrap();
    let there = &there["sessions"][0];
    assert_eq!(there["id"], before["id"]);
    assert_eq!(
        (&there["first_ip"], &there["last_ip"]),
        (&json!("127.0.0.1"), &json!("127.0.0.2"))
    );
    let created = time_of(&there["created_at"]);
    let seen = time_of(&there["last_seen_at"]);
    assert_eq!(
        created,
        time_of(&before["created_at"]) - time::Duration::seconds(100)
    );
    assert!(
        seen - created >= time::Duration::seconds(100),
        "last seen {seen} moved on from {created}"
    );
    assert_eq!(
        time_of(&there["idle_expires_at"]),
        seen + time::Duration::seconds(strongroom_server::api::SESSION_IDLE_SECS)
    );
    let home = f.sessions(&token).await;
    assert_eq!(
        (&home[0]["first_ip"], &home[0]["last_ip"]),
        (&json!("127.0.0.1"), &json!("127.0.0.1"))
    );
    f.server.stop().await;
}
