//! Reading the vault the way the app's screens do: a window of the matter list in any sort
//! order with filters, the values the filters offer, a matter with everything on it, and
//! contacts by name as they are typed.
//!
//! Invariant: every query here is bounded (a window, a limit, or one matter's records), and
//! user text reaches SQL only as a bound parameter; each sort order is its own statement,
//! written out at compile time.

use strongroom_protocol::{
    ChangeRecord, Contact, Document, FileNote, Matter, MatterStatus, Participant, RecordKind, Task,
    TimeEntry,
};
use uuid::Uuid;

use crate::records::{self, matter_columns, matter_from_row};
use crate::{MatterRow, Result, Vault};

/// The list's filters: `?1` status, `?2` matter type, `?3` responsible; a null one passes
/// everything.
macro_rules! list_filters {
    () => {
        "(?1 IS NULL OR status = ?1) AND (?2 IS NULL OR matter_type = ?2)
         AND (?3 IS NULL OR responsible = ?3)"
    };
}

/// A window of the list in one order: the filters, then `?4` rows from offset `?5`.
macro_rules! window_sql {
    ($order:literal) => {
        concat!(
            "SELECT seq, version, ",
            matter_columns!(),
            " FROM matters WHERE ",
            list_filters!(),
            " ORDER BY ",
            $order,
            " LIMIT ?4 OFFSET ?5"
        )
    };
}

/// The orders the matter list offers. Each has an index (migrations 0001 and 0004).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MatterOrder {
    /// Most recently opened first (when not descending: oldest first).
    #[default]
    Opened,
    Number,
    Title,
    Client,
    Responsible,
    Status,
}

/// A window of the matter list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatterListing {
    pub offset: u32,
    pub limit: u32,
    pub order: MatterOrder,
    /// Reverse the order's natural direction (A to Z; newest first for `Opened`).
    pub descending: bool,
    pub status: Option<MatterStatus>,
    pub matter_type: Option<String>,
    pub responsible: Option<String>,
}

/// The largest window one call reads.
pub const MAX_WINDOW: u32 = 1000;

/// A matter and every record on it, as this device holds them.
#[derive(Debug, Clone, PartialEq)]
pub struct MatterFile {
    pub matter: Matter,
    /// Each participant with its contact (`None` while the contact has not arrived).
    pub participants: Vec<(Participant, Option<Contact>)>,
    /// Newest first.
    pub file_notes: Vec<FileNote>,
    /// Open tasks first, by due date (undated last), then done ones.
    pub tasks: Vec<Task>,
    /// Newest first.
    pub time_entries: Vec<TimeEntry>,
    /// By folder, then name.
    pub documents: Vec<Document>,
    /// Ids of the matter and its records with edits not yet taken by the service.
    pub unsynced: Vec<Uuid>,
    /// Ids of the matter and its records with a conflict waiting for a decision.
    pub conflicted: Vec<Uuid>,
}

impl Vault {
    /// One window of the matter list, and how many matters pass the filters in all.
    pub fn matters_window(&self, q: &MatterListing) -> Result<(u32, Vec<MatterRow>)> {
        let status = q.status.map(|s| s.as_str());
        let filters = rusqlite::params![status, q.matter_type, q.responsible];
        let total: i64 = self
            .conn
            .prepare_cached(concat!(
                "SELECT count(*) FROM matters WHERE ",
                list_filters!()
            ))?
            .query_row(filters, |r| r.get(0))?;
        // Each order's natural direction and its tie-breaker, as the indexes hold them.
        let sql = match (q.order, q.descending) {
            (MatterOrder::Opened, false) => window_sql!("opened_on, number DESC"),
            (MatterOrder::Opened, true) => window_sql!("opened_on DESC, number"),
            (MatterOrder::Number, false) => window_sql!("number"),
            (MatterOrder::Number, true) => window_sql!("number DESC"),
            (MatterOrder::Title, false) => window_sql!("title COLLATE NOCASE, number"),
            (MatterOrder::Title, true) => window_sql!("title COLLATE NOCASE DESC, number DESC"),
            (MatterOrder::Client, false) => window_sql!("client_name COLLATE NOCASE, number"),
            (MatterOrder::Client, true) => {
                window_sql!("client_name COLLATE NOCASE DESC, number DESC")
            }
            (MatterOrder::Responsible, false) => window_sql!("responsible COLLATE NOCASE, number"),
            (MatterOrder::Responsible, true) => {
                window_sql!("responsible COLLATE NOCASE DESC, number DESC")
            }
            (MatterOrder::Status, false) => window_sql!("status, opened_on DESC, number"),
            (MatterOrder::Status, true) => window_sql!("status DESC, opened_on DESC, number"),
        };
        let limit = q.limit.min(MAX_WINDOW);
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt
            .query_map(
                rusqlite::params![status, q.matter_type, q.responsible, limit, q.offset],
                |r| {
                    Ok(MatterRow {
                        seq: r.get(0)?,
                        version: r.get(1)?,
                        matter: matter_from_row(r, 2)?,
                    })
                },
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok((u32::try_from(total).unwrap_or(u32::MAX), rows))
    }

    /// The matters with these ids (those this device holds), in no particular order.
    pub fn matters_by_id(&self, ids: &[Uuid]) -> Result<Vec<Matter>> {
        let mut stmt = self.conn.prepare_cached(concat!(
            "SELECT ",
            matter_columns!(),
            " FROM matters WHERE id = ?1"
        ))?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let mut rows = stmt.query([id.to_string()])?;
            if let Some(r) = rows.next()? {
                out.push(matter_from_row(r, 0)?);
            }
        }
        Ok(out)
    }

    /// The distinct matter types and responsible lawyers, each sorted, for the filters.
    pub fn matter_filter_values(&self) -> Result<(Vec<String>, Vec<String>)> {
        let distinct = |sql: &str| -> Result<Vec<String>> {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let values = stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(values)
        };
        Ok((
            distinct(
                "SELECT DISTINCT matter_type FROM matters WHERE matter_type <> ''
                 ORDER BY matter_type COLLATE NOCASE",
            )?,
            distinct(
                "SELECT DISTINCT responsible FROM matters WHERE responsible <> ''
                 ORDER BY responsible COLLATE NOCASE",
            )?,
        ))
    }

    /// A matter with everything on it, or `None` when this device does not hold it.
    pub fn matter_file(&self, id: Uuid) -> Result<Option<MatterFile>> {
        let Some((ChangeRecord::Matter { matter }, _, _)) = self.record(RecordKind::Matter, id)?
        else {
            return Ok(None);
        };
        let mid = id.to_string();
        let ids = |sql: &str| -> Result<Vec<String>> {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let ids = stmt
                .query_map([&mid], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(ids)
        };
        let read = |kind: RecordKind, id: &str| records::read_record(&self.conn, kind, id);

        let mut participants = Vec::new();
        for pid in ids("SELECT id FROM participants WHERE matter_id = ?1")? {
            if let Some((ChangeRecord::Participant { participant }, _, _)) =
                read(RecordKind::Participant, &pid)?
            {
                let contact = match read(RecordKind::Contact, &participant.contact_id.to_string())?
                {
                    Some((ChangeRecord::Contact { contact }, _, _)) => Some(contact),
                    _ => None,
                };
                participants.push((participant, contact));
            }
        }
        participants.sort_by(|a, b| {
            let name =
                |p: &(Participant, Option<Contact>)| p.1.as_ref().map(|c| c.name.to_lowercase());
            (a.0.role.to_lowercase(), name(a)).cmp(&(b.0.role.to_lowercase(), name(b)))
        });

        let mut file_notes = Vec::new();
        for nid in ids("SELECT id FROM file_notes WHERE matter_id = ?1 ORDER BY written_at DESC")? {
            if let Some((ChangeRecord::FileNote { file_note }, _, _)) =
                read(RecordKind::FileNote, &nid)?
            {
                file_notes.push(file_note);
            }
        }
        let mut tasks = Vec::new();
        for tid in ids(
            "SELECT id FROM tasks WHERE matter_id = ?1 ORDER BY done, due_on IS NULL, due_on, title COLLATE NOCASE",
        )? {
            if let Some((ChangeRecord::Task { task }, _, _)) = read(RecordKind::Task, &tid)? {
                tasks.push(task);
            }
        }
        let mut time_entries = Vec::new();
        for tid in ids(
            "SELECT id FROM time_entries WHERE matter_id = ?1 ORDER BY worked_on DESC, rowid DESC",
        )? {
            if let Some((ChangeRecord::TimeEntry { time_entry }, _, _)) =
                read(RecordKind::TimeEntry, &tid)?
            {
                time_entries.push(time_entry);
            }
        }
        let mut documents = Vec::new();
        for did in ids(
            "SELECT id FROM documents WHERE matter_id = ?1 ORDER BY folder COLLATE NOCASE, name COLLATE NOCASE",
        )? {
            if let Some((ChangeRecord::Document { document }, _, _)) =
                read(RecordKind::Document, &did)?
            {
                documents.push(document);
            }
        }

        let mut mine: std::collections::HashSet<Uuid> = std::collections::HashSet::from([id]);
        mine.extend(participants.iter().map(|p| p.0.id));
        mine.extend(file_notes.iter().map(|n| n.id));
        mine.extend(tasks.iter().map(|t| t.id));
        mine.extend(time_entries.iter().map(|t| t.id));
        mine.extend(documents.iter().map(|d| d.id));
        let of_this_matter = |sql: &str| -> Result<Vec<Uuid>> {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let all = stmt
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(all
                .iter()
                .filter_map(|s| Uuid::parse_str(s).ok())
                .filter(|u| mine.contains(u))
                .collect())
        };
        let unsynced = of_this_matter("SELECT DISTINCT record_id FROM outbox")?;
        let conflicted =
            of_this_matter("SELECT DISTINCT record_id FROM conflicts WHERE resolved_at IS NULL")?;

        Ok(Some(MatterFile {
            matter,
            participants,
            file_notes,
            tasks,
            time_entries,
            documents,
            unsynced,
            conflicted,
        }))
    }

    /// Contacts whose name starts with `text`, or has a word that does (case-insensitive),
    /// by name; at most `limit` (at most [`MAX_WINDOW`]).
    pub fn contacts_named(&self, text: &str, limit: u32) -> Result<Vec<Contact>> {
        let text = text.trim();
        // LIKE's own wildcards in the user's text are matched literally.
        let escaped: String = text
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM contacts
             WHERE name LIKE ?1 || '%' ESCAPE '\\' OR name LIKE '% ' || ?1 || '%' ESCAPE '\\'
             ORDER BY name COLLATE NOCASE LIMIT ?2",
        )?;
        let ids = stmt
            .query_map(rusqlite::params![escaped, limit.min(MAX_WINDOW)], |r| {
                r.get::<_, String>(0)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some((ChangeRecord::Contact { contact }, _, _)) =
                records::read_record(&self.conn, RecordKind::Contact, &id)?
            {
                out.push(contact);
            }
        }
        Ok(out)
    }
}
