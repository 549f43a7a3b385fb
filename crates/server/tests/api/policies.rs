//! Policy updates (promises 11 and 12) against the real service on TLS, a real SMTP
//! listener on loopback and the operator's own command: the first versions are there from
//! the start and public; publishing a version reaches every enabled member once, by email
//! and in the app; each member sees the change since the version they acknowledged as a
//! diff, and acknowledges only the current version (audited, once). Registered in
//! `on_both_stores!` in `api.rs`.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use strongroom_protocol::Role;
use strongroom_protocol::notifications::Category;
use strongroom_protocol::policies::{
    DiffTag, MemberPolicy, PolicyDocument, PolicyKind, PolicySummary,
};
use strongroom_server::seed;

use super::access::{PASSWORD, Who};
use super::mail::{SmtpSink, decoded_body};
use super::notifications::{Mail, with_mail};
use super::{Backend, Fixture};

const FIRST: &str = "2026-11-28";
const SUBJECT: &str = "Strongroom's privacy policy has changed (version 2026-12)";

fn problem_code(body: &str) -> String {
    serde_json::from_str::<Value>(body).unwrap()["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

impl Fixture {
    async fn my_policies(&self, who: &Who) -> Vec<MemberPolicy> {
        let (status, body) = self
            .request(Some(&who.token), Method::GET, "/v1/me/policies", None)
            .await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    async fn acknowledge_policy(
        &self,
        who: &Who,
        kind: &str,
        version: &str,
    ) -> (reqwest::StatusCode, String) {
        self.request(
            Some(&who.token),
            Method::POST,
            &format!("/v1/me/policies/{kind}/acknowledge"),
            Some(json!({ "version": version })),
        )
        .await
    }

    /// Runs `policy publish` with `text` as the file.
    async fn publish_cli(&self, kind: &str, version: &str, text: &str) -> super::CliRun {
        let path = self._dir.path().join(format!("{kind}-{version}.md"));
        std::fs::write(&path, text).unwrap();
        self.cli(
            &[
                "policy",
                "publish",
                "--kind",
                kind,
                "--version",
                version,
                "--summary",
                "Section 6 now names the analytics cookie, and section 10 gives a deadline.",
                "--file",
                path.to_str().unwrap(),
            ],
            "",
        )
        .await
    }
}

fn mine(all: &[MemberPolicy], kind: PolicyKind) -> &MemberPolicy {
    all.iter().find(|p| p.kind == kind).unwrap()
}

/// Version 1 of the privacy policy and the terms is there from the start, with its real
/// text, readable without signing in; an unknown kind or version is 404; the cookie
/// catalogue and consent records name the privacy policy's current version. A member who
/// acknowledged nothing sees the whole text as inserted lines.
pub async fn the_first_policies_are_public_and_nothing_acknowledged_diffs_against_empty(
    backend: Backend,
) {
    let f = Fixture::new(backend).await;
    let (status, body) = f.request(None, Method::GET, "/v1/policies", None).await;
    assert_eq!(status, 200, "{body}");
    let current: Vec<PolicySummary> = serde_json::from_str(&body).unwrap();
    assert_eq!(
        current
            .iter()
            .map(|p| (p.kind, p.version.as_str()))
            .collect::<Vec<_>>(),
        [(PolicyKind::Privacy, FIRST), (PolicyKind::Terms, FIRST)]
    );
    for (kind, heading) in [
        ("privacy", "# Strongroom privacy policy"),
        ("terms", "# Strongroom terms of use"),
    ] {
        let (status, body) = f
            .request(
                None,
                Method::GET,
                &format!("/v1/policies/{kind}/{FIRST}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let doc: PolicyDocument = serde_json::from_str(&body).unwrap();
        assert!(doc.current);
        assert!(doc.text.starts_with(heading), "{}", doc.text);
        assert!(doc.text.contains("prevail"));
    }
    let (status, body) = f
        .request(None, Method::GET, "/v1/policies/cookies/2026-11-28", None)
        .await;
    assert_eq!(status, 400, "{body}");
    for bad in [
        "/v1/policies/terms/2026-12",
        "/v1/policies/privacy/1999-01",
        "/v1/policies/privacy/..%2F..%2Fetc",
    ] {
        let (status, body) = f.request(None, Method::GET, bad, None).await;
        assert_eq!(status, 404, "{bad}: {body}");
    }
    let (_, body) = f.request(None, Method::GET, "/v1/cookies", None).await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["policy_version"],
        FIRST
    );

    let admin = f.demo_admin().await;
    let all = f.my_policies(&admin).await;
    assert_eq!(all.len(), 2);
    let p = mine(&all, PolicyKind::Privacy);
    assert_eq!(p.acknowledged_version, None);
    assert!(!p.up_to_date);
    assert_eq!(p.diff.from_version, None);
    assert_eq!(p.diff.to_version, FIRST);
    assert_eq!(p.diff.deleted, 0);
    assert!(p.diff.inserted > 50, "{}", p.diff.inserted);
    assert!(
        p.diff
            .hunks
            .iter()
            .all(|h| h.lines.iter().all(|l| l.tag == DiffTag::Insert))
    );
    f.server.stop().await;
}

/// The operator publishes a new privacy policy: every enabled member of every practice
/// gets one email (the member who opted out of everything too) and one in-app notice, the
/// disabled member nothing; a member who acknowledged the first version sees exactly what
/// changed; acknowledging the old version is 409 `policy_version_not_current`, the new
/// one is recorded once and audited; the same version cannot be published twice; consent
/// records name the new version.
pub async fn publishing_a_policy_reaches_every_member_once_with_the_diff(backend: Backend) {
    let sink = SmtpSink::start().await;
    let f = Fixture::configured(backend, with_mail(Some(sink.settings()))).await;
    let admin = f.demo_admin().await;
    let lawyer = f
        .member(&admin, "lawyer@harbourvine.example", Role::Lawyer)
        .await;
    let gone = f
        .member(&admin, "gone@harbourvine.example", Role::Lawyer)
        .await;
    f.disable_in_demo(&gone).await;
    f.opt_out_of_everything(&lawyer).await;
    let other = f
        .server
        .store
        .create_practice("Bayside Legal")
        .await
        .unwrap();
    let hash = strongroom_server::auth::hash_password(PASSWORD).unwrap();
    let b_id = f
        .server
        .store
        .create_user(other, "b@bayside.example", "Bay Member", &hash, Role::Admin)
        .await
        .unwrap();
    let b = Who {
        token: f.token("b@bayside.example", PASSWORD).await,
        id: b_id.0,
    };
    // The lawyer acknowledges the first version; the admin nothing.
    let (status, body) = f.acknowledge_policy(&lawyer, "privacy", FIRST).await;
    assert_eq!(status, 200, "{body}");
    let acked: MemberPolicy = serde_json::from_str(&body).unwrap();
    assert!(acked.up_to_date && acked.diff.hunks.is_empty());

    let old = strongroom_server::policies::SEED[0].2;
    let new = old
        .replace(
            "The web pages set one strictly necessary cookie, which keeps you signed in.",
            "The web pages set one strictly necessary cookie, which keeps you signed in, and\n\
             with your consent an analytics cookie that counts browsers in aggregate.",
        )
        .replace(
            "we tell every affected member as soon as possible, by email and in the app:",
            "we tell every affected member as soon as possible, and within 72 hours, by\n\
             email and in the app:",
        );
    assert_ne!(new, old);
    let run = f.publish_cli("privacy", "2026-12", &new).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("3 member(s) notified"),
        "{}",
        run.stdout
    );

    // One email each, to every enabled member of every practice.
    let start = Instant::now();
    let to = |address: &str| -> Vec<String> {
        sink.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.to.iter().any(|t| t.contains(address)))
            .filter(|r| Mail::parse(&r.data).subject() == SUBJECT)
            .map(|r| decoded_body(&r.data))
            .collect()
    };
    for address in [
        seed::DEMO_EMAIL,
        "lawyer@harbourvine.example",
        "b@bayside.example",
    ] {
        while to(address).is_empty() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "nothing to {address}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let body = &to(address)[0];
        assert!(
            body.contains("Section 6 now names the analytics cookie"),
            "{body}"
        );
        assert!(
            body.contains("essential message about policy changes"),
            "{body}"
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for address in [
        seed::DEMO_EMAIL,
        "lawyer@harbourvine.example",
        "b@bayside.example",
    ] {
        assert_eq!(to(address).len(), 1, "{address}");
    }
    assert!(to("gone@harbourvine.example").is_empty());
    for who in [&admin, &lawyer, &b] {
        let n: Vec<_> = f
            .notices(who)
            .await
            .into_iter()
            .filter(|n| n.category == Category::PolicyChanges)
            .collect();
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].title, SUBJECT);
        assert!(n[0].in_app && n[0].desktop);
    }

    // The lawyer sees exactly what changed since the first version.
    let all = f.my_policies(&lawyer).await;
    let p = mine(&all, PolicyKind::Privacy);
    assert_eq!(p.current.version, "2026-12");
    assert_eq!(p.acknowledged_version.as_deref(), Some(FIRST));
    assert!(!p.up_to_date);
    assert_eq!(p.diff.from_version.as_deref(), Some(FIRST));
    assert_eq!((p.diff.inserted, p.diff.deleted), (4, 2), "{:#?}", p.diff);
    assert_eq!(p.diff.hunks.len(), 2);
    let lines = |tag: DiffTag| -> Vec<&str> {
        p.diff
            .hunks
            .iter()
            .flat_map(|h| &h.lines)
            .filter(|l| l.tag == tag)
            .map(|l| l.text.as_str())
            .collect()
    };
    assert!(
        lines(DiffTag::Insert)
            .iter()
            .any(|l| l.starts_with("with your consent an analytics cookie that counts browsers")),
        "{:#?}",
        p.diff
    );
    assert!(
        lines(DiffTag::Delete)
            .iter()
            .any(|l| l.contains("by email and in the app:"))
    );
    assert!(
        !lines(DiffTag::Equal).is_empty(),
        "context around each change"
    );
    let terms = mine(&all, PolicyKind::Terms);
    assert_eq!(terms.current.version, FIRST);
    assert_eq!(terms.acknowledged_version, None);

    // The old version is refused; the current one recorded once; audited once.
    let (status, body) = f.acknowledge_policy(&lawyer, "privacy", FIRST).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(problem_code(&body), "policy_version_not_current");
    assert!(body.contains("2026-12"), "{body}");
    for version in ["1999-01", ""] {
        let (status, body) = f.acknowledge_policy(&lawyer, "privacy", version).await;
        assert_eq!(status, 409, "{version}: {body}");
    }
    let (status, body) = f.acknowledge_policy(&lawyer, "privacy", "2026-12").await;
    assert_eq!(status, 200, "{body}");
    let now: MemberPolicy = serde_json::from_str(&body).unwrap();
    assert!(now.up_to_date && now.diff.hunks.is_empty());
    let (status, body) = f.acknowledge_policy(&lawyer, "privacy", "2026-12").await;
    assert_eq!(status, 200, "{body}");
    let again: MemberPolicy = serde_json::from_str(&body).unwrap();
    assert_eq!(again.acknowledged_at, now.acknowledged_at);
    let audited = f.audited_kind("policy_acknowledged").await;
    assert_eq!(
        audited,
        vec![
            json!({"kind": "privacy", "version": FIRST}),
            json!({"kind": "privacy", "version": "2026-12"}),
        ]
    );
    // Bad requests.
    let (status, _) = f.acknowledge_policy(&lawyer, "cookies", "2026-12").await;
    assert_eq!(status, 404);
    for bad in [
        json!({}),
        json!({"version": 7}),
        json!({"version": "2026-12", "x": 1}),
    ] {
        let (status, body) = f
            .request(
                Some(&lawyer.token),
                Method::POST,
                "/v1/me/policies/privacy/acknowledge",
                Some(bad.clone()),
            )
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, _) = f.request(None, Method::GET, "/v1/me/policies", None).await;
    assert_eq!(status, 401);

    // The same version again: refused, nobody notified again.
    let run = f
        .publish_cli("privacy", "2026-12", "# Another text\n")
        .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("has a version 2026-12 already"),
        "{}",
        run.stderr
    );
    let run = f.publish_cli("privacy", "bad version", "# Text\n").await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("--version"), "{}", run.stderr);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(to(seed::DEMO_EMAIL).len(), 1);
    let (_, body) = f
        .request(None, Method::GET, "/v1/policies/privacy/2026-12", None)
        .await;
    let doc: PolicyDocument = serde_json::from_str(&body).unwrap();
    assert!(doc.current && doc.text.contains("within 72 hours"));
    let (_, body) = f
        .request(
            None,
            Method::GET,
            &format!("/v1/policies/privacy/{FIRST}"),
            None,
        )
        .await;
    assert!(
        !serde_json::from_str::<PolicyDocument>(&body)
            .unwrap()
            .current
    );
    // Consent is now given under the new version.
    let (status, body) = f
        .request(
            Some(&admin.token),
            Method::PUT,
            "/v1/me/consent",
            Some(json!({"action": "reject_all"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let consent: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(consent["current"]["policy_version"], "2026-12");
    assert_eq!(consent["policy_version"], "2026-12");
    let published = f.server.store.audit_entries(None, 0, 10_000).await.unwrap();
    assert_eq!(
        published
            .iter()
            .filter(|e| e.kind == "policy_published")
            .count(),
        1
    );
    f.server.stop().await;
}
