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

use async_trait::async_trait;
use strongroom_protocol::{Change, ChangeRecord, ChangesPage, Matter, RecordKind};
use uuid::Uuid;

use super::{PracticeId, StoreResult, UserId};

/// Whose eyes a read or write is for: a member (restricted matters apply), or the
/// service itself (the operator's seeding; sees everything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    Member(UserId),
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

    /// Who may open a matter: `(restricted, members)`, or `NotFound` when there is no live
    /// matter of that id.
    async fn matter_access(
        &self,
        practice: PracticeId,
        matter: Uuid,
    ) -> StoreResult<(bool, Vec<UserId>)>;

    /// Opens a matter to the practice, or restricts it to `members` (members of this
    /// practice, else `Invalid`). `NotFound` when there is no live matter of that id.
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
