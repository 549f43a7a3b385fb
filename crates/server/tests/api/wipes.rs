//! A revoked session's token is told so (`session_revoked`), and only that token confirms
//! its device's wipe (`POST /v1/sessions/wiped`), recorded once after the revocation; an
//! expired or unknown token is only `unauthenticated`. Run on both stores from
//! `on_both_stores!` in `api.rs`.

use super::*;

/// Signs in the demo member as `device`; answers the token and the session's public id.
async fn device(f: &Fixture, device: &str) -> (String, String) {
    let resp = f
        .http
        .post(f.url("/v1/auth/sign-in"))
        .json(&json!({
            "email": seed::DEMO_EMAIL,
            "password": seed::DEMO_PASSWORD,
            "device_name": device,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let token = resp.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = f
        .http
        .get(f.url("/v1/sessions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let list: Value = resp.json().await.unwrap();
    let id = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (token, id)
}

impl Fixture {
    /// `POST /v1/sessions/wiped` with `token` (none when empty): status and problem code.
    async fn confirm_wiped(&self, token: &str) -> (u16, String) {
        let mut req = self.http.post(self.url("/v1/sessions/wiped"));
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        problem_code(req.send().await.unwrap()).await
    }

    /// The status and problem code of a pull with `token`.
    async fn pull_code(&self, token: &str) -> (u16, String) {
        problem_code(self.changes(token, "").await).await
    }

    /// The audit entries of `kind`, as (kind, details), in order.
    async fn audited(&self, kinds: &[AuditKind]) -> Vec<(AuditKind, Value)> {
        audit_trail(self)
            .await
            .into_iter()
            .filter_map(|(k, d)| k.filter(|k| kinds.contains(k)).map(|k| (k, d)))
            .collect()
    }
}

const REVOKED: (u16, &str) = (401, "session_revoked");
const UNAUTHENTICATED: (u16, &str) = (401, "unauthenticated");

fn answer(status: u16, code: &str) -> (u16, String) {
    (status, code.to_owned())
}

/// A device revoked from another: every route answers its token `session_revoked`; the
/// live session cannot confirm a wipe, the revoked one can, once, and the log reads
/// `session_revoked` then `device_wiped`.
pub(crate) async fn a_revoked_session_is_told_so_and_confirms_its_wipe_once(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (laptop, _) = device(&f, "laptop").await;
    let (phone, phone_id) = device(&f, "phone").await;

    // Live: nothing to confirm. No token or a stranger's: no session.
    assert_eq!(f.confirm_wiped(&phone).await, answer(409, "conflict"));
    let (s, c) = UNAUTHENTICATED;
    assert_eq!(f.confirm_wiped("garbage").await, answer(s, c));
    assert_eq!(f.confirm_wiped("").await, answer(s, c));
    assert_eq!(f.pull_code("garbage").await, answer(s, c));

    let resp = f
        .http
        .delete(f.url(&format!("/v1/sessions/{phone_id}")))
        .bearer_auth(&laptop)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);

    let (s, c) = REVOKED;
    assert_eq!(f.pull_code(&phone).await, answer(s, c));
    for (method, path) in [
        (reqwest::Method::GET, "/v1/sessions"),
        (reqwest::Method::GET, "/v1/records/matter"),
        (reqwest::Method::POST, "/v1/sync/push"),
        (reqwest::Method::POST, "/v1/auth/sign-out"),
    ] {
        let resp = f.call(method.clone(), path, &phone, Some(json!({}))).await;
        assert_eq!(problem_code(resp).await, answer(s, c), "{method} {path}");
    }
    assert_eq!(
        f.pull_code(&laptop).await.0,
        200,
        "the other device goes on"
    );
    assert!(
        f.audited(&[AuditKind::DeviceWiped]).await.is_empty(),
        "nothing confirmed yet"
    );

    assert_eq!(f.confirm_wiped(&phone).await.0, 204);
    assert_eq!(
        f.confirm_wiped(&phone).await.0,
        204,
        "again: the same answer"
    );
    // Still revoked: the confirmation opens nothing.
    assert_eq!(f.pull_code(&phone).await, answer(s, c));
    assert_eq!(f.confirm_wiped(&laptop).await, answer(409, "conflict"));

    let trail = f
        .audited(&[AuditKind::SessionRevoked, AuditKind::DeviceWiped])
        .await;
    assert_eq!(trail.len(), 2, "{trail:#?}");
    assert_eq!(trail[0].0, AuditKind::SessionRevoked);
    assert_eq!(trail[0].1["session_id"], json!(phone_id));
    assert_eq!(
        trail[1],
        (
            AuditKind::DeviceWiped,
            json!({"session_id": phone_id, "device_name": "phone", "ip": "127.0.0.1"})
        )
    );
    let demo = f
        .server
        .store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap();
    let entries = f.server.store.audit_entries(None, 0, 1000).await.unwrap();
    let wiped = entries
        .iter()
        .find(|e| e.kind() == Some(AuditKind::DeviceWiped))
        .unwrap();
    assert_eq!(wiped.actor, Some(Actor::User(demo.id).stored()));
    assert_eq!(wiped.practice_id, Some(demo.practice_id.0.to_string()));
    let stored = serde_json::to_string(&entries).unwrap();
    for token in [&laptop, &phone] {
        assert!(!stored.contains(token.as_str()));
        assert!(!stored.contains(&auth::token_hash(token)));
    }
    assert_eq!(
        f.server.store.verify_audit().await.unwrap(),
        Verdict::Intact {
            entries: entries.len() as u64
        }
    );
    f.server.stop().await;
}

/// An expired or idle session is only `unauthenticated`, and confirms nothing; a revoked
/// session that has expired since is still told it was revoked.
pub(crate) async fn an_expired_session_is_not_told_revoked_and_confirms_nothing(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (token, _) = device(&f, "laptop").await;
    f.raw_sql("UPDATE sessions SET expires_at = 1000, created_at = 900, last_seen_at = 950")
        .await
        .unwrap();
    let (s, c) = UNAUTHENTICATED;
    assert_eq!(f.pull_code(&token).await, answer(s, c));
    assert_eq!(f.confirm_wiped(&token).await, answer(s, c));
    assert!(f.audited(&[AuditKind::DeviceWiped]).await.is_empty());

    let (other, other_id) = device(&f, "phone").await;
    let (third, _) = device(&f, "desk").await;
    let resp = f
        .http
        .delete(f.url(&format!("/v1/sessions/{other_id}")))
        .bearer_auth(&third)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    f.raw_sql("UPDATE sessions SET last_seen_at = 1000 WHERE revoked <> FALSE")
        .await
        .unwrap();
    let (s, c) = REVOKED;
    assert_eq!(f.pull_code(&other).await, answer(s, c));
    assert_eq!(f.confirm_wiped(&other).await.0, 204);
    f.server.stop().await;
}

/// Disabling a member revokes their sessions: their device is told so and confirms its
/// wipe after the `member_disabled` entry. Signing out revokes too.
pub(crate) async fn a_disabled_members_device_is_told_revoked(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let member = f
        .member(&admin, "leaving@harbourvine.example", Role::Lawyer)
        .await;
    assert_eq!(f.pull_code(&member.token).await.0, 200);
    let (status, body) = f
        .request(
            Some(&admin.token),
            reqwest::Method::PATCH,
            &format!("/v1/members/{}", member.id),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (s, c) = REVOKED;
    assert_eq!(f.pull_code(&member.token).await, answer(s, c));
    assert_eq!(f.confirm_wiped(&member.token).await.0, 204);
    let trail = f
        .audited(&[AuditKind::MemberDisabled, AuditKind::DeviceWiped])
        .await;
    let kinds: Vec<_> = trail.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        kinds,
        [AuditKind::MemberDisabled, AuditKind::DeviceWiped],
        "{trail:#?}"
    );

    let (token, _) = device(&f, "kiosk").await;
    let resp = f
        .call(reqwest::Method::POST, "/v1/auth/sign-out", &token, None)
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(f.pull_code(&token).await, answer(s, c));
    f.server.stop().await;
}

/// `strongroom-server pin --cert FILE` prints each certificate's public-key pin, the
/// leaf's first, as the library computes them; a file with no certificate is an error.
#[tokio::test]
async fn the_pin_command_prints_each_certificates_public_key_pin() {
    let dir = tempfile::tempdir().unwrap();
    let paths = strongroom_server::tls::TlsPaths::in_dir(dir.path());
    strongroom_server::tls::ensure_dev_certificate(&paths).unwrap();
    let run = |file: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_strongroom-server"))
            .args(["pin", "--cert"])
            .arg(file)
            .output()
            .unwrap()
    };
    let out = run(&paths.server_chain);
    assert!(out.status.success(), "{out:?}");
    let printed: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let chain = std::fs::read_to_string(&paths.server_chain).unwrap();
    assert_eq!(printed, strongroom_server::tls::spki_pins(&chain).unwrap());
    assert_eq!(printed.len(), 2, "the leaf and the CA: {printed:?}");
    assert!(
        printed
            .iter()
            .all(|p| p.starts_with("sha256/") && p.len() == 51)
    );
    assert_ne!(printed[0], printed[1]);

    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificate here\n").unwrap();
    let out = run(&empty);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no certificate found"),
        "{out:?}"
    );
}
