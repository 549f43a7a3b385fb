//! The use cases behind the app's screens once signed in: the matter list in windows, a
//! matter with everything on it, creating and changing records offline, conflicts shown
//! field by field, refused edits, and the running timer for time entries.
//!
//! Invariant: every change made here goes through [`Core::edit`], so it lands in the vault
//! and its outbox in one transaction and is pushed by the next sync. Nothing here touches
//! the network except resolving a conflict (which the service decides).
//! Invariant: the timer lives in the vault's meta (encrypted), never in a file or the
//! webview's storage; it is measured with the wall clock only to show elapsed time, and
//! orders nothing.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use strongroom_protocol::{
    ChangeRecord, ConflictKind, ConflictResolution, Contact, Document, FileNote, Matter,
    MatterStatus, Participant, RecordKind, Task, TimeEntry,
};
use strongroom_vault::{EditOp, MatterListing, MatterOrder};
use ts_rs::TS;
use uuid::Uuid;

use crate::{ClientError, Core, MatterSummary};

/// The orders the matter list offers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum MatterSort {
    #[default]
    Opened,
    Number,
    Title,
    Client,
    Responsible,
    Status,
}

/// A window of the matter list, as the UI asks for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MatterListQuery {
    pub offset: u32,
    pub limit: u32,
    pub sort: MatterSort,
    /// Reverse the sort's natural direction (newest first for `opened`, Z to A otherwise).
    #[serde(default)]
    pub descending: bool,
    #[serde(default)]
    #[ts(optional = nullable)]
    pub status: Option<MatterStatus>,
    #[serde(default)]
    #[ts(optional = nullable)]
    pub matter_type: Option<String>,
    #[serde(default)]
    #[ts(optional = nullable)]
    pub responsible: Option<String>,
}

/// One window of the list, and how many matters pass the filters in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct MatterPage {
    pub total: u32,
    pub offset: u32,
    pub rows: Vec<MatterSummary>,
}

/// What the list's filters offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct MatterFilterOptions {
    pub matter_types: Vec<String>,
    pub responsible: Vec<String>,
}

/// A participant with its contact (`null` while the contact has not arrived).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ParticipantView {
    pub participant: Participant,
    pub contact: Option<Contact>,
}

/// A matter and everything on it, for the matter page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct MatterDetail {
    pub matter: Matter,
    pub participants: Vec<ParticipantView>,
    /// Newest first.
    pub file_notes: Vec<FileNote>,
    /// Open tasks first, by due date, then done ones.
    pub tasks: Vec<Task>,
    /// Newest first.
    pub time_entries: Vec<TimeEntry>,
    /// By folder, then name.
    pub documents: Vec<Document>,
    /// Ids (the matter's and its records') with edits the service has not taken yet.
    pub unsynced: Vec<String>,
    /// Ids with a conflict waiting for a decision.
    pub conflicted: Vec<String>,
}

/// One field of a conflict: this device's value and the service's.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ConflictField {
    /// The wire field's name; empty for a clash about the whole record.
    pub field: String,
    #[ts(type = "unknown")]
    pub mine: Value,
    #[ts(type = "unknown")]
    pub theirs: Value,
}

/// A conflict as the conflicts view shows it: which record, how it clashed, every field.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ConflictView {
    /// The service's id of the conflict (what a resolution names).
    pub id: String,
    pub kind: ConflictKind,
    pub record_kind: RecordKind,
    pub record_id: String,
    pub matter_id: Option<String>,
    pub matter_number: Option<String>,
    /// Words that name the record (a matter's title, a note's subject, ...).
    pub label: String,
    pub fields: Vec<ConflictField>,
    pub created_at: String,
}

/// The member's decision on a conflict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "resolution", rename_all = "snake_case")]
pub enum ConflictChoice {
    KeepMine,
    KeepTheirs,
    Edit {
        #[ts(type = "Record<string, unknown>")]
        fields: Map<String, Value>,
    },
}

/// An edit the service refused, as the conflicts view lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct RejectedEditView {
    pub mutation_seq: i64,
    pub record_kind: RecordKind,
    pub record_id: String,
    pub label: String,
    pub code: String,
    pub detail: String,
    pub edited_at: String,
    pub rejected_at: String,
}

/// The timer for time entries: which matter, and how long it has run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct TimerState {
    pub matter_id: String,
    pub matter_number: String,
    pub matter_title: String,
    /// Counting now (not paused).
    pub running: bool,
    /// Seconds counted so far, as of this answer.
    pub elapsed_secs: u64,
}

/// The timer as the vault keeps it (meta key [`TIMER_META`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct StoredTimer {
    matter_id: Uuid,
    /// Unix seconds when it last started counting; `None` while paused.
    running_since: Option<i64>,
    /// Seconds counted before `running_since`.
    counted_secs: u64,
}

const TIMER_META: &str = "timer";

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl StoredTimer {
    fn elapsed(&self, now: i64) -> u64 {
        // A clock set back never makes time negative.
        let running = self
            .running_since
            .map_or(0, |since| u64::try_from(now - since).unwrap_or(0));
        self.counted_secs.saturating_add(running)
    }
}

fn parse_id(what: &str, id: &str) -> Result<Uuid, ClientError> {
    Uuid::parse_str(id.trim())
        .map_err(|_| ClientError::InvalidInput(format!("{what} is not a valid id")))
}

/// Words naming a record, for lists of conflicts and refused edits (the UI shows its kind
/// and matter beside them): a matter's title, a contact's name, a note's subject, ...
fn label_of(record: Option<&ChangeRecord>) -> String {
    match record {
        Some(ChangeRecord::Matter { matter }) => matter.title.clone(),
        Some(ChangeRecord::Contact { contact }) => contact.name.clone(),
        Some(ChangeRecord::Participant { participant }) => participant.role.clone(),
        Some(ChangeRecord::FileNote { file_note }) => file_note.subject.clone(),
        Some(ChangeRecord::Task { task }) => task.title.clone(),
        Some(ChangeRecord::TimeEntry { time_entry }) => format!(
            "{} on {}",
            duration_words(time_entry.minutes),
            time_entry.worked_on
        ),
        Some(ChangeRecord::Document { document }) => document.name.clone(),
        _ => "(no longer on this device)".into(),
    }
}

/// `90` → `1 h 30 min`.
pub(crate) fn duration_words(minutes: u32) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

fn matter_of(record: &ChangeRecord) -> Option<Uuid> {
    match record {
        ChangeRecord::Matter { matter } => Some(matter.id),
        ChangeRecord::Participant { participant } => Some(participant.matter_id),
        ChangeRecord::FileNote { file_note } => Some(file_note.matter_id),
        ChangeRecord::Task { task } => Some(task.matter_id),
        ChangeRecord::TimeEntry { time_entry } => Some(time_entry.matter_id),
        ChangeRecord::Document { document } => Some(document.matter_id),
        _ => None,
    }
}

impl Core {
    /// One window of the matter list (at most [`strongroom_vault::browse::MAX_WINDOW`]
    /// rows), sorted and filtered in the vault.
    pub fn matters_page(&mut self, q: &MatterListQuery) -> Result<MatterPage, ClientError> {
        self.touch();
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        let (total, rows) = vault.matters_window(&MatterListing {
            offset: q.offset,
            limit: q.limit,
            order: match q.sort {
                MatterSort::Opened => MatterOrder::Opened,
                MatterSort::Number => MatterOrder::Number,
                MatterSort::Title => MatterOrder::Title,
                MatterSort::Client => MatterOrder::Client,
                MatterSort::Responsible => MatterOrder::Responsible,
                MatterSort::Status => MatterOrder::Status,
            },
            descending: q.descending,
            status: q.status,
            matter_type: nonempty(&q.matter_type),
            responsible: nonempty(&q.responsible),
        })?;
        Ok(MatterPage {
            total,
            offset: q.offset,
            rows: rows.into_iter().map(MatterSummary::from).collect(),
        })
    }

    /// The matter types and responsible lawyers the list's filters offer.
    pub fn matter_filters(&mut self) -> Result<MatterFilterOptions, ClientError> {
        self.touch();
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        let (matter_types, responsible) = vault.matter_filter_values()?;
        Ok(MatterFilterOptions {
            matter_types,
            responsible,
        })
    }

    /// A matter with everything on it.
    pub fn matter_detail(&mut self, id: &str) -> Result<MatterDetail, ClientError> {
        self.touch();
        let id = parse_id("the matter", id)?;
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        let file = vault
            .matter_file(id)?
            .ok_or_else(|| ClientError::NotFound("that matter is not on this device".into()))?;
        let ids = |v: Vec<Uuid>| v.into_iter().map(|u| u.to_string()).collect();
        Ok(MatterDetail {
            matter: file.matter,
            participants: file
                .participants
                .into_iter()
                .map(|(participant, contact)| ParticipantView {
                    participant,
                    contact,
                })
                .collect(),
            file_notes: file.file_notes,
            tasks: file.tasks,
            time_entries: file.time_entries,
            documents: file.documents,
            unsynced: ids(file.unsynced),
            conflicted: ids(file.conflicted),
        })
    }

    /// Contacts by name as it is typed (at most `limit`).
    pub fn find_contacts(&mut self, text: &str, limit: u32) -> Result<Vec<Contact>, ClientError> {
        self.touch();
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        Ok(vault.contacts_named(text, limit)?)
    }

    /// Creates a record (`id` `None`: a new id is made) or changes the named fields of one,
    /// offline; queued for the service in the same transaction. Answers the record's id.
    /// The fields are the record's wire fields; `id` among them is ignored.
    pub fn save_record(
        &mut self,
        kind: RecordKind,
        id: Option<&str>,
        mut fields: Map<String, Value>,
    ) -> Result<String, ClientError> {
        fields.remove("id");
        let id = match id {
            Some(id) => {
                let id = parse_id("the record", id)?;
                let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
                if vault.record(kind, id)?.is_none() {
                    return Err(ClientError::NotFound(format!(
                        "that {} is not on this device",
                        kind.as_str()
                    )));
                }
                id
            }
            None => Uuid::new_v4(),
        };
        if fields.is_empty() {
            return Err(ClientError::InvalidInput("nothing to save".into()));
        }
        self.edit(kind, id, EditOp::Upsert { fields })?;
        Ok(id.to_string())
    }

    /// Deletes a record offline (a matter takes its records with it on the service).
    pub fn delete_record(&mut self, kind: RecordKind, id: &str) -> Result<(), ClientError> {
        let id = parse_id("the record", id)?;
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        if vault.record(kind, id)?.is_none() {
            return Err(ClientError::NotFound(format!(
                "that {} is not on this device",
                kind.as_str()
            )));
        }
        self.edit(kind, id, EditOp::Delete)?;
        Ok(())
    }

    /// The conflicts waiting for this member, one per clash with every field in question,
    /// oldest first.
    pub fn conflict_views(&mut self) -> Result<Vec<ConflictView>, ClientError> {
        let rows = self.conflicts()?;
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        let mut out: Vec<ConflictView> = Vec::new();
        for row in rows {
            let parse = |v: &Option<String>| {
                v.as_deref()
                    .and_then(|s| serde_json::from_str(s).ok())
                    .unwrap_or(Value::Null)
            };
            let field = ConflictField {
                field: row.field.clone(),
                mine: parse(&row.mine),
                theirs: parse(&row.theirs),
            };
            if let Some(open) = out.iter_mut().find(|c| c.id == row.server_id) {
                open.fields.push(field);
                continue;
            }
            let record = Uuid::parse_str(&row.record_id)
                .ok()
                .map(|id| vault.record(row.record_kind, id))
                .transpose()?
                .flatten()
                .map(|(r, _, _)| r);
            let matter_id = record.as_ref().and_then(matter_of);
            let matter_number = match matter_id {
                Some(m) => match vault.record(RecordKind::Matter, m)? {
                    Some((ChangeRecord::Matter { matter }, _, _)) => Some(matter.number),
                    _ => None,
                },
                None => None,
            };
            out.push(ConflictView {
                id: row.server_id.clone(),
                kind: row.kind,
                record_kind: row.record_kind,
                record_id: row.record_id.clone(),
                matter_id: matter_id.map(|m| m.to_string()),
                matter_number,
                label: label_of(record.as_ref()),
                fields: vec![field],
                created_at: row.created_at.clone(),
            });
        }
        Ok(out)
    }

    /// Sends the member's decision on a conflict (see [`Core::resolve_conflict`]).
    pub async fn resolve_conflict_choice(
        &mut self,
        id: &str,
        choice: ConflictChoice,
    ) -> Result<(), ClientError> {
        let id = parse_id("the conflict", id)?;
        let resolution = match choice {
            ConflictChoice::KeepMine => ConflictResolution::KeepMine,
            ConflictChoice::KeepTheirs => ConflictResolution::KeepTheirs,
            ConflictChoice::Edit { fields } => ConflictResolution::Edit { fields },
        };
        self.resolve_conflict(id, &resolution).await?;
        self.live.poke();
        Ok(())
    }

    /// The edits the service refused, newest first, with words naming each record.
    pub fn rejected_views(&mut self) -> Result<Vec<RejectedEditView>, ClientError> {
        let rows = self.rejected_edits()?;
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let record = Uuid::parse_str(&r.record_id)
                .ok()
                .map(|id| vault.record(r.record_kind, id))
                .transpose()?
                .flatten()
                .map(|(rec, _, _)| rec);
            out.push(RejectedEditView {
                mutation_seq: r.mutation_seq,
                record_kind: r.record_kind,
                record_id: r.record_id,
                label: label_of(record.as_ref()),
                code: r.code,
                detail: r.detail,
                edited_at: r.edited_at,
                rejected_at: r.rejected_at,
            });
        }
        Ok(out)
    }

    /// Marks a refused edit as seen: it leaves the list and the status line's count.
    pub fn dismiss_rejected_edit(&mut self, mutation_seq: i64) -> Result<(), ClientError> {
        self.touch();
        let vault = self.vault.as_mut().ok_or(ClientError::VaultLocked)?;
        if vault.dismiss_rejected(mutation_seq, &crate::now_rfc3339())? {
            Ok(())
        } else {
            Err(ClientError::NotFound("that refused edit".into()))
        }
    }

    fn stored_timer(&self) -> Result<Option<StoredTimer>, ClientError> {
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        Ok(vault
            .meta(TIMER_META)?
            .filter(|s| !s.is_empty())
            .and_then(|s| serde_json::from_str(&s).ok()))
    }

    fn store_timer(&mut self, timer: Option<&StoredTimer>) -> Result<(), ClientError> {
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        let text = match timer {
            Some(t) => {
                serde_json::to_string(t).map_err(|e| ClientError::Internal(e.to_string()))?
            }
            None => String::new(),
        };
        vault.set_meta(TIMER_META, &text)?;
        Ok(())
    }

    fn timer_view(&self, t: &StoredTimer) -> Result<TimerState, ClientError> {
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        let (number, title) = match vault.record(RecordKind::Matter, t.matter_id)? {
            Some((ChangeRecord::Matter { matter }, _, _)) => (matter.number, matter.title),
            _ => (String::new(), "(a matter no longer on this device)".into()),
        };
        Ok(TimerState {
            matter_id: t.matter_id.to_string(),
            matter_number: number,
            matter_title: title,
            running: t.running_since.is_some(),
            elapsed_secs: t.elapsed(unix_now()),
        })
    }

    /// The timer, if one is running or paused.
    pub fn timer(&mut self) -> Result<Option<TimerState>, ClientError> {
        match self.stored_timer()? {
            Some(t) => Ok(Some(self.timer_view(&t)?)),
            None => Ok(None),
        }
    }

    /// Starts a timer on a matter. One timer at a time: another one running or paused is
    /// [`ClientError::TimerRunning`].
    pub fn start_timer(&mut self, matter_id: &str) -> Result<TimerState, ClientError> {
        self.touch();
        let id = parse_id("the matter", matter_id)?;
        if let Some(t) = self.stored_timer()? {
            let view = self.timer_view(&t)?;
            return Err(ClientError::TimerRunning(
                if view.matter_number.is_empty() {
                    view.matter_id
                } else {
                    view.matter_number
                },
            ));
        }
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        if vault.record(RecordKind::Matter, id)?.is_none() {
            return Err(ClientError::NotFound(
                "that matter is not on this device".into(),
            ));
        }
        let t = StoredTimer {
            matter_id: id,
            running_since: Some(unix_now()),
            counted_secs: 0,
        };
        self.store_timer(Some(&t))?;
        self.timer_view(&t)
    }

    /// Pauses the timer (keeping what it counted); pausing a paused timer changes nothing.
    pub fn pause_timer(&mut self) -> Result<TimerState, ClientError> {
        self.touch();
        let mut t = self.stored_timer()?.ok_or(ClientError::NoTimer)?;
        let now = unix_now();
        t.counted_secs = t.elapsed(now);
        t.running_since = None;
        self.store_timer(Some(&t))?;
        self.timer_view(&t)
    }

    /// Resumes a paused timer; resuming a running one changes nothing.
    pub fn resume_timer(&mut self) -> Result<TimerState, ClientError> {
        self.touch();
        let mut t = self.stored_timer()?.ok_or(ClientError::NoTimer)?;
        if t.running_since.is_none() {
            t.running_since = Some(unix_now());
            self.store_timer(Some(&t))?;
        }
        self.timer_view(&t)
    }

    /// Stops the timer and answers what it counted; the UI offers a time entry for it.
    pub fn stop_timer(&mut self) -> Result<TimerState, ClientError> {
        self.touch();
        let t = self.stored_timer()?.ok_or(ClientError::NoTimer)?;
        let mut view = self.timer_view(&t)?;
        view.running = false;
        self.store_timer(None)?;
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timer_counts_what_ran_and_never_goes_negative() {
        let t = StoredTimer {
            matter_id: Uuid::nil(),
            running_since: Some(1_000),
            counted_secs: 90,
        };
        assert_eq!(t.elapsed(1_060), 150);
        // The clock set back: only what was counted before.
        assert_eq!(t.elapsed(900), 90);
        let paused = StoredTimer {
            running_since: None,
            ..t
        };
        assert_eq!(paused.elapsed(5_000), 90);
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration_words(0), "0 min");
        assert_eq!(duration_words(45), "45 min");
        assert_eq!(duration_words(60), "1 h");
        assert_eq!(duration_words(135), "2 h 15 min");
    }
}
