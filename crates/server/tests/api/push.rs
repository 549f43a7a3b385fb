//! Push: devices' mutations applied once and merged per field, conflicts held with both
//! sides and resolved by their member, retries answered the same, and hostile or
//! unauthorised pushes refused per mutation. Registered in `on_both_stores!` in `api.rs`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use strongroom_protocol::{
    AppliedAt, Change, ChangeRecord, ConflictKind, ConflictValues, FileNote, MutationOutcome,
    PushResponse, RecordKind, Role, SyncConflict,
};
use strongroom_server::store::records::Viewer;
use uuid::Uuid;

use super::access::{Who, file_of};
use super::{Backend, Fixture};

impl Fixture {
    /// `who` pushes `mutations` from `device`: the status and the body.
    async fn push(&self, who: &Who, device: Uuid, mutations: Value) -> (StatusCode, String) {
        self.request(
            Some(&who.token),
            Method::POST,
            "/v1/sync/push",
            Some(json!({"device_id": device, "mutations": mutations})),
        )
        .await
    }

    /// A push that must succeed: its results.
    async fn pushed(&self, who: &Who, device: Uuid, mutations: Value) -> Vec<MutationOutcome> {
        let (status, body) = self.push(who, device, mutations).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<PushResponse>(&body)
            .unwrap()
            .results
            .into_iter()
            .map(|r| r.outcome)
            .collect()
    }

    /// The live file note, if `who` may see it.
    async fn note(&self, who: &Who, id: Uuid) -> Option<(FileNote, i64)> {
        let (status, body) = self
            .request(
                Some(&who.token),
                Method::GET,
                &format!("/v1/records/file_note/{id}"),
                None,
            )
            .await;
        if status == 404 {
            return None;
        }
        assert_eq!(status, 200, "{body}");
        let change: Change = serde_json::from_str(&body).unwrap();
        match change.record {
            ChangeRecord::FileNote { file_note } => Some((file_note, change.version)),
            other => panic!("{other:?}"),
        }
    }

    async fn conflicts(&self, who: &Who) -> Vec<SyncConflict> {
        let (status, body) = self
            .request(Some(&who.token), Method::GET, "/v1/sync/conflicts", None)
            .await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    async fn resolve(&self, who: &Who, id: Uuid, resolution: Value) -> (StatusCode, String) {
        self.request(
            Some(&who.token),
            Method::POST,
            &format!("/v1/sync/conflicts/{id}/resolve"),
            Some(resolution),
        )
        .await
    }

    /// The feed's last sequence number as the service sees it.
    async fn last_seq(&self) -> i64 {
        let store = &self.server.store;
        let practice = store
            .user_by_email(strongroom_server::seed::DEMO_EMAIL)
            .await
            .unwrap()
            .unwrap()
            .practice_id;
        let mut cursor = 0;
        loop {
            let page = store
                .changes_after(practice, Viewer::Service, cursor, 5000)
                .await
                .unwrap();
            cursor = page.cursor;
            if !page.has_more {
                return cursor;
            }
        }
    }

    /// A matter with a file note on it (and more), written by `admin`: the note.
    async fn file_with_note(&self, admin: &Who, canary: &str) -> (Vec<ChangeRecord>, FileNote) {
        let records = file_of(canary);
        for r in &records {
            assert_eq!(self.put_record(admin, r).await.0, 201);
        }
        let ChangeRecord::FileNote { file_note } = &records[3] else {
            panic!()
        };
        let note = file_note.clone();
        (records, note)
    }
}

fn upsert(seq: i64, id: Uuid, base: Option<i64>, fields: Value) -> Value {
    json!({"mutation_seq": seq, "kind": "file_note", "record_id": id, "base_version": base,
           "op": "upsert", "fields": fields})
}

fn delete(seq: i64, kind: RecordKind, id: Uuid, base: Option<i64>) -> Value {
    json!({"mutation_seq": seq, "kind": kind, "record_id": id, "base_version": base,
           "op": "delete"})
}

fn applied(outcome: &MutationOutcome) -> AppliedAt {
    match outcome {
        MutationOutcome::Applied { seq, version } => AppliedAt {
            seq: *seq,
            version: *version,
        },
        other => panic!("not applied: {other:?}"),
    }
}

fn conflict(outcome: &MutationOutcome) -> (SyncConflict, Option<AppliedAt>) {
    match outcome {
        MutationOutcome::Conflict { conflict, applied } => (conflict.clone(), *applied),
        other => panic!("not a conflict: {other:?}"),
    }
}

fn rejected(outcome: &MutationOutcome) -> (String, String) {
    match outcome {
        MutationOutcome::Rejected { code, detail } => (
            serde_json::to_value(code)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned(),
            detail.clone(),
        ),
        other => panic!("not rejected: {other:?}"),
    }
}

fn mine_theirs(mine: &str, theirs: &str) -> ConflictValues {
    ConflictValues {
        mine: json!(mine),
        theirs: json!(theirs),
    }
}

/// Two devices edit one file note from the same base: different fields both apply and
/// merge; the same field is a conflict holding both values, the first device's value
/// stands, and what did not clash in the same edit is applied.
pub async fn edits_to_different_fields_merge_and_the_same_field_conflicts(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let lawyer = f
        .member(&admin, "lawyer@harbourvine.example", Role::Lawyer)
        .await;
    let (_, note) = f.file_with_note(&admin, "Merge").await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());

    let r = f
        .pushed(
            &admin,
            a,
            json!([upsert(1, note.id, Some(1), json!({"subject": "From A"}))]),
        )
        .await;
    assert_eq!(applied(&r[0]).version, 2);
    let r = f
        .pushed(
            &lawyer,
            b,
            json!([upsert(1, note.id, Some(1), json!({"body": "From B"}))]),
        )
        .await;
    let at = applied(&r[0]);
    assert_eq!(at.version, 3);
    let (merged, version) = f.note(&admin, note.id).await.unwrap();
    assert_eq!(
        (merged.subject.as_str(), merged.body.as_str(), version),
        ("From A", "From B", 3),
        "both edits are in"
    );

    // The same field, from the old base: a conflict; A's value stands.
    let before = f.last_seq().await;
    let r = f
        .pushed(
            &lawyer,
            b,
            json!([upsert(2, note.id, Some(1), json!({"subject": "From B"}))]),
        )
        .await;
    let (c, applied_too) = conflict(&r[0]);
    assert_eq!(applied_too, None);
    assert_eq!(c.kind, ConflictKind::SameField);
    assert_eq!(
        (c.record_kind, c.record_id),
        (RecordKind::FileNote, note.id)
    );
    assert_eq!((c.base_version, c.server_version), (Some(1), 3));
    assert_eq!(c.fields.len(), 1);
    assert_eq!(c.fields["subject"], mine_theirs("From B", "From A"));
    assert_eq!(f.note(&admin, note.id).await.unwrap().0.subject, "From A");
    assert_eq!(f.last_seq().await, before, "nothing was written");
    // The lawyer holds it; the admin does not.
    assert_eq!(f.conflicts(&lawyer).await, vec![c.clone()]);
    assert!(f.conflicts(&admin).await.is_empty());

    // A clash and a clean change in one edit: the clean one applies.
    let r = f
        .pushed(
            &lawyer,
            b,
            json!([upsert(
                3,
                note.id,
                Some(1),
                json!({"subject": "B again", "author": "Bea"})
            )]),
        )
        .await;
    let (c2, applied_too) = conflict(&r[0]);
    assert_eq!(applied_too.map(|a| a.version), Some(4));
    assert_eq!(c2.fields.keys().collect::<Vec<_>>(), ["subject"]);
    let (now, _) = f.note(&admin, note.id).await.unwrap();
    assert_eq!(
        (now.subject.as_str(), now.author.as_str(), now.body.as_str()),
        ("From A", "Bea", "From B")
    );
    // Setting a field to the value it has is no change and no clash.
    let r = f
        .pushed(
            &lawyer,
            b,
            json!([upsert(4, note.id, Some(1), json!({"subject": "From A"}))]),
        )
        .await;
    assert_eq!(applied(&r[0]).version, 4);
    assert_eq!(f.conflicts(&lawyer).await.len(), 2);
    f.server.stop().await;
}

/// Makes a same-field conflict on `note` for `lawyer`'s device: `admin` changed the
/// subject to `theirs`, the lawyer to `mine`, both from version `base`.
async fn same_field_conflict(
    f: &Fixture,
    admin: &Who,
    lawyer: &Who,
    note: Uuid,
    base: i64,
    seqs: (i64, i64),
) -> SyncConflict {
    let r = f
        .pushed(
            admin,
            Uuid::from_u128(1),
            json!([upsert(
                seqs.0,
                note,
                Some(base),
                json!({"subject": "Theirs"})
            )]),
        )
        .await;
    applied(&r[0]);
    let r = f
        .pushed(
            lawyer,
            Uuid::from_u128(2),
            json!([upsert(seqs.1, note, Some(base), json!({"subject": "Mine"}))]),
        )
        .await;
    conflict(&r[0]).0
}

/// Each resolution does what it says, once, for its member only, and what it writes
/// reaches another member through the change feed.
pub async fn resolving_keeps_mine_theirs_or_an_edit_and_everyone_sees_it(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let lawyer = f
        .member(&admin, "lawyer@harbourvine.example", Role::Lawyer)
        .await;
    let mut notes = Vec::new();
    for canary in ["One", "Two", "Three"] {
        notes.push(f.file_with_note(&admin, canary).await.1.id);
    }
    let mut conflicts = Vec::new();
    for (i, note) in notes.iter().enumerate() {
        let seq = i as i64 + 1;
        conflicts.push(same_field_conflict(&f, &admin, &lawyer, *note, 1, (seq, seq)).await);
    }
    assert_eq!(f.conflicts(&lawyer).await, conflicts);

    // Another member cannot see or resolve them.
    for c in &conflicts {
        let (status, body) = f
            .resolve(&admin, c.id, json!({"resolution": "keep_theirs"}))
            .await;
        assert_eq!(status, 404, "{body}");
    }
    assert!(f.conflicts(&admin).await.is_empty());

    // Keep mine: the lawyer's value is written on top, and the admin pulls it.
    let cursor = f.last_seq().await;
    let (status, body) = f
        .resolve(&lawyer, conflicts[0].id, json!({"resolution": "keep_mine"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let at: AppliedAt = serde_json::from_str(&body).unwrap();
    assert_eq!((at.seq, at.version), (cursor + 1, 3));
    assert_eq!(f.note(&admin, notes[0]).await.unwrap().0.subject, "Mine");
    let fed: Vec<Change> = f
        .pull_all(&admin)
        .await
        .into_iter()
        .filter(|c| c.seq > cursor)
        .collect();
    assert_eq!(fed.len(), 1);
    assert_eq!((fed[0].seq, fed[0].version), (at.seq, at.version));
    let ChangeRecord::FileNote { file_note } = &fed[0].record else {
        panic!()
    };
    assert_eq!(file_note.subject, "Mine");

    // Keep theirs: nothing is written; the answer is where the record stands.
    let cursor = f.last_seq().await;
    let (status, body) = f
        .resolve(
            &lawyer,
            conflicts[1].id,
            json!({"resolution": "keep_theirs"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let at: AppliedAt = serde_json::from_str(&body).unwrap();
    assert_eq!(at.version, 2);
    assert_eq!(f.last_seq().await, cursor, "keep_theirs writes nothing");
    assert_eq!(f.note(&admin, notes[1]).await.unwrap().0.subject, "Theirs");

    // Edit: the values given, checked by the rules first.
    let (status, body) = f
        .resolve(
            &lawyer,
            conflicts[2].id,
            json!({"resolution": "edit", "fields": {"written_at": "Secret-Not-A-Time"}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains("written_at") && !body.contains("Secret"),
        "{body}"
    );
    let (status, body) = f
        .resolve(
            &lawyer,
            conflicts[2].id,
            json!({"resolution": "edit", "fields": {"subject": "Theirs and mine"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let at: AppliedAt = serde_json::from_str(&body).unwrap();
    let fed = f.pull_all(&admin).await;
    let last = fed.last().unwrap();
    assert_eq!((last.seq, last.version), (at.seq, at.version));
    let ChangeRecord::FileNote { file_note } = &last.record else {
        panic!()
    };
    assert_eq!(file_note.subject, "Theirs and mine");

    // Once only.
    for c in &conflicts {
        let (status, body) = f
            .resolve(&lawyer, c.id, json!({"resolution": "keep_mine"}))
            .await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("\"conflict\""), "{body}");
    }
    assert!(f.conflicts(&lawyer).await.is_empty());
    let (status, _) = f
        .resolve(&lawyer, Uuid::new_v4(), json!({"resolution": "keep_mine"}))
        .await;
    assert_eq!(status, 404);
    f.server.stop().await;
}

/// An edit of a record deleted elsewhere, and a delete of a record edited elsewhere, are
/// conflicts: nothing is applied until the member decides. Deleting what is deleted
/// already is applied, once.
pub async fn edits_against_deletes_and_deletes_against_edits_are_conflicts(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let lawyer = f
        .member(&admin, "lawyer@harbourvine.example", Role::Lawyer)
        .await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let (_, gone) = f.file_with_note(&admin, "Gone").await;
    let (_, kept) = f.file_with_note(&admin, "Kept").await;

    // Edit against delete.
    let r = f
        .pushed(
            &admin,
            a,
            json!([delete(1, RecordKind::FileNote, gone.id, Some(1))]),
        )
        .await;
    let tombstone = applied(&r[0]);
    assert_eq!(tombstone.version, 2);
    let r = f
        .pushed(
            &lawyer,
            b,
            json!([upsert(1, gone.id, Some(1), json!({"body": "Late"}))]),
        )
        .await;
    let (c, applied_too) = conflict(&r[0]);
    assert_eq!(
        (c.kind, applied_too),
        (ConflictKind::EditAgainstDelete, None)
    );
    assert_eq!(
        c.fields["body"],
        ConflictValues {
            mine: json!("Late"),
            theirs: Value::Null
        }
    );
    assert!(f.note(&admin, gone.id).await.is_none(), "still deleted");
    // Deleting it again is applied: the tombstone stands.
    let r = f
        .pushed(
            &lawyer,
            b,
            json!([delete(2, RecordKind::FileNote, gone.id, Some(1))]),
        )
        .await;
    assert_eq!(applied(&r[0]), tombstone);
    // Keeping mine needs the whole record; an edit that gives it brings it back.
    let (status, body) = f
        .resolve(&lawyer, c.id, json!({"resolution": "keep_mine"}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("edit"), "{body}");
    let mut whole = serde_json::to_value(&gone).unwrap();
    whole["body"] = json!("Late");
    let (status, body) = f
        .resolve(
            &lawyer,
            c.id,
            json!({"resolution": "edit", "fields": whole}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (back, version) = f.note(&admin, gone.id).await.unwrap();
    assert_eq!((back.body.as_str(), version), ("Late", 3));

    // Delete against edit.
    let r = f
        .pushed(
            &admin,
            a,
            json!([upsert(2, kept.id, Some(1), json!({"body": "Edited"}))]),
        )
        .await;
    assert_eq!(applied(&r[0]).version, 2);
    let r = f
        .pushed(
            &lawyer,
            b,
            json!([delete(3, RecordKind::FileNote, kept.id, Some(1))]),
        )
        .await;
    let (c, _) = conflict(&r[0]);
    assert_eq!(c.kind, ConflictKind::DeleteAgainstEdit);
    assert_eq!(c.server_version, 2);
    assert_eq!(
        c.fields["body"],
        ConflictValues {
            mine: Value::Null,
            theirs: json!("Edited")
        }
    );
    assert_eq!(f.note(&admin, kept.id).await.unwrap().0.body, "Edited");
    // Keeping mine deletes it, for everyone.
    let (status, body) = f
        .resolve(&lawyer, c.id, json!({"resolution": "keep_mine"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(f.note(&admin, kept.id).await.is_none());
    let last = f.pull_all(&admin).await.pop().unwrap();
    assert_eq!(
        last.record,
        ChangeRecord::Deleted {
            record_kind: RecordKind::FileNote,
            id: kept.id
        }
    );
    // Deleting a record that never was is refused.
    let r = f
        .pushed(
            &lawyer,
            b,
            json!([delete(4, RecordKind::Task, Uuid::new_v4(), Some(1))]),
        )
        .await;
    assert_eq!(rejected(&r[0]).0, "not_found");
    f.server.stop().await;
}

/// A device's queued edits build on each other: a create then edits of one field, all
/// from the same base as the outbox records them, apply in order without clashing with
/// themselves, and the last value stands.
pub async fn a_devices_own_queued_edits_never_clash_with_each_other(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let (records, _) = f.file_with_note(&admin, "Queue").await;
    let matter = records[1].key().1;
    let device = Uuid::new_v4();
    let id = Uuid::new_v4();
    // As the vault queues them: the create without its id, then edits against version 0
    // (the vault's version of a record the service has not seen yet).
    let create = json!({"matter_id": matter, "author": "Ann", "subject": "Draft",
                        "written_at": "2026-11-27T09:30:00Z", "body": "one"});
    let r = f
        .pushed(
            &admin,
            device,
            json!([
                upsert(1, id, None, create),
                upsert(2, id, Some(0), json!({"body": "two"})),
                upsert(3, id, Some(0), json!({"body": "three", "subject": "Final"})),
                delete(4, RecordKind::FileNote, id, Some(0)),
                upsert(5, id, Some(0), json!({"body": "after the delete"})),
            ]),
        )
        .await;
    let versions: Vec<i64> = r[..4].iter().map(|o| applied(o).version).collect();
    assert_eq!(versions, [1, 2, 3, 4]);
    // Its own delete, then an edit of what it deleted: the record is gone, and the edit
    // (not a whole record) is refused, naming what is missing.
    let (code, detail) = rejected(&r[4]);
    assert_eq!(code, "invalid_record", "{detail}");
    assert!(f.conflicts(&admin).await.is_empty());

    // With a second record: edits of one field from one base, in two pushes.
    let (_, note) = f.file_with_note(&admin, "Twice").await;
    for (seq, body) in [(6, "first"), (7, "second")] {
        let r = f
            .pushed(
                &admin,
                device,
                json!([upsert(seq, note.id, Some(1), json!({"body": body}))]),
            )
            .await;
        applied(&r[0]);
    }
    assert_eq!(f.note(&admin, note.id).await.unwrap().0.body, "second");
    // Another device editing from that base still clashes with them.
    let r = f
        .pushed(
            &admin,
            Uuid::new_v4(),
            json!([upsert(1, note.id, Some(1), json!({"body": "x"}))]),
        )
        .await;
    let (c, _) = conflict(&r[0]);
    assert_eq!(c.fields["body"], mine_theirs("x", "second"));
    f.server.stop().await;
}

/// A retried push (same device, same sequence numbers, even different content) is
/// answered exactly as the first time and writes nothing: no record, no feed entry, no
/// second conflict. Mutations the device skipped and sends late are refused.
pub async fn a_retried_push_is_answered_the_same_and_writes_nothing(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let (_, note) = f.file_with_note(&admin, "Retry").await;
    let other = Uuid::new_v4();
    let r = f
        .pushed(
            &admin,
            other,
            json!([upsert(1, note.id, Some(1), json!({"subject": "Other"}))]),
        )
        .await;
    applied(&r[0]);
    let device = Uuid::new_v4();
    let created = Uuid::new_v4();
    let mut new_note = serde_json::to_value(&note).unwrap();
    new_note["id"] = json!(created);
    let first = json!([
        upsert(1, created, None, new_note.clone()),
        upsert(2, note.id, Some(1), json!({"body": "Mine"})),
        upsert(3, note.id, Some(1), json!({"subject": "Clash"})),
        upsert(4, note.id, Some(1), json!({"written_at": "no"})),
    ]);
    let (status, answer) = f.push(&admin, device, first.clone()).await;
    assert_eq!(status, 200, "{answer}");
    let answer: Value = serde_json::from_str(&answer).unwrap();
    let outcomes: Vec<&str> = answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["applied", "applied", "conflict", "rejected"]);
    let cursor = f.last_seq().await;
    let held = f.conflicts(&admin).await;
    assert_eq!(held.len(), 1);

    // The same again, and the same numbers with other content.
    let mut different = first.clone();
    for m in different.as_array_mut().unwrap() {
        if let Some(fields) = m["fields"].as_object_mut() {
            fields.insert("body".into(), json!("Something else entirely"));
        }
    }
    for retry in [first.clone(), different] {
        let (status, again) = f.push(&admin, device, retry).await;
        assert_eq!(status, 200, "{again}");
        assert_eq!(serde_json::from_str::<Value>(&again).unwrap(), answer);
        assert_eq!(f.last_seq().await, cursor, "nothing new in the feed");
        assert_eq!(f.conflicts(&admin).await, held, "no second conflict");
    }
    let (now, _) = f.note(&admin, note.id).await.unwrap();
    assert_eq!((now.subject.as_str(), now.body.as_str()), ("Other", "Mine"));

    // A retry that overlaps new work: the old part answered, the new part applied.
    let r = f
        .pushed(
            &admin,
            device,
            json!([
                upsert(3, note.id, Some(1), json!({"subject": "Clash"})),
                upsert(4, note.id, Some(1), json!({"written_at": "no"})),
                upsert(5, note.id, Some(2), json!({"author": "New"})),
                upsert(7, note.id, Some(2), json!({"author": "Newer"})),
            ]),
        )
        .await;
    assert_eq!(
        serde_json::to_value(&r[..2]).unwrap(),
        answer["results"].as_array().unwrap()[2..]
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r.as_object_mut().unwrap().remove("mutation_seq");
                r
            })
            .collect::<Value>()
    );
    applied(&r[2]);
    applied(&r[3]);
    // Sequence 6 was skipped; sent late, it is refused and changes nothing.
    let cursor = f.last_seq().await;
    let r = f
        .pushed(
            &admin,
            device,
            json!([upsert(6, note.id, Some(2), json!({"author": "Late"}))]),
        )
        .await;
    assert_eq!(rejected(&r[0]).0, "bad_request");
    assert_eq!(f.last_seq().await, cursor);
    assert_eq!(f.note(&admin, note.id).await.unwrap().0.author, "Newer");
    f.server.stop().await;
}

/// Two devices push at once, each its own stream of creates and of edits to one task of
/// its own, resending every batch, and the one before it, as a flaky client would: each
/// mutation is applied exactly once (a resent edit would put an old title back).
pub async fn interleaved_devices_apply_each_mutation_once(backend: Backend) {
    const BATCHES: i64 = 6;
    const EACH: i64 = 6;
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let lawyer = f
        .member(&admin, "lawyer@harbourvine.example", Role::Lawyer)
        .await;
    let (records, _) = f.file_with_note(&admin, "Busy").await;
    let matter = records[1].key().1;
    let before = f.last_seq().await;
    let stream = |who: &'static str| {
        let f = &f;
        let who_ref = if who == "admin" { &admin } else { &lawyer };
        async move {
            let device = Uuid::new_v4();
            let task = Uuid::new_v4();
            let title = |seq: i64| format!("{who} {seq}");
            let create = |seq: i64, id: Uuid| {
                json!({"mutation_seq": seq, "kind": "task", "record_id": id, "op": "upsert",
                       "fields": {"matter_id": matter, "title": title(seq), "done": false}})
            };
            let r = f.pushed(who_ref, device, json!([create(1, task)])).await;
            assert_eq!(applied(&r[0]).version, 1);
            let (mut seq, mut edits, mut creates) = (1, 0, 1);
            let mut previous: Option<(Value, Vec<MutationOutcome>)> = None;
            for _ in 0..BATCHES {
                let mut batch = Vec::new();
                for i in 0..EACH {
                    seq += 1;
                    if i % 2 == 0 {
                        edits += 1;
                        batch.push(json!({
                            "mutation_seq": seq, "kind": "task", "record_id": task,
                            "base_version": 1, "op": "upsert", "fields": {"title": title(seq)}
                        }));
                    } else {
                        creates += 1;
                        batch.push(create(seq, Uuid::new_v4()));
                    }
                }
                let batch = Value::Array(batch);
                let first = f.pushed(who_ref, device, batch.clone()).await;
                for o in &first {
                    applied(o);
                }
                assert_eq!(f.pushed(who_ref, device, batch.clone()).await, first);
                if let Some((old, answered)) = previous.take() {
                    assert_eq!(f.pushed(who_ref, device, old).await, answered);
                }
                previous = Some((batch, first));
            }
            (task, title(seq - 1), 1 + edits, creates + edits)
        }
    };
    let (a, b) = tokio::join!(stream("admin"), stream("lawyer"));
    for (task, title, version, _) in [&a, &b] {
        let (status, body) = f
            .request(
                Some(&admin.token),
                Method::GET,
                &format!("/v1/records/task/{task}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let change: Change = serde_json::from_str(&body).unwrap();
        let ChangeRecord::Task { task } = change.record else {
            panic!()
        };
        assert_eq!((&task.title, change.version), (title, *version));
    }
    assert_eq!(
        f.last_seq().await,
        before + a.3 + b.3,
        "one write per mutation, none for a resend"
    );
    f.server.stop().await;
}

/// A read-only member's push is answered, each mutation rejected `forbidden`, and nothing
/// is written; they cannot write a side of a conflict either.
pub async fn a_read_only_members_push_is_rejected_per_mutation(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let reader = f
        .member(&admin, "reader@harbourvine.example", Role::ReadOnly)
        .await;
    let (_, note) = f.file_with_note(&admin, "Read").await;
    let before = f.last_seq().await;
    let r = f
        .pushed(
            &reader,
            Uuid::new_v4(),
            json!([
                upsert(1, note.id, Some(1), json!({"body": "Reader was here"})),
                delete(2, RecordKind::FileNote, note.id, Some(1)),
                upsert(3, Uuid::new_v4(), None, json!({"body": "new"})),
            ]),
        )
        .await;
    assert_eq!(r.len(), 3);
    for o in &r {
        assert_eq!(rejected(o).0, "forbidden");
    }
    assert_eq!(f.last_seq().await, before);
    assert_eq!(f.note(&admin, note.id).await.unwrap().0, note);
    let (status, _) = f
        .resolve(&reader, Uuid::new_v4(), json!({"resolution": "keep_mine"}))
        .await;
    assert_eq!(status, 403);
    f.server.stop().await;
}

/// A mutation on a matter the member may not open is rejected `not_found` (or, for a new
/// record on it, `invalid_record`), and the matter and its records are untouched.
pub async fn a_push_to_a_restricted_matter_is_rejected_and_changes_nothing(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let named = f
        .member(&admin, "named@harbourvine.example", Role::Lawyer)
        .await;
    let walled = f
        .member(&admin, "walled@harbourvine.example", Role::Lawyer)
        .await;
    let (records, note) = f.file_with_note(&admin, "Kalahari").await;
    let matter = records[1].key().1;
    // Before the wall goes up, the walled member's edit clashes with the admin's.
    let r = f
        .pushed(
            &admin,
            Uuid::new_v4(),
            json!([upsert(
                1,
                note.id,
                Some(1),
                json!({"subject": "Kalahari subject"})
            )]),
        )
        .await;
    applied(&r[0]);
    let walled_device = Uuid::new_v4();
    let clash = json!([upsert(1, note.id, Some(1), json!({"subject": "Walled"}))]);
    let r = f.pushed(&walled, walled_device, clash.clone()).await;
    conflict(&r[0]);
    assert_eq!(f.conflicts(&walled).await.len(), 1);
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::PUT,
            &format!("/v1/matters/{matter}/access"),
            Some(json!({"restricted": true, "members": [named.id]})),
        )
        .await;
    assert_eq!(status, 200);
    let before = f.last_seq().await;
    // Behind the wall: their conflict is gone from their list, and a resend of that
    // mutation no longer answers what the matter holds.
    assert!(f.conflicts(&walled).await.is_empty());
    let (status, body) = f.push(&walled, walled_device, clash).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("Kalahari"), "{body}");
    let r: PushResponse = serde_json::from_str(&body).unwrap();
    assert_eq!(rejected(&r.results[0].outcome).0, "not_found");
    let mut fresh = serde_json::to_value(&note).unwrap();
    fresh["id"] = json!(Uuid::new_v4());
    let (status, body) = f
        .push(
            &walled,
            Uuid::new_v4(),
            json!([
                upsert(1, note.id, Some(1), json!({"body": "Overwritten"})),
                delete(2, RecordKind::FileNote, note.id, Some(1)),
                delete(3, RecordKind::Matter, matter, Some(1)),
                upsert(
                    4,
                    fresh["id"].as_str().unwrap().parse().unwrap(),
                    None,
                    fresh
                ),
            ]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("Kalahari"), "{body}");
    let r: PushResponse = serde_json::from_str(&body).unwrap();
    let codes: Vec<String> = r.results.iter().map(|r| rejected(&r.outcome).0).collect();
    assert_eq!(
        codes,
        ["not_found", "not_found", "not_found", "invalid_record"]
    );
    assert_eq!(f.last_seq().await, before);
    let (unchanged, _) = f.note(&named, note.id).await.unwrap();
    assert_eq!(
        (unchanged.subject.as_str(), unchanged.body.as_str()),
        ("Kalahari subject", note.body.as_str())
    );
    assert!(f.conflicts(&walled).await.is_empty());
    // The named member pushes to it.
    let r = f
        .pushed(
            &named,
            Uuid::new_v4(),
            json!([upsert(1, note.id, Some(1), json!({"body": "In"}))]),
        )
        .await;
    applied(&r[0]);
    f.server.stop().await;
}

/// Malformed pushes are 4xx problems, never 5xx, echo no value, and write nothing.
pub async fn malformed_pushes_get_4xx_never_5xx(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let (_, note) = f.file_with_note(&admin, "Hostile").await;
    let before = f.last_seq().await;
    let device = Uuid::new_v4();
    let ok = |seq: i64| upsert(seq, note.id, Some(1), json!({"body": "Secret-Body"}));
    let many: Vec<Value> = (1..=501).map(ok).collect();
    let bodies: Vec<(&str, Value)> = vec![
        (
            "repeated seq",
            json!({"device_id": device, "mutations": [ok(1), ok(1)]}),
        ),
        (
            "falling seq",
            json!({"device_id": device, "mutations": [ok(2), ok(1)]}),
        ),
        (
            "zero seq",
            json!({"device_id": device, "mutations": [ok(0)]}),
        ),
        (
            "negative seq",
            json!({"device_id": device, "mutations": [ok(-5)]}),
        ),
        ("too many", json!({"device_id": device, "mutations": many})),
        (
            "unknown kind",
            json!({"device_id": device, "mutations": [{"mutation_seq": 1, "kind": "Secret-Kind",
                   "record_id": note.id, "op": "delete"}]}),
        ),
        (
            "unknown op",
            json!({"device_id": device, "mutations": [{"mutation_seq": 1, "kind": "task",
                   "record_id": note.id, "op": "Secret-Op"}]}),
        ),
        (
            "fields not an object",
            json!({"device_id": device, "mutations": [{"mutation_seq": 1, "kind": "file_note",
                   "record_id": note.id, "op": "upsert", "fields": "Secret-Fields"}]}),
        ),
        (
            "no fields",
            json!({"device_id": device, "mutations": [{"mutation_seq": 1, "kind": "file_note",
                   "record_id": note.id, "op": "upsert"}]}),
        ),
        (
            "negative base",
            json!({"device_id": device, "mutations": [upsert(1, note.id, Some(-1), json!({}))]}),
        ),
        (
            "device not a uuid",
            json!({"device_id": "Secret-Device", "mutations": []}),
        ),
        (
            "nil device",
            json!({"device_id": Uuid::nil(), "mutations": []}),
        ),
        ("no device", json!({"mutations": [ok(1)]})),
        (
            "mutations not a list",
            json!({"device_id": device, "mutations": {"a": 1}}),
        ),
        ("array", json!([1, 2, 3])),
        ("null", Value::Null),
    ];
    for (name, body) in bodies {
        let (status, text) = f
            .request(
                Some(&admin.token),
                Method::POST,
                "/v1/sync/push",
                Some(body),
            )
            .await;
        assert!(status.is_client_error(), "{name}: {status} {text}");
        let problem: Value = serde_json::from_str(&text).unwrap();
        assert!(problem["code"].is_string(), "{name}: {problem}");
        assert!(!text.contains("Secret"), "{name}: {text}");
    }
    let deep = "[".repeat(10_000);
    for raw in ["", "{{{", "[", deep.as_str()] {
        let resp = f
            .http
            .post(f.url("/v1/sync/push"))
            .bearer_auth(&admin.token)
            .header("content-type", "application/json")
            .body(raw.to_owned())
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_client_error(),
            "{raw:.20}: {}",
            resp.status()
        );
    }
    let huge = json!({"device_id": device,
                      "mutations": [upsert(1, note.id, Some(1), json!({"body": "x".repeat(5 << 20)}))]});
    let resp = f
        .http
        .post(f.url("/v1/sync/push"))
        .bearer_auth(&admin.token)
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    // Resolutions that are not.
    for body in [
        json!({"resolution": "Secret-Way"}),
        json!({"resolution": "edit"}),
        json!({"resolution": "edit", "fields": "Secret-Fields"}),
        json!([]),
    ] {
        let (status, text) = f.resolve(&admin, Uuid::new_v4(), body).await;
        assert_eq!(status, 400, "{text}");
        assert!(!text.contains("Secret"), "{text}");
    }
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::POST,
            "/v1/sync/conflicts/not-a-uuid/resolve",
            Some(json!({"resolution": "keep_mine"})),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(f.last_seq().await, before, "nothing was written");
    // The device was never recorded as having pushed anything: sequence 1 is still new.
    let r = f.pushed(&admin, device, json!([ok(1)])).await;
    applied(&r[0]);
    f.server.stop().await;
}

/// Field versions are kept by every write path: a field changed through the records API
/// (`PUT`) or the operator's batch write clashes with a push against an older base, and
/// the fields it left alone merge.
pub async fn field_versions_are_kept_by_the_records_api_and_batch_writes(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let (_, note) = f.file_with_note(&admin, "Paths").await;
    let device = Uuid::new_v4();
    let mut edited = note.clone();
    edited.subject = "Put".into();
    let (status, body) = f
        .put_record(
            &admin,
            &ChangeRecord::FileNote {
                file_note: edited.clone(),
            },
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let r = f
        .pushed(
            &admin,
            device,
            json!([
                upsert(1, note.id, Some(1), json!({"body": "Pushed"})),
                upsert(2, note.id, Some(1), json!({"subject": "Pushed"})),
            ]),
        )
        .await;
    assert_eq!(applied(&r[0]).version, 3);
    let (c, _) = conflict(&r[1]);
    assert_eq!(c.fields["subject"], mine_theirs("Pushed", "Put"));
    let (now, _) = f.note(&admin, note.id).await.unwrap();
    assert_eq!((now.subject.as_str(), now.body.as_str()), ("Put", "Pushed"));

    // The operator's batch write (version 4) changes the author only.
    let store = &f.server.store;
    let practice = store
        .user_by_email(strongroom_server::seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .practice_id;
    let batch = FileNote {
        author: "Batch".into(),
        ..now
    };
    store
        .bulk_put(
            practice,
            &[ChangeRecord::FileNote {
                file_note: batch.clone(),
            }],
        )
        .await
        .unwrap();
    let r = f
        .pushed(
            &admin,
            Uuid::new_v4(),
            json!([upsert(
                1,
                note.id,
                Some(3),
                json!({"author": "Device", "subject": "Device"})
            ),]),
        )
        .await;
    let (c, applied_too) = conflict(&r[0]);
    assert_eq!(c.fields.keys().collect::<Vec<_>>(), ["author"]);
    assert_eq!(c.fields["author"], mine_theirs("Device", "Batch"));
    assert_eq!(applied_too.map(|a| a.version), Some(5));
    let (now, _) = f.note(&admin, note.id).await.unwrap();
    assert_eq!(
        (now.author.as_str(), now.subject.as_str()),
        ("Batch", "Device")
    );
    f.server.stop().await;
}
