//! Breach notices (promise 10) against the real service on TLS, a real SMTP listener on
//! loopback (`SmtpSink`) and the operator's own command (the built binary): every enabled
//! member of each affected practice gets the essential email and the in-app notice, in
//! time, and no one else; the notice carries the statutory fields; members acknowledge it
//! (audited, once) and admins see who has. Registered in `on_both_stores!` in `api.rs`.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use strongroom_protocol::Role;
use strongroom_protocol::incidents::{IncidentAcknowledgements, MemberIncident};
use strongroom_protocol::notifications::Category;
use strongroom_server::outbox::OutboxSettings;
use strongroom_server::store::{PracticeId, UserId};
use strongroom_server::{ServiceSettings, seed};
use uuid::Uuid;

use super::access::{PASSWORD, Who};
use super::mail::{SmtpSink, decoded_body};
use super::notifications::{Mail, with_mail};
use super::{Backend, Fixture};

/// The longest a breach notice may take from recording to delivery.
const DEADLINE: Duration = Duration::from_secs(60);

const TITLE: &str = "Support mailbox accessed";

/// An incident file affecting `practices`.
fn incident_file(practices: &[Uuid]) -> Value {
    json!({
        "title": TITLE,
        "description": "An attacker signed in to a support mailbox with a phished password \
                        and could read support requests sent to it.",
        "occurred_at": "2026-11-20T22:10:00Z",
        "detected_at": "2026-11-21T08:30:00Z",
        "data_kinds": ["names", "email addresses", "matter numbers quoted in support requests"],
        "practices": practices,
        "steps_taken": "We changed the mailbox's password, ended its sessions and turned on a \
                        second factor for every support mailbox.",
        "recommendations": "Be wary of emails that claim to come from Strongroom support and \
                            ask for passwords or payments.",
        "contact": "privacy@strongroom.example, +61 2 5550 0100",
        "regulator_notified": true,
        "regulator": "Office of the Australian Information Commissioner",
        "regulator_notified_at": "2026-11-21T12:00:00Z",
        "recorded_by": "Strongroom operations"
    })
}

fn problem_code(body: &str) -> String {
    serde_json::from_str::<Value>(body).unwrap()["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Two practices besides the demo one, each with a member.
struct World {
    admin: Who,
    lawyer: Who,
    /// A member who turned off every choice they could.
    quiet: Who,
    disabled: UserId,
    practice_b: PracticeId,
    b_member: Who,
    practice_c: PracticeId,
    c_member: Who,
}

impl Fixture {
    async fn outsider(&self, practice: PracticeId, email: &str) -> Who {
        let hash = strongroom_server::auth::hash_password(PASSWORD).unwrap();
        let id = self
            .server
            .store
            .create_user(practice, email, "Outside Member", &hash, Role::Admin)
            .await
            .unwrap();
        Who {
            token: self.token(email, PASSWORD).await,
            id: id.0,
        }
    }

    async fn world(&self) -> World {
        let admin = self.demo_admin().await;
        let lawyer = self
            .member(&admin, "lawyer@harbourvine.example", Role::Lawyer)
            .await;
        let quiet = self
            .member(&admin, "quiet@harbourvine.example", Role::ReadOnly)
            .await;
        let gone = self
            .member(&admin, "gone@harbourvine.example", Role::Lawyer)
            .await;
        self.disable_in_demo(&gone).await;
        // Everything off that can be; the essential categories refuse.
        self.opt_out_of_everything(&quiet).await;
        let (status, body) = self
            .change_preferences(
                &quiet,
                json!({"changes": [
                    {"category": "breach_notices", "channel": "email", "enabled": false}
                ]}),
            )
            .await;
        assert_eq!(status, 400, "{body}");
        let store = &self.server.store;
        let practice_b = store.create_practice("Bayside Legal").await.unwrap();
        let practice_c = store.create_practice("Clearwater Law").await.unwrap();
        World {
            admin,
            lawyer,
            quiet,
            disabled: UserId(gone.id),
            b_member: self.outsider(practice_b, "b@bayside.example").await,
            practice_b,
            c_member: self.outsider(practice_c, "c@clearwater.example").await,
            practice_c,
        }
    }

    async fn my_incidents(&self, who: &Who) -> Vec<MemberIncident> {
        let (status, body) = self
            .request(Some(&who.token), Method::GET, "/v1/me/incidents", None)
            .await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Writes `file` into the data directory and runs `incident record --file` on it.
    async fn record_incident_cli(&self, file: &[u8]) -> super::CliRun {
        let path = self
            ._dir
            .path()
            .join(format!("incident-{}.json", Uuid::new_v4()));
        std::fs::write(&path, file).unwrap();
        self.cli(
            &["incident", "record", "--file", path.to_str().unwrap()],
            "",
        )
        .await
    }
}

/// The notices that arrived at `address` with the breach notice's subject.
fn breach_mails_to(sink: &SmtpSink, address: &str) -> Vec<String> {
    let subject = format!("Data breach notice: {TITLE}");
    sink.received
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.to.iter().any(|t| t.contains(address)))
        .filter(|r| Mail::parse(&r.data).subject() == subject)
        .map(|r| decoded_body(&r.data))
        .collect()
}

/// Recorded by the operator's command (another process) while the server runs with its
/// outbox's default pace: every enabled member of both affected practices gets the email
/// (read from the SMTP listener) and the in-app notice, the member who opted out of
/// everything too; the disabled member and the unaffected practice get nothing. The
/// email carries every statutory field; the time from recording to delivery is recorded
/// for each recipient and is under a minute; `incident status` reports it.
pub async fn a_breach_notice_reaches_every_affected_member_within_a_minute(backend: Backend) {
    let sink = SmtpSink::start().await;
    let f = Fixture::configured(
        backend,
        ServiceSettings {
            smtp: Some(sink.settings()),
            outbox: OutboxSettings::default(),
            ..Default::default()
        },
    )
    .await;
    let w = f.world().await;
    let demo = f.demo_practice().await;
    let affected = [
        (seed::DEMO_EMAIL, &w.admin),
        ("lawyer@harbourvine.example", &w.lawyer),
        ("quiet@harbourvine.example", &w.quiet),
        ("b@bayside.example", &w.b_member),
    ];
    let started = Instant::now();
    let run = f
        .record_incident_cli(&serde_json::to_vec(&incident_file(&[demo, w.practice_b.0])).unwrap())
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let id: Uuid = run.stdout.parse().unwrap();
    assert!(
        run.stderr.contains("4 member(s) notified"),
        "{}",
        run.stderr
    );

    // Every affected member's email arrives, once.
    for (address, _) in affected {
        loop {
            let got = breach_mails_to(&sink, address);
            if got.len() == 1 {
                let body = &got[0];
                for want in [
                    "phished password",
                    "When it happened: 2026-11-20T22:10:00Z",
                    "When we became aware of it: 2026-11-21T08:30:00Z",
                    "- matter numbers quoted in support requests",
                    "second factor for every support mailbox",
                    "ask for passwords or payments",
                    "We notified Office of the Australian Information Commissioner on \
                     2026-11-21T12:00:00Z",
                    "privacy@strongroom.example",
                    "Recorded by Strongroom operations",
                    "essential message about breach notices",
                ] {
                    assert!(body.contains(want), "{want:?} not in {body}");
                }
                assert!(!body.to_lowercase().contains("unsubscribe"), "{body}");
                break;
            }
            assert!(got.len() < 2, "{address} got {} notices", got.len());
            assert!(
                started.elapsed() < DEADLINE,
                "no breach notice reached {address} within a minute"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // The time to delivery is recorded once the worker has noted each as sent.
    let status = loop {
        let s = strongroom_server::incidents::status(f.server.store.as_ref(), id)
            .await
            .unwrap();
        if s.summary.delivered == s.summary.recipients {
            break s;
        }
        assert!(started.elapsed() < DEADLINE, "{:?}", s.summary);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status.summary.recipients, 4);
    assert_eq!(status.practices.len(), 2);
    let max = status.summary.max.unwrap();
    assert!(max < DEADLINE, "{max:?}");
    assert!(status.summary.median.unwrap() <= max);
    for r in &status.recipients {
        assert!(r.notified && r.notice_created_at.is_some() && r.mail_sent_at_ms.is_some());
        assert!(
            strongroom_server::incidents::time_to_delivery(&status.incident, r).unwrap() <= max
        );
    }
    eprintln!(
        "time from recording to delivery ({backend:?}): median {:?}, max {max:?}",
        status.summary.median.unwrap()
    );
    // The operator's view of the same.
    let run = f.cli(&["incident", "status", &id.to_string()], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("recipients: 4, delivered: 4, median time to delivery: "),
        "{}",
        run.stdout
    );
    for (address, _) in affected {
        assert!(run.stdout.contains(address), "{}", run.stdout);
    }

    // Nothing to the disabled member or the unaffected practice, even a while later.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(breach_mails_to(&sink, "gone@harbourvine.example").is_empty());
    assert!(breach_mails_to(&sink, "c@clearwater.example").is_empty());
    assert!(
        status
            .recipients
            .iter()
            .all(|r| r.user != w.disabled && r.practice != w.practice_c)
    );
    assert!(f.notices(&w.c_member).await.is_empty());
    assert!(f.my_incidents(&w.c_member).await.is_empty());

    // In the app: a notice for each (a desktop notification too, even for the member who
    // turned everything off), and the incident with every field and the delivery.
    for (_, who) in affected {
        let notices = f.notices(who).await;
        let n = notices
            .iter()
            .find(|n| n.category == Category::BreachNotices)
            .expect("a breach notice in the inbox");
        assert!(n.in_app && n.desktop, "{n:?}");
        assert!(n.body.contains("phished password"));
        let mine = f.my_incidents(who).await;
        assert_eq!(mine.len(), 1);
        let i = &mine[0];
        assert_eq!(i.id, id);
        assert_eq!(i.title, TITLE);
        assert_eq!(i.occurred_at.as_deref(), Some("2026-11-20T22:10:00Z"));
        assert_eq!(i.detected_at, "2026-11-21T08:30:00Z");
        assert_eq!(i.data_kinds.len(), 3);
        assert!(i.regulator.notified);
        assert_eq!(
            i.regulator.notified_at.as_deref(),
            Some("2026-11-21T12:00:00Z")
        );
        assert_eq!(i.recorded_by, "Strongroom operations");
        assert!(i.notice_created_at.is_some() && i.email_delivered_at.is_some());
        assert!(i.acknowledged_at.is_none());
        // No other practice is named.
        let text = serde_json::to_string(i).unwrap();
        assert!(!text.contains(&w.practice_b.0.to_string()) && !text.contains(&demo.to_string()));
    }
    // Each affected practice's audit chain records it.
    let audited = f.audited_kind("incident_recorded").await;
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert_eq!(audited[0]["incident"], id.to_string());
    assert_eq!(audited[0]["members_notified"], 3);
    f.server.stop().await;
}

/// A member acknowledges a notice once (again changes nothing), audited in the practice's
/// chain; an admin sees each member's delivery and acknowledgement, a member who joined
/// later too; another practice's incident and forged ids are 404, a non-admin's look at
/// the acknowledgements 403, no session 401.
pub async fn breach_notices_are_acknowledged_once_and_only_within_the_practice(backend: Backend) {
    let f = Fixture::configured(backend, with_mail(None)).await;
    let w = f.world().await;
    let demo = f.demo_practice().await;
    let store = f.server.store.clone();
    let (id, recorded) = strongroom_server::incidents::record(
        store.as_ref(),
        &serde_json::to_vec(&incident_file(&[demo])).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(recorded.recipients, 3);
    let (other_id, _) = strongroom_server::incidents::record(
        store.as_ref(),
        &serde_json::to_vec(&incident_file(&[w.practice_b.0])).unwrap(),
    )
    .await
    .unwrap();
    let late = f
        .member(&w.admin, "late@harbourvine.example", Role::Lawyer)
        .await;

    let ack = |who: &Who, id: String| {
        let token = who.token.clone();
        let f = &f;
        async move {
            f.request(
                Some(&token),
                Method::POST,
                &format!("/v1/me/incidents/{id}/acknowledge"),
                None,
            )
            .await
        }
    };
    let (status, body) = ack(&w.lawyer, id.to_string()).await;
    assert_eq!(status, 200, "{body}");
    let first: MemberIncident = serde_json::from_str(&body).unwrap();
    assert!(first.acknowledged_at.is_some());
    assert!(first.notice_created_at.is_some());
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (status, body) = ack(&w.lawyer, id.to_string()).await;
    assert_eq!(status, 200, "{body}");
    let again: MemberIncident = serde_json::from_str(&body).unwrap();
    assert_eq!(
        again.acknowledged_at, first.acknowledged_at,
        "the first time counts"
    );
    let audited = f.audited_kind("incident_acknowledged").await;
    assert_eq!(audited, vec![json!({"incident": id})]);
    // Someone who joined after it sees it, was not notified, and may acknowledge it.
    let seen = f.my_incidents(&late).await;
    assert_eq!(seen.len(), 1);
    assert!(seen[0].notice_created_at.is_none() && seen[0].email_delivered_at.is_none());
    let (status, _) = ack(&late, id.to_string()).await;
    assert_eq!(status, 200);

    // Not this practice's, forged, malformed: the same 404; nothing recorded.
    for bad in [
        other_id.to_string(),
        Uuid::new_v4().to_string(),
        "nope".into(),
    ] {
        let (status, body) = ack(&w.admin, bad.clone()).await;
        assert_eq!(status, 404, "{bad}: {body}");
        assert_eq!(problem_code(&body), "not_found");
        let (status, _) = f
            .request(
                Some(&w.admin.token),
                Method::GET,
                &format!("/v1/practice/incidents/{bad}/acknowledgements"),
                None,
            )
            .await;
        assert_eq!(status, 404, "{bad}");
    }
    assert_eq!(f.audited_kind("incident_acknowledged").await.len(), 2);
    assert!(
        f.my_incidents(&w.admin)
            .await
            .iter()
            .all(|i| i.id != other_id)
    );
    // The other practice's member reaches only theirs.
    let theirs = f.my_incidents(&w.b_member).await;
    assert_eq!(
        theirs.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![other_id]
    );
    let (status, _) = ack(&w.b_member, id.to_string()).await;
    assert_eq!(status, 404);

    // The admin's view: every member, who was notified, who acknowledged.
    let path = format!("/v1/practice/incidents/{id}/acknowledgements");
    let (status, body) = f
        .request(Some(&w.admin.token), Method::GET, &path, None)
        .await;
    assert_eq!(status, 200, "{body}");
    let acks: IncidentAcknowledgements = serde_json::from_str(&body).unwrap();
    assert_eq!(acks.incident_id, id);
    assert_eq!(acks.acknowledged, 2);
    let row = |email: &str| {
        acks.members
            .iter()
            .find(|m| m.email == email)
            .unwrap_or_else(|| panic!("{email} not in {body}"))
    };
    assert!(row("lawyer@harbourvine.example").notified);
    assert_eq!(
        row("lawyer@harbourvine.example").acknowledged_at,
        first.acknowledged_at
    );
    assert!(!row("late@harbourvine.example").notified);
    assert!(row("late@harbourvine.example").acknowledged_at.is_some());
    assert!(row(seed::DEMO_EMAIL).notified && row(seed::DEMO_EMAIL).acknowledged_at.is_none());
    assert!(!row("gone@harbourvine.example").notified);
    assert!(
        acks.members.iter().all(|m| m.email_delivered_at.is_none()),
        "no mail server"
    );
    for who in [&w.lawyer, &w.quiet] {
        let (status, body) = f.request(Some(&who.token), Method::GET, &path, None).await;
        assert_eq!(status, 403, "{body}");
    }
    for (method, p) in [
        (Method::GET, "/v1/me/incidents".to_owned()),
        (Method::POST, format!("/v1/me/incidents/{id}/acknowledge")),
        (Method::GET, path.clone()),
    ] {
        let (status, _) = f.request(None, method, &p, None).await;
        assert_eq!(status, 401, "{p}");
    }
    let _ = w.c_member;
    let _ = w.practice_c;
    f.server.stop().await;
}

/// The operator's command refuses a malformed incident file with a message naming what is
/// wrong, exit code 1, and writes nothing: no incident, no mail, no notice.
pub async fn malformed_incident_files_are_refused_and_write_nothing(backend: Backend) {
    let f = Fixture::configured(backend, with_mail(None)).await;
    let admin = f.demo_admin().await;
    let demo = f.demo_practice().await;
    let good = incident_file(&[demo]);
    let with = |field: &str, value: Value| {
        let mut v = good.clone();
        v[field] = value;
        serde_json::to_vec(&v).unwrap()
    };
    let without = |field: &str| {
        let mut v = good.clone();
        v.as_object_mut().unwrap().remove(field);
        serde_json::to_vec(&v).unwrap()
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"".to_vec(), "the incident file is empty"),
        (
            b"{not json".to_vec(),
            "the incident file is not a valid incident",
        ),
        (vec![0xff, 0xfe, 0x00], "not UTF-8"),
        (without("detected_at"), "missing field `detected_at`"),
        (with("colour", json!("red")), "unknown field `colour`"),
        (with("title", json!("")), "`title` must not be empty"),
        (
            with("detected_at", json!("last Tuesday")),
            "`detected_at` is not an RFC 3339 time",
        ),
        (
            with("detected_at", json!("2099-01-01T00:00:00Z")),
            "`detected_at` (2099-01-01T00:00:00Z) is in the future",
        ),
        (
            with("occurred_at", json!("2026-11-22T00:00:00Z")),
            "`occurred_at` (2026-11-22T00:00:00Z) is after `detected_at`",
        ),
        (
            with("data_kinds", json!([])),
            "`data_kinds` must name at least one",
        ),
        (
            with("practices", json!([])),
            "`practices` must name at least one affected practice",
        ),
        (
            with("practices", json!(["not-a-uuid"])),
            "`practices[0]` is not a practice id",
        ),
        (with("practices", json!([demo, demo])), "twice"),
        (
            with("practices", json!([demo, Uuid::nil()])),
            "`practices`: there is no practice 00000000-0000-0000-0000-000000000000",
        ),
        (
            with("regulator", Value::Null),
            "`regulator` must name the regulator",
        ),
        (
            with("steps_taken", json!("x".repeat(4001))),
            "`steps_taken` is 4001 characters long; at most 4000",
        ),
        (
            with("data_kinds", json!(1)),
            "the incident file is not a valid incident: invalid type",
        ),
    ];
    for (bytes, want) in cases {
        let run = f.record_incident_cli(&bytes).await;
        assert_eq!(run.code, 1, "{want}: {}", run.stdout);
        assert!(
            run.stderr.contains(want),
            "wanted {want:?}, got {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    let run = f
        .cli(
            &["incident", "record", "--file", "/nonexistent/incident.json"],
            "",
        )
        .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("opening the incident file"),
        "{}",
        run.stderr
    );
    let run = f
        .cli(&["incident", "status", &Uuid::new_v4().to_string()], "")
        .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("there is no incident"),
        "{}",
        run.stderr
    );
    // Nothing was written.
    assert!(f.my_incidents(&admin).await.is_empty());
    assert!(f.outbox_rows().await.is_empty());
    assert!(f.notices(&admin).await.is_empty());
    assert!(f.audited_kind("incident_recorded").await.is_empty());
    // And the good file, through the same command, is recorded.
    let run = f
        .record_incident_cli(&serde_json::to_vec(&good).unwrap())
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(f.my_incidents(&admin).await.len(), 1);
    f.server.stop().await;
}
