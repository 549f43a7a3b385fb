//! The privacy dashboard's use cases against a real server: sessions with what each device
//! holds, signing out every other device (which then wipes itself, and the log shows
//! both), the audit log checked on this device, filtered and exported, reads that work
//! offline from the vault while actions do not, re-authentication, and exports of the
//! practice and of the vault checked against their manifests.

use std::os::unix::fs::PermissionsExt;

use strongroom_client::{AuditFilter, ChainCheck, Core, ErrorCode, ExportStage};
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
