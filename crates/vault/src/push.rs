//! What the service answered to this device's pushed edits, kept in the vault: an applied
//! edit leaves the outbox (and the record takes the version the service gave it, so the
//! next edit builds on it); a conflict leaves the outbox for the conflicts table, both
//! sides kept until a person decides; a refused edit leaves the outbox for
//! `rejected_edits`, to be shown, never dropped unseen.
//!
//! Invariant: the answers to one push are applied in one transaction: an edit is never
//! both queued and answered, nor answered twice.

use rusqlite::{OptionalExtension, params};
use strongroom_protocol::{ConflictKind, MutationOutcome, MutationResult, ProblemCode, RecordKind};

use crate::{Result, Vault, VaultError, records};

/// What a push's answers did to the vault.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushApplied {
    pub applied: usize,
    pub conflicts: usize,
    pub rejected: usize,
}

/// A conflict held in the vault, one row per field in question (the field `""` for a clash
/// about the whole record).
#[derive(Debug, Clone, PartialEq)]
pub struct LocalConflict {
    pub server_id: String,
    pub kind: ConflictKind,
    pub record_kind: RecordKind,
    pub record_id: String,
    pub field: String,
    /// JSON text of this device's value and the service's.
    pub mine: Option<String>,
    pub theirs: Option<String>,
    pub server_version: i64,
    pub created_at: String,
}

/// An edit the service refused.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedEdit {
    pub mutation_seq: i64,
    pub record_kind: RecordKind,
    pub record_id: String,
    pub op: String,
    pub code: String,
    pub detail: String,
    pub edited_at: String,
    pub rejected_at: String,
}

fn kind_name(kind: ConflictKind) -> &'static str {
    match kind {
        ConflictKind::SameField => "same_field",
        ConflictKind::EditAgainstDelete => "edit_against_delete",
        ConflictKind::DeleteAgainstEdit => "delete_against_edit",
    }
}

fn parse_kind(s: &str) -> Option<ConflictKind> {
    match s {
        "same_field" => Some(ConflictKind::SameField),
        "edit_against_delete" => Some(ConflictKind::EditAgainstDelete),
        "delete_against_edit" => Some(ConflictKind::DeleteAgainstEdit),
        _ => None,
    }
}

fn code_name(code: ProblemCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "rejected".to_owned())
}

/// Moves the stored record of `kind` and `id` up to `version` (and `seq`) if it is behind.
fn raise_version(
    tx: &rusqlite::Transaction<'_>,
    kind: RecordKind,
    id: &str,
    seq: i64,
    version: i64,
) -> Result<()> {
    let sql = match kind {
        RecordKind::Matter => {
            "UPDATE matters SET version = ?2, seq = max(seq, ?3) WHERE id = ?1 AND version < ?2"
        }
        RecordKind::Contact => {
            "UPDATE contacts SET version = ?2, seq = max(seq, ?3) WHERE id = ?1 AND version < ?2"
        }
        RecordKind::Participant => {
            "UPDATE participants SET version = ?2, seq = max(seq, ?3) WHERE id = ?1 AND version < ?2"
        }
        RecordKind::FileNote => {
            "UPDATE file_notes SET version = ?2, seq = max(seq, ?3) WHERE id = ?1 AND version < ?2"
        }
        RecordKind::Task => {
            "UPDATE tasks SET version = ?2, seq = max(seq, ?3) WHERE id = ?1 AND version < ?2"
        }
        RecordKind::TimeEntry => {
            "UPDATE time_entries SET version = ?2, seq = max(seq, ?3) WHERE id = ?1 AND version < ?2"
        }
        RecordKind::Document => {
            "UPDATE documents SET version = ?2, seq = max(seq, ?3) WHERE id = ?1 AND version < ?2"
        }
    };
    tx.prepare_cached(sql)?.execute(params![id, version, seq])?;
    Ok(())
}

impl Vault {
    /// Applies the service's answers to a push, in one transaction. An answer for an edit
    /// no longer queued (answered before) is skipped.
    pub fn apply_push_results(
        &mut self,
        results: &[MutationResult],
        now: &str,
    ) -> Result<PushApplied> {
        let tx = self.conn.transaction()?;
        if records::key_records(&tx)? {
            self.stored_ids = None;
        }
        let mut done = PushApplied::default();
        for result in results {
            let queued: Option<(String, String, String, String, String)> = tx
                .prepare_cached(
                    "SELECT record_kind, record_id, op, fields, created_at FROM outbox
                     WHERE mutation_seq = ?1",
                )?
                .query_row([result.mutation_seq], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .optional()?;
            let Some((kind_text, record_id, op, fields, edited_at)) = queued else {
                continue;
            };
            let kind = RecordKind::parse(&kind_text)
                .ok_or_else(|| VaultError::Corrupt(format!("outbox kind {kind_text:?}")))?;
            match &result.outcome {
                MutationOutcome::Applied { seq, version } => {
                    if op != "delete" {
                        raise_version(&tx, kind, &record_id, *seq, *version)?;
                    }
                    done.applied += 1;
                }
                MutationOutcome::Conflict { conflict, applied } => {
                    if let Some(at) = applied {
                        raise_version(&tx, kind, &record_id, at.seq, at.version)?;
                    }
                    let server_id = conflict.id.to_string();
                    let mut stmt = tx.prepare_cached(
                        "INSERT INTO conflicts (record_kind, record_id, field, local_value,
                           remote_value, remote_version, created_at, server_id, kind, base_version)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    )?;
                    let rows: Vec<(String, Option<String>, Option<String>)> =
                        if conflict.fields.is_empty() {
                            vec![(String::new(), None, None)]
                        } else {
                            conflict
                                .fields
                                .iter()
                                .map(|(f, v)| {
                                    (
                                        f.clone(),
                                        Some(v.mine.to_string()),
                                        Some(v.theirs.to_string()),
                                    )
                                })
                                .collect()
                        };
                    for (field, mine, theirs) in rows {
                        stmt.execute(params![
                            kind.as_str(),
                            record_id,
                            field,
                            mine,
                            theirs,
                            conflict.server_version,
                            now,
                            server_id,
                            kind_name(conflict.kind),
                            conflict.base_version,
                        ])?;
                    }
                    done.conflicts += 1;
                }
                MutationOutcome::Rejected { code, detail } => {
                    tx.prepare_cached(
                        "INSERT OR REPLACE INTO rejected_edits (mutation_seq, record_kind, record_id,
                           op, fields, code, detail, edited_at, rejected_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    )?
                    .execute(params![
                        result.mutation_seq,
                        kind.as_str(),
                        record_id,
                        op,
                        fields,
                        code_name(*code),
                        detail,
                        edited_at,
                        now,
                    ])?;
                    done.rejected += 1;
                }
            }
            tx.prepare_cached("DELETE FROM outbox WHERE mutation_seq = ?1")?
                .execute([result.mutation_seq])?;
        }
        tx.commit()?;
        Ok(done)
    }

    /// Puts a record back as the service holds it (`Some`), or removes it (`None`: the
    /// service has no such record this member may see): after a refused edit, so the vault
    /// shows what is true, not an edit that was never accepted.
    pub fn restore_from_server(
        &mut self,
        kind: RecordKind,
        id: uuid::Uuid,
        server: Option<&strongroom_protocol::Change>,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        if records::key_records(&tx)? {
            self.stored_ids = None;
        }
        match server {
            Some(change) => {
                records::apply_change(
                    &tx,
                    change.seq,
                    change.version,
                    &change.record,
                    records::Indexing::Live,
                )?;
            }
            None => records::delete_record(&tx, kind, &id.to_string(), records::Indexing::Live)?,
        }
        tx.commit()?;
        Ok(())
    }

    /// The conflicts waiting for a decision, oldest first.
    pub fn open_conflicts(&self) -> Result<Vec<LocalConflict>> {
        let rows = self
            .conn
            .prepare_cached(
                "SELECT server_id, kind, record_kind, record_id, field, local_value, remote_value,
                        remote_version, created_at
                 FROM conflicts WHERE resolved_at IS NULL ORDER BY id",
            )?
            .query_map([], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, String>(8)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(
                |(server_id, kind, record_kind, record_id, field, mine, theirs, version, at)| {
                    Ok(LocalConflict {
                        server_id: server_id.unwrap_or_default(),
                        kind: parse_kind(&kind).ok_or_else(|| {
                            VaultError::Corrupt(format!("conflict kind {kind:?}"))
                        })?,
                        record_kind: RecordKind::parse(&record_kind).ok_or_else(|| {
                            VaultError::Corrupt(format!("conflict record kind {record_kind:?}"))
                        })?,
                        record_id,
                        field,
                        mine,
                        theirs,
                        server_version: version,
                        created_at: at,
                    })
                },
            )
            .collect()
    }

    /// Marks every row of the conflict the service knows as `server_id` resolved.
    pub fn mark_conflict_resolved(
        &mut self,
        server_id: &str,
        resolution: &str,
        now: &str,
    ) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE conflicts SET resolved_at = ?2, resolution = ?3
             WHERE server_id = ?1 AND resolved_at IS NULL",
            params![server_id, now, resolution],
        )?)
    }

    /// Marks a refused edit as seen, so it leaves the list (and the status line's count);
    /// the row stays. Answers whether there was such an edit still shown.
    pub fn dismiss_rejected(&mut self, mutation_seq: i64, now: &str) -> Result<bool> {
        Ok(self.conn.execute(
            "UPDATE rejected_edits SET dismissed_at = ?2
             WHERE mutation_seq = ?1 AND dismissed_at IS NULL",
            params![mutation_seq, now],
        )? == 1)
    }

    /// The edits the service refused and the user has not dismissed, oldest first.
    pub fn rejected_edits(&self) -> Result<Vec<RejectedEdit>> {
        let rows = self
            .conn
            .prepare_cached(
                "SELECT mutation_seq, record_kind, record_id, op, code, detail, edited_at, rejected_at
                 FROM rejected_edits WHERE dismissed_at IS NULL ORDER BY mutation_seq",
            )?
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(
                |(mutation_seq, kind, record_id, op, code, detail, edited_at, rejected_at)| {
                    Ok(RejectedEdit {
                        mutation_seq,
                        record_kind: RecordKind::parse(&kind).ok_or_else(|| {
                            VaultError::Corrupt(format!("rejected kind {kind:?}"))
                        })?,
                        record_id,
                        op,
                        code,
                        detail,
                        edited_at,
                        rejected_at,
                    })
                },
            )
            .collect()
    }
}
