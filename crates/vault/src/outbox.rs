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
                let mut obj = match &current {
                    Some((record, _, _)) => inner_object(record)?,
                    None => {
                        let mut m = Map::new();
                        m.insert("id".into(), Value::String(id.clone()));
                        m
                    }
                };
                for (k, v) in fields {
                    if current.is_some() && !obj.contains_key(k) {
                        return Err(invalid(format!(
                            "{} has no field {k:?}",
                            edit.kind.as_str()
                        )));
                    }
                    obj.insert(k.clone(), v.clone());
                }
                let mut tagged = Map::new();
                tagged.insert("kind".into(), Value::String(edit.kind.as_str().into()));
                tagged.insert(edit.kind.as_str().into(), Value::Object(obj));
                let record: ChangeRecord = serde_json::from_value(Value::Object(tagged))
                    .map_err(|e| invalid(format!("not a valid {}: {e}", edit.kind.as_str())))?;
                // The service's own rules, so a bad edit is refused here, before it syncs.
                strongroom_protocol::validate::record(&record)
                    .map_err(|e| invalid(e.to_string()))?;
                let written = inner_object(&record)?;
                if let Some(k) = fields.keys().find(|k| !written.contains_key(*k)) {
                    return Err(invalid(format!(
                        "{} has no field {k:?}",
                        edit.kind.as_str()
                    )));
                }
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
