//! The privacy dashboard's use cases against a real server: sessions with what each device
//! holds, signing out every other device (which then wipes itself, and the log shows
//! both), the audit log checked on this device, filtered and exported, reads that work
//! offline from the vault while actions do not, re-authentication, exports of the
//! practice and of the vault checked against their manifests, and support access and
//! connected apps as the practice manages them.

use std::os::unix::fs::PermissionsExt;

use strongroom_client::{AuditFilter, ChainCheck, Core, ErrorCode, ExportStage, IntegrationScope};
use strongroom_protocol::SupportGrantStatus;
use strongroom_server::seed;

use super::{Env, second_device};

fn verified(check: &ChainCheck) -> i64 {
    match check {
        ChainCheck::Verified { entries } => *entries,
        other => panic!("not verified: {other:?}"),
    }
}

#[tokio::test]
async fn sessions_and_the_audit_log_read_offline_and_actions_need_the_service() {
    let env = Env::new().await;
    let mut core = env.signed_in().await;
    let other_dir = tempfile::tempdir().unwrap();
    let mut laptop = second_device(&env, other_dir.path()).await;
    // Each device told the service what it holds after its first sync.
    let sessions = core.sessions().await.unwrap();
    assert!(!sessions.offline);
    assert_eq!(sessions.value.len(), 2);
    let matters = laptop.matters().unwrap().len() as u64;
    for s in &sessions.value {
        let h = s.holdings.as_ref().expect("reported after the first sync");
        assert_eq!(h.matters, matters);
        assert!(h.records > h.matters);
    }
    assert_eq!(sessions.value.iter().filter(|s| s.current).count(), 1);

    // The audit log, checked here: the two sign-ins are in it, in words.
    let log = core.audit_log(&AuditFilter::default()).await.unwrap();
    let entries = verified(&log.check);
    assert_eq!(entries as u32, log.total);
    let sign_ins: Vec<_> = log.rows.iter().filter(|r| r.kind == "sign_in").collect();
    assert!(sign_ins.len() >= 2);
    assert!(
        sign_ins[0].summary.starts_with("Signed in on "),
        "{}",
        sign_ins[0].summary
    );
    assert_eq!(sign_ins[0].actor_name.as_deref(), Some(seed::DEMO_NAME));
    assert!(
        log.rows.windows(2).all(|w| w[0].seq > w[1].seq),
        "newest first"
    );
    assert!(log.kinds.contains(&"sign_in".to_owned()));
    // Filters: by action, by person, by date.
    let only = core
        .audit_log(&AuditFilter {
            kind: Some("sign_in".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(only.rows.len(), sign_ins.len());
    let me = log
        .actors
        .iter()
        .find(|a| a.name == seed::DEMO_NAME)
        .unwrap();
    let mine = core
        .audit_log(&AuditFilter {
            actor_id: Some(me.id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        mine.rows
            .iter()
            .all(|r| r.actor_id.as_deref() == Some(me.id.as_str()))
    );
    let none = core
        .audit_log(&AuditFilter {
            to: Some("2000-01-01".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(none.rows.is_empty());
    verified(&none.check);
    // Exports of the log land in the export folder, owner-only.
    let exports = tempfile::tempdir().unwrap();
    let mut cfg_core = {
        let mut cfg = env.config();
        cfg.export_dir = Some(exports.path().to_owned());
        drop(core);
        let mut c = Core::new(cfg);
        c.start().unwrap();
        c
    };
    for format in ["csv", "json"] {
        let path = cfg_core
            .export_audit_log(&AuditFilter::default(), format)
            .await
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("sign_in"), "{format}");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{format}");
    }
    let bad = cfg_core
        .export_audit_log(&AuditFilter::default(), "xml")
        .await;
    assert_eq!(bad.unwrap_err().code(), ErrorCode::InvalidInput);
    let mut core = cfg_core;

    // Offline: the kept copies, said to be so; actions refuse and change nothing.
    let before = core.sessions().await.unwrap();
    env.server.stop().await;
    let kept = core.sessions().await.unwrap();
    assert!(kept.offline);
    assert_eq!(kept.value, before.value);
    assert_eq!(kept.fetched_at, before.fetched_at);
    let log = core.audit_log(&AuditFilter::default()).await.unwrap();
    assert!(log.offline);
    assert!(verified(&log.check) >= entries, "still checked, offline");
    let refused = core.revoke_other_sessions().await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Offline);
    // Nothing kept for a read never made online: offline, said so.
    assert_eq!(core.members().await.unwrap_err().code(), ErrorCode::Offline);
    let _ = laptop.close();
    env.forget_device(other_dir.path());
    env.cleanup_keyring();
}

#[tokio::test]
async fn signing_out_every_other_device_wipes_it_and_the_log_shows_both() {
    let env = Env::new().await;
    let mut core = env.signed_in().await;
    let other_dir = tempfile::tempdir().unwrap();
    let mut laptop = second_device(&env, other_dir.path()).await;
    assert_eq!(core.revoke_other_sessions().await.unwrap(), 1);
    // The laptop learns on its next sync, erases itself and confirms.
    let gone = laptop.sync().await.unwrap_err();
    assert_eq!(gone.code(), ErrorCode::DeviceRemoved);
    assert!(!other_dir.path().join("data/vault/vault.db").exists());
    let log = core.audit_log(&AuditFilter::default()).await.unwrap();
    verified(&log.check);
    let kinds: Vec<&str> = log.rows.iter().map(|r| r.kind.as_str()).collect();
    let revoked = kinds.iter().position(|k| *k == "session_revoked").unwrap();
    let wiped = kinds.iter().position(|k| *k == "device_wiped").unwrap();
    assert!(
        wiped < revoked,
        "the wipe follows the revocation (newest first)"
    );
    assert_eq!(core.sessions().await.unwrap().value.len(), 1);
    env.server.stop().await;
    env.cleanup_keyring();
}

#[tokio::test]
async fn reauthentication_and_exports_of_the_practice_and_the_vault() {
    let env = Env::new().await;
    let exports = tempfile::tempdir().unwrap();
    let mut core = {
        let signed = env.signed_in().await;
        drop(signed);
        let mut cfg = env.config();
        cfg.export_dir = Some(exports.path().to_owned());
        let mut c = Core::new(cfg);
        c.start().unwrap();
        c
    };
    assert_eq!(
        core.reauthenticate("not it", None)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::WrongPassword
    );
    core.reauthenticate(seed::DEMO_PASSWORD, None)
        .await
        .unwrap();

    let mut seen = Vec::new();
    let session = core.export_session().unwrap();
    let result = strongroom_client::export_practice(session, &mut |p| seen.push(p))
        .await
        .unwrap();
    assert!(result.verified);
    assert_eq!(result.bytes, std::fs::metadata(&result.path).unwrap().len());
    assert_eq!(
        std::fs::metadata(&result.path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert_eq!(result.files, 14);
    assert_eq!(result.records, seed::demo_change_count() as u64);
    let downloading: Vec<_> = seen
        .iter()
        .filter(|p| p.stage == ExportStage::Downloading)
        .collect();
    assert!(!downloading.is_empty());
    assert!(
        downloading
            .iter()
            .all(|p| p.total_bytes == Some(result.bytes))
    );
    assert_eq!(seen.last().unwrap().stage, ExportStage::Done);

    let mut vault_seen = Vec::new();
    let mine = core.export_vault(&mut |p| vault_seen.push(p)).unwrap();
    assert!(mine.verified);
    assert_eq!(
        mine.records,
        seed::demo_change_count() as u64,
        "the demo member holds it all"
    );
    assert_ne!(mine.path, result.path);
    assert_eq!(vault_seen.last().unwrap().stage, ExportStage::Done);
    env.server.stop().await;
    env.cleanup_keyring();
}

/// Makes a support staff member in the store and signs them in; answers their token.
async fn support_staff(env: &Env, email: &str) -> String {
    let password = "Lighthouse-Copper-4471-fern";
    let hash = strongroom_server::auth::hash_password(password).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    env.server
        .store
        .create_staff(email, "Sam Support", &hash, now)
        .await
        .unwrap();
    let resp = env
        .http()
        .post(format!("{}v1/support/auth/sign-in", env.server.url()))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn support_access_and_connected_apps_from_the_practice_side() {
    let env = Env::new().await;
    let mut core = env.signed_in().await;
    let practice = env
        .server
        .store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .practice_id
        .0;
    let staff = support_staff(&env, "sam@support.strongroom.example").await;
    let http = env.http();
    let base = env.server.url();
    let resp = http
        .post(format!("{base}v1/support/requests"))
        .bearer_auth(&staff)
        .json(&serde_json::json!({
            "practice_id": practice, "reason": "The client's trust ledger does not balance",
            "ticket": "SUP-4312", "scope": {"kind": "practice"}, "access": "read",
            "duration_hours": 24,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let read = |token: String| {
        let http = http.clone();
        let url = format!("{base}v1/support/practices/{practice}/records/matter");
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(read(staff.clone()).await, 403, "nothing before approval");

    // The practice sees the request and approves it (signing in just now counts as a
    // recent password confirmation).
    let grants = core.support_grants().await.unwrap();
    assert_eq!(grants.value.len(), 1);
    let g = &grants.value[0];
    assert_eq!(g.status, SupportGrantStatus::Requested);
    assert_eq!(
        (g.staff_name.as_str(), g.ticket.as_str()),
        ("Sam Support", "SUP-4312")
    );
    let id: uuid::Uuid = g.id.parse().unwrap();
    let approved = core.approve_grant(id).await.unwrap();
    assert_eq!(approved.status, SupportGrantStatus::Active);
    assert!(approved.expires_at.is_some());
    assert_eq!(approved.decided_by_name.as_deref(), Some(seed::DEMO_NAME));
    assert_eq!(
        core.approve_grant(id).await.unwrap_err().code(),
        ErrorCode::Conflict,
        "decided once"
    );
    assert_eq!(read(staff.clone()).await, 200);
    let log = core.support_access_log(Some(id)).await.unwrap();
    assert_eq!(log.value.len(), 1);
    assert!(log.value[0].allowed);
    assert!(
        log.value[0].what.starts_with("Read "),
        "{}",
        log.value[0].what
    );
    assert_eq!(log.value[0].grant_id, g.id);

    // Revoked: the very next read is refused, and the refusal is listed too.
    let revoked = core.revoke_grant(id).await.unwrap();
    assert_eq!(revoked.status, SupportGrantStatus::Revoked);
    assert_eq!(read(staff.clone()).await, 403);
    let log = core.support_access_log(None).await.unwrap();
    let allowed: Vec<bool> = log.value.iter().map(|e| e.allowed).collect();
    // Newest first: refused after the revocation, read under the grant, refused before it.
    assert_eq!(allowed, [false, true, false]);
    assert!(
        log.value[0].what.starts_with("Refused"),
        "{}",
        log.value[0].what
    );
    // The audit log, checked here, names the staff member.
    let audit = core.audit_log(&AuditFilter::default()).await.unwrap();
    verified(&audit.check);
    assert!(audit.rows.iter().any(
        |r| r.kind == "support_data_accessed" && r.actor_name.as_deref() == Some("Sam Support")
    ));

    // A connected app: its token works within its scope, is counted, and dies on revoke.
    let made = core
        .create_integration("Ledgerly", &[IntegrationScope::RecordsRead])
        .await
        .unwrap();
    assert!(made.token.starts_with("sri_"));
    let resp = http
        .get(format!("{base}v1/records/matter"))
        .bearer_auth(&made.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let apps = core.integrations().await.unwrap();
    let app = apps
        .value
        .iter()
        .find(|a| a.app_name == "Ledgerly")
        .unwrap();
    assert!(app.records_read > 0);
    assert!(app.last_used_at.is_some());
    assert_eq!(app.created_by_name, seed::DEMO_NAME);
    let after = core
        .revoke_integration(made.integration.id.parse().unwrap())
        .await
        .unwrap();
    assert!(after.revoked_at.is_some());
    let resp = http
        .get(format!("{base}v1/records/matter"))
        .bearer_auth(&made.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    env.server.stop().await;
    env.cleanup_keyring();
}

#[tokio::test]
async fn members_are_invited_changed_and_their_credentials_removed() {
    let env = Env::new().await;
    let mut core = env.signed_in().await;
    let sent = core
        .invite(
            "leaver@harbourvine.example",
            strongroom_client::Role::Lawyer,
        )
        .await
        .unwrap();
    assert!(!sent.emailed, "no mail server: the code is shown");
    let accepted = env
        .http()
        .post(format!("{}v1/invitations/accept", env.server.url()))
        .json(&serde_json::json!({
            "token": sent.token, "display_name": "Lee Ver",
            "password": "Quayside-Ledger-7391-owl", "device_name": "Lee's laptop",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    let members = core.members().await.unwrap().value;
    let lee = members
        .iter()
        .find(|m| m.display_name == "Lee Ver")
        .unwrap();
    assert_eq!(lee.session_count, 1);
    assert!(lee.last_sign_in_at.is_some());
    let id: uuid::Uuid = lee.id.parse().unwrap();
    let changed = core
        .update_member(
            id,
            strongroom_client::MemberChange {
                role: Some(strongroom_client::Role::ReadOnly),
                disabled: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(changed.role, strongroom_client::Role::ReadOnly);
    core.remove_credentials(id).await.unwrap();
    let members = core.members().await.unwrap().value;
    assert!(members.iter().all(|m| m.display_name != "Lee Ver"));
    let log = core.audit_log(&AuditFilter::default()).await.unwrap();
    verified(&log.check);
    assert!(
        log.rows
            .iter()
            .any(|r| r.summary == "Removed the credentials of Lee Ver")
    );
    env.server.stop().await;
    env.cleanup_keyring();
}
