//! The practice's records, of every kind, and who may open which matter.
//!
//! Every record lives in one table (`records`) as the JSON the wire carries, with its kind,
//! id, the matter it belongs to, the practice's sequence number of its last write, its
//! version, and whether it is a tombstone. A matter may be restricted to named members;
//! a restricted matter and every record on it are invisible to everyone else, in reads,
//! lists, the change feed and writes alike.
//!
//! Invariant: every write takes the practice's next sequence number in its own
//! transaction (see the module above); a deletion leaves a tombstone with a new number.
//! Invariant: a record on a matter the viewer may not open is answered as if it did not
//! exist (`NotFound`), never as forbidden: a restricted matter's existence does not leak.
//! Invariant: a record on a matter needs that matter to exist (and a participant its
//! contact); deleting a matter deletes its records first, each with its own tombstone;
//! a contact still on a matter cannot be deleted.
//! Invariant: every write keeps the record's `field_versions` (field name to the version at
//! which that field last changed), computed here by [`field_versions_after`] for every
//! write path of both stores; push merges edits by them (see [`super::push`]).

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::{Map, Value};
use strongroom_protocol::{Change, ChangeRecord, ChangesPage, Matter, RecordKind};
use uuid::Uuid;

use super::{PracticeId, StoreResult, UserId};

/// Whose eyes a read or write is for: a member (restricted matters apply), someone outside
/// the practice's members acting for it (support staff under a grant, an integration
/// token: they see only the matters open to the whole practice), or the service itself
/// (the operator's seeding; sees everything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    Member(UserId),
    Outsider,
    Service,
}

/// What a write expects of the record it replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Whatever is there (last writer wins).
    Any,
    /// No live record: a create (`If-None-Match: *`).
    Absent,
    /// The live record at exactly this version (`If-Match`).
    Version(i64),
}

/// One write: a record to create or replace, or a tombstone (`ChangeRecord::Deleted`) to
/// delete one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordWrite {
    pub record: ChangeRecord,
    pub expect: Expect,
}

/// A record's field versions, from their stored JSON: field name to the record version at
/// which it last changed. Something unreadable counts as no versions.
pub fn parse_field_versions(json: &str) -> BTreeMap<String, i64> {
    serde_json::from_str(json).unwrap_or_default()
}

/// The top-level fields of a stored body, or none when it is not a JSON object.
pub fn body_fields(body: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str(body) {
        Ok(Value::Object(fields)) => Some(fields),
        _ => None,
    }
}

/// The field versions of a record after a write of `new_body` as version `new_version`,
/// as stored JSON: a field whose value differs from the stored body's (or that it lacked)
/// is at `new_version`; the others keep theirs. A create or revival (no stored body)
/// puts every field at `new_version`. A field of unknown version counts as changed now,
/// so that doubt makes a conflict, never a silent overwrite.
pub fn field_versions_after(
    old_body: Option<&str>,
    old_versions: &str,
    new_body: &str,
    new_version: i64,
) -> String {
    let old = old_body.and_then(body_fields).unwrap_or_default();
    let versions = parse_field_versions(old_versions);
    let new = body_fields(new_body).unwrap_or_default();
    let next: BTreeMap<&str, i64> = new
        .iter()
        .map(|(name, value)| {
            let version = match (old.get(name), versions.get(name)) {
                (Some(before), Some(v)) if before == value => *v,
                _ => new_version,
            };
            (name.as_str(), version)
        })
        .collect();
    // A map of strings to numbers always serialises.
    serde_json::to_string(&next).unwrap_or_else(|_| "{}".to_owned())
}

/// Where a write left the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub seq: i64,
    pub version: i64,
}

/// Which records a list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListQuery {
    pub kind: RecordKind,
    /// Only the records on this matter.
    pub matter: Option<Uuid>,
    /// Records last written after this sequence number.
    pub after: i64,
    pub limit: u32,
}

/// The feed entry that tells one member they may no longer open a matter.
pub(crate) fn revocation(seq: i64, matter_id: Uuid) -> Change {
    Change {
        seq,
        version: 0,
        record: ChangeRecord::Revoked { matter_id },
    }
}

/// Storage of records and matter access.
#[async_trait]
pub trait RecordStore: Send + Sync {
    /// Applies `writes` in order, in one transaction: all or nothing. Answers where each
    /// left its record. Errors: `NotFound` (no such record, or on a matter the viewer may
    /// not open; or no such practice), `VersionMismatch`, `Invalid` (a missing matter or
    /// contact), `InUse` (a contact still on a matter).
    async fn write_records(
        &self,
        practice: PracticeId,
        viewer: Viewer,
        writes: &[RecordWrite],
    ) -> StoreResult<Vec<Written>>;

    /// A live record, if the viewer may see it.
    async fn record(
        &self,
        practice: PracticeId,
        viewer: Viewer,
        kind: RecordKind,
        id: Uuid,
    ) -> StoreResult<Option<Change>>;

    /// Live records of a kind in `seq` order, as a page.
    async fn list_records(
        &self,
        practice: PracticeId,
        viewer: Viewer,
        query: ListQuery,
    ) -> StoreResult<ChangesPage>;

    /// The practice's changes after `after`, at most `limit`, in `seq` order: what the
    /// viewer may see of them.
    async fn changes_after(
        &self,
        practice: PracticeId,
        viewer: Viewer,
        after: i64,
        limit: u32,
    ) -> StoreResult<ChangesPage>;

    /// How many changes [`RecordStore::changes_after`] would give this viewer after
    /// `after`, in all: for a client's progress bar.
    async fn count_changes_after(
        &self,
        practice: PracticeId,
        viewer: Viewer,
        after: i64,
    ) -> StoreResult<u64>;

    /// Who may open a matter: `(restricted, members)`, or `NotFound` when there is no live
    /// matter of that id.
    async fn matter_access(
        &self,
        practice: PracticeId,
        matter: Uuid,
    ) -> StoreResult<(bool, Vec<UserId>)>;

    /// Opens a matter to the practice, or restricts it to `members` (members of this
    /// practice, else `Invalid`). `NotFound` when there is no live matter of that id. In the
    /// same transaction: every member who may not open it gets a `Revoked` entry in their
    /// feed, and the matter and its records are written again at new numbers, so a member
    /// let (back) in receives them.
    async fn set_matter_access(
        &self,
        practice: PracticeId,
        matter: Uuid,
        restricted: bool,
        members: &[UserId],
    ) -> StoreResult<()>;

    /// Writes many records for the operator (seeding, imports): one transaction, a block
    /// of sequence numbers, no expectations and no reference checks (the caller vouches
    /// for them). Answers each one's sequence number.
    async fn bulk_put(
        &self,
        practice: PracticeId,
        records: &[ChangeRecord],
    ) -> StoreResult<Vec<i64>>;

    /// Creates or replaces a matter as the service; answers its sequence number.
    async fn put_matter(&self, practice: PracticeId, matter: &Matter) -> StoreResult<i64> {
        let written = self
            .write_records(
                practice,
                Viewer::Service,
                &[RecordWrite {
                    record: ChangeRecord::Matter {
                        matter: matter.clone(),
                    },
                    expect: Expect::Any,
                }],
            )
            .await?;
        Ok(written.last().map_or(0, |w| w.seq))
    }

    /// Deletes a matter (and its records) as the service; answers the matter tombstone's
    /// sequence number.
    async fn delete_matter(&self, practice: PracticeId, id: Uuid) -> StoreResult<i64> {
        let written = self
            .write_records(
                practice,
                Viewer::Service,
                &[RecordWrite {
                    record: ChangeRecord::Deleted {
                        record_kind: RecordKind::Matter,
                        id,
                    },
                    expect: Expect::Any,
                }],
            )
            .await?;
        Ok(written.last().map_or(0, |w| w.seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_versions_move_only_for_fields_that_change() {
        // A create: every field at version 1.
        let created = field_versions_after(None, "{}", r#"{"a":1,"b":"x"}"#, 1);
        assert_eq!(created, r#"{"a":1,"b":1}"#);
        // `b` changes at version 2; `a` keeps 1; `c` is new.
        let next = field_versions_after(
            Some(r#"{"a":1,"b":"x"}"#),
            &created,
            r#"{"a":1,"b":"y","c":null}"#,
            2,
        );
        assert_eq!(next, r#"{"a":1,"b":2,"c":2}"#);
        // A field of unknown version counts as changed now; a dropped field is gone.
        let doubt = field_versions_after(Some(r#"{"a":1,"b":"y"}"#), r#"{"b":2}"#, r#"{"a":1}"#, 3);
        assert_eq!(doubt, r#"{"a":3}"#);
        assert_eq!(parse_field_versions("not json"), BTreeMap::new());
    }
}
