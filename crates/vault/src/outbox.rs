//! Local edits and the outbox: every edit made on this device writes its outbox row in the
//! same transaction as the edit itself, so an edit is never made without being queued for
//! the server, nor queued without being made.
//!
//! An edit names the fields it changes. They are merged over the record as the vault holds
//! it and the result must deserialize as that kind of record: a wrong type, an unknown
//! field or a changed id is refused and nothing is written.

use rusqlite::params;
use serde_json::{Map, Value};
use strongroom_protocol::{ChangeRecord, RecordKind};
use uuid::Uuid;

use crate::records::{self, Indexing};
use crate::{Result, Vault, VaultError};

/// What a local edit does.
#[derive(Debug, Clone, PartialEq)]
pub enum EditOp {
    /// Create the record, or change the named fields of the existing one.
    Upsert {
        fields: Map<String, Value>,
    },
    Delete,
}

/// An edit made on this device.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalEdit {
    pub kind: RecordKind,
    pub id: Uuid,
    pub op: EditOp,
}

/// A queued edit, waiting to be pushed.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    /// This device's mutation sequence: strictly increasing, never reused.
    pub mutation_seq: i64,
    pub kind: RecordKind,
    pub record_id: Uuid,
    pub op: EditOp,
    /// The record's version the edit was made against; `None` for a creation.
    pub base_version: Option<i64>,
    pub created_at: String,
}

fn invalid(msg: impl Into<String>) -> VaultError {
    VaultError::InvalidEdit(msg.into())
}

impl Vault {
    /// Makes a local edit and queues it, in one transaction. Returns its mutation sequence.
    pub fn edit(&mut self, edit: &LocalEdit, now: &str) -> Result<i64> {
        let tx = self.conn.transaction()?;
        if records::key_records(&tx)? {
            self.stored_ids = None;
        }
        let id = edit.id.to_string();
        let current = records::read_record(&tx, edit.kind, &id)?;
        let base_version = current.as_ref().map(|(_, _, v)| *v);
        let (op, fields_json) = match &edit.op {
            EditOp::Delete => {
                if current.is_none() {
                    return Err(invalid(format!(
                        "there is no {} {id} to delete",
                        edit.kind.as_str()
                    )));
                }
                records::delete_record(&tx, edit.kind, &id, Indexing::Live)?;
                ("delete", "{}".to_owned())
            }
            EditOp::Upsert { fields } => {
                if fields.is_empty() {
                    return Err(invalid("an edit must change at least one field"));
                }
                if fields.contains_key("id") {
                    return Err(invalid("a record's id cannot be changed"));
                }
                let record = merged(edit.kind, &id, current.as_ref().map(|(r, _, _)| r), fields)?;
                let (seq, version) = current.as_ref().map_or((0, 0), |(_, s, v)| (*s, *v));
                records::write_record(&tx, &record, seq, version, Indexing::Live)?;
                ("upsert", Value::Object(fields.clone()).to_string())
            }
        };
        tx.prepare_cached(
            "INSERT INTO outbox (record_kind, record_id, op, base_version, fields, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            edit.kind.as_str(),
            id,
            op,
            base_version,
            fields_json,
            now
        ])?;
        let seq = tx.last_insert_rowid();
        tx.commit()?;
        Ok(seq)
    }

    /// The queued edits, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        let rows = self
            .conn
            .prepare_cached(
                "SELECT mutation_seq, record_kind, record_id, op, base_version, fields, created_at
                 FROM outbox ORDER BY mutation_seq",
            )?
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(
                |(mutation_seq, kind, record_id, op, base_version, fields, created_at)| {
                    let kind = RecordKind::parse(&kind)
                        .ok_or_else(|| VaultError::Corrupt(format!("outbox kind {kind:?}")))?;
                    let record_id = record_id.parse().map_err(|_| {
                        VaultError::Corrupt(format!("outbox record id {record_id:?}"))
                    })?;
                    let op = match op.as_str() {
                        "delete" => EditOp::Delete,
                        _ => EditOp::Upsert {
                            fields: serde_json::from_str(&fields)
                                .map_err(|e| VaultError::Corrupt(e.to_string()))?,
                        },
                    };
                    Ok(OutboxEntry {
                        mutation_seq,
                        kind,
                        record_id,
                        op,
                        base_version,
                        created_at,
                    })
                },
            )
            .collect()
    }

    /// How many edits wait to be pushed.
    pub fn outbox_len(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?)
    }

    /// Removes the entries the server has acknowledged, up to and including `up_to`.
    pub fn ack_outbox(&mut self, up_to: i64) -> Result<usize> {
        Ok(self
            .conn
            .execute("DELETE FROM outbox WHERE mutation_seq <= ?1", [up_to])?)
    }
}

/// The record's own JSON object (without the kind tag).
/// `current` (the record as the vault holds it, if it does) with `fields` merged over it,
/// checked as the service would check it: a wrong type, an unknown field or a broken rule is
/// refused.
fn merged(
    kind: RecordKind,
    id: &str,
    current: Option<&ChangeRecord>,
    fields: &Map<String, Value>,
) -> Result<ChangeRecord> {
    let mut obj = match current {
        Some(record) => inner_object(record)?,
        None => {
            let mut m = Map::new();
            m.insert("id".into(), Value::String(id.to_owned()));
            m
        }
    };
    for (k, v) in fields {
        if current.is_some() && !obj.contains_key(k) {
            return Err(invalid(format!("{} has no field {k:?}", kind.as_str())));
        }
        obj.insert(k.clone(), v.clone());
    }
    let mut tagged = Map::new();
    tagged.insert("kind".into(), Value::String(kind.as_str().into()));
    tagged.insert(kind.as_str().into(), Value::Object(obj));
    let record: ChangeRecord = serde_json::from_value(Value::Object(tagged))
        .map_err(|e| invalid(format!("not a valid {}: {e}", kind.as_str())))?;
    // The service's own rules, so a bad edit is refused here, before it syncs.
    strongroom_protocol::validate::record(&record).map_err(|e| invalid(e.to_string()))?;
    let written = inner_object(&record)?;
    if let Some(k) = fields.keys().find(|k| !written.contains_key(*k)) {
        return Err(invalid(format!("{} has no field {k:?}", kind.as_str())));
    }
    Ok(record)
}

/// Whether any edit waits in the outbox.
pub(crate) fn any_queued(tx: &rusqlite::Transaction<'_>) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM outbox)")?
        .query_row([], |r| r.get(0))?)
}

/// Lays this device's queued edits of the records a pull just wrote over them again, in the
/// order they were made, in the pull's transaction. The vault then shows the service's
/// record with what this device has yet to send on top of it: a pulled change never hides
/// an edit still queued. (A sync pushes before it pulls, but it does not hold the core
/// while it waits for the network: an edit can come in between, and the pull may then
/// bring an older state of that record.)
///
/// An edit that no longer fits the record as the service has it is left queued, unshown:
/// the service answers it when it is pushed (a conflict, or a refusal, both shown). A record
/// the service deleted stays deleted here until then.
pub(crate) fn reapply_queued(
    tx: &rusqlite::Transaction<'_>,
    touched: &[(RecordKind, Uuid)],
    indexing: Indexing,
) -> Result<()> {
    // The records with edits queued (few), each taken once when a pull touched it.
    let mut queued: std::collections::HashSet<(String, String)> = tx
        .prepare_cached("SELECT DISTINCT record_kind, record_id FROM outbox")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (kind, id) in touched {
        let id = id.to_string();
        if !queued.remove(&(kind.as_str().to_owned(), id.clone())) {
            continue;
        }
        let edits: Vec<(String, String)> = tx
            .prepare_cached(
                "SELECT op, fields FROM outbox WHERE record_kind = ?1 AND record_id = ?2
                 ORDER BY mutation_seq",
            )?
            .query_map(params![kind.as_str(), id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (op, fields) in edits {
            let Some((record, seq, version)) = records::read_record(tx, *kind, &id)? else {
                break;
            };
            if op == "delete" {
                records::delete_record(tx, *kind, &id, indexing)?;
                break;
            }
            let fields: Map<String, Value> = serde_json::from_str(&fields)
                .map_err(|e| VaultError::Corrupt(format!("a queued edit's fields: {e}")))?;
            match merged(*kind, &id, Some(&record), &fields) {
                Ok(record) => records::write_record(tx, &record, seq, version, indexing)?,
                Err(VaultError::InvalidEdit(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

fn inner_object(record: &ChangeRecord) -> Result<Map<String, Value>> {
    let Value::Object(mut tagged) =
        serde_json::to_value(record).map_err(|e| VaultError::Corrupt(e.to_string()))?
    else {
        return Err(VaultError::Corrupt("a record is not an object".into()));
    };
    let kind = record.key().0;
    match tagged.remove(kind.as_str()) {
        Some(Value::Object(o)) => Ok(o),
        _ => Err(VaultError::Corrupt("a record has no body".into())),
    }
}
