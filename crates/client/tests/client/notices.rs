//! Breach notices and policy updates through the desktop core against a real server: an
//! incident recorded on the service (the operator's own in-process path,
//! `strongroom_server::incidents::record`) is listed to the members of the practice it
//! affects with every statutory field and when it reached them, acknowledged once, and the
//! acknowledgement shows on the service and in the administrators' table (others are
//! refused); a policy version published on the service (`strongroom_server::policies::publish`)
//! shows as not up to date with the service's diff, a stale acknowledgement keeps its own
//! code and records nothing, the current one counts; and every read is kept for offline
//! while every action needs the service.

use serde_json::json;
use strongroom_client::{ErrorCode, PolicyKind};
use strongroom_protocol::Role;
use strongroom_protocol::policies::DiffTag;
use strongroom_server::seed;
use strongroom_server::store::PracticeId;
use uuid::Uuid;

use super::Env;
use super::preferences::device_of;

const PASSWORD: &str = "Harbour-Ledger-5521-kite";
const LAWYER: &str = "lawyer@harbourvine.example";
const FIRST: &str = strongroom_server::consent::POLICY_VERSION;

/// An incident file affecting `practices`, as the operator writes one.
fn incident_file(title: &str, practices: &[Uuid]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "title": title,
        "description": "An attacker signed in to a support mailbox with a phished password \
                        and could read support requests sent to it.",
        "occurred_at": "2026-11-20T22:10:00Z",
        "detected_at": "2026-11-21T08:30:00Z",
        "data_kinds": ["names", "email addresses", "matter numbers quoted in support requests"],
        "practices": practices,
        "steps_taken": "We changed the mailbox's password and ended its sessions.",
        "recommendations": "Be wary of emails that claim to come from Strongroom support.",
        "contact": "privacy@strongroom.example, +61 2 5550 0100",
        "regulator_notified": true,
        "regulator": "Office of the Australian Information Commissioner",
        "regulator_notified_at": "2026-11-21T12:00:00Z",
        "recorded_by": "Strongroom operations"
    }))
    .unwrap()
}

/// Records an incident on the service; answers its id.
async fn record_incident(env: &Env, title: &str, practices: &[Uuid]) -> Uuid {
    let (id, recorded) = strongroom_server::incidents::record(
        env.server.store.as_ref(),
        &incident_file(title, practices),
    )
    .await
    .unwrap();
    assert!(recorded.recipients > 0);
    id
}

async fn demo_practice(env: &Env) -> PracticeId {
    env.server
        .store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .practice_id
}

/// A lawyer in the demo practice, signed in on a device of their own under `dir`.
async fn lawyer_device(env: &Env, dir: &std::path::Path) -> strongroom_client::Core {
    let practice = demo_practice(env).await;
    let hash = strongroom_server::auth::hash_password(PASSWORD).unwrap();
    env.server
        .store
        .create_user(practice, LAWYER, "Lee Lawyer", &hash, Role::Lawyer)
        .await
        .unwrap();
    device_of(env, dir, LAWYER, PASSWORD).await
}

async fn audited(env: &Env, kind: &str) -> usize {
    env.server
        .store
        .audit_entries(None, 0, 10_000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == kind)
        .count()
}

fn parse(t: &str) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).unwrap()
}

#[tokio::test]
async fn a_breach_notice_is_listed_with_its_fields_acknowledged_once_and_admins_see_who_has() {
    let env = Env::new().await;
    let mut admin = env.signed_in().await;
    let lawyer_dir = tempfile::tempdir().unwrap();
    let mut lawyer = lawyer_device(&env, lawyer_dir.path()).await;
    let practice = demo_practice(&env).await;
    // Nothing recorded yet: an empty list, not an error.
    let none = admin.incidents().await.unwrap();
    assert!(!none.offline && none.value.is_empty());

    let before = time::OffsetDateTime::now_utc();
    let id = record_incident(&env, "Support mailbox accessed", &[practice.0]).await;
    // Another practice's incident reaches nobody here.
    let other = env
        .server
        .store
        .create_practice("Bayside Legal")
        .await
        .unwrap();
    let hash = strongroom_server::auth::hash_password(PASSWORD).unwrap();
    env.server
        .store
        .create_user(other, "b@bayside.example", "Bay Member", &hash, Role::Admin)
        .await
        .unwrap();
    let elsewhere = record_incident(&env, "Bayside's own incident", &[other.0]).await;

    let listed = admin.incidents().await.unwrap();
    assert!(!listed.offline);
    assert_eq!(listed.value.len(), 1, "{:?}", listed.value);
    let i = &listed.value[0];
    assert_eq!(i.id, id);
    assert_eq!(i.title, "Support mailbox accessed");
    assert!(i.description.contains("phished password"));
    assert_eq!(i.occurred_at.as_deref(), Some("2026-11-20T22:10:00Z"));
    assert_eq!(i.detected_at, "2026-11-21T08:30:00Z");
    assert_eq!(
        i.data_kinds,
        [
            "names",
            "email addresses",
            "matter numbers quoted in support requests"
        ]
    );
    assert!(i.steps_taken.contains("ended its sessions"));
    assert!(i.recommendations.contains("Be wary"));
    assert_eq!(i.contact, "privacy@strongroom.example, +61 2 5550 0100");
    assert!(i.regulator.notified);
    assert_eq!(
        i.regulator.regulator.as_deref(),
        Some("Office of the Australian Information Commissioner")
    );
    assert_eq!(
        i.regulator.notified_at.as_deref(),
        Some("2026-11-21T12:00:00Z")
    );
    assert_eq!(i.recorded_by, "Strongroom operations");
    // When it was recorded, and when it reached this member: in the same transaction (the
    // notice's time is given to the second, the recording's to the millisecond).
    let recorded = parse(&i.recorded_at);
    assert!(recorded >= before.replace_nanosecond(0).unwrap());
    let delivered = parse(i.notice_created_at.as_deref().expect("delivered in-app"));
    let recorded_s = recorded.replace_nanosecond(0).unwrap();
    assert!(
        delivered >= recorded_s && delivered - recorded_s < time::Duration::minutes(1),
        "recorded {} delivered {:?}",
        i.recorded_at,
        i.notice_created_at
    );
    assert_eq!(i.acknowledged_at, None);

    // Acknowledged once: asking again answers the same time and records nothing more.
    let first = admin.acknowledge_incident(id).await.unwrap();
    let at = first.acknowledged_at.clone().expect("acknowledged");
    assert_eq!((first.id, &first.title), (id, &i.title));
    let again = admin.acknowledge_incident(id).await.unwrap();
    assert_eq!(again.acknowledged_at.as_deref(), Some(at.as_str()));
    assert_eq!(audited(&env, "incident_acknowledged").await, 1);
    assert_eq!(
        admin.incidents().await.unwrap().value[0].acknowledged_at,
        Some(at.clone())
    );
    // Another practice's incident is no one's here to acknowledge.
    let e = admin.acknowledge_incident(elsewhere).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
    let e = admin
        .incident_acknowledgements(elsewhere)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");

    // The acknowledgement shows on the service, in the administrators' table.
    let table = admin.incident_acknowledgements(id).await.unwrap();
    assert!(!table.offline);
    assert_eq!(table.value.incident_id, id);
    assert_eq!(table.value.acknowledged, 1);
    let row = |email: &str| {
        table
            .value
            .members
            .iter()
            .find(|m| m.email == email)
            .unwrap_or_else(|| panic!("{email} in {:?}", table.value.members))
            .clone()
    };
    let mine = row(seed::DEMO_EMAIL);
    assert!(mine.notified);
    assert_eq!(mine.acknowledged_at, Some(at));
    let theirs = row(LAWYER);
    assert!(theirs.notified && theirs.acknowledged_at.is_none());
    assert!(
        table
            .value
            .members
            .iter()
            .all(|m| m.email != "b@bayside.example")
    );

    // The lawyer sees the same notice and acknowledges it; the table is for admins only.
    let seen = lawyer.incidents().await.unwrap().value;
    assert_eq!(seen.iter().map(|i| i.id).collect::<Vec<_>>(), [id]);
    assert_eq!(seen[0].acknowledged_at, None, "their own acknowledgement");
    let e = lawyer.incident_acknowledgements(id).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    lawyer.acknowledge_incident(id).await.unwrap();
    let table = admin.incident_acknowledgements(id).await.unwrap().value;
    assert_eq!(table.acknowledged, 2);
    assert_eq!(audited(&env, "incident_acknowledged").await, 2);

    let _ = lawyer.close();
    env.forget_device(lawyer_dir.path());
    env.server.stop().await;
    env.cleanup_keyring();
}

#[tokio::test]
async fn a_published_policy_shows_its_diff_a_stale_acknowledgement_is_refused_and_the_current_one_counts()
 {
    let env = Env::new().await;
    let mut core = env.signed_in().await;

    // Nothing acknowledged yet: each document not up to date, its diff against nothing.
    let first = core.policies().await.unwrap();
    assert!(!first.offline);
    assert_eq!(
        first.value.iter().map(|p| p.kind).collect::<Vec<_>>(),
        PolicyKind::ALL
    );
    for p in &first.value {
        assert_eq!(p.current.version, FIRST);
        assert!(!p.up_to_date && p.acknowledged_version.is_none());
        assert_eq!(p.diff.from_version, None);
        assert!(p.diff.inserted > 0 && p.diff.deleted == 0);
    }
    let acked = core
        .acknowledge_policy(PolicyKind::Privacy, FIRST)
        .await
        .unwrap();
    assert!(acked.up_to_date && acked.diff.hunks.is_empty());
    assert_eq!(acked.acknowledged_version.as_deref(), Some(FIRST));

    // A new privacy policy is published on the service.
    let old = core
        .policy_document(PolicyKind::Privacy, FIRST)
        .await
        .unwrap();
    assert!(old.current);
    assert_eq!(
        old.text.trim_end(),
        strongroom_server::policies::SEED[0].2.trim_end()
    );
    // One line of it, changed.
    let line = old
        .text
        .lines()
        .find(|l| l.len() > 20 && !l.starts_with('#') && old.text.matches(*l).count() == 1)
        .unwrap()
        .to_owned();
    let new = old.text.replace(
        &line,
        "We now keep support requests for 90 days, then delete them.",
    );
    strongroom_server::policies::publish(
        env.server.store.as_ref(),
        PolicyKind::Privacy,
        "2026-12",
        "Support requests are kept for 90 days.",
        new.as_bytes(),
    )
    .await
    .unwrap();

    // Not up to date, with the change from the version acknowledged as the service's diff.
    let now = core.policies().await.unwrap().value;
    let privacy = now.iter().find(|p| p.kind == PolicyKind::Privacy).unwrap();
    assert_eq!(privacy.current.version, "2026-12");
    assert_eq!(
        privacy.current.summary,
        "Support requests are kept for 90 days."
    );
    assert_eq!(privacy.acknowledged_version.as_deref(), Some(FIRST));
    assert!(!privacy.up_to_date);
    assert_eq!(privacy.diff.from_version.as_deref(), Some(FIRST));
    assert_eq!(privacy.diff.to_version, "2026-12");
    assert_eq!((privacy.diff.inserted, privacy.diff.deleted), (1, 1));
    let lines: Vec<_> = privacy
        .diff
        .hunks
        .iter()
        .flat_map(|h| &h.lines)
        .filter(|l| l.tag != DiffTag::Equal)
        .map(|l| (l.tag, l.text.as_str()))
        .collect();
    assert_eq!(
        lines,
        [
            (DiffTag::Delete, line.as_str()),
            (
                DiffTag::Insert,
                "We now keep support requests for 90 days, then delete them."
            )
        ]
    );
    let terms = now.iter().find(|p| p.kind == PolicyKind::Terms).unwrap();
    assert!(!terms.up_to_date && terms.current.version == FIRST);

    // Each version's whole text, and which is current.
    let doc = core
        .policy_document(PolicyKind::Privacy, "2026-12")
        .await
        .unwrap();
    assert!(doc.current);
    assert_eq!(doc.summary.kind, PolicyKind::Privacy);
    assert_eq!(doc.text.trim_end(), new.trim_end());
    assert!(
        !core
            .policy_document(PolicyKind::Privacy, FIRST)
            .await
            .unwrap()
            .current
    );
    let e = core
        .policy_document(PolicyKind::Privacy, "1999-01")
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
    for bad in ["../../me/policies", "", "a b"] {
        let e = core
            .policy_document(PolicyKind::Terms, bad)
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{bad:?}: {e}");
    }

    // The version read before is stale now: refused with its own code, nothing recorded.
    let e = core
        .acknowledge_policy(PolicyKind::Privacy, FIRST)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PolicyVersionNotCurrent, "{e}");
    assert!(e.to_string().contains("2026-12"), "{e}");
    let e = core
        .acknowledge_policy(PolicyKind::Terms, "2026-12")
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PolicyVersionNotCurrent, "{e}");
    let still = core.policies().await.unwrap().value;
    assert_eq!(still, now);
    assert_eq!(audited(&env, "policy_acknowledged").await, 1);

    // The current one counts: up to date, nothing left to show; once.
    let done = core
        .acknowledge_policy(PolicyKind::Privacy, "2026-12")
        .await
        .unwrap();
    assert!(done.up_to_date);
    assert_eq!(done.acknowledged_version.as_deref(), Some("2026-12"));
    assert!(done.diff.hunks.is_empty());
    core.acknowledge_policy(PolicyKind::Privacy, "2026-12")
        .await
        .unwrap();
    assert_eq!(audited(&env, "policy_acknowledged").await, 2);
    let after = core.policies().await.unwrap().value;
    assert_eq!(
        after.iter().find(|p| p.kind == PolicyKind::Privacy),
        Some(&done)
    );
    assert!(
        !after
            .iter()
            .find(|p| p.kind == PolicyKind::Terms)
            .unwrap()
            .up_to_date
    );

    env.server.stop().await;
    env.cleanup_keyring();
}

#[tokio::test]
async fn incident_and_policy_reads_answer_the_kept_copy_offline_and_actions_need_the_service() {
    let env = Env::new().await;
    let mut core = env.signed_in().await;
    let practice = demo_practice(&env).await;
    let id = record_incident(&env, "Support mailbox accessed", &[practice.0]).await;
    let later = record_incident(&env, "A second notice", &[practice.0]).await;

    let incidents = core.incidents().await.unwrap();
    assert_eq!(incidents.value.len(), 2);
    let table = core.incident_acknowledgements(id).await.unwrap();
    let policies = core.policies().await.unwrap();
    let doc = core
        .policy_document(PolicyKind::Terms, FIRST)
        .await
        .unwrap();
    // An action's answer is what is kept: the incident just acknowledged, the policy
    // just read.
    let acked = core.acknowledge_incident(id).await.unwrap();
    let privacy = core
        .acknowledge_policy(PolicyKind::Privacy, FIRST)
        .await
        .unwrap();

    env.server.stop().await;
    let kept = core.incidents().await.unwrap();
    assert!(kept.offline);
    assert_eq!(kept.fetched_at, incidents.fetched_at);
    assert_eq!(
        kept.value.iter().map(|i| i.id).collect::<Vec<_>>(),
        incidents.value.iter().map(|i| i.id).collect::<Vec<_>>()
    );
    let kept_one = kept.value.iter().find(|i| i.id == id).unwrap();
    assert_eq!(kept_one, &acked, "acknowledged, as last decided");
    let kept_other = kept.value.iter().find(|i| i.id == later).unwrap();
    assert_eq!(kept_other.acknowledged_at, None);
    // The table read before shows the member's own acknowledgement too, and only that.
    assert_eq!(table.value.acknowledged, 0);
    let kept = core.incident_acknowledgements(id).await.unwrap();
    assert!(kept.offline);
    assert_eq!(kept.fetched_at, table.fetched_at);
    assert_eq!(kept.value.acknowledged, 1);
    for (now, before) in kept.value.members.iter().zip(&table.value.members) {
        if now.email == seed::DEMO_EMAIL {
            assert_eq!(now.acknowledged_at, acked.acknowledged_at);
        } else {
            assert_eq!(now, before);
        }
    }
    assert_eq!(kept.value.members.len(), table.value.members.len());
    // Never read, so nothing kept: offline says so.
    let e = core.incident_acknowledgements(later).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Offline, "{e}");
    let kept = core.policies().await.unwrap();
    assert!(kept.offline);
    assert_eq!(kept.fetched_at, policies.fetched_at);
    assert_eq!(
        kept.value.iter().find(|p| p.kind == PolicyKind::Privacy),
        Some(&privacy)
    );
    assert_eq!(
        kept.value.iter().find(|p| p.kind == PolicyKind::Terms),
        policies.value.iter().find(|p| p.kind == PolicyKind::Terms)
    );
    assert_eq!(
        core.policy_document(PolicyKind::Terms, FIRST)
            .await
            .unwrap(),
        doc
    );
    let e = core
        .policy_document(PolicyKind::Privacy, "2026-12")
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Offline, "{e}");

    // Every action fails offline and says so; the kept copies are as they were.
    let e = core.acknowledge_incident(later).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Offline, "{e}");
    let e = core
        .acknowledge_policy(PolicyKind::Terms, FIRST)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Offline, "{e}");
    let kept = core.incidents().await.unwrap().value;
    assert_eq!(
        kept.iter().find(|i| i.id == later).unwrap().acknowledged_at,
        None
    );
    let kept = core.policies().await.unwrap().value;
    assert!(
        !kept
            .iter()
            .find(|p| p.kind == PolicyKind::Terms)
            .unwrap()
            .up_to_date
    );
    env.cleanup_keyring();
}
