//! The privacy dashboard's service side: devices report what they hold and can be signed
//! out all at once, the members list shows who is active and the access review disables
//! dormant credentials, every practice's own audit chain checks out from outside (and a
//! tampered one does not), and an export holds every record and matches its manifest.
//! Run on both stores from `on_both_stores!` in `api.rs`.

use std::io::Cursor;

use reqwest::Method;
use strongroom_protocol::audit::{
    AuditEntryWire, AuditPage, ChainBreak, ChainVerdict, PracticeChainVerifier,
};
use strongroom_protocol::privacy::{AccessReview, ReviewRecord, RevokedSessions};
use strongroom_protocol::{InvitationCreated, Member};

use strongroom_protocol::RecordKind;

use super::access::{PASSWORD, Who};
use super::*;

const DAY: i64 = 24 * 3600;

/// Signs the demo admin in once more, as another device; answers the token.
async fn another_device(f: &Fixture, name: &str) -> String {
    let resp = f
        .http
        .post(f.url("/v1/auth/sign-in"))
        .json(&json!({
            "email": seed::DEMO_EMAIL, "password": seed::DEMO_PASSWORD, "device_name": name,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The practice's audit entries of `kind`, from the store.
async fn audited(f: &Fixture, kind: &str) -> Vec<Value> {
    let practice = f
        .server
        .store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .practice_id;
    f.server
        .store
        .audit_entries(Some(practice), 0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == kind)
        .map(|e| serde_json::from_str(&e.details).unwrap())
        .collect()
}

pub async fn devices_report_holdings_and_all_others_can_be_signed_out(backend: Backend) {
    let f = Fixture::new(backend).await;
    let here = another_device(&f, "Desk").await;
    let laptop = another_device(&f, "Laptop").await;
    let phone = another_device(&f, "Phone").await;
    // The laptop reports; its time is kept in the service's own form.
    let (status, body) = f
        .request(
            Some(&laptop),
            Method::POST,
            "/v1/sessions/holdings",
            Some(json!({"matters": 1204, "records": 31877, "last_sync_at": "2026-11-28T11:00:00+10:00"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    for bad in [
        json!({"matters": 1, "records": 2, "last_sync_at": "yesterday"}),
        json!({"matters": -1, "records": 2, "last_sync_at": "2026-11-28T01:00:00Z"}),
        json!({"matters": 1u64 << 50, "records": 2, "last_sync_at": "2026-11-28T01:00:00Z"}),
        json!({"matters": 1}),
    ] {
        let (status, _) = f
            .request(
                Some(&laptop),
                Method::POST,
                "/v1/sessions/holdings",
                Some(bad.clone()),
            )
            .await;
        assert_eq!(status, 400, "{bad}");
    }
    let list = f.sessions(&here).await;
    let by_name = |n: &str| list.iter().find(|s| s["device_name"] == n).unwrap().clone();
    assert_eq!(
        by_name("Laptop")["holdings"],
        json!({"matters": 1204, "records": 31877, "last_sync_at": "2026-11-28T01:00:00Z"})
    );
    assert_eq!(by_name("Phone")["holdings"], Value::Null);

    // Sign out every other device: they are told revoked on their next request.
    let (status, body) = f
        .request(
            Some(&here),
            Method::POST,
            "/v1/sessions/revoke-others",
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let revoked: RevokedSessions = serde_json::from_str(&body).unwrap();
    // The fixture signs in nowhere else: Laptop and Phone, and nothing more.
    assert_eq!(revoked.revoked, 2);
    for token in [&laptop, &phone] {
        let (status, body) = f
            .request(Some(token), Method::GET, "/v1/sessions", None)
            .await;
        assert_eq!(status, 401);
        assert!(body.contains("session_revoked"), "{body}");
    }
    let left = f.sessions(&here).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["current"], true);
    let entries = audited(&f, "session_revoked").await;
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["device_name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{entries:?}");
    assert!(names.contains(&"Laptop") && names.contains(&"Phone"));
    // Nothing more to revoke.
    let (_, body) = f
        .request(
            Some(&here),
            Method::POST,
            "/v1/sessions/revoke-others",
            None,
        )
        .await;
    assert_eq!(
        serde_json::from_str::<RevokedSessions>(&body)
            .unwrap()
            .revoked,
        0
    );
    f.server.stop().await;
}

pub async fn the_access_review_finds_dormant_credentials_and_disables_them(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let old = f
        .member(&admin, "old@harbourvine.example", Role::Lawyer)
        .await;
    let fresh = f
        .member(&admin, "fresh@harbourvine.example", Role::Lawyer)
        .await;
    // Someone who joined long ago and never signed in, and an invitation never used.
    let practice = f
        .server
        .store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .practice_id;
    let hash = strongroom_server::auth::hash_password(PASSWORD).unwrap();
    let never = f
        .server
        .store
        .create_user(
            practice,
            "never@harbourvine.example",
            "Nev Er",
            &hash,
            Role::ReadOnly,
        )
        .await
        .unwrap();
    let (status, body) = f
        .request(
            Some(&admin.token),
            Method::POST,
            "/v1/invitations",
            Some(json!({"email": "ghost@harbourvine.example", "role": "lawyer"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let ghost = serde_json::from_str::<InvitationCreated>(&body)
        .unwrap()
        .invitation
        .id;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    f.raw_sql(&format!(
        "UPDATE sessions SET created_at = {} WHERE user_id = '{}';
         UPDATE users SET created_at = '2025-01-01T00:00:00Z' WHERE id = '{}';
         UPDATE invitations SET created_at = {}, expires_at = {} WHERE id = '{}';",
        now - 90 * DAY,
        old.id,
        never.0,
        now - 80 * DAY,
        now - 73 * DAY,
        ghost,
    ))
    .await
    .unwrap();

    // The members list: last sign-in and sessions.
    let (status, body) = f
        .request(Some(&admin.token), Method::GET, "/v1/members", None)
        .await;
    assert_eq!(status, 200);
    let members: Vec<Member> = serde_json::from_str(&body).unwrap();
    let m = |email: &str| members.iter().find(|m| m.email == email).unwrap().clone();
    assert_eq!(m("old@harbourvine.example").session_count, 1);
    assert!(
        m("old@harbourvine.example").last_sign_in_at.unwrap()
            < m("fresh@harbourvine.example").last_sign_in_at.unwrap()
    );
    assert_eq!(m("never@harbourvine.example").last_sign_in_at, None);
    assert_eq!(m("never@harbourvine.example").session_count, 0);

    let review = |days: &str| {
        let f = &f;
        let token = admin.token.clone();
        let path = format!("/v1/members/review?dormant_days={days}");
        async move { f.request(Some(&token), Method::GET, &path, None).await }
    };
    for bad in ["0", "4000", "x", "-1"] {
        assert_eq!(review(bad).await.0, 400, "{bad}");
    }
    let (status, body) = review("60").await;
    assert_eq!(status, 200, "{body}");
    let r: AccessReview = serde_json::from_str(&body).unwrap();
    let mut flagged: Vec<(String, Option<u32>)> = r
        .dormant
        .iter()
        .map(|d| (d.member.email.clone(), d.days_idle))
        .collect();
    flagged.sort();
    assert_eq!(
        flagged,
        [
            ("never@harbourvine.example".into(), None),
            ("old@harbourvine.example".into(), Some(90)),
        ]
    );
    assert_eq!(
        r.unused_invitations
            .iter()
            .map(|i| i.id)
            .collect::<Vec<_>>(),
        [ghost]
    );
    assert!(r.last_review.is_none());
    // With a longer window nobody is dormant but the one who never signed in.
    let r100: AccessReview = serde_json::from_str(&review("100").await.1).unwrap();
    assert_eq!(r100.dormant.len(), 1);

    // Only admins; an unknown id changes nothing.
    let (status, _) = f
        .request(Some(&fresh.token), Method::GET, "/v1/members/review", None)
        .await;
    assert_eq!(status, 403);
    let (status, _) = f
        .request(
            Some(&fresh.token),
            Method::POST,
            "/v1/members/review",
            Some(json!({"dormant_days": 60, "disable": [old.id]})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::POST,
            "/v1/members/review",
            Some(json!({"dormant_days": 60, "disable": [old.id, Uuid::new_v4()]})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = f
        .request(Some(&old.token), Method::GET, "/v1/sessions", None)
        .await;
    assert_eq!(status, 200, "the refused review disabled nobody");

    // Complete it: the dormant are disabled, the ghost invitation withdrawn, all recorded.
    let (status, body) = f
        .request(
            Some(&admin.token),
            Method::POST,
            "/v1/members/review",
            Some(json!({"dormant_days": 60, "disable": [old.id, never.0], "revoke_invitations": [ghost]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let record: ReviewRecord = serde_json::from_str(&body).unwrap();
    assert_eq!(record.by, admin.id);
    assert_eq!(record.by_name, seed::DEMO_NAME);
    assert_eq!(record.disabled.len(), 2);
    assert_eq!(record.invitations_revoked, [ghost]);
    let (status, _) = f
        .request(Some(&old.token), Method::GET, "/v1/sessions", None)
        .await;
    assert_eq!(status, 401, "disabled: the old member's session ended");
    let after: AccessReview = serde_json::from_str(&review("60").await.1).unwrap();
    assert!(after.dormant.is_empty(), "{:?}", after.dormant);
    assert!(after.unused_invitations.is_empty());
    assert_eq!(after.last_review, Some(record.clone()));
    let entries = audited(&f, "access_review_completed").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["review"], json!(record.id));
    assert_eq!(audited(&f, "member_disabled").await.len(), 2);
    // The admin cannot disable themselves through a review.
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::POST,
            "/v1/members/review",
            Some(json!({"dormant_days": 60, "disable": [admin.id]})),
        )
        .await;
    assert_eq!(status, 400);
    f.server.stop().await;
}

/// Every page of the practice's chain, read as the app reads it.
async fn practice_chain(f: &Fixture, token: &str, page: u32) -> (Vec<AuditEntryWire>, AuditPage) {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let (status, body) = f
            .request(
                Some(token),
                Method::GET,
                &format!("/v1/audit/entries?after_seq={after}&limit={page}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let p: AuditPage = serde_json::from_str(&body).unwrap();
        assert!(p.entries.len() <= page as usize);
        let done = p.entries.is_empty() || p.entries.last().unwrap().seq == p.head_seq;
        if let Some(last) = p.entries.last() {
            after = last.seq;
        }
        all.extend(p.entries.iter().cloned());
        if done {
            return (all, p);
        }
    }
}

fn check(practice: &str, entries: &[AuditEntryWire], head: &AuditPage) -> ChainVerdict {
    let mut v = PracticeChainVerifier::new(practice);
    for e in entries {
        v.push(e);
    }
    v.finish(head.head_seq, &head.head_link)
}

pub async fn each_practice_checks_its_own_audit_chain_from_outside(backend: Backend) {
    let f = Fixture::new(backend).await;
    let store = f.server.store.clone();
    let elsewhere = store.create_practice("Elsewhere Legal").await.unwrap();
    let hash = strongroom_server::auth::hash_password(PASSWORD).unwrap();
    store
        .create_user(
            elsewhere,
            "admin@elsewhere.example",
            "Else",
            &hash,
            Role::Admin,
        )
        .await
        .unwrap();
    // Entries of both practices, interleaved in the service's one log.
    let mut admin = String::new();
    for _ in 0..3 {
        admin = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
        f.token("admin@elsewhere.example", PASSWORD).await;
        let _ = f.sign_in(seed::DEMO_EMAIL, "wrong password").await;
    }
    let practice = store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .practice_id;
    let ours = store
        .audit_entries(Some(practice), 0, 10_000)
        .await
        .unwrap();
    let pid = practice.0.to_string();
    let (entries, head) = practice_chain(&f, &admin, 2).await;
    assert_eq!(entries.len(), ours.len());
    assert!(
        entries
            .iter()
            .all(|e| e.practice_id.as_deref() == Some(pid.as_str()))
    );
    assert_eq!(
        check(&pid, &entries, &head),
        ChainVerdict::Verified {
            entries: ours.len() as i64
        }
    );
    // The actors are named.
    let (_, body) = f
        .request(Some(&admin), Method::GET, "/v1/audit/entries", None)
        .await;
    let page: AuditPage = serde_json::from_str(&body).unwrap();
    assert!(page.actors.iter().any(|a| a.name == seed::DEMO_NAME));
    // A lawyer may not read it; the other practice reads only its own.
    let lawyer = f
        .member(
            &Who {
                token: admin.clone(),
                id: Uuid::nil(),
            },
            "lawyer@harbourvine.example",
            Role::Lawyer,
        )
        .await;
    let (status, _) = f
        .request(Some(&lawyer.token), Method::GET, "/v1/audit/entries", None)
        .await;
    assert_eq!(status, 403);
    let other = f.token("admin@elsewhere.example", PASSWORD).await;
    let (theirs, their_head) = practice_chain(&f, &other, 1000).await;
    let eid = elsewhere.0.to_string();
    assert!(
        theirs
            .iter()
            .all(|e| e.practice_id.as_deref() == Some(eid.as_str()))
    );
    assert_eq!(
        check(&eid, &theirs, &their_head),
        ChainVerdict::Verified {
            entries: theirs.len() as i64
        }
    );

    // Links written before practices had chains are added when the store opens: remove
    // them all (the triggers first), reopen, and the chain is whole again.
    let (admin_after, _) = practice_chain(&f, &admin, 1000).await;
    let drop_links = match backend {
        Backend::Sqlite => {
            "DROP TRIGGER audit_practice_links_no_delete; DELETE FROM audit_practice_links;"
        }
        Backend::Postgres => {
            "DROP TRIGGER audit_practice_links_append_only ON audit_practice_links;
             DELETE FROM audit_practice_links;"
        }
    };
    f.raw_sql(drop_links).await.unwrap();
    let reopened: Arc<dyn Store> = match &f.pg {
        None => Arc::new(
            strongroom_server::store::sqlite::SqliteStore::open(&f._dir.path().join("server.db"))
                .unwrap(),
        ),
        Some(schema) => Arc::new(
            strongroom_server::store::postgres::PostgresStore::open(&schema.url)
                .await
                .unwrap(),
        ),
    };
    let rebuilt = reopened.practice_audit(practice, 0, 10_000).await.unwrap();
    assert_eq!(
        rebuilt.entries, admin_after,
        "the same links, computed again"
    );

    // Tampering past the store: an edited entry is found at its number, by the app's check.
    f.drop_append_only_triggers().await;
    let victim = &entries[3];
    f.raw_sql(&format!(
        r#"UPDATE audit_log SET details = '{{"forged":true}}' WHERE id = {}"#,
        victim.id
    ))
    .await
    .unwrap();
    let (tampered, head) = practice_chain(&f, &admin, 1000).await;
    assert_eq!(
        check(&pid, &tampered, &head),
        ChainVerdict::Broken {
            seq: victim.seq,
            reason: ChainBreak::EntryAltered
        }
    );
    f.server.stop().await;
}

pub async fn an_export_holds_every_record_and_checks_against_its_manifest(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    // A restricted matter is the practice's too: it is exported.
    let records = super::access::file_of("Atacama");
    for r in &records {
        assert_eq!(f.put_record(&admin, r).await.0, 201);
    }
    let matter_id = records[1].key().1;
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::PUT,
            &format!("/v1/matters/{matter_id}/access"),
            Some(json!({"restricted": true, "members": []})),
        )
        .await;
    assert_eq!(status, 200);
    let resp = f
        .http
        .get(f.url("/v1/export"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/zip");
    assert!(
        resp.headers().get("content-encoding").is_none(),
        "sent as it is"
    );
    let length: u64 = resp.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, length);
    let checked = strongroom_export::check_archive(Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(checked.manifest.practice_name, seed::DEMO_PRACTICE);
    assert_eq!(checked.manifest.exported_by, seed::DEMO_NAME);
    assert_eq!(checked.manifest.files.len(), 2 * RecordKind::ALL.len());
    // Every live record of every kind, no more and no fewer.
    let practice = f
        .server
        .store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .practice_id;
    let feed = f
        .server
        .store
        .changes_after(practice, Viewer::Service, 0, 100_000)
        .await
        .unwrap();
    let mut live: BTreeMap<(String, String), Value> = BTreeMap::new();
    for c in &feed.changes {
        let (kind, id) = c.record.key();
        match c.record.body_json() {
            Some(body) => {
                live.insert(
                    (kind.as_str().into(), id.to_string()),
                    serde_json::from_str(&body).unwrap(),
                );
            }
            None => {
                live.remove(&(kind.as_str().into(), id.to_string()));
            }
        }
    }
    let mut exported: BTreeMap<(String, String), Value> = BTreeMap::new();
    for (kind, list) in &checked.records {
        for r in list {
            exported.insert(
                (kind.clone(), r["id"].as_str().unwrap().to_owned()),
                r.clone(),
            );
        }
    }
    assert_eq!(exported.len(), live.len());
    assert_eq!(exported, live);
    assert!(exported.contains_key(&("matter".into(), matter_id.to_string())));
    let entries = audited(&f, "practice_exported").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["records"], json!(live.len()));

    // Not for a lawyer; and not without a recent sign-in.
    let lawyer = f
        .member(&admin, "lawyer@harbourvine.example", Role::Lawyer)
        .await;
    let (status, _) = f
        .request(Some(&lawyer.token), Method::GET, "/v1/export", None)
        .await;
    assert_eq!(status, 403);
    f.raw_sql(&format!(
        "UPDATE sessions SET created_at = created_at - 7200, reauth_at = NULL WHERE user_id = '{}'",
        admin.id
    ))
    .await
    .unwrap();
    let (status, body) = f
        .request(Some(&admin.token), Method::GET, "/v1/export", None)
        .await;
    assert_eq!(status, 403);
    assert!(body.contains("reauth_required"), "{body}");
    f.server.stop().await;
}

pub async fn removing_a_members_credentials_ends_their_sessions_and_frees_their_email(
    backend: Backend,
) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let leaver = f
        .member(&admin, "leaver@harbourvine.example", Role::Lawyer)
        .await;
    let path = format!("/v1/members/{}/credentials", leaver.id);
    // Not a lawyer's to do, not one's own, not another practice's member.
    let (status, _) = f
        .request(
            Some(&leaver.token),
            Method::DELETE,
            &format!("/v1/members/{}/credentials", admin.id),
            None,
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::DELETE,
            &format!("/v1/members/{}/credentials", admin.id),
            None,
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::DELETE,
            &format!("/v1/members/{}/credentials", Uuid::new_v4()),
            None,
        )
        .await;
    assert_eq!(status, 404);

    let (status, body) = f
        .request(Some(&admin.token), Method::DELETE, &path, None)
        .await;
    assert_eq!(status, 204, "{body}");
    // Their device is told it was revoked (and wipes itself); they cannot sign in again.
    let (status, body) = f
        .request(Some(&leaver.token), Method::GET, "/v1/sessions", None)
        .await;
    assert_eq!(status, 401);
    assert!(body.contains("session_revoked"), "{body}");
    let resp = f.sign_in("leaver@harbourvine.example", PASSWORD).await;
    assert_eq!(resp.status(), 401);
    // Gone from the list, cannot be enabled again, and removed only once.
    let (_, body) = f
        .request(Some(&admin.token), Method::GET, "/v1/members", None)
        .await;
    let members: Vec<Member> = serde_json::from_str(&body).unwrap();
    assert!(members.iter().all(|m| m.id != leaver.id));
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::PATCH,
            &format!("/v1/members/{}", leaver.id),
            Some(json!({"disabled": false})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = f
        .request(Some(&admin.token), Method::DELETE, &path, None)
        .await;
    assert_eq!(status, 404);
    // The address is free: they can be invited back, as a new member.
    let back = f
        .member(&admin, "leaver@harbourvine.example", Role::ReadOnly)
        .await;
    assert_ne!(back.id, leaver.id);
    let entries = audited(&f, "member_credentials_removed").await;
    assert_eq!(entries, [json!({"member": leaver.id})]);
    f.server.stop().await;
}
