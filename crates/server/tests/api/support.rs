//! Support staff (promise 3): a realm of their own, requests a practice decides, reads and
//! writes only under an active grant within its scope, each one shown to the practice.
//! Registered in `on_both_stores!` in `api.rs`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use strongroom_protocol::{
    ChangeRecord, ChangesPage, Role, StaffGrant, SupportAccessLog, SupportGrant, SupportGrantScope,
    SupportGrantStatus,
};
use strongroom_server::seed;
use uuid::Uuid;

use super::access::{Who, file_of};
use super::{Backend, Fixture};

pub(crate) const STAFF_PASSWORD: &str = "Lighthouse-Copper-4471-fern";

impl Fixture {
    /// Creates a support staff member with the operator command and signs them in;
    /// answers their token.
    pub(crate) async fn staff(&self, email: &str) -> String {
        let run = self
            .cli(
                &[
                    "add-support-staff",
                    "--email",
                    email,
                    "--name",
                    "Sam Support",
                ],
                &format!("{STAFF_PASSWORD}\n"),
            )
            .await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        let _: Uuid = run.stdout.trim().parse().unwrap();
        let (status, body) = self
            .request(
                None,
                Method::POST,
                "/v1/support/auth/sign-in",
                Some(json!({"email": email, "password": STAFF_PASSWORD})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let token = v["token"].as_str().unwrap().to_owned();
        assert!(token.starts_with("srs_"));
        token
    }

    pub(crate) async fn demo_practice(&self) -> Uuid {
        self.server
            .store
            .user_by_email(seed::DEMO_EMAIL)
            .await
            .unwrap()
            .unwrap()
            .practice_id
            .0
    }

    /// Staff ask for access; answers the request.
    pub(crate) async fn ask(&self, staff: &str, body: Value) -> StaffGrant {
        let (status, text) = self
            .request(
                Some(staff),
                Method::POST,
                "/v1/support/requests",
                Some(body),
            )
            .await;
        assert_eq!(status, 201, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    /// An admin acts on a grant: approve, decline or revoke.
    pub(crate) async fn decide(&self, admin: &Who, id: Uuid, what: &str) -> (StatusCode, String) {
        self.request(
            Some(&admin.token),
            Method::POST,
            &format!("/v1/support/grants/{id}/{what}"),
            None,
        )
        .await
    }

    async fn grants(&self, admin: &Who) -> Vec<SupportGrant> {
        let (status, text) = self
            .request(Some(&admin.token), Method::GET, "/v1/support/grants", None)
            .await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    async fn access_log(&self, admin: &Who, query: &str) -> SupportAccessLog {
        let (status, text) = self
            .request(
                Some(&admin.token),
                Method::GET,
                &format!("/v1/support/access-log{query}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }
}

/// The problem's code of an answer's body.
pub(crate) fn code_of(text: &str) -> String {
    serde_json::from_str::<Value>(text).unwrap()["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn record_path(practice: Uuid, r: &ChangeRecord) -> String {
    let (kind, id) = r.key();
    format!(
        "/v1/support/practices/{practice}/records/{}/{id}",
        kind.as_str()
    )
}

/// Request, pending refusal, re-authenticated approval, reads in scope, the practice's
/// view of each read under the grant, refusals outside the scope, revocation, and the
/// next read refused.
pub async fn a_support_grant_runs_its_whole_cycle(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let lawyer = f
        .member(&admin, "lawyer@harbourvine.example", Role::Lawyer)
        .await;
    let practice = f.demo_practice().await;
    let a = file_of("Atacama");
    let b = file_of("Bora");
    for r in a.iter().chain(&b) {
        assert_eq!(f.put_record(&admin, r).await.0, 201);
    }
    let (a_matter, b_matter) = (a[1].key().1, b[1].key().1);
    let staff = f.staff("sam@support.example").await;

    // Never granted: refused, and the refusal is shown to the practice.
    let (status, text) = f
        .request(
            Some(&staff),
            Method::GET,
            &record_path(practice, &a[1]),
            None,
        )
        .await;
    assert_eq!(
        (status, code_of(&text)),
        (StatusCode::FORBIDDEN, "no_support_grant".into())
    );

    let asked = f
        .ask(
            &staff,
            json!({
                "practice_id": practice, "reason": "The client cannot open this matter",
                "ticket": "SUP-1042", "scope": {"kind": "matters", "matters": [a_matter]},
                "access": "read", "duration_hours": 24,
            }),
        )
        .await;
    assert_eq!(asked.status, SupportGrantStatus::Requested);
    // Pending: refused.
    let (status, text) = f
        .request(
            Some(&staff),
            Method::GET,
            &record_path(practice, &a[1]),
            None,
        )
        .await;
    assert_eq!(
        (status, code_of(&text)),
        (StatusCode::FORBIDDEN, "no_support_grant".into())
    );

    let listed = f.grants(&admin).await;
    assert_eq!(listed.len(), 1);
    let g = &listed[0];
    assert_eq!((g.id, g.status), (asked.id, SupportGrantStatus::Requested));
    assert_eq!(g.staff.display_name, "Sam Support");
    assert_eq!(g.staff.email, "sam@support.example");
    assert_eq!(g.ticket, "SUP-1042");
    let SupportGrantScope::Matters { matters } = &g.scope else {
        panic!("{:?}", g.scope)
    };
    assert_eq!(matters.len(), 1);
    assert_eq!(matters[0].id, a_matter);
    assert_eq!(matters[0].title.as_deref(), Some("Atacama matter"));
    assert_eq!(matters[0].number.as_deref(), Some("C-1"));

    // Only an admin decides; an admin must have re-authenticated lately to approve.
    let (status, text) = f
        .request(
            Some(&lawyer.token),
            Method::POST,
            &format!("/v1/support/grants/{}/approve", asked.id),
            None,
        )
        .await;
    assert_eq!(
        (status, code_of(&text)),
        (StatusCode::FORBIDDEN, "forbidden".into())
    );
    let (status, _) = f
        .request(Some(&lawyer.token), Method::GET, "/v1/support/grants", None)
        .await;
    assert_eq!(status, 403);
    f.raw_sql("UPDATE sessions SET reauth_at = reauth_at - 360")
        .await
        .unwrap();
    let (status, text) = f.decide(&admin, asked.id, "approve").await;
    assert_eq!(
        (status, code_of(&text)),
        (StatusCode::FORBIDDEN, "reauth_required".into())
    );
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::POST,
            "/v1/auth/reauth",
            Some(json!({"password": seed::DEMO_PASSWORD})),
        )
        .await;
    assert_eq!(status, 204);
    let (status, text) = f.decide(&admin, asked.id, "approve").await;
    assert_eq!(status, 200, "{text}");
    let approved: SupportGrant = serde_json::from_str(&text).unwrap();
    assert_eq!(approved.status, SupportGrantStatus::Active);
    let decided_at = approved.decided_at.unwrap();
    assert_eq!(approved.expires_at, Some(decided_at + 24 * 3600));
    assert_eq!(approved.decided_by.as_ref().unwrap().id, admin.id);
    // Decided once only.
    for what in ["approve", "decline"] {
        let (status, text) = f.decide(&admin, asked.id, what).await;
        assert_eq!(
            (status, code_of(&text)),
            (StatusCode::CONFLICT, "grant_not_pending".into())
        );
    }

    // Reads in scope: the matter, a note on it, a list of its notes.
    for r in [&a[1], &a[3]] {
        let (status, text) = f
            .request(Some(&staff), Method::GET, &record_path(practice, r), None)
            .await;
        assert_eq!(status, 200, "{text}");
        assert!(text.contains("Atacama"));
    }
    let (status, text) = f
        .request(
            Some(&staff),
            Method::GET,
            &format!("/v1/support/practices/{practice}/records/file_note?matter={a_matter}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{text}");
    let page: ChangesPage = serde_json::from_str(&text).unwrap();
    assert_eq!(page.changes.len(), 1);
    assert_eq!(page.changes[0].record, a[3]);

    // Outside the scope: another matter, its note, the contact, a list of everything,
    // a write under a read grant.
    for r in [&b[1], &b[3], &a[0]] {
        let (status, text) = f
            .request(Some(&staff), Method::GET, &record_path(practice, r), None)
            .await;
        assert_eq!(
            (status, code_of(&text)),
            (StatusCode::FORBIDDEN, "no_support_grant".into())
        );
        assert!(!text.contains("Bora") && !text.contains("Atacama contact"));
    }
    for query in ["", &format!("?matter={b_matter}")] {
        let (status, text) = f
            .request(
                Some(&staff),
                Method::GET,
                &format!("/v1/support/practices/{practice}/records/file_note{query}"),
                None,
            )
            .await;
        assert_eq!(
            (status, code_of(&text)),
            (StatusCode::FORBIDDEN, "no_support_grant".into())
        );
    }
    let body: Value = serde_json::from_str(&a[3].body_json().unwrap()).unwrap();
    let (status, text) = f
        .request(
            Some(&staff),
            Method::PUT,
            &record_path(practice, &a[3]),
            Some(body),
        )
        .await;
    assert_eq!(
        (status, code_of(&text)),
        (StatusCode::FORBIDDEN, "no_support_grant".into())
    );

    // The practice sees each read, with the grant, the staff member and what was read.
    let log = f.access_log(&admin, "").await;
    let allowed: Vec<_> = log.entries.iter().filter(|e| e.allowed).collect();
    assert_eq!(allowed.len(), 3, "{log:?}");
    for e in &allowed {
        assert_eq!(e.grant_id, Some(asked.id));
        assert_eq!(e.staff.display_name, "Sam Support");
        assert_eq!(e.method, "GET");
    }
    // Newest first: the list, then the note, then the matter.
    assert_eq!(allowed[0].record_kind, "file_note");
    assert_eq!(allowed[0].record_ids, vec![a[3].key().1]);
    assert!(allowed[0].path.ends_with("/records/file_note"));
    assert_eq!(allowed[1].record_ids, vec![a[3].key().1]);
    assert_eq!(allowed[2].record_ids, vec![a_matter]);
    assert_eq!(allowed[2].count, 1);
    // The refusals are there too: never granted, pending, and the six out of scope.
    let refusals: Vec<&str> = log
        .entries
        .iter()
        .filter(|e| !e.allowed)
        .filter_map(|e| e.refusal.as_deref())
        .collect();
    assert_eq!(refusals.len(), 8);
    assert_eq!(refusals[7], "no_active_grant");
    assert_eq!(refusals[0], "read_only_grant");
    assert_eq!(refusals[1], "out_of_scope");
    assert!(allowed.iter().all(|e| e.refusal.is_none()));
    let by_grant = f.access_log(&admin, &format!("?grant={}", asked.id)).await;
    assert_eq!(by_grant.entries.len(), 3);
    let paged = f.access_log(&admin, "?limit=2").await;
    assert_eq!(paged.entries.len(), 2);
    let next = paged.next.unwrap();
    let older = f
        .access_log(&admin, &format!("?limit=500&before={next}"))
        .await;
    assert_eq!(older.entries.len(), log.entries.len() - 2);
    assert!(older.entries.iter().all(|e| e.id < next));
    // Members who are not admins do not read it.
    let (status, _) = f
        .request(
            Some(&lawyer.token),
            Method::GET,
            "/v1/support/access-log",
            None,
        )
        .await;
    assert_eq!(status, 403);

    // The staff member sees the grant active.
    let (status, text) = f
        .request(Some(&staff), Method::GET, "/v1/support/my-grants", None)
        .await;
    assert_eq!(status, 200);
    let mine: Vec<StaffGrant> = serde_json::from_str(&text).unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].status, SupportGrantStatus::Active);

    // Revoked: the very next read is refused.
    let (status, text) = f.decide(&admin, asked.id, "revoke").await;
    assert_eq!(status, 200, "{text}");
    let revoked: SupportGrant = serde_json::from_str(&text).unwrap();
    assert_eq!(revoked.status, SupportGrantStatus::Revoked);
    assert_eq!(revoked.revoked_by.unwrap().id, admin.id);
    let (status, text) = f
        .request(
            Some(&staff),
            Method::GET,
            &record_path(practice, &a[1]),
            None,
        )
        .await;
    assert_eq!(
        (status, code_of(&text)),
        (StatusCode::FORBIDDEN, "no_support_grant".into())
    );
    let (status, text) = f.decide(&admin, asked.id, "revoke").await;
    assert_eq!(
        (status, code_of(&text)),
        (StatusCode::CONFLICT, "grant_not_active".into())
    );
    // An unknown grant is not found.
    let (status, _) = f.decide(&admin, Uuid::new_v4(), "revoke").await;
    assert_eq!(status, 404);

    // The audit log holds the request, the decision and the revocation, the staff member
    // as `staff:<id>`.
    let kinds = f
        .texts("SELECT kind FROM audit_log WHERE kind LIKE 'support_access_%' ORDER BY id")
        .await;
    let expected = [
        "support_access_refused",
        "support_access_requested",
        "support_access_refused",
        "support_access_approved",
    ];
    assert_eq!(&kinds[..4], expected);
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("support_access_refused")
    );
    assert!(kinds.iter().any(|k| k == "support_access_revoked"));
    let actors = f
        .texts("SELECT actor FROM audit_log WHERE kind = 'support_access_requested'")
        .await;
    let staff_id = f.texts("SELECT CAST(id AS TEXT) FROM support_staff").await;
    assert_eq!(actors, vec![format!("staff:{}", staff_id[0])]);
    f.server.stop().await;
}

/// Declined, pending and expired grants reach nothing; a practice-wide read-write grant
/// reaches contacts and writes, never a restricted matter; another practice's records
/// are never reached by a grant of this one.
pub async fn declined_expired_and_foreign_grants_reach_nothing(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let practice = f.demo_practice().await;
    let a = file_of("Atacama");
    let b = file_of("Bora");
    for r in a.iter().chain(&b) {
        assert_eq!(f.put_record(&admin, r).await.0, 201);
    }
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::PUT,
            &format!("/v1/matters/{}/access", b[1].key().1),
            Some(json!({"restricted": true, "members": [admin.id]})),
        )
        .await;
    assert_eq!(status, 200);
    let staff = f.staff("sam@support.example").await;
    let whole = |access: &str, hours: u32| {
        json!({
            "practice_id": practice, "reason": "Sync stalls", "ticket": "SUP-7",
            "scope": {"kind": "practice"}, "access": access, "duration_hours": hours,
        })
    };

    // Declined.
    let declined = f.ask(&staff, whole("read", 2)).await;
    let (status, text) = f.decide(&admin, declined.id, "decline").await;
    assert_eq!(status, 200, "{text}");
    let d: SupportGrant = serde_json::from_str(&text).unwrap();
    assert_eq!(d.status, SupportGrantStatus::Declined);
    assert_eq!(d.expires_at, None);
    let (status, text) = f
        .request(
            Some(&staff),
            Method::GET,
            &record_path(practice, &a[1]),
            None,
        )
        .await;
    assert_eq!(
        (status, code_of(&text)),
        (StatusCode::FORBIDDEN, "no_support_grant".into())
    );
    let (status, text) = f.decide(&admin, declined.id, "revoke").await;
    assert_eq!(
        (status, code_of(&text)),
        (StatusCode::CONFLICT, "grant_not_active".into())
    );

    // Practice-wide, read and write.
    let wide = f.ask(&staff, whole("read_write", 1)).await;
    let (status, _) = f.decide(&admin, wide.id, "approve").await;
    assert_eq!(status, 200);
    let (status, text) = f
        .request(
            Some(&staff),
            Method::GET,
            &record_path(practice, &a[0]),
            None,
        )
        .await;
    assert_eq!(status, 200, "the contact: {text}");
    let (status, text) = f
        .request(
            Some(&staff),
            Method::GET,
            &format!("/v1/support/practices/{practice}/records/matter"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        text.contains("Atacama matter") && !text.contains("Bora"),
        "{text}"
    );
    // The restricted matter and its records: as if they did not exist.
    for r in [&b[1], &b[3]] {
        let (status, text) = f
            .request(Some(&staff), Method::GET, &record_path(practice, r), None)
            .await;
        assert_eq!(status, 404, "{text}");
        assert!(!text.contains("Bora"));
    }
    let ChangeRecord::FileNote { file_note } = &a[3] else {
        panic!()
    };
    let mut edited = file_note.clone();
    edited.subject = "Edited by support".into();
    let (status, text) = f
        .request(
            Some(&staff),
            Method::PUT,
            &record_path(practice, &a[3]),
            Some(serde_json::to_value(&edited).unwrap()),
        )
        .await;
    assert_eq!(status, 200, "{text}");
    // Not onto the restricted matter.
    let mut moved = edited.clone();
    moved.matter_id = b[1].key().1;
    let (status, _) = f
        .request(
            Some(&staff),
            Method::PUT,
            &record_path(practice, &a[3]),
            Some(serde_json::to_value(&moved).unwrap()),
        )
        .await;
    assert!(status == 404 || status == 422, "{status}");
    let log = f.access_log(&admin, &format!("?grant={}", wide.id)).await;
    assert!(
        log.entries
            .iter()
            .any(|e| e.method == "PUT" && e.record_ids == vec![a[3].key().1])
    );

    // Another practice: never granted to this staff member.
    let store = f.server.store.clone();
    let elsewhere = store.create_practice("Elsewhere Legal").await.unwrap();
    let mut m = super::sample_matter("E-1");
    m.title = "Elsewhere matter".into();
    store.put_matter(elsewhere, &m).await.unwrap();
    let (status, text) = f
        .request(
            Some(&staff),
            Method::GET,
            &format!(
                "/v1/support/practices/{}/records/matter/{}",
                elsewhere.0, m.id
            ),
            None,
        )
        .await;
    assert_eq!(
        (status, code_of(&text)),
        (StatusCode::FORBIDDEN, "no_support_grant".into())
    );
    assert!(!text.contains("Elsewhere matter"));
    // Nor does this practice's admin see or decide anything of that practice's.
    assert_eq!(f.grants(&admin).await.len(), 2);

    // Expired (its time moved back past the store): refused at the next request, and the
    // practice sees it expired; it cannot be revoked any more.
    f.raw_sql(
        "UPDATE support_grants SET expires_at = expires_at - 7200 WHERE expires_at IS NOT NULL",
    )
    .await
    .unwrap();
    let (status, text) = f
        .request(
            Some(&staff),
            Method::GET,
            &record_path(practice, &a[1]),
            None,
        )
        .await;
    assert_eq!(
        (status, code_of(&text)),
        (StatusCode::FORBIDDEN, "no_support_grant".into())
    );
    let listed = f.grants(&admin).await;
    let statuses: Vec<_> = listed.iter().map(|g| g.status).collect();
    // Newest first.
    assert_eq!(
        statuses,
        [SupportGrantStatus::Expired, SupportGrantStatus::Declined]
    );
    let (status, text) = f.decide(&admin, wide.id, "revoke").await;
    assert_eq!(
        (status, code_of(&text)),
        (StatusCode::CONFLICT, "grant_not_active".into())
    );

    // A matter-scoped read-write grant writes within its matters only: no new matter, no
    // record moved out of them or into them.
    let c = file_of("Cusco");
    for r in &c {
        assert_eq!(f.put_record(&admin, r).await.0, 201);
    }
    let narrow = f
        .ask(
            &staff,
            json!({
                "practice_id": practice, "reason": "Fix a note", "ticket": "SUP-8",
                "scope": {"kind": "matters", "matters": [a[1].key().1]},
                "access": "read_write", "duration_hours": 1,
            }),
        )
        .await;
    assert_eq!(f.decide(&admin, narrow.id, "approve").await.0, 200);
    let mut fresh = super::sample_matter("N-1");
    fresh.title = "Made by support".into();
    let put = |path: String, body: Value| {
        let f = &f;
        let staff = &staff;
        async move { f.request(Some(staff), Method::PUT, &path, Some(body)).await }
    };
    let (status, text) = put(
        format!(
            "/v1/support/practices/{practice}/records/matter/{}",
            fresh.id
        ),
        serde_json::to_value(&fresh).unwrap(),
    )
    .await;
    assert_eq!(
        (status, code_of(&text)),
        (StatusCode::FORBIDDEN, "no_support_grant".into())
    );
    let mut out = edited.clone();
    out.matter_id = c[1].key().1;
    let (status, _) = put(
        record_path(practice, &a[3]),
        serde_json::to_value(&out).unwrap(),
    )
    .await;
    assert_eq!(status, 403, "moved out of the scope");
    let ChangeRecord::FileNote { file_note: cusco } = &c[3] else {
        panic!()
    };
    let mut into = cusco.clone();
    into.matter_id = a[1].key().1;
    let (status, _) = put(
        record_path(practice, &c[3]),
        serde_json::to_value(&into).unwrap(),
    )
    .await;
    assert_eq!(status, 403, "moved into the scope");
    let mut within = edited.clone();
    within.subject = "Fixed by support".into();
    let (status, text) = put(
        record_path(practice, &a[3]),
        serde_json::to_value(&within).unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let log = f.access_log(&admin, &format!("?grant={}", narrow.id)).await;
    assert_eq!(log.entries.len(), 1);
    assert_eq!(log.entries[0].method, "PUT");
    // The admin's own view has the note as support left it.
    let (_, text) = f
        .request(
            Some(&admin.token),
            Method::GET,
            &format!("/v1/records/file_note/{}", a[3].key().1),
            None,
        )
        .await;
    assert!(text.contains("Fixed by support"), "{text}");
    f.server.stop().await;
}

/// Staff tokens work on no practice route, members' tokens on no staff route, and staff
/// sign-ins are audited, refusals too.
pub async fn staff_and_member_tokens_stay_in_their_own_realms(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let practice = f.demo_practice().await;
    let staff = f.staff("sam@support.example").await;
    let matter = Uuid::new_v4();
    for (method, path) in [
        (Method::GET, "/v1/records/matter".to_owned()),
        (Method::GET, format!("/v1/records/matter/{matter}")),
        (Method::GET, "/v1/sync/changes".to_owned()),
        (Method::GET, "/v1/members".to_owned()),
        (Method::GET, "/v1/sessions".to_owned()),
        (Method::GET, "/v1/audit/verify".to_owned()),
        (Method::GET, "/v1/support/grants".to_owned()),
        (Method::GET, "/v1/support/access-log".to_owned()),
        (Method::GET, "/v1/integrations".to_owned()),
        (Method::GET, "/v1/practice/settings".to_owned()),
    ] {
        let (status, text) = f.request(Some(&staff), method, &path, None).await;
        assert_eq!(status, 401, "staff on {path}: {text}");
    }
    for (method, path) in [
        (Method::GET, "/v1/support/my-grants".to_owned()),
        (Method::POST, "/v1/support/requests".to_owned()),
        (
            Method::GET,
            format!("/v1/support/practices/{practice}/records/matter"),
        ),
        (
            Method::GET,
            format!("/v1/support/practices/{practice}/records/matter/{matter}"),
        ),
    ] {
        let body = (method == Method::POST).then(|| {
            json!({"practice_id": practice, "reason": "r", "ticket": "t",
                   "scope": {"kind": "practice"}, "access": "read", "duration_hours": 1})
        });
        let (status, text) = f.request(Some(&admin.token), method, &path, body).await;
        assert_eq!(status, 401, "member on {path}: {text}");
    }
    // A member's credentials are no staff member's.
    let (status, text) = f
        .request(
            None,
            Method::POST,
            "/v1/support/auth/sign-in",
            Some(json!({"email": seed::DEMO_EMAIL, "password": seed::DEMO_PASSWORD})),
        )
        .await;
    assert_eq!(
        (status, code_of(&text)),
        (StatusCode::UNAUTHORIZED, "invalid_credentials".into())
    );
    let (status, _) = f
        .request(
            None,
            Method::POST,
            "/v1/support/auth/sign-in",
            Some(json!({"email": "sam@support.example", "password": "not the password"})),
        )
        .await;
    assert_eq!(status, 401);
    // Nor are a staff member's a member's.
    assert_eq!(
        f.sign_in("sam@support.example", STAFF_PASSWORD)
            .await
            .status(),
        401
    );
    let kinds = f
        .texts("SELECT kind || ' ' || coalesce(actor, '-') FROM audit_log WHERE kind LIKE 'support_sign_in%' ORDER BY id")
        .await;
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    assert!(kinds[0].starts_with("support_sign_in staff:"));
    assert_eq!(kinds[1], "support_sign_in_failed -");
    assert!(kinds[2].starts_with("support_sign_in_failed staff:"));
    // The staff session is stored as a hash only.
    let hashes = f.texts("SELECT token_hash FROM support_sessions").await;
    assert_eq!(hashes, vec![strongroom_server::auth::token_hash(&staff)]);
    // Another staff member with the same email: refused by the operator command.
    let run = f
        .cli(
            &[
                "add-support-staff",
                "--email",
                "SAM@support.example",
                "--name",
                "Sam Again",
            ],
            &format!("{STAFF_PASSWORD}\n"),
        )
        .await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("exists already"), "{}", run.stderr);
    // Signing out ends the staff session at once; a member's token cannot sign staff out.
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::POST,
            "/v1/support/auth/sign-out",
            None,
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = f
        .request(
            Some(&staff),
            Method::POST,
            "/v1/support/auth/sign-out",
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = f
        .request(Some(&staff), Method::GET, "/v1/support/my-grants", None)
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        f.texts("SELECT kind FROM audit_log WHERE kind = 'support_sign_out'")
            .await
            .len(),
        1
    );
    f.server.stop().await;
}

/// Requests out of bounds are refused, naming the field, and nothing is stored.
pub async fn support_requests_are_validated(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let practice = f.demo_practice().await;
    let a = file_of("Atacama");
    let b = file_of("Bora");
    for r in a.iter().chain(&b) {
        assert_eq!(f.put_record(&admin, r).await.0, 201);
    }
    let restricted = b[1].key().1;
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::PUT,
            &format!("/v1/matters/{restricted}/access"),
            Some(json!({"restricted": true, "members": [admin.id]})),
        )
        .await;
    assert_eq!(status, 200);
    let staff = f.staff("sam@support.example").await;
    let good = json!({
        "practice_id": practice, "reason": "Why", "ticket": "SUP-1",
        "scope": {"kind": "matters", "matters": [a[1].key().1]},
        "access": "read", "duration_hours": 168,
    });
    let with = |key: &str, value: Value| {
        let mut v = good.clone();
        v[key] = value;
        v
    };
    let many: Vec<Uuid> = (0..51).map(|_| Uuid::new_v4()).collect();
    for (name, body, status, field) in [
        (
            "eight days",
            with("duration_hours", json!(169)),
            400,
            "duration_hours",
        ),
        (
            "no time",
            with("duration_hours", json!(0)),
            400,
            "duration_hours",
        ),
        ("empty reason", with("reason", json!("   ")), 400, "reason"),
        (
            "long reason",
            with("reason", json!("x".repeat(1001))),
            400,
            "reason",
        ),
        ("empty ticket", with("ticket", json!("")), 400, "ticket"),
        (
            "long ticket",
            with("ticket", json!("x".repeat(101))),
            400,
            "ticket",
        ),
        (
            "no matters",
            with("scope", json!({"kind": "matters", "matters": []})),
            400,
            "scope.matters",
        ),
        (
            "51 matters",
            with("scope", json!({"kind": "matters", "matters": many})),
            400,
            "scope.matters",
        ),
        (
            "unknown matter",
            with(
                "scope",
                json!({"kind": "matters", "matters": [Uuid::new_v4()]}),
            ),
            400,
            "scope.matters",
        ),
        (
            "restricted matter",
            with("scope", json!({"kind": "matters", "matters": [restricted]})),
            400,
            "scope.matters",
        ),
        (
            "a contact as matter",
            with(
                "scope",
                json!({"kind": "matters", "matters": [a[0].key().1]}),
            ),
            400,
            "scope.matters",
        ),
        ("unknown access", with("access", json!("admin")), 400, ""),
        (
            "unknown scope",
            with("scope", json!({"kind": "everything"})),
            400,
            "",
        ),
        (
            "unknown practice",
            with("practice_id", json!(Uuid::new_v4())),
            404,
            "",
        ),
    ] {
        let (got, text) = f
            .request(
                Some(&staff),
                Method::POST,
                "/v1/support/requests",
                Some(body),
            )
            .await;
        assert_eq!(got.as_u16(), status, "{name}: {text}");
        assert!(text.contains(field), "{name}: {text}");
        assert!(!code_of(&text).is_empty(), "{name}: {text}");
    }
    assert!(f.grants(&admin).await.is_empty());
    // Seven days exactly is allowed.
    let ok = f.ask(&staff, good).await;
    assert_eq!(ok.duration_hours, 168);
    assert_eq!(f.grants(&admin).await.len(), 1);
    f.server.stop().await;
}
