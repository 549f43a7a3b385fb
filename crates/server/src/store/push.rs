//! Push: a device's queued edits (mutations), applied exactly once, merged per field, and
//! the conflicts they make, held for their member to resolve.
//!
//! The decisions are made here, once, for both stores: [`decide`] says what a mutation
//! does to the record as stored, [`plan_resolution`] what a resolution writes. The stores
//! ([`PushStore`] in `sqlite/push.rs` and `postgres/push.rs`) read what these need, carry
//! out the answer with the records store's own write (so every reference and access rule
//! of the records API holds), and record the result.
//!
//! Merge rule: a field an edit changes (its value differs from the stored one) clashes when
//! it changed since the edit's base version (its field version is greater), unless that
//! change was made by an earlier mutation of the same device: a device's edits build on
//! each other, whether or not it has heard back yet. Fields set to the value they already
//! have neither change nor clash. A delete clashes with any change since its base made
//! elsewhere; an edit clashes with a delete made elsewhere.
//!
//! Invariant: a mutation's effect, its result, and the device's last mutation sequence are
//! written in one transaction; a mutation whose sequence is not above the device's last
//! is answered from the stored result and changes nothing.
//! Invariant: nothing is silently overwritten: a clash is applied to no side, it is a
//! conflict holding both values, until the member resolves it.
//! Invariant: a refusal names the field, never echoes a value.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde_json::{Map, Value};
use strongroom_protocol::{
    AppliedAt, ChangeRecord, ConflictKind, ConflictResolution, ConflictValues, Mutation,
    MutationOp, MutationOutcome, MutationResult, ProblemCode, RecordKind, SyncConflict,
};
use uuid::Uuid;

use super::records::{Expect, RecordWrite, Written};
use super::{PracticeId, StoreError, StoreResult, UserId};

/// Who pushes: the member (and whether their role writes) and their device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pusher {
    pub practice: PracticeId,
    pub user: UserId,
    pub may_write: bool,
    pub device: Uuid,
    /// Unix seconds.
    pub now: i64,
}

/// Storage of pushed mutations and their conflicts.
#[async_trait]
pub trait PushStore: Send + Sync {
    /// Applies one mutation of `pusher`'s device exactly once, in one transaction with
    /// its result and the device's last mutation sequence. A mutation seen before is
    /// answered as it was the first time. Errors are the database's only: every refusal
    /// is a `Rejected` result.
    async fn apply_mutation(
        &self,
        pusher: &Pusher,
        mutation: &Mutation,
    ) -> StoreResult<MutationResult>;

    /// The member's open conflicts, oldest first, on records they may still open.
    async fn open_conflicts(
        &self,
        practice: PracticeId,
        user: UserId,
    ) -> StoreResult<Vec<SyncConflict>>;

    /// Applies the member's resolution of their conflict `id` as a write on top of the
    /// record's current version, and marks the conflict resolved, in one transaction.
    /// Answers where the record now stands. Errors: `NotFound` (no such open or resolved
    /// conflict of this member, or its record is on a matter they may no longer open),
    /// `InUse` (resolved already; a contact still on a matter), `Invalid` (the values
    /// break a rule, or a deleted record needs all of its fields to come back).
    async fn resolve_conflict(
        &self,
        practice: PracticeId,
        user: UserId,
        id: Uuid,
        resolution: &ConflictResolution,
        now: i64,
    ) -> StoreResult<AppliedAt>;
}

/// What a store read of the record a mutation is about.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    pub seq: i64,
    pub version: i64,
    pub deleted: bool,
    /// The live record's fields; empty for a tombstone.
    pub body: Map<String, Value>,
    /// Field name to the version at which it last changed.
    pub field_versions: BTreeMap<String, i64>,
    /// Whether the member may open the record's matter.
    pub visible: bool,
}

impl Current {
    pub fn at(&self) -> AppliedAt {
        AppliedAt {
            seq: self.seq,
            version: self.version,
        }
    }
}

/// A refusal: the code and the words, which name fields and never values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: ProblemCode,
    pub detail: String,
}

impl Rejection {
    fn new(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }

    fn invalid(detail: impl Into<String>) -> Self {
        Self::new(ProblemCode::InvalidRecord, detail)
    }

    fn not_found() -> Self {
        Self::new(ProblemCode::NotFound, "no such record")
    }

    /// The answer to a mutation refused for this reason.
    pub fn outcome(self) -> MutationOutcome {
        MutationOutcome::Rejected {
            code: self.code,
            detail: self.detail,
        }
    }

    /// The same refusal as a store error, for a resolution (answered as a problem).
    pub fn into_store_error(self) -> StoreError {
        match self.code {
            ProblemCode::NotFound => StoreError::NotFound,
            ProblemCode::Conflict => StoreError::InUse(self.detail),
            _ => StoreError::Invalid(self.detail),
        }
    }

    /// The refusal a write's error stands for, or the error itself when it is the
    /// database's (which fails the request instead).
    pub fn from_write_error(e: StoreError) -> Result<Self, StoreError> {
        Ok(match e {
            StoreError::NotFound => Self::not_found(),
            StoreError::Invalid(detail) => Self::invalid(detail),
            StoreError::InUse(detail) => Self::new(ProblemCode::Conflict, detail),
            StoreError::VersionMismatch { .. } => Self::new(
                ProblemCode::VersionConflict,
                "the record changed while the edit was applied; push it again",
            ),
            e @ (StoreError::Conflict(_) | StoreError::Database(_)) => return Err(e),
        })
    }
}

/// What a mutation does.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    Reject(Rejection),
    /// Nothing to change: the record already stands as asked.
    Unchanged(AppliedAt),
    /// A write, a conflict to hold, or both (never neither).
    Change {
        write: Option<Box<RecordWrite>>,
        conflict: Option<SyncConflict>,
    },
}

impl Plan {
    /// The answer once the plan is carried out: `written` is where its write left the
    /// record (none when it had no write).
    pub fn outcome(self, written: Option<Written>) -> MutationOutcome {
        let applied = written.map(|w| AppliedAt {
            seq: w.seq,
            version: w.version,
        });
        match self {
            Plan::Reject(r) => r.outcome(),
            Plan::Unchanged(at) => MutationOutcome::Applied {
                seq: at.seq,
                version: at.version,
            },
            Plan::Change {
                conflict: Some(conflict),
                ..
            } => MutationOutcome::Conflict { conflict, applied },
            Plan::Change { conflict: None, .. } => {
                let at = applied.unwrap_or(AppliedAt { seq: 0, version: 0 });
                MutationOutcome::Applied {
                    seq: at.seq,
                    version: at.version,
                }
            }
        }
    }
}

/// The answer to a mutation whose sequence is not above the device's last, and that the
/// service never answered (the device skipped it, then sent it late).
pub fn out_of_order(mutation_seq: i64, last: i64) -> MutationResult {
    MutationResult {
        mutation_seq,
        outcome: Rejection::new(
            ProblemCode::BadRequest,
            format!(
                "mutation {mutation_seq} was never applied, and {last} from this device \
                 was: a device's mutation sequence only grows"
            ),
        )
        .outcome(),
    }
}

/// The answer to a mutation seen before: the stored one, unless the member may no longer
/// open its record (its matter was closed to them since), which is then `not_found` like
/// any edit of it: nothing of a matter they lost is answered again.
pub fn replay(stored: MutationResult, current: Option<&Current>) -> MutationResult {
    if current.is_some_and(|c| !c.visible) {
        MutationResult {
            mutation_seq: stored.mutation_seq,
            outcome: Rejection::not_found().outcome(),
        }
    } else {
        stored
    }
}

/// Whether a field name the client gave may be shown: a plain identifier.
fn plain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A field name the client gave, as it may be shown: quoted if plain, else not at all.
fn shown(name: &str) -> String {
    if plain(name) {
        format!("`{name}`")
    } else {
        "a name".to_owned()
    }
}

/// The record of `kind` that `fields` make, checked by every rule: unknown fields, wrong
/// types and broken rules are refused, naming the field.
fn parse_record(kind: RecordKind, fields: &Map<String, Value>) -> Result<ChangeRecord, Rejection> {
    // One top-level field per line (nested values may take more), so that serde's line
    // number names the field at fault.
    let mut text = String::from("{\n");
    let mut starts: Vec<(usize, &str)> = Vec::with_capacity(fields.len());
    let mut line = 2;
    for (i, (name, value)) in fields.iter().enumerate() {
        // serde passes over names it does not know, so the field at fault is one of
        // ours; a name that is not plain is never shown all the same.
        starts.push((line, if plain(name) { name } else { "a field" }));
        let entry = format!(
            "{}: {}{}\n",
            Value::String(name.clone()),
            serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into()),
            if i + 1 < fields.len() { "," } else { "" }
        );
        line += entry.matches('\n').count();
        text.push_str(&entry);
    }
    text.push('}');
    let record = ChangeRecord::from_body(kind, &text).map_err(|e| {
        let message = e.to_string();
        if let Some(rest) = message.strip_prefix("missing field `")
            && let Some(name) = rest.split('`').next()
        {
            return Rejection::invalid(format!("{name}: is missing"));
        }
        match starts.iter().rev().find(|(start, _)| *start <= e.line()) {
            Some((_, name)) => Rejection::invalid(format!(
                "{name}: has a value of the wrong type or form for a {}",
                kind.as_str()
            )),
            None => Rejection::invalid(format!("not a {}", kind.as_str())),
        }
    })?;
    // serde passes over names it does not know: refuse them instead of dropping them.
    let known = match record.body_json().as_deref().map(serde_json::from_str) {
        Some(Ok(Value::Object(known))) => known,
        _ => Map::new(),
    };
    if let Some(name) = fields.keys().find(|k| !known.contains_key(*k)) {
        return Err(Rejection::invalid(format!(
            "fields: {} is not a field of a {}",
            shown(name),
            kind.as_str()
        )));
    }
    strongroom_protocol::validate::record(&record)
        .map_err(|e| Rejection::invalid(e.to_string()))?;
    Ok(record)
}

/// Whether `value` names record `id` (the value of an `id` field).
fn is_id(value: &Value, id: Uuid) -> bool {
    value.as_str().and_then(|s| s.parse::<Uuid>().ok()) == Some(id)
}

/// A whole record from `fields` alone: every field must be there; `id`, if given, must be
/// the record's.
fn whole_record(
    kind: RecordKind,
    id: Uuid,
    fields: &Map<String, Value>,
) -> Result<ChangeRecord, Rejection> {
    if let Some(given) = fields.get("id")
        && !is_id(given, id)
    {
        return Err(Rejection::invalid("id: must be the mutation's record_id"));
    }
    let mut all = fields.clone();
    all.insert("id".into(), Value::String(id.to_string()));
    parse_record(kind, &all)
}

/// The fields of `fields` whose values differ from the live record's, checked: each must
/// be a field of the record, and `id` cannot change.
fn changed_fields<'a>(
    kind: RecordKind,
    id: Uuid,
    current: &Current,
    fields: &'a Map<String, Value>,
) -> Result<Vec<(&'a String, &'a Value)>, Rejection> {
    let mut changed = Vec::new();
    for (name, value) in fields {
        if name == "id" {
            if !is_id(value, id) {
                return Err(Rejection::invalid("id: cannot be changed"));
            }
            continue;
        }
        let Some(now) = current.body.get(name) else {
            return Err(Rejection::invalid(format!(
                "fields: {} is not a field of a {}",
                shown(name),
                kind.as_str()
            )));
        };
        if now != value {
            changed.push((name, value));
        }
    }
    Ok(changed)
}

/// The live record with `changes` written over it, checked by every rule.
fn merged<'a>(
    kind: RecordKind,
    current: &Current,
    changes: impl IntoIterator<Item = (&'a String, &'a Value)>,
) -> Result<ChangeRecord, Rejection> {
    let mut fields = current.body.clone();
    for (name, value) in changes {
        fields.insert(name.clone(), value.clone());
    }
    parse_record(kind, &fields)
}

/// What `mutation` does to its record as stored (`current`; none if it never existed).
/// `own` holds the versions of this record that earlier mutations of the same device
/// wrote (those after the base, at least): they never clash with this one.
pub fn decide(
    mutation: &Mutation,
    may_write: bool,
    current: Option<&Current>,
    own: &BTreeSet<i64>,
) -> Plan {
    match decide_or_reject(mutation, may_write, current, own) {
        Ok(plan) => plan,
        Err(rejection) => Plan::Reject(rejection),
    }
}

fn decide_or_reject(
    m: &Mutation,
    may_write: bool,
    current: Option<&Current>,
    own: &BTreeSet<i64>,
) -> Result<Plan, Rejection> {
    if !may_write {
        return Err(Rejection::new(
            ProblemCode::Forbidden,
            "a read-only member cannot change records",
        ));
    }
    if current.is_some_and(|c| !c.visible) {
        return Err(Rejection::not_found());
    }
    let (kind, id) = (m.kind, m.record_id);
    // A base below 0 means nothing more than none.
    let base = m.base_version.unwrap_or(0).max(0);
    // Whether version `v` of the record is a change made elsewhere since the base.
    let elsewhere = |v: i64| v > base && !own.contains(&v);
    let conflict = |kind: ConflictKind,
                    server_version: i64,
                    fields: BTreeMap<String, ConflictValues>| SyncConflict {
        id: Uuid::new_v4(),
        kind,
        record_kind: m.kind,
        record_id: m.record_id,
        base_version: m.base_version,
        server_version,
        fields,
    };
    let create = |fields: &Map<String, Value>| -> Result<Plan, Rejection> {
        Ok(Plan::Change {
            write: Some(Box::new(RecordWrite {
                record: whole_record(kind, id, fields)?,
                expect: Expect::Absent,
            })),
            conflict: None,
        })
    };
    match (&m.op, current) {
        (MutationOp::Delete, None) => Err(Rejection::not_found()),
        (MutationOp::Delete, Some(c)) if c.deleted => Ok(Plan::Unchanged(c.at())),
        (MutationOp::Delete, Some(c)) => {
            // Versions after the base that this device did not write.
            let others = if c.version > base {
                let since = usize::try_from(c.version - base).unwrap_or(usize::MAX);
                since.saturating_sub(own.range(base + 1..=c.version).count())
            } else {
                0
            };
            if others > 0 {
                let fields = c
                    .body
                    .iter()
                    .filter(|(name, _)| {
                        elsewhere(c.field_versions.get(*name).copied().unwrap_or(c.version))
                    })
                    .map(|(name, theirs)| {
                        (
                            name.clone(),
                            ConflictValues {
                                mine: Value::Null,
                                theirs: theirs.clone(),
                            },
                        )
                    })
                    .collect();
                return Ok(Plan::Change {
                    write: None,
                    conflict: Some(conflict(ConflictKind::DeleteAgainstEdit, c.version, fields)),
                });
            }
            Ok(Plan::Change {
                write: Some(Box::new(RecordWrite {
                    record: ChangeRecord::Deleted {
                        record_kind: kind,
                        id,
                    },
                    expect: Expect::Version(c.version),
                })),
                conflict: None,
            })
        }
        (MutationOp::Upsert { fields }, None) => create(fields),
        (MutationOp::Upsert { fields }, Some(c)) if c.deleted => {
            if !elsewhere(c.version) {
                // This device deleted it, or had seen the delete: a new life for the id.
                return create(fields);
            }
            if let Some(given) = fields.get("id")
                && !is_id(given, id)
            {
                return Err(Rejection::invalid("id: must be the mutation's record_id"));
            }
            let fields = fields
                .iter()
                .filter(|(name, _)| *name != "id")
                .map(|(name, mine)| {
                    (
                        name.clone(),
                        ConflictValues {
                            mine: mine.clone(),
                            theirs: Value::Null,
                        },
                    )
                })
                .collect();
            Ok(Plan::Change {
                write: None,
                conflict: Some(conflict(ConflictKind::EditAgainstDelete, c.version, fields)),
            })
        }
        (MutationOp::Upsert { fields }, Some(c)) => {
            let changed = changed_fields(kind, id, c, fields)?;
            if changed.is_empty() {
                return Ok(Plan::Unchanged(c.at()));
            }
            // Every value this device gave must make a valid record, clash or not.
            merged(kind, c, changed.iter().copied())?;
            let (clashing, applying): (Vec<_>, Vec<_>) =
                changed.into_iter().partition(|(name, _)| {
                    elsewhere(
                        c.field_versions
                            .get(name.as_str())
                            .copied()
                            .unwrap_or(c.version),
                    )
                });
            let write = if applying.is_empty() {
                None
            } else {
                Some(Box::new(RecordWrite {
                    record: merged(kind, c, applying)?,
                    expect: Expect::Version(c.version),
                }))
            };
            let conflict = (!clashing.is_empty()).then(|| {
                let fields = clashing
                    .into_iter()
                    .map(|(name, mine)| {
                        (
                            name.clone(),
                            ConflictValues {
                                mine: mine.clone(),
                                theirs: c.body.get(name).cloned().unwrap_or(Value::Null),
                            },
                        )
                    })
                    .collect();
                conflict(ConflictKind::SameField, c.version, fields)
            });
            Ok(Plan::Change { write, conflict })
        }
    }
}

/// The write a resolution makes over the record as it stands (`current`), if any.
pub fn plan_resolution(
    conflict: &SyncConflict,
    resolution: &ConflictResolution,
    current: Option<&Current>,
) -> Result<Option<RecordWrite>, Rejection> {
    if current.is_some_and(|c| !c.visible) {
        return Err(Rejection::not_found());
    }
    let (kind, id) = (conflict.record_kind, conflict.record_id);
    let fields: Map<String, Value> = match resolution {
        ConflictResolution::KeepTheirs => return Ok(None),
        ConflictResolution::KeepMine if conflict.kind == ConflictKind::DeleteAgainstEdit => {
            return Ok(current.filter(|c| !c.deleted).map(|c| RecordWrite {
                record: ChangeRecord::Deleted {
                    record_kind: kind,
                    id,
                },
                expect: Expect::Version(c.version),
            }));
        }
        ConflictResolution::KeepMine => conflict
            .fields
            .iter()
            .map(|(name, values)| (name.clone(), values.mine.clone()))
            .collect(),
        ConflictResolution::Edit { fields } => {
            if fields.is_empty() {
                return Err(Rejection::invalid("fields: give at least one field"));
            }
            fields.clone()
        }
    };
    match current {
        Some(c) if !c.deleted => {
            let changed = changed_fields(kind, id, c, &fields)?;
            if changed.is_empty() {
                return Ok(None);
            }
            Ok(Some(RecordWrite {
                record: merged(kind, c, changed)?,
                expect: Expect::Version(c.version),
            }))
        }
        _ => {
            let record = whole_record(kind, id, &fields).map_err(|r| {
                if r.detail.ends_with(": is missing") {
                    Rejection::invalid(format!(
                        "the {} was deleted: to keep it, resolve with an `edit` that gives \
                         the whole record ({})",
                        kind.as_str(),
                        r.detail
                    ))
                } else {
                    r
                }
            })?;
            Ok(Some(RecordWrite {
                record,
                expect: Expect::Absent,
            }))
        }
    }
}

/// How a conflict kind is stored.
pub fn conflict_kind_str(kind: ConflictKind) -> &'static str {
    match kind {
        ConflictKind::SameField => "same_field",
        ConflictKind::EditAgainstDelete => "edit_against_delete",
        ConflictKind::DeleteAgainstEdit => "delete_against_edit",
    }
}

/// A conflict kind as stored.
pub fn parse_conflict_kind(s: &str) -> StoreResult<ConflictKind> {
    [
        ConflictKind::SameField,
        ConflictKind::EditAgainstDelete,
        ConflictKind::DeleteAgainstEdit,
    ]
    .into_iter()
    .find(|k| conflict_kind_str(*k) == s)
    .ok_or_else(|| StoreError::Database(format!("unknown conflict kind {s:?}")))
}

/// How a resolution is stored.
pub fn resolution_str(resolution: &ConflictResolution) -> &'static str {
    match resolution {
        ConflictResolution::KeepMine => "keep_mine",
        ConflictResolution::KeepTheirs => "keep_theirs",
        ConflictResolution::Edit { .. } => "edit",
    }
}

/// A stored JSON value of ours that does not parse.
pub fn corrupt(what: &str, e: &serde_json::Error) -> StoreError {
    StoreError::Database(format!("a stored {what} does not parse: {e}"))
}

/// The stored form of a result.
pub fn result_json(result: &MutationResult) -> StoreResult<String> {
    serde_json::to_string(result).map_err(|e| StoreError::Database(e.to_string()))
}

/// A stored result.
pub fn parse_result(json: &str) -> StoreResult<MutationResult> {
    serde_json::from_str(json).map_err(|e| corrupt("mutation result", &e))
}

/// The stored form of a conflict's fields.
pub fn fields_json(fields: &BTreeMap<String, ConflictValues>) -> StoreResult<String> {
    serde_json::to_string(fields).map_err(|e| StoreError::Database(e.to_string()))
}

/// A conflict's stored fields.
pub fn parse_fields(json: &str) -> StoreResult<BTreeMap<String, ConflictValues>> {
    serde_json::from_str(json).map_err(|e| corrupt("conflict", &e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn note(id: Uuid) -> Map<String, Value> {
        let Value::Object(m) = json!({
            "id": id,
            "matter_id": Uuid::nil(),
            "author": "A",
            "written_at": "2026-11-27T09:30:00Z",
            "subject": "Call",
            "body": "text",
        }) else {
            unreachable!()
        };
        m
    }

    fn live(id: Uuid, version: i64, versions: &[(&str, i64)]) -> Current {
        let body = note(id);
        let mut field_versions: BTreeMap<String, i64> =
            body.keys().map(|k| (k.clone(), 1)).collect();
        for (k, v) in versions {
            field_versions.insert((*k).to_owned(), *v);
        }
        Current {
            seq: 10,
            version,
            deleted: false,
            body,
            field_versions,
            visible: true,
        }
    }

    fn upsert(id: Uuid, base: Option<i64>, fields: Value) -> Mutation {
        let Value::Object(fields) = fields else {
            unreachable!()
        };
        Mutation {
            mutation_seq: 1,
            kind: RecordKind::FileNote,
            record_id: id,
            base_version: base,
            op: MutationOp::Upsert { fields },
        }
    }

    #[test]
    fn same_field_clashes_other_fields_merge_equal_values_converge() {
        let id = Uuid::new_v4();
        // Version 2 changed the subject elsewhere.
        let c = live(id, 2, &[("subject", 2)]);
        let none = BTreeSet::new();
        let m = upsert(id, Some(1), json!({"subject": "Mine", "body": "new"}));
        let Plan::Change {
            write: Some(w),
            conflict: Some(conflict),
        } = decide(&m, true, Some(&c), &none)
        else {
            panic!()
        };
        let ChangeRecord::FileNote { file_note } = w.record else {
            panic!()
        };
        assert_eq!(
            (file_note.subject.as_str(), file_note.body.as_str()),
            ("Call", "new")
        );
        assert_eq!(w.expect, Expect::Version(2));
        assert_eq!(conflict.kind, ConflictKind::SameField);
        assert_eq!(
            conflict.fields["subject"],
            ConflictValues {
                mine: json!("Mine"),
                theirs: json!("Call")
            }
        );
        // The same value as stored: nothing to do.
        let m = upsert(id, Some(1), json!({"subject": "Call"}));
        assert_eq!(decide(&m, true, Some(&c), &none), Plan::Unchanged(c.at()));
        // The device's own earlier change is no clash.
        let own = BTreeSet::from([2]);
        let m = upsert(id, Some(1), json!({"subject": "Mine again"}));
        assert!(matches!(
            decide(&m, true, Some(&c), &own),
            Plan::Change {
                write: Some(_),
                conflict: None
            }
        ));
    }

    #[test]
    fn refusals_name_the_field_never_the_value() {
        let id = Uuid::new_v4();
        let c = live(id, 1, &[]);
        let none = BTreeSet::new();
        for (fields, named) in [
            (json!({"written_at": "Secret-When"}), "written_at"),
            (json!({"body": 12}), "body"),
            (json!({"nonsense": "Secret-Value"}), "nonsense"),
            (json!({"id": Uuid::new_v4()}), "id"),
        ] {
            let Plan::Reject(r) = decide(&upsert(id, Some(1), fields), true, Some(&c), &none)
            else {
                panic!("{named}")
            };
            assert_eq!(r.code, ProblemCode::InvalidRecord);
            assert!(r.detail.contains(named), "{r:?}");
            assert!(!r.detail.contains("Secret"), "{r:?}");
        }
        // A create must be whole; the missing field is named.
        let Plan::Reject(r) = decide(&upsert(id, None, json!({"body": "x"})), true, None, &none)
        else {
            panic!()
        };
        assert!(r.detail.ends_with("is missing"), "{r:?}");
        // A wrong type in a create names its field too.
        let mut fields = note(id);
        fields.insert("subject".into(), json!(["Secret"]));
        let Plan::Reject(r) = decide(&upsert(id, None, Value::Object(fields)), true, None, &none)
        else {
            panic!()
        };
        assert!(r.detail.starts_with("subject:"), "{r:?}");
        // Read-only members write nothing; hidden records do not exist.
        let Plan::Reject(r) = decide(&upsert(id, Some(1), json!({})), false, Some(&c), &none)
        else {
            panic!()
        };
        assert_eq!(r.code, ProblemCode::Forbidden);
        let hidden = Current {
            visible: false,
            ..c.clone()
        };
        let Plan::Reject(r) = decide(&upsert(id, Some(1), json!({})), true, Some(&hidden), &none)
        else {
            panic!()
        };
        assert_eq!(r.code, ProblemCode::NotFound);
    }

    #[test]
    fn deletes_clash_with_edits_made_elsewhere_only() {
        let id = Uuid::new_v4();
        let c = live(id, 3, &[("body", 3)]);
        let delete = Mutation {
            mutation_seq: 1,
            kind: RecordKind::FileNote,
            record_id: id,
            base_version: Some(2),
            op: MutationOp::Delete,
        };
        let Plan::Change {
            write: None,
            conflict: Some(conflict),
        } = decide(&delete, true, Some(&c), &BTreeSet::new())
        else {
            panic!()
        };
        assert_eq!(conflict.kind, ConflictKind::DeleteAgainstEdit);
        assert_eq!(conflict.fields.keys().collect::<Vec<_>>(), ["body"]);
        assert!(matches!(
            decide(&delete, true, Some(&c), &BTreeSet::from([3])),
            Plan::Change {
                write: Some(_),
                conflict: None
            }
        ));
        let gone = Current {
            deleted: true,
            body: Map::new(),
            ..c
        };
        assert_eq!(
            decide(&delete, true, Some(&gone), &BTreeSet::new()),
            Plan::Unchanged(gone.at())
        );
    }
}
