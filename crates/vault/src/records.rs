//! Records in the vault: writing each kind from the change feed or a local edit, reading
//! them back, tombstones, and keeping the search index in step.
//!
//! Invariant: a change from the feed is applied only as part of a page that follows the
//! cursor, so its `seq` is newer than what the vault holds for that record (or its
//! tombstone), and a page already applied is refused whole.

use std::collections::{HashMap, HashSet};

use rusqlite::{OptionalExtension, Row, Transaction, params};
use strongroom_protocol::{
    ChangeRecord, Contact, ContactKind, Document, FileNote, Matter, MatterStatus, Participant,
    RecordKind, Task, TimeEntry,
};
use uuid::Uuid;

use crate::{Result, VaultError};

/// The table holding each kind.
pub(crate) fn table(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Matter => "matters",
        RecordKind::Contact => "contacts",
        RecordKind::Participant => "participants",
        RecordKind::FileNote => "file_notes",
        RecordKind::Task => "tasks",
        RecordKind::TimeEntry => "time_entries",
        RecordKind::Document => "documents",
    }
}

/// How the search index is kept while writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Indexing {
    /// Update the index with every write.
    Live,
    /// Leave it: it is rebuilt in one pass later (first sync).
    Deferred,
    /// As `Deferred`, into tables whose id indexes a first sync has not built yet: a row is
    /// inserted as it comes (no upsert: there is no index to find a stored one by), and a
    /// deletion writes only its tombstone. The caller has made sure that the record is not
    /// stored ([`apply_unkeyed`]).
    Unkeyed,
}

/// Applies one change from the feed. Its `seq` is newer than anything the vault holds:
/// the page was checked to follow the cursor, and every stored record came in at or below it.
pub(crate) fn apply_change(
    tx: &Transaction<'_>,
    seq: i64,
    version: i64,
    record: &ChangeRecord,
    indexing: Indexing,
) -> Result<bool> {
    let (kind, id) = record.key();
    let id_s = id.to_string();
    match record {
        ChangeRecord::Deleted { record_kind, .. } => {
            if indexing != Indexing::Unkeyed {
                delete_record(tx, *record_kind, &id_s, indexing)?;
            }
            tx.prepare_cached(
                "INSERT INTO tombstones (record_kind, id, seq, version) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (record_kind, id) DO UPDATE SET seq = excluded.seq, version = excluded.version",
            )?
            .execute(params![record_kind.as_str(), id_s, seq, version])?;
        }
        ChangeRecord::Revoked { matter_id } => {
            purge_matter(tx, &matter_id.to_string(), indexing)?;
        }
        other => {
            write_record(tx, other, seq, version, indexing)?;
            // A bulk load clears revived tombstones in one pass at its end.
            if indexing == Indexing::Live {
                tx.prepare_cached("DELETE FROM tombstones WHERE record_kind = ?1 AND id = ?2")?
                    .execute(params![kind.as_str(), id_s])?;
            }
        }
    }
    Ok(true)
}

/// Applies one change of a first sync while the record tables have no id index
/// ([`Indexing::Unkeyed`]). `stored` holds the id of every record the tables may hold, so
/// that a record is never stored twice: one that comes again (changed on the service while
/// the first sync ran) has its earlier row deleted first, by a scan of its table, rare
/// enough to cost nothing overall. A deletion deletes a row only if one may be stored.
pub(crate) fn apply_unkeyed(
    tx: &Transaction<'_>,
    seq: i64,
    version: i64,
    record: &ChangeRecord,
    stored: &mut StoredIds,
) -> Result<bool> {
    let (kind, id) = record.key();
    match record {
        ChangeRecord::Revoked { .. } => apply_change(tx, seq, version, record, Indexing::Deferred),
        ChangeRecord::Deleted { .. } => {
            let indexing = if stored.remove(kind, id) {
                Indexing::Deferred
            } else {
                Indexing::Unkeyed
            };
            apply_change(tx, seq, version, record, indexing)
        }
        _ => {
            if !stored.insert(kind, id) {
                delete_record(tx, kind, &id.to_string(), Indexing::Deferred)?;
            }
            apply_change(tx, seq, version, record, Indexing::Unkeyed)
        }
    }
}

/// The ids of the records a first sync's tables may hold, by kind, while they have no id
/// index: 16 bytes an id in hash tables, about 28 MB for a practice of 100,000 matters
/// (1,150,000 records), only until the load ends.
#[derive(Default)]
pub(crate) struct StoredIds([HashSet<u128>; 7]);

impl StoredIds {
    /// Reads the ids of every stored record (a load resumed after a restart, or one that
    /// began with records already stored).
    pub(crate) fn read(tx: &Transaction<'_>) -> Result<Self> {
        let mut ids = StoredIds::default();
        for kind in RecordKind::ALL {
            let mut stmt = tx.prepare(select_ids(kind))?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                ids.insert(kind, uuid_at(r, 0)?);
            }
        }
        Ok(ids)
    }

    /// Adds an id; false if it was there already.
    fn insert(&mut self, kind: RecordKind, id: Uuid) -> bool {
        self.0[slot(kind)].insert(id.as_u128())
    }

    /// Removes an id; false if it was not there.
    fn remove(&mut self, kind: RecordKind, id: Uuid) -> bool {
        self.0[slot(kind)].remove(&id.as_u128())
    }
}

/// Each kind's place in [`StoredIds`].
fn slot(kind: RecordKind) -> usize {
    match kind {
        RecordKind::Matter => 0,
        RecordKind::Contact => 1,
        RecordKind::Participant => 2,
        RecordKind::FileNote => 3,
        RecordKind::Task => 4,
        RecordKind::TimeEntry => 5,
        RecordKind::Document => 6,
    }
}

/// The statement that reads every stored id of a kind.
pub(crate) fn select_ids(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Matter => "SELECT id FROM matters",
        RecordKind::Contact => "SELECT id FROM contacts",
        RecordKind::Participant => "SELECT id FROM participants",
        RecordKind::FileNote => "SELECT id FROM file_notes",
        RecordKind::Task => "SELECT id FROM tasks",
        RecordKind::TimeEntry => "SELECT id FROM time_entries",
        RecordKind::Document => "SELECT id FROM documents",
    }
}

/// One record table's id index, and what makes its ids unique again should a row be there
/// twice (which [`apply_unkeyed`] never lets happen): the row of the newest change stays.
struct RecordKey {
    create: &'static str,
    dedupe: &'static str,
}

macro_rules! record_key {
    ($table:literal) => {
        RecordKey {
            create: concat!(
                "CREATE UNIQUE INDEX IF NOT EXISTS ",
                $table,
                "_id ON ",
                $table,
                " (id)"
            ),
            dedupe: concat!(
                "DELETE FROM ",
                $table,
                " WHERE rowid IN (SELECT rowid FROM (SELECT rowid, ",
                "row_number() OVER (PARTITION BY id ORDER BY seq DESC, rowid DESC) AS n FROM ",
                $table,
                ") WHERE n > 1)"
            ),
        }
    };
}

const RECORD_KEYS: [RecordKey; 7] = [
    record_key!("matters"),
    record_key!("contacts"),
    record_key!("participants"),
    record_key!("file_notes"),
    record_key!("tasks"),
    record_key!("time_entries"),
    record_key!("documents"),
];

/// Whether every record table has its id index.
pub(crate) fn keys_indexed(tx: &Transaction<'_>) -> Result<bool> {
    let n: i64 = tx
        .prepare_cached(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN
             ('matters_id', 'contacts_id', 'participants_id', 'file_notes_id', 'tasks_id',
              'time_entries_id', 'documents_id')",
        )?
        .query_row([], |r| r.get(0))?;
    Ok(n == RECORD_KEYS.len() as i64)
}

/// Builds the id indexes if a first sync has left them out, before a write that finds
/// records by id (a local edit, or the service's answer to one, made during a first sync).
/// Answers whether it built them; the rest of the load then upserts.
pub(crate) fn key_records(tx: &Transaction<'_>) -> Result<bool> {
    if keys_indexed(tx)? {
        return Ok(false);
    }
    create_record_keys(tx)?;
    Ok(true)
}

/// Builds each record table's id index (after a first sync stored its rows without them).
pub(crate) fn create_record_keys(tx: &Transaction<'_>) -> Result<()> {
    for key in &RECORD_KEYS {
        match tx.execute_batch(key.create) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                tx.execute_batch(key.dedupe)?;
                tx.execute_batch(key.create)?;
            }
            other => other?,
        }
    }
    Ok(())
}

/// Removes a matter the member may no longer open, and every record on it. Queued edits to
/// any of them move to `rejected_edits` (code `access_revoked`), never dropped unseen.
pub(crate) fn purge_matter(tx: &Transaction<'_>, matter: &str, indexing: Indexing) -> Result<()> {
    // The queued edits first, while the records still say which matter they are on.
    tx.prepare_cached(
        "INSERT OR REPLACE INTO rejected_edits (mutation_seq, record_kind, record_id, op, fields,
           code, detail, edited_at, rejected_at)
         SELECT mutation_seq, record_kind, record_id, op, fields, 'access_revoked',
                'you may no longer open this matter', created_at,
                strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
         FROM outbox o
         WHERE (o.record_kind = 'matter' AND o.record_id = ?1)
            OR (o.record_kind = 'participant'
                AND o.record_id IN (SELECT id FROM participants WHERE matter_id = ?1))
            OR (o.record_kind = 'file_note'
                AND o.record_id IN (SELECT id FROM file_notes WHERE matter_id = ?1))
            OR (o.record_kind = 'task' AND o.record_id IN (SELECT id FROM tasks WHERE matter_id = ?1))
            OR (o.record_kind = 'time_entry'
                AND o.record_id IN (SELECT id FROM time_entries WHERE matter_id = ?1))
            OR (o.record_kind = 'document'
                AND o.record_id IN (SELECT id FROM documents WHERE matter_id = ?1))",
    )?
    .execute([matter])?;
    tx.prepare_cached(
        "DELETE FROM outbox WHERE mutation_seq IN (SELECT mutation_seq FROM rejected_edits)",
    )?
    .execute([])?;
    let notes: Vec<String> = tx
        .prepare_cached("SELECT id FROM file_notes WHERE matter_id = ?1")?
        .query_map([matter], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for note in notes {
        delete_record(tx, RecordKind::FileNote, &note, indexing)?;
    }
    for sql in [
        "DELETE FROM participants WHERE matter_id = ?1",
        "DELETE FROM tasks WHERE matter_id = ?1",
        "DELETE FROM time_entries WHERE matter_id = ?1",
        "DELETE FROM documents WHERE matter_id = ?1",
    ] {
        tx.prepare_cached(sql)?.execute([matter])?;
    }
    delete_record(tx, RecordKind::Matter, matter, indexing)
}

/// A record's `INSERT` statement, with its upsert clause unless the table has no id index
/// yet ([`Indexing::Unkeyed`]). Both are literals, joined at compile time.
macro_rules! upsert {
    ($indexing:expr, $insert:literal, $on_conflict:literal) => {
        if $indexing == Indexing::Unkeyed {
            $insert
        } else {
            concat!($insert, $on_conflict)
        }
    };
}

/// Writes a record's row (insert or replace), with the given `seq` and `version`.
pub(crate) fn write_record(
    tx: &Transaction<'_>,
    record: &ChangeRecord,
    seq: i64,
    version: i64,
    indexing: Indexing,
) -> Result<()> {
    // For the index: a participant that moves between matters must leave the old one.
    let old_participant_matter = match record {
        ChangeRecord::Participant { participant } if indexing == Indexing::Live => tx
            .prepare_cached("SELECT matter_id FROM participants WHERE id = ?1")?
            .query_row([participant.id.to_string()], |r| r.get::<_, String>(0))
            .optional()?,
        _ => None,
    };
    match record {
        ChangeRecord::Matter { matter: m } => {
            let custom = serde_json::to_string(&m.custom_fields)
                .map_err(|e| VaultError::Corrupt(e.to_string()))?;
            tx.prepare_cached(upsert!(
                indexing,
                "INSERT INTO matters (id, seq, version, number, title, matter_type, status, client_name,
                                      responsible, opened_on, closed_on, description, custom_fields)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) ",
                 " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, version = excluded.version,
                   number = excluded.number, title = excluded.title, matter_type = excluded.matter_type,
                   status = excluded.status, client_name = excluded.client_name,
                   responsible = excluded.responsible, opened_on = excluded.opened_on,
                   closed_on = excluded.closed_on, description = excluded.description,
                   custom_fields = excluded.custom_fields"
            ))?
            .execute(params![
                m.id.to_string(), seq, version, m.number, m.title, m.matter_type, m.status.as_str(),
                m.client_name, m.responsible, m.opened_on, m.closed_on, m.description, custom
            ])?;
            if indexing == Indexing::Live {
                reindex_matter(tx, &m.id.to_string())?;
            }
        }
        ChangeRecord::Contact { contact: c } => {
            tx.prepare_cached(upsert!(
                indexing,
                "INSERT INTO contacts (id, seq, version, kind, name, email, phone, address)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ",
                " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, version = excluded.version,
                   kind = excluded.kind, name = excluded.name, email = excluded.email,
                   phone = excluded.phone, address = excluded.address"
            ))?
            .execute(params![
                c.id.to_string(),
                seq,
                version,
                c.kind.as_str(),
                c.name,
                c.email,
                c.phone,
                c.address
            ])?;
            if indexing == Indexing::Live {
                reindex_matters_of_contact(tx, &c.id.to_string())?;
            }
        }
        ChangeRecord::Participant { participant: p } => {
            tx.prepare_cached(upsert!(
                indexing,
                "INSERT INTO participants (id, seq, version, matter_id, contact_id, role)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ",
                 " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, version = excluded.version,
                   matter_id = excluded.matter_id, contact_id = excluded.contact_id, role = excluded.role"
            ))?
            .execute(params![p.id.to_string(), seq, version, p.matter_id.to_string(), p.contact_id.to_string(), p.role])?;
            if indexing == Indexing::Live {
                reindex_matter(tx, &p.matter_id.to_string())?;
                if let Some(old) = old_participant_matter.filter(|o| *o != p.matter_id.to_string())
                {
                    reindex_matter(tx, &old)?;
                }
            }
        }
        ChangeRecord::FileNote { file_note: n } => {
            tx.prepare_cached(upsert!(
                indexing,
                "INSERT INTO file_notes (id, seq, version, matter_id, author, written_at, subject, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ",
                 " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, version = excluded.version,
                   matter_id = excluded.matter_id, author = excluded.author,
                   written_at = excluded.written_at, subject = excluded.subject, body = excluded.body"
            ))?
            .execute(params![n.id.to_string(), seq, version, n.matter_id.to_string(), n.author, n.written_at, n.subject, n.body])?;
            if indexing == Indexing::Live {
                let rowid: i64 = tx
                    .prepare_cached("SELECT rowid FROM file_notes WHERE id = ?1")?
                    .query_row([n.id.to_string()], |r| r.get(0))?;
                tx.prepare_cached("DELETE FROM note_fts WHERE rowid = ?1")?
                    .execute([rowid])?;
                tx.prepare_cached(
                    "INSERT INTO note_fts (rowid, subject, body) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![rowid, n.subject, n.body])?;
            }
        }
        ChangeRecord::Task { task: t } => {
            tx.prepare_cached(upsert!(
                indexing,
                "INSERT INTO tasks (id, seq, version, matter_id, title, due_on, assignee, done)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ",
                " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, version = excluded.version,
                   matter_id = excluded.matter_id, title = excluded.title, due_on = excluded.due_on,
                   assignee = excluded.assignee, done = excluded.done"
            ))?
            .execute(params![
                t.id.to_string(),
                seq,
                version,
                t.matter_id.to_string(),
                t.title,
                t.due_on,
                t.assignee,
                t.done
            ])?;
        }
        ChangeRecord::TimeEntry { time_entry: t } => {
            tx.prepare_cached(upsert!(
                indexing,
                "INSERT INTO time_entries (id, seq, version, matter_id, worked_on, minutes, rate_cents, billable, narrative, author)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ",
                 " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, version = excluded.version,
                   matter_id = excluded.matter_id, worked_on = excluded.worked_on, minutes = excluded.minutes,
                   rate_cents = excluded.rate_cents, billable = excluded.billable,
                   narrative = excluded.narrative, author = excluded.author"
            ))?
            .execute(params![
                t.id.to_string(), seq, version, t.matter_id.to_string(), t.worked_on, t.minutes,
                t.rate_cents, t.billable, t.narrative, t.author
            ])?;
        }
        ChangeRecord::Document { document: d } => {
            tx.prepare_cached(upsert!(
                indexing,
                "INSERT INTO documents (id, seq, version, matter_id, name, folder, size_bytes, content_hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ",
                 " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, version = excluded.version,
                   matter_id = excluded.matter_id, name = excluded.name, folder = excluded.folder,
                   size_bytes = excluded.size_bytes, content_hash = excluded.content_hash"
            ))?
            .execute(params![d.id.to_string(), seq, version, d.matter_id.to_string(), d.name, d.folder, d.size_bytes, d.content_hash])?;
        }
        ChangeRecord::Deleted { .. } | ChangeRecord::Revoked { .. } => {
            return Err(VaultError::Corrupt(
                "a deletion is not a record to write".into(),
            ));
        }
    }
    Ok(())
}

/// Removes a record's row (and its index entries).
pub(crate) fn delete_record(
    tx: &Transaction<'_>,
    kind: RecordKind,
    id: &str,
    indexing: Indexing,
) -> Result<()> {
    let live = indexing == Indexing::Live;
    match kind {
        RecordKind::Matter => {
            if live
                && let Some(rowid) = tx
                    .prepare_cached("SELECT rowid FROM matters WHERE id = ?1")?
                    .query_row([id], |r| r.get::<_, i64>(0))
                    .optional()?
            {
                tx.prepare_cached("DELETE FROM matter_fts WHERE rowid = ?1")?
                    .execute([rowid])?;
            }
            tx.prepare_cached("DELETE FROM matters WHERE id = ?1")?
                .execute([id])?;
        }
        RecordKind::Contact => {
            tx.prepare_cached("DELETE FROM contacts WHERE id = ?1")?
                .execute([id])?;
            if live {
                reindex_matters_of_contact(tx, id)?;
            }
        }
        RecordKind::Participant => {
            let matter: Option<String> = tx
                .prepare_cached("SELECT matter_id FROM participants WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            tx.prepare_cached("DELETE FROM participants WHERE id = ?1")?
                .execute([id])?;
            if let (true, Some(m)) = (live, matter) {
                reindex_matter(tx, &m)?;
            }
        }
        RecordKind::FileNote => {
            if live
                && let Some(rowid) = tx
                    .prepare_cached("SELECT rowid FROM file_notes WHERE id = ?1")?
                    .query_row([id], |r| r.get::<_, i64>(0))
                    .optional()?
            {
                tx.prepare_cached("DELETE FROM note_fts WHERE rowid = ?1")?
                    .execute([rowid])?;
            }
            tx.prepare_cached("DELETE FROM file_notes WHERE id = ?1")?
                .execute([id])?;
        }
        RecordKind::Task => {
            tx.prepare_cached("DELETE FROM tasks WHERE id = ?1")?
                .execute([id])?;
        }
        RecordKind::TimeEntry => {
            tx.prepare_cached("DELETE FROM time_entries WHERE id = ?1")?
                .execute([id])?;
        }
        RecordKind::Document => {
            tx.prepare_cached("DELETE FROM documents WHERE id = ?1")?
                .execute([id])?;
        }
    }
    Ok(())
}

/// The text a matter is found by: its people are its participants' names and roles.
/// (A macro, so that SQL is assembled by `concat!` at compile time, never by `format!`.)
macro_rules! matter_index_select {
    () => {
        "SELECT m.rowid, m.number, m.title, m.client_name,
        coalesce((SELECT group_concat(c.name || ' ' || p.role, ' ')
                  FROM participants p JOIN contacts c ON c.id = p.contact_id
                  WHERE p.matter_id = m.id), ''),
        m.description
     FROM matters m"
    };
}

fn reindex_matter(tx: &Transaction<'_>, matter_id: &str) -> Result<()> {
    let Some(rowid) = tx
        .prepare_cached("SELECT rowid FROM matters WHERE id = ?1")?
        .query_row([matter_id], |r| r.get::<_, i64>(0))
        .optional()?
    else {
        return Ok(());
    };
    tx.prepare_cached("DELETE FROM matter_fts WHERE rowid = ?1")?
        .execute([rowid])?;
    tx.prepare_cached(concat!(
        "INSERT INTO matter_fts (rowid, number, title, client, people, description) ",
        matter_index_select!(),
        " WHERE m.id = ?1"
    ))?
    .execute([matter_id])?;
    Ok(())
}

fn reindex_matters_of_contact(tx: &Transaction<'_>, contact_id: &str) -> Result<()> {
    let matters: Vec<String> = tx
        .prepare_cached("SELECT DISTINCT matter_id FROM participants WHERE contact_id = ?1")?
        .query_map([contact_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for m in matters {
        reindex_matter(tx, &m)?;
    }
    Ok(())
}

/// The secondary indexes of the synced tables (as migrations 0002 and 0004 made them), dropped for a
/// bulk load and made again after it.
macro_rules! drop_secondary_indexes {
    () => {
        "DROP INDEX IF EXISTS matters_opened;
         DROP INDEX IF EXISTS matters_filters;
         DROP INDEX IF EXISTS matters_number;
         DROP INDEX IF EXISTS matters_title;
         DROP INDEX IF EXISTS matters_client;
         DROP INDEX IF EXISTS matters_responsible;
         DROP INDEX IF EXISTS participants_matter;
         DROP INDEX IF EXISTS participants_contact;
         DROP INDEX IF EXISTS file_notes_matter;
         DROP INDEX IF EXISTS tasks_matter;
         DROP INDEX IF EXISTS time_entries_matter;
         DROP INDEX IF EXISTS documents_matter;
         DROP INDEX IF EXISTS matters_id;
         DROP INDEX IF EXISTS contacts_id;
         DROP INDEX IF EXISTS participants_id;
         DROP INDEX IF EXISTS file_notes_id;
         DROP INDEX IF EXISTS tasks_id;
         DROP INDEX IF EXISTS time_entries_id;
         DROP INDEX IF EXISTS documents_id;"
    };
}
pub(crate) use drop_secondary_indexes;

macro_rules! create_secondary_indexes {
    () => {
        "CREATE INDEX IF NOT EXISTS matters_opened ON matters (opened_on DESC, number);
         CREATE INDEX IF NOT EXISTS matters_filters ON matters (status, matter_type, responsible);
         CREATE INDEX IF NOT EXISTS matters_number ON matters (number);
         CREATE INDEX IF NOT EXISTS matters_title ON matters (title COLLATE NOCASE, number);
         CREATE INDEX IF NOT EXISTS matters_client ON matters (client_name COLLATE NOCASE, number);
         CREATE INDEX IF NOT EXISTS matters_responsible ON matters (responsible COLLATE NOCASE, number);
         CREATE INDEX IF NOT EXISTS participants_matter ON participants (matter_id);
         CREATE INDEX IF NOT EXISTS participants_contact ON participants (contact_id);
         CREATE INDEX IF NOT EXISTS file_notes_matter ON file_notes (matter_id, written_at);
         CREATE INDEX IF NOT EXISTS tasks_matter ON tasks (matter_id);
         CREATE INDEX IF NOT EXISTS time_entries_matter ON time_entries (matter_id);
         CREATE INDEX IF NOT EXISTS documents_matter ON documents (matter_id);"
    };
}
pub(crate) use create_secondary_indexes;

/// Removes the tombstones of records that came back later in the same bulk load.
pub(crate) fn clear_revived_tombstones(tx: &Transaction<'_>) -> Result<()> {
    tx.execute_batch(
        "DELETE FROM tombstones WHERE
            (record_kind = 'matter' AND id IN (SELECT id FROM matters)) OR
            (record_kind = 'contact' AND id IN (SELECT id FROM contacts)) OR
            (record_kind = 'participant' AND id IN (SELECT id FROM participants)) OR
            (record_kind = 'file_note' AND id IN (SELECT id FROM file_notes)) OR
            (record_kind = 'task' AND id IN (SELECT id FROM tasks)) OR
            (record_kind = 'time_entry' AND id IN (SELECT id FROM time_entries)) OR
            (record_kind = 'document' AND id IN (SELECT id FROM documents));",
    )?;
    Ok(())
}

/// How much text FTS5 gathers in memory before writing it out as a segment, while a whole
/// index is built in one pass (its default, 1 MiB, is for live edits). With the default,
/// building a practice's note index writes hundreds of small segments and merges them again
/// and again; with this, a few large ones.
const BUILD_HASHSIZE: i64 = 64 * 1024 * 1024;
/// FTS5's defaults, set again once the build is done.
const LIVE_HASHSIZE: i64 = 1024 * 1024;
const LIVE_AUTOMERGE: i64 = 4;

/// The statement that sets one of an FTS5 table's options (kept in the index's own config,
/// so written in the same transaction as the build it is for).
const MATTER_FTS_OPTION: &str = "INSERT INTO matter_fts (matter_fts, rank) VALUES (?1, ?2)";
const NOTE_FTS_OPTION: &str = "INSERT INTO note_fts (note_fts, rank) VALUES (?1, ?2)";

/// Sets `hashsize` and `automerge` with `option_sql`, one of the two statements above.
fn fts_tuning(tx: &Transaction<'_>, option_sql: &str, hashsize: i64, automerge: i64) -> Result<()> {
    let mut stmt = tx.prepare(option_sql)?;
    stmt.execute(params!["hashsize", hashsize])?;
    stmt.execute(params!["automerge", automerge])?;
    Ok(())
}

/// Builds the matter search index from the tables in one pass.
///
/// The same text as [`reindex_matter`] indexes. Each matter's people are gathered first,
/// by reading the contacts and the participants once each in table order
/// ([`people_by_matter`]), rather than by a query per matter, whose index lookups land on
/// random pages of both tables; and joined in Rust rather than by `group_concat`, whose
/// growing buffer is a heap allocation (or several) per matter, each costing system calls
/// under `cipher_memory_security`.
pub(crate) fn rebuild_matter_index(tx: &Transaction<'_>) -> Result<()> {
    tx.execute_batch("INSERT INTO matter_fts (matter_fts) VALUES ('delete-all');")?;
    // Segments are not merged during the build: it writes few, large ones.
    fts_tuning(tx, MATTER_FTS_OPTION, BUILD_HASHSIZE, 0)?;
    {
        let people = people_by_matter(tx)?;
        let mut matters =
            tx.prepare("SELECT rowid, id, number, title, client_name, description FROM matters")?;
        let mut insert = tx.prepare(
            "INSERT INTO matter_fts (rowid, number, title, client, people, description)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let mut rows = matters.query([])?;
        while let Some(m) = rows.next()? {
            let text = people.get(text_at(m, 1)?).map_or("", String::as_str);
            insert.execute(params![
                m.get::<_, i64>(0)?,
                text_at(m, 2)?,
                text_at(m, 3)?,
                text_at(m, 4)?,
                text,
                text_at(m, 5)?
            ])?;
        }
    }
    fts_tuning(tx, MATTER_FTS_OPTION, LIVE_HASHSIZE, LIVE_AUTOMERGE)
}

/// Each matter's people, as [`matter_index_select!`] joins them: every participant's
/// contact name and role, in the participants' table order, a participant whose contact
/// the vault does not hold left out. Two reads in table order and two maps in memory (for
/// a practice of 100,000 matters, about 10 MB while the index is built).
fn people_by_matter(tx: &Transaction<'_>) -> Result<HashMap<String, String>> {
    let mut names = HashMap::new();
    let mut contacts = tx.prepare("SELECT id, name FROM contacts")?;
    let mut rows = contacts.query([])?;
    while let Some(c) = rows.next()? {
        names.insert(text_at(c, 0)?.to_owned(), text_at(c, 1)?.to_owned());
    }
    let mut people: HashMap<String, String> = HashMap::new();
    let mut participants =
        tx.prepare("SELECT matter_id, contact_id, role FROM participants ORDER BY rowid")?;
    let mut rows = participants.query([])?;
    while let Some(p) = rows.next()? {
        let Some(name) = names.get(text_at(p, 1)?) else {
            continue;
        };
        let matter = text_at(p, 0)?;
        let text = match people.get_mut(matter) {
            Some(text) => {
                text.push(' ');
                text
            }
            None => people.entry(matter.to_owned()).or_default(),
        };
        text.push_str(name);
        text.push(' ');
        text.push_str(text_at(p, 2)?);
    }
    Ok(people)
}

/// Builds the file-note search index from the table in one pass.
pub(crate) fn rebuild_note_index(tx: &Transaction<'_>) -> Result<()> {
    tx.execute_batch("INSERT INTO note_fts (note_fts) VALUES ('delete-all');")?;
    fts_tuning(tx, NOTE_FTS_OPTION, BUILD_HASHSIZE, 0)?;
    tx.execute_batch(
        "INSERT INTO note_fts (rowid, subject, body) SELECT rowid, subject, body FROM file_notes;",
    )?;
    fts_tuning(tx, NOTE_FTS_OPTION, LIVE_HASHSIZE, LIVE_AUTOMERGE)
}

/// A text column, borrowed from the row.
fn text_at<'r>(r: &'r Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
    r.get_ref(i)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn uuid_at(r: &Row<'_>, i: usize) -> rusqlite::Result<Uuid> {
    let s: String = r.get(i)?;
    s.parse().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn bad(i: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        i,
        rusqlite::types::Type::Text,
        Box::new(std::io::Error::new(std::io::ErrorKind::InvalidData, what)),
    )
}

/// Columns read by [`matter_from_row`], in order.
macro_rules! matter_columns {
    () => {
        "id, number, title, matter_type, status, client_name, responsible, opened_on, closed_on, description, custom_fields"
    };
}
pub(crate) use matter_columns;

/// A matter from a row whose columns start at `at` in `matter_columns!()` order.
pub(crate) fn matter_from_row(r: &Row<'_>, at: usize) -> rusqlite::Result<Matter> {
    let status: String = r.get(at + 4)?;
    let custom: String = r.get(at + 10)?;
    Ok(Matter {
        id: uuid_at(r, at)?,
        number: r.get(at + 1)?,
        title: r.get(at + 2)?,
        matter_type: r.get(at + 3)?,
        status: MatterStatus::parse(&status)
            .ok_or_else(|| bad(at + 4, format!("unknown matter status {status:?}")))?,
        client_name: r.get(at + 5)?,
        responsible: r.get(at + 6)?,
        opened_on: r.get(at + 7)?,
        closed_on: r.get(at + 8)?,
        description: r.get(at + 9)?,
        custom_fields: serde_json::from_str(&custom).map_err(|e| bad(at + 10, e.to_string()))?,
    })
}

/// Reads one record of `kind` by id, with its seq and version.
pub(crate) fn read_record(
    conn: &rusqlite::Connection,
    kind: RecordKind,
    id: &str,
) -> Result<Option<(ChangeRecord, i64, i64)>> {
    let found = match kind {
        RecordKind::Matter => conn
            .prepare_cached(concat!("SELECT seq, version, ", matter_columns!(), " FROM matters WHERE id = ?1"))?
            .query_row([id], |r| Ok((ChangeRecord::Matter { matter: matter_from_row(r, 2)? }, r.get(0)?, r.get(1)?)))
            .optional()?,
        RecordKind::Contact => conn
            .prepare_cached("SELECT seq, version, id, kind, name, email, phone, address FROM contacts WHERE id = ?1")?
            .query_row([id], |r| {
                let k: String = r.get(3)?;
                Ok((
                    ChangeRecord::Contact {
                        contact: Contact {
                            id: uuid_at(r, 2)?,
                            kind: ContactKind::parse(&k).ok_or_else(|| bad(3, format!("unknown contact kind {k:?}")))?,
                            name: r.get(4)?,
                            email: r.get(5)?,
                            phone: r.get(6)?,
                            address: r.get(7)?,
                        },
                    },
                    r.get(0)?,
                    r.get(1)?,
                ))
            })
            .optional()?,
        RecordKind::Participant => conn
            .prepare_cached("SELECT seq, version, id, matter_id, contact_id, role FROM participants WHERE id = ?1")?
            .query_row([id], |r| {
                Ok((
                    ChangeRecord::Participant {
                        participant: Participant {
                            id: uuid_at(r, 2)?,
                            matter_id: uuid_at(r, 3)?,
                            contact_id: uuid_at(r, 4)?,
                            role: r.get(5)?,
                        },
                    },
                    r.get(0)?,
                    r.get(1)?,
                ))
            })
            .optional()?,
        RecordKind::FileNote => conn
            .prepare_cached("SELECT seq, version, id, matter_id, author, written_at, subject, body FROM file_notes WHERE id = ?1")?
            .query_row([id], |r| {
                Ok((
                    ChangeRecord::FileNote {
                        file_note: FileNote {
                            id: uuid_at(r, 2)?,
                            matter_id: uuid_at(r, 3)?,
                            author: r.get(4)?,
                            written_at: r.get(5)?,
                            subject: r.get(6)?,
                            body: r.get(7)?,
                        },
                    },
                    r.get(0)?,
                    r.get(1)?,
                ))
            })
            .optional()?,
        RecordKind::Task => conn
            .prepare_cached("SELECT seq, version, id, matter_id, title, due_on, assignee, done FROM tasks WHERE id = ?1")?
            .query_row([id], |r| {
                Ok((
                    ChangeRecord::Task {
                        task: Task {
                            id: uuid_at(r, 2)?,
                            matter_id: uuid_at(r, 3)?,
                            title: r.get(4)?,
                            due_on: r.get(5)?,
                            assignee: r.get(6)?,
                            done: r.get(7)?,
                        },
                    },
                    r.get(0)?,
                    r.get(1)?,
                ))
            })
            .optional()?,
        RecordKind::TimeEntry => conn
            .prepare_cached(
                "SELECT seq, version, id, matter_id, worked_on, minutes, rate_cents, billable, narrative, author
                 FROM time_entries WHERE id = ?1",
            )?
            .query_row([id], |r| {
                Ok((
                    ChangeRecord::TimeEntry {
                        time_entry: TimeEntry {
                            id: uuid_at(r, 2)?,
                            matter_id: uuid_at(r, 3)?,
                            worked_on: r.get(4)?,
                            minutes: r.get(5)?,
                            rate_cents: r.get(6)?,
                            billable: r.get(7)?,
                            narrative: r.get(8)?,
                            author: r.get(9)?,
                        },
                    },
                    r.get(0)?,
                    r.get(1)?,
                ))
            })
            .optional()?,
        RecordKind::Document => conn
            .prepare_cached(
                "SELECT seq, version, id, matter_id, name, folder, size_bytes, content_hash FROM documents WHERE id = ?1",
            )?
            .query_row([id], |r| {
                Ok((
                    ChangeRecord::Document {
                        document: Document {
                            id: uuid_at(r, 2)?,
                            matter_id: uuid_at(r, 3)?,
                            name: r.get(4)?,
                            folder: r.get(5)?,
                            size_bytes: r.get(6)?,
                            content_hash: r.get(7)?,
                        },
                    },
                    r.get(0)?,
                    r.get(1)?,
                ))
            })
            .optional()?,
    };
    Ok(found)
}
