//! The records API, members, invitations and restricted matters, and the cross-tenant and
//! cross-role matrix over every route. Registered in `on_both_stores!` in `api.rs`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use strongroom_protocol::{
    Change, ChangeRecord, ChangesPage, Contact, ContactKind, Document, FileNote, Invitation,
    InvitationCreated, Member, Participant, RecordKind, Role, Task, TimeEntry,
};
use strongroom_server::api;
use strongroom_server::seed;
use uuid::Uuid;

use super::{Backend, Fixture, sample_matter};

pub(crate) const PASSWORD: &str = "Quayside-Ledger-7391-owl";

/// A signed-in member: token and id.
pub(crate) struct Who {
    pub(crate) token: String,
    pub(crate) id: Uuid,
}

impl Fixture {
    pub(crate) async fn request(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, String) {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        (resp.status(), resp.text().await.unwrap())
    }

    pub(crate) async fn demo_admin(&self) -> Who {
        let resp = self.sign_in(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
        let v: Value = resp.json().await.unwrap();
        Who {
            token: v["token"].as_str().unwrap().to_owned(),
            id: v["user"]["id"].as_str().unwrap().parse().unwrap(),
        }
    }

    /// Invites `email` with `role` as `admin`, accepts, and answers the new member.
    pub(crate) async fn member(&self, admin: &Who, email: &str, role: Role) -> Who {
        let (status, body) = self
            .request(
                Some(&admin.token),
                Method::POST,
                "/v1/invitations",
                Some(json!({"email": email, "role": role})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let created: InvitationCreated = serde_json::from_str(&body).unwrap();
        let (status, body) = self
            .request(
                None,
                Method::POST,
                "/v1/invitations/accept",
                Some(json!({
                    "token": created.token,
                    "display_name": email.split('@').next().unwrap(),
                    "password": PASSWORD,
                    "device_name": "test",
                })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["user"]["role"], json!(role));
        Who {
            token: v["token"].as_str().unwrap().to_owned(),
            id: v["user"]["id"].as_str().unwrap().parse().unwrap(),
        }
    }

    pub(crate) async fn put_record(
        &self,
        who: &Who,
        record: &ChangeRecord,
    ) -> (StatusCode, String) {
        let (kind, id) = record.key();
        let body: Value = serde_json::from_str(&record.body_json().unwrap()).unwrap();
        self.request(
            Some(&who.token),
            Method::PUT,
            &format!("/v1/records/{}/{id}", kind.as_str()),
            Some(body),
        )
        .await
    }

    /// Everything `who` pulls from the feed.
    /// Everything `who` pulls from the feed. The first request also asks how many changes
    /// wait (`count=true`): the count must be exactly what the pulls then deliver, whatever
    /// `who` may or may not see.
    pub(crate) async fn pull_all(&self, who: &Who) -> Vec<Change> {
        let mut out = Vec::new();
        let mut cursor = 0;
        let mut total = None;
        loop {
            let count = if total.is_none() { "&count=true" } else { "" };
            let page: ChangesPage = self
                .changes(&who.token, &format!("?after={cursor}&limit=5000{count}"))
                .await
                .json()
                .await
                .unwrap();
            if total.is_none() {
                total = Some(page.total.expect("count=true answers a total"));
            } else {
                assert_eq!(page.total, None, "no total unless asked");
            }
            out.extend(page.changes);
            cursor = page.cursor;
            if !page.has_more {
                assert_eq!(
                    total,
                    Some(out.len() as u64),
                    "the count is what is delivered"
                );
                return out;
            }
        }
    }
}

/// A matter with one record of every other kind on it, all carrying `canary` in a field.
pub(crate) fn file_of(canary: &str) -> Vec<ChangeRecord> {
    let mut matter = sample_matter("C-1");
    matter.title = format!("{canary} matter");
    let m = matter.id;
    let contact = Contact {
        id: Uuid::new_v4(),
        kind: ContactKind::Person,
        name: format!("{canary} contact"),
        email: Some("client@example.com".into()),
        phone: None,
        address: None,
    };
    vec![
        ChangeRecord::Matter { matter },
        ChangeRecord::Participant {
            participant: Participant {
                id: Uuid::new_v4(),
                matter_id: m,
                contact_id: contact.id,
                role: "Client".into(),
            },
        },
        ChangeRecord::FileNote {
            file_note: FileNote {
                id: Uuid::new_v4(),
                matter_id: m,
                author: "Priya Raman".into(),
                written_at: "2026-11-27T09:30:00Z".into(),
                subject: "Call".into(),
                body: format!("{canary} note body"),
            },
        },
        ChangeRecord::Task {
            task: Task {
                id: Uuid::new_v4(),
                matter_id: m,
                title: format!("{canary} task"),
                due_on: Some("2026-12-01".into()),
                assignee: None,
                done: false,
            },
        },
        ChangeRecord::TimeEntry {
            time_entry: TimeEntry {
                id: Uuid::new_v4(),
                matter_id: m,
                worked_on: "2026-11-27".into(),
                minutes: 18,
                rate_cents: 45_000,
                billable: true,
                narrative: format!("{canary} time"),
                author: "Priya Raman".into(),
            },
        },
        ChangeRecord::Document {
            document: Document {
                id: Uuid::new_v4(),
                matter_id: m,
                name: format!("{canary}.pdf"),
                folder: "Drafts".into(),
                size_bytes: 1234,
                content_hash: "ab".repeat(32),
            },
        },
    ]
    .into_iter()
    // The contact must exist before the participant names it.
    .fold(vec![ChangeRecord::Contact { contact }], |mut v, r| {
        v.push(r);
        v
    })
}

/// Every kind of record is created with `PUT`, read back the same with its version as
/// the `ETag`, replaced only at the version named, listed, and deleted with tombstones;
/// rules and references are enforced with errors that name the field and echo nothing.
pub async fn records_of_every_kind_round_trip_with_versions(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let records = file_of("Zanzibar");
    for r in &records {
        let (status, body) = f.put_record(&admin, r).await;
        assert_eq!(status, 201, "{body}");
        let change: Change = serde_json::from_str(&body).unwrap();
        assert_eq!((&change.record, change.version), (r, 1));
        let (kind, id) = r.key();
        let resp = f
            .http
            .get(f.url(&format!("/v1/records/{}/{id}", kind.as_str())))
            .bearer_auth(&admin.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["etag"], "\"1\"");
        let got: Change = resp.json().await.unwrap();
        assert_eq!(&got.record, r);
    }
    let ChangeRecord::Matter { matter } = &records[1] else {
        panic!()
    };
    let path = format!("/v1/records/matter/{}", matter.id);
    let mut renamed = matter.clone();
    renamed.title = "Renamed".into();
    let put = |tag: (&'static str, &'static str)| {
        f.http
            .put(f.url(&path))
            .bearer_auth(&admin.token)
            .header(tag.0, tag.1)
            .json(&renamed)
    };
    let resp = put(("if-match", "\"7\"")).send().await.unwrap();
    assert_eq!(resp.status(), 412);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["code"],
        "version_conflict"
    );
    assert_eq!(
        put(("if-none-match", "*")).send().await.unwrap().status(),
        412
    );
    let resp = put(("if-match", "\"1\"")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["etag"], "\"2\"");
    // The same tag again is now stale: nothing is lost to a second writer.
    assert_eq!(
        put(("if-match", "\"1\"")).send().await.unwrap().status(),
        412
    );

    // Lists: by kind, by matter.
    let (status, body) = f
        .request(
            Some(&admin.token),
            Method::GET,
            &format!("/v1/records/file_note?matter={}", matter.id),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let page: ChangesPage = serde_json::from_str(&body).unwrap();
    assert_eq!(page.changes.len(), 1);
    assert_eq!(page.changes[0].record, records[3]);

    // Rules: the field is named, the value never echoed.
    let mut bad = matter.clone();
    bad.opened_on = "Secret-Opened-Value".into();
    let (status, body) = f
        .put_record(&admin, &ChangeRecord::Matter { matter: bad })
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains("opened_on") && !body.contains("Secret-Opened-Value"),
        "{body}"
    );
    let (status, body) = f
        .request(
            Some(&admin.token),
            Method::PUT,
            &path,
            Some(json!({"id": matter.id, "title": 12, "number": "Secret-Number-Value"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(!body.contains("Secret-Number-Value"), "{body}");
    // The path's id is the record's.
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::PUT,
            &format!("/v1/records/matter/{}", Uuid::new_v4()),
            Some(serde_json::to_value(matter).unwrap()),
        )
        .await;
    assert_eq!(status, 422);
    // References: a participant needs its contact, a note its matter.
    let ChangeRecord::Participant { participant } = &records[2] else {
        panic!()
    };
    let orphan = Participant {
        id: Uuid::new_v4(),
        contact_id: Uuid::new_v4(),
        ..participant.clone()
    };
    let (status, body) = f
        .put_record(
            &admin,
            &ChangeRecord::Participant {
                participant: orphan,
            },
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("contact_id"), "{body}");
    // A contact on a matter stays.
    let ChangeRecord::Contact { contact } = &records[0] else {
        panic!()
    };
    let (status, body) = f
        .request(
            Some(&admin.token),
            Method::DELETE,
            &format!("/v1/records/contact/{}", contact.id),
            None,
        )
        .await;
    assert_eq!(status, 409, "{body}");
    // Unknown kinds and ids are 404s, not 5xx.
    for p in ["/v1/records/spaceship", "/v1/records/matter/not-a-uuid"] {
        assert_eq!(
            f.request(Some(&admin.token), Method::GET, p, None).await.0,
            404
        );
    }

    // Deleting the matter deletes its records, each with a tombstone after it in the feed.
    let before = f.pull_all(&admin).await.last().unwrap().seq;
    let (status, _) = f
        .request(Some(&admin.token), Method::DELETE, &path, None)
        .await;
    assert_eq!(status, 204);
    let after: Vec<Change> = f
        .pull_all(&admin)
        .await
        .into_iter()
        .filter(|c| c.seq > before)
        .collect();
    let mut gone: Vec<(RecordKind, Uuid)> = after.iter().map(|c| c.record.key()).collect();
    gone.sort_by_key(|k| k.1);
    let mut want: Vec<(RecordKind, Uuid)> = records[1..].iter().map(|r| r.key()).collect();
    want.sort_by_key(|k| k.1);
    assert_eq!(gone, want);
    assert!(
        after
            .iter()
            .all(|c| matches!(c.record, ChangeRecord::Deleted { .. }))
    );
    assert_eq!(
        after.last().unwrap().record.key(),
        (RecordKind::Matter, matter.id),
        "the matter's tombstone comes last"
    );
    assert_eq!(
        f.request(Some(&admin.token), Method::GET, &path, None)
            .await
            .0,
        404
    );
    // Now the contact can go.
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::DELETE,
            &format!("/v1/records/contact/{}", contact.id),
            None,
        )
        .await;
    assert_eq!(status, 204);
    f.server.stop().await;
}

/// A restricted matter and everything on it are invisible to members not named, admins
/// included, in the feed, lists and reads, and cannot be written by them; the named
/// member sees all of it.
pub async fn restricted_matters_are_invisible_to_everyone_not_named(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let named = f
        .member(&admin, "named@harbourvine.example", Role::Lawyer)
        .await;
    let other = f
        .member(&admin, "other@harbourvine.example", Role::Lawyer)
        .await;
    let records = file_of("Kilimanjaro");
    for r in &records {
        assert_eq!(f.put_record(&admin, r).await.0, 201);
    }
    let matter_id = records[1].key().1;
    let (status, body) = f
        .request(
            Some(&admin.token),
            Method::PUT,
            &format!("/v1/matters/{matter_id}/access"),
            Some(json!({"restricted": true, "members": [named.id]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = f
        .request(
            Some(&admin.token),
            Method::GET,
            &format!("/v1/matters/{matter_id}/access"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"restricted": true, "members": [named.id]})
    );

    for (who, sees) in [(&named, true), (&other, false), (&admin, false)] {
        let feed = f.pull_all(who).await;
        let on_it = feed
            .iter()
            .filter(|c| {
                c.record.matter_id() == Some(matter_id)
                    && !matches!(c.record, ChangeRecord::Revoked { .. })
            })
            .count();
        assert_eq!(on_it, if sees { 6 } else { 0 }, "feed");
        // Those shut out are told, so their devices remove it; the named member is not.
        let told = feed
            .iter()
            .any(|c| c.record == ChangeRecord::Revoked { matter_id });
        assert_eq!(told, !sees, "revocation in the feed");
        for r in &records[1..] {
            let (kind, id) = r.key();
            let (status, body) = f
                .request(
                    Some(&who.token),
                    Method::GET,
                    &format!("/v1/records/{}/{id}", kind.as_str()),
                    None,
                )
                .await;
            assert_eq!(status == 200, sees, "{} {status}", kind.as_str());
            if sees {
                assert_eq!(&serde_json::from_str::<Change>(&body).unwrap().record, r);
            } else {
                assert!(!body.contains("Kilimanjaro"), "{body}");
            }
            let (_, body) = f
                .request(
                    Some(&who.token),
                    Method::GET,
                    &format!("/v1/records/{}", kind.as_str()),
                    None,
                )
                .await;
            let listed = serde_json::from_str::<ChangesPage>(&body)
                .unwrap()
                .changes
                .iter()
                .any(|c| c.record.key().1 == id);
            assert_eq!(listed, sees, "list of {}", kind.as_str());
        }
    }
    // The contact is practice-wide: everyone sees it.
    assert!(
        f.pull_all(&other)
            .await
            .iter()
            .any(|c| c.record == records[0])
    );
    // Writes from outside the wall fail without saying why.
    let mut note = records[3].clone();
    if let ChangeRecord::FileNote { file_note } = &mut note {
        file_note.body = "written from outside".into();
    }
    assert_eq!(f.put_record(&other, &note).await.0, 404);
    let fresh_note = match &records[3] {
        ChangeRecord::FileNote { file_note } => ChangeRecord::FileNote {
            file_note: FileNote {
                id: Uuid::new_v4(),
                ..file_note.clone()
            },
        },
        _ => panic!(),
    };
    assert_eq!(f.put_record(&other, &fresh_note).await.0, 422);
    assert_eq!(
        f.request(
            Some(&other.token),
            Method::DELETE,
            &format!("/v1/records/matter/{matter_id}"),
            None
        )
        .await
        .0,
        404
    );
    // The named member writes.
    assert_eq!(f.put_record(&named, &fresh_note).await.0, 201);
    let cursor_before_reopen = f.pull_all(&other).await.last().unwrap().seq;
    // Opened again, everyone sees it.
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::PUT,
            &format!("/v1/matters/{matter_id}/access"),
            Some(json!({"restricted": false})),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        f.pull_all(&other)
            .await
            .iter()
            .any(|c| c.record == records[1])
    );
    // A member let back in gets the matter and its records again after their cursor.
    let page: ChangesPage = f
        .changes(
            &other.token,
            &format!("?after={cursor_before_reopen}&limit=5000"),
        )
        .await
        .json()
        .await
        .unwrap();
    let back: Vec<_> = page.changes.iter().map(|c| c.record.key()).collect();
    for r in &records[1..] {
        assert!(back.contains(&r.key()), "{:?} not sent again", r.key());
    }
    assert_eq!(
        back[0],
        records[1].key(),
        "the matter comes before its records"
    );
    // Only admins manage access; a stranger's id is refused.
    assert_eq!(
        f.request(
            Some(&named.token),
            Method::PUT,
            &format!("/v1/matters/{matter_id}/access"),
            Some(json!({"restricted": false})),
        )
        .await
        .0,
        403
    );
    assert_eq!(
        f.request(
            Some(&admin.token),
            Method::PUT,
            &format!("/v1/matters/{matter_id}/access"),
            Some(json!({"restricted": true, "members": [Uuid::new_v4()]})),
        )
        .await
        .0,
        422
    );
    f.server.stop().await;
}

/// Read-only members read and never write; admins change roles; disabling a member ends
/// their sessions at once; the practice keeps an enabled admin.
pub async fn roles_and_disabling_members(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let reader = f
        .member(&admin, "reader@harbourvine.example", Role::ReadOnly)
        .await;
    let records = file_of("Serengeti");
    for r in &records {
        assert_eq!(f.put_record(&admin, r).await.0, 201);
        let (kind, id) = r.key();
        assert_eq!(f.put_record(&reader, r).await.0, 403);
        let path = format!("/v1/records/{}/{id}", kind.as_str());
        assert_eq!(
            f.request(Some(&reader.token), Method::GET, &path, None)
                .await
                .0,
            200
        );
        assert_eq!(
            f.request(Some(&reader.token), Method::DELETE, &path, None)
                .await
                .0,
            403
        );
    }
    for (method, path) in [
        (Method::GET, "/v1/members"),
        (Method::GET, "/v1/invitations"),
    ] {
        assert_eq!(
            f.request(Some(&reader.token), method, path, None).await.0,
            403
        );
    }
    // Promote the reader to lawyer: they write.
    let (status, body) = f
        .request(
            Some(&admin.token),
            Method::PATCH,
            &format!("/v1/members/{}", reader.id),
            Some(json!({"role": "lawyer"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Member>(&body).unwrap().role,
        Role::Lawyer
    );
    let mut note = records[3].clone();
    if let ChangeRecord::FileNote { file_note } = &mut note {
        file_note.subject = "Edited by the lawyer".into();
    }
    assert_eq!(f.put_record(&reader, &note).await.0, 200);
    // Disable: the very next request fails, and so does signing in.
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::PATCH,
            &format!("/v1/members/{}", reader.id),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(f.changes(&reader.token, "").await.status(), 401);
    assert_eq!(
        f.sign_in("reader@harbourvine.example", PASSWORD)
            .await
            .status(),
        401
    );
    // The only admin can neither demote nor disable themself.
    for change in [json!({"role": "lawyer"}), json!({"disabled": true})] {
        let (status, body) = f
            .request(
                Some(&admin.token),
                Method::PATCH,
                &format!("/v1/members/{}", admin.id),
                Some(change),
            )
            .await;
        assert_eq!(status, 409, "{body}");
    }
    let (_, body) = f
        .request(Some(&admin.token), Method::GET, "/v1/members", None)
        .await;
    let members: Vec<Member> = serde_json::from_str(&body).unwrap();
    let me = members.iter().find(|m| m.id == admin.id).unwrap();
    assert_eq!((me.role, me.disabled), (Role::Admin, false));
    let them = members.iter().find(|m| m.id == reader.id).unwrap();
    assert_eq!((them.role, them.disabled), (Role::Lawyer, true));
    // Changing a role is sensitive: an old sign-in must prove itself again first.
    f.raw_sql("UPDATE sessions SET reauth_at = reauth_at - 3600, created_at = created_at - 3600")
        .await
        .unwrap();
    let promote = json!({"role": "admin"});
    let path = format!("/v1/members/{}", reader.id);
    let (status, body) = f
        .request(
            Some(&admin.token),
            Method::PATCH,
            &path,
            Some(promote.clone()),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("reauth_required"), "{body}");
    let (status, body) = f
        .request(
            Some(&admin.token),
            Method::POST,
            "/v1/auth/reauth",
            Some(json!({"password": seed::DEMO_PASSWORD})),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    let (status, body) = f
        .request(Some(&admin.token), Method::PATCH, &path, Some(promote))
        .await;
    assert_eq!(status, 200, "{body}");
    // Changes are audited and the chain holds.
    let (_, body) = f
        .request(Some(&admin.token), Method::GET, "/v1/audit/verify", None)
        .await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["status"],
        "intact"
    );
    f.server.stop().await;
}

/// An invitation works once, before it expires, unless withdrawn; only admins invite.
pub async fn invitations_work_once_and_expire(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let invite = |email: &'static str| {
        let token = admin.token.clone();
        let f = &f;
        async move {
            let (status, body) = f
                .request(
                    Some(&token),
                    Method::POST,
                    "/v1/invitations",
                    Some(json!({"email": email, "role": "lawyer"})),
                )
                .await;
            assert_eq!(status, 201, "{body}");
            serde_json::from_str::<InvitationCreated>(&body).unwrap()
        }
    };
    let accept = |token: String| {
        let f = &f;
        async move {
            f.request(
                None,
                Method::POST,
                "/v1/invitations/accept",
                Some(json!({"token": token, "display_name": "New Person", "password": PASSWORD})),
            )
            .await
        }
    };
    let used = invite("used@harbourvine.example").await;
    assert_eq!(accept(used.token.clone()).await.0, 200);
    assert_eq!(accept(used.token.clone()).await.0, 404);
    // The invitee is a member now: a second invitation for them is refused.
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::POST,
            "/v1/invitations",
            Some(json!({"email": "USED@harbourvine.example", "role": "lawyer"})),
        )
        .await;
    assert_eq!(status, 409);

    let withdrawn = invite("withdrawn@harbourvine.example").await;
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::DELETE,
            &format!("/v1/invitations/{}", withdrawn.invitation.id),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(accept(withdrawn.token.clone()).await.0, 404);

    let late = invite("late@harbourvine.example").await;
    f.raw_sql("UPDATE invitations SET expires_at = 1000 WHERE email = 'late@harbourvine.example'")
        .await
        .unwrap();
    assert_eq!(accept(late.token.clone()).await.0, 404);
    assert_eq!(accept("not-a-token".into()).await.0, 404);
    // A weak password is refused and the invitation stays usable.
    let fresh = invite("fresh@harbourvine.example").await;
    let (status, _) = f
        .request(
            None,
            Method::POST,
            "/v1/invitations/accept",
            Some(
                json!({"token": fresh.token, "display_name": "Fresh", "password": "password1234"}),
            ),
        )
        .await;
    assert_eq!(status, 400);
    let (_, body) = f
        .request(Some(&admin.token), Method::GET, "/v1/invitations", None)
        .await;
    let list: Vec<Invitation> = serde_json::from_str(&body).unwrap();
    let status_of = |email: &str| {
        list.iter()
            .find(|i| i.email == email)
            .map(|i| serde_json::to_value(i.status).unwrap())
            .unwrap()
    };
    assert_eq!(status_of("used@harbourvine.example"), "accepted");
    assert_eq!(status_of("withdrawn@harbourvine.example"), "revoked");
    assert_eq!(status_of("late@harbourvine.example"), "expired");
    assert_eq!(status_of("fresh@harbourvine.example"), "pending");
    assert!(!body.contains(&fresh.token), "tokens are shown once");
    assert_eq!(accept(fresh.token).await.0, 200);
    f.server.stop().await;
}

/// Every route, called by someone who must not get through: another practice's admin with
/// this practice's ids, a read-only member, a lawyer walled off a restricted matter, a
/// support staff member whose request still waits, and an app whose token may only read.
/// No call changes the practice (its feed, members, invitations and access stay as they
/// were), and no answer carries the practice's or the restricted matter's content.
pub async fn the_route_matrix_lets_no_stranger_through(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let reader = f
        .member(&admin, "reader@harbourvine.example", Role::ReadOnly)
        .await;
    let walled = f
        .member(&admin, "walled@harbourvine.example", Role::Lawyer)
        .await;
    let named = f
        .member(&admin, "named@harbourvine.example", Role::Lawyer)
        .await;
    let records = file_of("Atacama");
    for r in &records {
        assert_eq!(f.put_record(&admin, r).await.0, 201);
    }
    let matter_id = records[1].key().1;
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::PUT,
            &format!("/v1/matters/{matter_id}/access"),
            Some(json!({"restricted": true, "members": [named.id]})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = f
        .request(
            Some(&admin.token),
            Method::POST,
            "/v1/invitations",
            Some(json!({"email": "pending@harbourvine.example", "role": "admin"})),
        )
        .await;
    assert_eq!(status, 201);
    let invitation = serde_json::from_str::<InvitationCreated>(&body)
        .unwrap()
        .invitation
        .id;
    // Another practice and its admin.
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
    let outsider = Who {
        token: f.token("admin@elsewhere.example", PASSWORD).await,
        id: Uuid::nil(),
    };

    let practice = store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .practice_id;
    // Support staff with a request still waiting, and an app that may only read.
    let staff = Who {
        token: f.staff("sam@support.example").await,
        id: Uuid::nil(),
    };
    let grant = f
        .ask(
            &staff.token,
            json!({
                "practice_id": practice.0, "reason": "matrix", "ticket": "M-1",
                "scope": {"kind": "practice"}, "access": "read_write", "duration_hours": 1,
            }),
        )
        .await
        .id;
    let app = f
        .integration(&admin, "Matrix app", json!(["records:read"]))
        .await;
    let app_who = Who {
        token: app.token.clone(),
        id: Uuid::nil(),
    };
    let snapshot = |f: &Fixture| {
        let store = f.server.store.clone();
        async move {
            let feed = store
                .changes_after(
                    practice,
                    strongroom_server::store::records::Viewer::Service,
                    0,
                    5000,
                )
                .await
                .unwrap();
            let members = store.members(practice).await.unwrap();
            let invitations = store.invitations(practice, 0).await.unwrap();
            let access = store.matter_access(practice, matter_id).await.unwrap();
            let grants = store.practice_grants(practice).await.unwrap();
            // An app's reads move its counters; what it holds must not change.
            let apps: Vec<_> = store
                .integrations(practice)
                .await
                .unwrap()
                .into_iter()
                .map(|i| (i.id, i.scopes, i.revoked_at))
                .collect();
            format!("{feed:?}{members:?}{invitations:?}{access:?}{grants:?}{apps:?}")
        }
    };
    let before = snapshot(&f).await;

    // What only the named member may see: the restricted matter's own content.
    const WALLED: [&str; 5] = [
        "Atacama matter",
        "Atacama note",
        "Atacama task",
        "Atacama time",
        "Atacama.pdf",
    ];
    let walled_ids: Vec<(RecordKind, Uuid)> = records[1..].iter().map(|r| r.key()).collect();
    let all_ids: Vec<(RecordKind, Uuid)> = records.iter().map(|r| r.key()).collect();
    let mut calls = 0;
    for (name, who, ids, secrets) in [
        ("outsider", &outsider, &all_ids, &["Atacama", "Harbour"][..]),
        ("reader", &reader, &all_ids, &WALLED[..]),
        ("walled", &walled, &walled_ids, &WALLED[..]),
        ("staff", &staff, &all_ids, &["Atacama", "Harbour"][..]),
        ("app", &app_who, &all_ids, &WALLED[..]),
    ] {
        for (verb, path) in api::served_routes() {
            if path == "/v1/auth/sign-out" || path == "/v1/support/auth/sign-out" {
                continue; // ends the caller's own session only, tested elsewhere
            }
            if path == "/v1/sync/events" && !matches!(name, "staff" | "app") {
                // A stream that stays open: its first event must say nothing but "pull".
                let mut events =
                    super::live::EventStream::open(&f.http, f.url(path), &who.token).await;
                let first = events.next(std::time::Duration::from_secs(5)).await;
                assert_eq!(first, super::live::Next::Event("changed".into()), "{name}");
                calls += 1;
                continue;
            }
            let mut targets = Vec::new();
            if path.contains("{kind}") {
                for (kind, id) in ids {
                    let body = records
                        .iter()
                        .find(|r| r.key().1 == *id)
                        .and_then(|r| r.body_json())
                        .map(|b| b.replace("Atacama", "Overwritten"));
                    targets.push((
                        path.replace("{kind}", kind.as_str())
                            .replace("{practice_id}", &practice.0.to_string())
                            .replace("{id}", &id.to_string()),
                        body.map(|b| serde_json::from_str::<Value>(&b).unwrap()),
                    ));
                }
            } else if path.starts_with("/v1/matters/") {
                targets.push((
                    path.replace("{id}", &matter_id.to_string()),
                    Some(json!({"restricted": false})),
                ));
            } else if path.starts_with("/v1/members/") {
                for id in [admin.id, named.id] {
                    targets.push((
                        path.replace("{id}", &id.to_string()),
                        Some(json!({"role": "read_only", "disabled": true})),
                    ));
                }
            } else if path.starts_with("/v1/support/grants/") {
                targets.push((path.replace("{id}", &grant.to_string()), None));
            } else if path == "/v1/integrations/{id}" {
                targets.push((path.replace("{id}", &app.integration.id.to_string()), None));
            } else if path == "/v1/invitations/{id}" {
                targets.push((path.replace("{id}", &invitation.to_string()), None));
            } else if path == "/v1/invitations" {
                targets.push((
                    path.to_owned(),
                    Some(json!({"email": "mole@evil.example", "role": "admin"})),
                ));
            } else {
                targets.push((path.to_owned(), Some(json!({}))));
            }
            for (url, body) in targets {
                let method: Method = verb.as_str().to_uppercase().parse().unwrap();
                let body = if method == Method::GET || method == Method::DELETE {
                    None
                } else {
                    body
                };
                let (status, text) = f.request(Some(&who.token), method, &url, body).await;
                calls += 1;
                assert!(!status.is_server_error(), "{name} {verb:?} {url}: {status}");
                for secret in secrets {
                    assert!(
                        !text.contains(secret),
                        "{name} {verb:?} {url} ({status}) saw {secret:?}: {text}"
                    );
                }
            }
        }
    }
    assert!(calls > 50, "{calls} calls");
    assert_eq!(snapshot(&f).await, before, "nothing changed");
    // The named member and the admin still get through, so the matrix was not refused
    // wholesale.
    let feed = f.pull_all(&named).await;
    assert!(feed.iter().any(|c| c.record == records[1]));
    let (status, _) = f
        .request(Some(&admin.token), Method::GET, "/v1/members", None)
        .await;
    assert_eq!(status, 200);
    f.server.stop().await;
}

/// Hostile record bodies and paths: every one is a 4xx problem, never a 5xx, and nothing
/// is written.
pub async fn hostile_record_writes_get_4xx_never_5xx(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let before = f.pull_all(&admin).await.len();
    let id = Uuid::new_v4();
    let huge = "x".repeat(2 * 1024 * 1024);
    let matter = serde_json::to_value(sample_matter("H-1")).unwrap();
    let with = |key: &str, value: Value| {
        let mut m = matter.clone();
        m[key] = value;
        m["id"] = json!(id);
        m
    };
    let bodies: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("not json", "{{{".into()),
        ("array", "[1,2,3]".into()),
        ("null", "null".into()),
        ("string", "\"matter\"".into()),
        ("deep nesting", "[".repeat(10_000) + &"]".repeat(10_000)),
        ("huge", format!("{{\"title\":\"{huge}\"}}")),
        ("wrong types", with("opened_on", json!(12)).to_string()),
        (
            "negative status",
            with("status", json!("deleted")).to_string(),
        ),
        ("nul in title", with("title", json!("a\u{0}b")).to_string()),
        ("bidi only", with("title", json!("\u{202e}")).to_string()),
        (
            "custom fields not strings",
            with("custom_fields", json!({"a": {"b": 1}})).to_string(),
        ),
        ("big number", with("opened_on", json!(1e308)).to_string()),
        ("lone surrogate", r#"{"title":"\ud800"}"#.into()),
    ];
    for (name, body) in bodies {
        let resp = f
            .http
            .put(f.url(&format!("/v1/records/matter/{id}")))
            .bearer_auth(&admin.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        assert!(status.is_client_error(), "{name}: {status}");
        let problem: Value = resp.json().await.unwrap();
        assert!(problem["code"].is_string(), "{name}: {problem}");
    }
    for (method, path) in [
        (
            Method::PUT,
            format!("/v1/records/matter/{}", "9".repeat(5000)),
        ),
        (Method::GET, "/v1/records/matter?limit=0".to_owned()),
        (Method::GET, "/v1/records/matter?limit=999999".to_owned()),
        (Method::GET, "/v1/records/matter?after=-1".to_owned()),
        (Method::GET, "/v1/records/matter?matter=nope".to_owned()),
        (Method::DELETE, format!("/v1/records/matter/{id}")),
        (Method::PATCH, format!("/v1/members/{id}")),
        (Method::PUT, format!("/v1/matters/{id}/access")),
    ] {
        let (status, body) = f
            .request(Some(&admin.token), method.clone(), &path, Some(json!({})))
            .await;
        assert!(status.is_client_error(), "{method} {path}: {status} {body}");
    }
    let resp = f
        .http
        .put(f.url(&format!("/v1/records/matter/{id}")))
        .bearer_auth(&admin.token)
        .header("if-match", "\"not a number\"")
        .json(&with("title", json!("Fine")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        f.pull_all(&admin).await.len(),
        before,
        "nothing was written"
    );
    f.server.stop().await;
}

/// A session past its absolute lifetime, or idle too long, fails on its very next request,
/// whatever the route; a fresh sign-in works.
pub async fn an_expired_or_idle_session_fails_on_its_next_request(backend: Backend) {
    let f = Fixture::new(backend).await;
    for (label, sql) in [
        (
            "absolute",
            "UPDATE sessions SET expires_at = 1000, created_at = 900, last_seen_at = 950",
        ),
        ("idle", "UPDATE sessions SET last_seen_at = 1000"),
    ] {
        let admin = f.demo_admin().await;
        let (status, _) = f
            .request(Some(&admin.token), Method::GET, "/v1/sync/changes", None)
            .await;
        assert_eq!(status, 200, "{label}: live at first");
        f.raw_sql(sql).await.unwrap();
        for (method, path) in [
            (Method::GET, "/v1/sync/changes"),
            (Method::GET, "/v1/records/matter"),
            (Method::GET, "/v1/sessions"),
            (Method::GET, "/v1/members"),
        ] {
            let (status, body) = f
                .request(Some(&admin.token), method.clone(), path, None)
                .await;
            assert_eq!(status, 401, "{label} {method} {path}: {body}");
            assert!(body.contains("unauthenticated"), "{body}");
        }
    }
    f.server.stop().await;
}
