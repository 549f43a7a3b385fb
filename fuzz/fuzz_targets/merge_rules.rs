//! The service's merge and conflict rules (`strongroom_server::store::push::decide`) on
//! mutations and stored records made from the fuzz input: a valid record of each kind
//! with fuzz-chosen edits, versions, field versions and the device's own versions. It
//! must never panic, and every answer must keep the rules the module states:
//!
//! - a member whose role does not write is refused (`forbidden`), whatever else;
//! - a record the member may not open is `not_found`, whatever the edit;
//! - a refusal never echoes a value or a field name the client gave (values and names
//!   carrying a marker character must never show in its words);
//! - a change is a write, a conflict, or both, never neither; a conflict names the
//!   mutation's record, base and the stored version;
//! - deleting a deleted record, or upserting the values a live record already has, is
//!   `Unchanged` at the stored version;
//! - a delete clashes exactly when a version after its base was written elsewhere (not by
//!   the device's own earlier mutations), and otherwise deletes at the stored version;
//! - an upsert of a live record writes at the stored version and never overwrites a field
//!   changed elsewhere since its base: exactly those fields are in the conflict, with the
//!   device's value and the stored one, and the write keeps the stored value of each;
//! - a create (no record, or one deleted by this device) writes only where nothing lives,
//!   and an edit of a record deleted elsewhere is held as an edit-against-delete conflict.

#![no_main]

use std::collections::{BTreeMap, BTreeSet};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use strongroom_protocol::{
    ChangeRecord, ConflictKind, Contact, ContactKind, Document, FileNote, Matter, MatterStatus,
    Mutation, MutationOp, MutationResult, Participant, ProblemCode, RecordKind, SyncConflict, Task,
    TimeEntry,
};
use strongroom_server::store::push::{Current, Plan, decide, replay};
use strongroom_server::store::records::{Expect, RecordWrite, Written};
use uuid::Uuid;

/// Never in the service's own words: a value or name carrying it must never be echoed.
const MARK: char = '\u{E000}';

#[derive(Arbitrary, Debug)]
enum Num {
    /// Near the versions that matter: -1 to 8.
    Small(u8),
    Any(i64),
}

impl Num {
    fn get(&self) -> i64 {
        match self {
            Num::Small(b) => i64::from(b % 10) - 1,
            Num::Any(n) => *n,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Name {
    /// One of the kind's own fields, by index.
    Field(u8),
    Id,
    Other(String),
    /// A name carrying the marker: never to be shown.
    Marked(String),
}

#[derive(Arbitrary, Debug)]
enum Val {
    /// The value the field has now (in the stored record, else in the sample).
    Same,
    /// Another valid value for the field.
    Alt,
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    /// A value carrying the marker: never to be shown.
    Marked(String),
    Date(u16, u8, u8),
    Stamp(u8, u8),
    /// A timestamp's first part, then any text.
    StampThen(u8, u8, String),
    Uuid(u8),
    List(Vec<Val>),
    Obj(Vec<(String, Val)>),
}

#[derive(Arbitrary, Debug)]
enum Op {
    Delete,
    /// `whole`: start from a whole valid record (as a create sends), then the edits.
    Upsert {
        whole: bool,
        edits: Vec<(Name, Val)>,
    },
}

#[derive(Arbitrary, Debug)]
struct Stored {
    version: Num,
    seq: Num,
    deleted: bool,
    visible: bool,
    /// Field versions; a field left out counts as changed at the record's version.
    versions: Vec<(Name, Num)>,
    /// Edits of the stored body (which is a valid record before them; its id stays).
    edits: Vec<(Name, Val)>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    kind: u8,
    may_write: bool,
    record: u8,
    base: Option<Num>,
    op: Op,
    current: Option<Stored>,
    own: Vec<Num>,
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("a record is an object"),
    }
}

/// A valid record of `kind` with id `id`: the first sample, or (`alt`) another with every
/// field different.
fn sample(kind: RecordKind, id: Uuid, alt: bool) -> Map<String, Value> {
    let other = Uuid::from_u128(if alt { 0xa1 } else { 0xa0 });
    let pick = |a: &str, b: &str| -> String { if alt { b } else { a }.to_owned() };
    let v = match kind {
        RecordKind::Matter => serde_json::to_value(Matter {
            id,
            number: pick("HV-1", "HV-2"),
            title: pick("Estate of A", "Estate of B"),
            matter_type: pick("Probate", "Conveyancing"),
            status: if alt {
                MatterStatus::Closed
            } else {
                MatterStatus::Open
            },
            client_name: pick("A", "B"),
            responsible: pick("R", ""),
            opened_on: pick("2026-01-02", "2025-03-04"),
            closed_on: alt.then(|| "2026-05-06".to_owned()),
            description: pick("line one\nline two", "other"),
            custom_fields: BTreeMap::from([(pick("Court", "Registry"), pick("Federal", "x"))]),
        }),
        RecordKind::Contact => serde_json::to_value(Contact {
            id,
            kind: if alt {
                ContactKind::Organisation
            } else {
                ContactKind::Person
            },
            name: pick("Ann", "Acme Pty Ltd"),
            email: (!alt).then(|| "ann@example.com".to_owned()),
            phone: alt.then(|| "+61 2 0000 0000".to_owned()),
            address: Some(pick("1 Road", "2 Street\nTown")),
        }),
        RecordKind::Participant => serde_json::to_value(Participant {
            id,
            matter_id: other,
            contact_id: other,
            role: pick("client", "other side"),
        }),
        RecordKind::FileNote => serde_json::to_value(FileNote {
            id,
            matter_id: other,
            author: pick("A", "B"),
            written_at: pick("2026-11-27T09:30:00Z", "2026-11-28T10:00:00.5+11:00"),
            subject: pick("Call", ""),
            body: pick("text", "more\ttext"),
        }),
        RecordKind::Task => serde_json::to_value(Task {
            id,
            matter_id: other,
            title: pick("File it", "Serve it"),
            due_on: alt.then(|| "2026-12-01".to_owned()),
            assignee: (!alt).then(|| "A".to_owned()),
            done: alt,
        }),
        RecordKind::TimeEntry => serde_json::to_value(TimeEntry {
            id,
            matter_id: other,
            worked_on: pick("2026-11-27", "2026-11-26"),
            minutes: if alt { 90 } else { 6 },
            rate_cents: if alt { 0 } else { 45_000 },
            billable: !alt,
            narrative: pick("Call", "Draft"),
            author: pick("A", "B"),
        }),
        RecordKind::Document => serde_json::to_value(Document {
            id,
            matter_id: other,
            name: pick("Will.pdf", "Deed.docx"),
            folder: pick("Drafts", ""),
            size_bytes: if alt { 0 } else { 10 },
            content_hash: pick(&"a".repeat(64), &"0".repeat(64)),
        }),
    };
    object(v.expect("a sample record serialises"))
}

fn name(n: &Name, keys: &[String]) -> String {
    match n {
        Name::Field(i) => keys[usize::from(*i) % keys.len()].clone(),
        Name::Id => "id".to_owned(),
        Name::Other(s) => s.clone(),
        Name::Marked(s) => format!("{MARK}{s}"),
    }
}

/// How deep a value nests here at most: a stored record's values nest two deep at most,
/// and a client's are bounded by serde_json's limit of 128 on the request (the answer of an
/// edit against a delete holds them a few levels deeper, which only that client reads).
const MAX_DEPTH: usize = 16;

fn value(v: &Val, same: Option<&Value>, alt: Option<&Value>) -> Value {
    nested(v, same, alt, 0)
}

fn nested(v: &Val, same: Option<&Value>, alt: Option<&Value>, depth: usize) -> Value {
    if depth >= MAX_DEPTH {
        return Value::Null;
    }
    match v {
        Val::Same => same.cloned().unwrap_or(Value::Null),
        Val::Alt => alt.cloned().unwrap_or(Value::Null),
        Val::Null => Value::Null,
        Val::Bool(b) => json!(b),
        Val::Int(n) => json!(n),
        Val::Str(s) => json!(s),
        Val::Marked(s) => json!(format!("{MARK}{s}")),
        Val::Date(y, m, d) => json!(format!("{:04}-{:02}-{:02}", y % 10_000, m % 14, d % 33)),
        Val::Stamp(h, mi) => json!(format!("2026-11-27T{:02}:{:02}:00Z", h % 25, mi % 61)),
        Val::StampThen(h, mi, rest) => {
            json!(format!("2026-11-27T{:02}:{:02}:{rest}", h % 25, mi % 61))
        }
        Val::Uuid(b) => json!(Uuid::from_u128(0xa0 + u128::from(b % 4))),
        Val::List(items) => Value::Array(
            items
                .iter()
                .map(|i| nested(i, None, None, depth + 1))
                .collect(),
        ),
        Val::Obj(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), nested(v, None, None, depth + 1)))
                .collect(),
        ),
    }
}

/// A record's fields as the typed record has them (serde's reading of `body`), if it reads.
fn normalised(kind: RecordKind, body: &Map<String, Value>) -> Option<Map<String, Value>> {
    let text = serde_json::to_string(body).ok()?;
    let record = ChangeRecord::from_body(kind, &text).ok()?;
    Some(object(serde_json::from_str(&record.body_json()?).ok()?))
}

fn written_fields(w: &RecordWrite) -> Map<String, Value> {
    object(serde_json::from_str(&w.record.body_json().expect("a write of a live record")).unwrap())
}

fn check_conflict(c: &SyncConflict, m: &Mutation, cur: &Current, kind: ConflictKind) {
    assert_eq!(c.kind, kind);
    assert_eq!((c.record_kind, c.record_id), (m.kind, m.record_id));
    assert_eq!(c.base_version, m.base_version);
    assert_eq!(c.server_version, cur.version);
}

fn check(input: &Input) {
    let kind = RecordKind::ALL[usize::from(input.kind) % RecordKind::ALL.len()];
    let id = Uuid::from_u128(1 + u128::from(input.record % 2));
    let first = sample(kind, id, false);
    let alt = sample(kind, id, true);
    let keys: Vec<String> = first.keys().cloned().collect();

    let current = input.current.as_ref().map(|s| {
        let mut body = first.clone();
        for (n, v) in &s.edits {
            let n = name(n, &keys);
            let val = value(v, body.get(&n), alt.get(&n));
            body.insert(n, val);
        }
        // The store reads the body of this record: whatever else it holds, its id is this.
        body.insert("id".to_owned(), json!(id));
        let field_versions = s
            .versions
            .iter()
            .map(|(n, v)| (name(n, &keys), v.get()))
            .collect();
        Current {
            seq: s.seq.get(),
            version: s.version.get(),
            deleted: s.deleted,
            body: if s.deleted { Map::new() } else { body },
            field_versions,
            visible: s.visible,
        }
    });
    let op = match &input.op {
        Op::Delete => MutationOp::Delete,
        Op::Upsert { whole, edits } => {
            let mut fields = if *whole { alt.clone() } else { Map::new() };
            for (n, v) in edits {
                let n = name(n, &keys);
                let now = current
                    .as_ref()
                    .and_then(|c| c.body.get(&n))
                    .or(first.get(&n));
                let val = value(v, now, alt.get(&n));
                fields.insert(n, val);
            }
            MutationOp::Upsert { fields }
        }
    };
    let m = Mutation {
        mutation_seq: 1,
        kind,
        record_id: id,
        base_version: input.base.as_ref().map(Num::get),
        op,
    };
    let own: BTreeSet<i64> = input.own.iter().map(Num::get).collect();
    let cur = current.as_ref();

    let plan = decide(&m, input.may_write, cur, &own);

    // Whatever the plan, its answer serialises and reads back, and a replay of it answers.
    let result = MutationResult {
        mutation_seq: m.mutation_seq,
        outcome: plan.clone().outcome(Some(Written { seq: 5, version: 6 })),
    };
    let text = serde_json::to_string(&result).expect("a result serialises");
    let back: MutationResult = serde_json::from_str(&text).expect("a result reads back");
    assert_eq!(back, result);
    let _ = replay(result, cur);

    if let Plan::Reject(r) = &plan {
        assert!(
            !r.detail.contains(MARK),
            "a refusal echoes what the client gave: {r:?}"
        );
    }
    if !input.may_write {
        assert!(
            matches!(&plan, Plan::Reject(r) if r.code == ProblemCode::Forbidden),
            "a member who may not write got {plan:?}"
        );
        return;
    }
    if cur.is_some_and(|c| !c.visible) {
        assert!(
            matches!(&plan, Plan::Reject(r) if r.code == ProblemCode::NotFound),
            "a record the member may not open got {plan:?}"
        );
        return;
    }
    if let Plan::Change { write, conflict } = &plan {
        assert!(write.is_some() || conflict.is_some(), "a change of nothing");
        if let Some(w) = write {
            assert_eq!(w.record.key(), (kind, id), "a write of another record");
        }
    }

    let base = m.base_version.unwrap_or(0).max(0);
    let elsewhere = |v: i64| v > base && !own.contains(&v);
    let fv = |c: &Current, f: &str| c.field_versions.get(f).copied().unwrap_or(c.version);

    match (&m.op, cur) {
        (MutationOp::Delete, None) => {
            assert!(matches!(&plan, Plan::Reject(r) if r.code == ProblemCode::NotFound));
        }
        (MutationOp::Delete, Some(c)) if c.deleted => {
            assert_eq!(plan, Plan::Unchanged(c.at()));
        }
        (MutationOp::Delete, Some(c)) => {
            // Some version after the base that this device did not write?
            let since = if c.version > base {
                (c.version - base) as u128
            } else {
                0
            };
            let own_since = own
                .iter()
                .filter(|v| **v > base && **v <= c.version)
                .count();
            let others = since > own_since as u128;
            match &plan {
                Plan::Change {
                    write: None,
                    conflict: Some(conflict),
                } if others => {
                    check_conflict(conflict, &m, c, ConflictKind::DeleteAgainstEdit);
                    for (f, values) in &conflict.fields {
                        assert_eq!(values.mine, Value::Null);
                        assert_eq!(Some(&values.theirs), c.body.get(f));
                        assert!(elsewhere(fv(c, f)), "{f} did not change elsewhere");
                    }
                }
                Plan::Change {
                    write: Some(w),
                    conflict: None,
                } if !others => {
                    assert_eq!(
                        w.record,
                        ChangeRecord::Deleted {
                            record_kind: kind,
                            id
                        }
                    );
                    assert_eq!(w.expect, Expect::Version(c.version));
                }
                other => panic!("a delete (changed elsewhere since: {others}) got {other:?}"),
            }
        }
        (MutationOp::Upsert { .. }, Some(c)) if c.deleted && elsewhere(c.version) => match &plan {
            Plan::Reject(_) => {}
            Plan::Change {
                write: None,
                conflict: Some(conflict),
            } => {
                check_conflict(conflict, &m, c, ConflictKind::EditAgainstDelete);
                assert!(conflict.fields.values().all(|v| v.theirs == Value::Null));
            }
            other => panic!("an edit of a record deleted elsewhere got {other:?}"),
        },
        (MutationOp::Upsert { .. }, _) if cur.is_none_or(|c| c.deleted) => match &plan {
            Plan::Reject(_) => {}
            Plan::Change {
                write: Some(w),
                conflict: None,
            } => assert_eq!(w.expect, Expect::Absent),
            other => panic!("a create got {other:?}"),
        },
        (MutationOp::Upsert { fields }, Some(c)) => {
            let is_same = |f: &String, v: &Value| {
                if f == "id" {
                    v.as_str().and_then(|s| s.parse::<Uuid>().ok()) == Some(id)
                } else {
                    c.body.get(f) == Some(v)
                }
            };
            if fields.iter().all(|(f, v)| is_same(f, v)) {
                assert_eq!(plan, Plan::Unchanged(c.at()), "an upsert of what is stored");
                return;
            }
            let (write, conflict) = match &plan {
                Plan::Reject(_) => return,
                Plan::Change { write, conflict } => (write, conflict),
                other => panic!("an upsert that changes something got {other:?}"),
            };
            let changed: Vec<(&String, &Value)> = fields
                .iter()
                .filter(|(f, v)| *f != "id" && c.body.get(*f) != Some(*v))
                .collect();
            let clashing: BTreeSet<&String> = changed
                .iter()
                .filter(|(f, _)| elsewhere(fv(c, f)))
                .map(|(f, _)| *f)
                .collect();
            let applying = changed.len() - clashing.len();
            assert_eq!(
                write.is_some(),
                applying > 0,
                "a write without a change to apply"
            );
            match conflict {
                Some(conflict) => {
                    check_conflict(conflict, &m, c, ConflictKind::SameField);
                    assert_eq!(
                        conflict.fields.keys().collect::<BTreeSet<_>>(),
                        clashing,
                        "the conflict holds other fields than those that clash"
                    );
                    for (f, values) in &conflict.fields {
                        assert_eq!(Some(&values.mine), fields.get(f));
                        assert_eq!(Some(&values.theirs), c.body.get(f));
                    }
                }
                None => assert!(clashing.is_empty(), "a clash with no conflict"),
            }
            if let Some(w) = write {
                assert_eq!(w.expect, Expect::Version(c.version));
                // Nothing changed elsewhere is overwritten.
                if let Some(stored) = normalised(kind, &c.body) {
                    let written = written_fields(w);
                    for f in &clashing {
                        assert_eq!(
                            written.get(*f),
                            stored.get(*f),
                            "the write overwrites {f}, changed elsewhere"
                        );
                    }
                    for (f, v) in &written {
                        if stored.get(f) != Some(v) {
                            assert!(
                                fields.contains_key(f) && !clashing.contains(f),
                                "the write changes {f}, which the edit did not apply"
                            );
                        }
                    }
                }
            }
        }
        (MutationOp::Upsert { .. }, None) => unreachable!("handled above"),
    }
}

fuzz_target!(|input: Input| check(&input));
