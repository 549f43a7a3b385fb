//! The practice's data as an export archive, because the practice owns it: a zip holding,
//! for each record kind, `<kind>.json` (an array of the records as the wire carries them)
//! and `<kind>.csv` (one row each, one column per field), plus `manifest.json`, which
//! names every other file with its SHA-256, size and record count.
//!
//! The service writes one for an admin (the whole practice) and the app writes one of what
//! its vault holds, both through [`ArchiveWriter`]; the app checks an archive it receives
//! with [`check_archive`] before it says the export is complete.
//!
//! Invariant: the manifest lists every file in the archive but itself, and nothing else;
//! [`check_archive`] refuses an archive with a file missing, added, altered or miscounted.
//! Invariant: reading an archive never writes a file: nothing is extracted to disk, so no
//! name in a hostile archive can reach outside (zip-slip).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, Write};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use strongroom_protocol::RecordKind;

/// The archive format this crate writes, in the manifest's `format`.
pub const FORMAT: &str = "strongroom-export/1";
/// The manifest's name in the archive.
pub const MANIFEST: &str = "manifest.json";
/// The largest file [`check_archive`] reads out of an archive: more than any real export
/// file, and a bound on what a hostile archive can make it decompress.
pub const MAX_FILE_BYTES: u64 = 4 << 30;

/// Where an export came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The hosted service: everything the practice holds.
    Service,
    /// One device's vault: what that device holds offline.
    Device,
}

/// One file of the archive, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub name: String,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    pub bytes: u64,
    /// The record kind it holds (its wire name, e.g. `file_note`).
    pub kind: String,
    /// How many records it holds.
    pub records: u64,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    pub practice_id: String,
    pub practice_name: String,
    /// RFC 3339, UTC.
    pub exported_at: String,
    pub source: Source,
    /// Who asked for it (a member's display name), for the record.
    pub exported_by: String,
    pub files: Vec<ManifestFile>,
}

impl Manifest {
    /// Records in the archive: each record counted once (its JSON file; the CSV holds the
    /// same records).
    pub fn records(&self) -> u64 {
        self.files
            .iter()
            .filter(|f| f.name.ends_with(".json"))
            .map(|f| f.records)
            .sum()
    }
}

/// What went wrong writing or checking an archive.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("could not write the archive: {0}")]
    Io(#[from] std::io::Error),
    #[error("the archive is not a readable zip: {0}")]
    Zip(String),
    #[error("the archive has no manifest")]
    NoManifest,
    #[error("the manifest does not parse: {0}")]
    BadManifest(String),
    #[error("the archive's format is {0:?}, not one this app reads")]
    UnknownFormat(String),
    #[error("{0} is listed in the manifest but not in the archive")]
    Missing(String),
    #[error("{0} is in the archive but not in the manifest")]
    Unlisted(String),
    #[error("{0} does not match its SHA-256 in the manifest")]
    Altered(String),
    #[error("{name} holds {found} records, the manifest says {listed}")]
    Miscounted {
        name: String,
        listed: u64,
        found: u64,
    },
    #[error("{0} is too large to check")]
    TooLarge(String),
    #[error("{name} does not parse: {reason}")]
    BadFile { name: String, reason: String },
}

impl From<zip::result::ZipError> for ExportError {
    fn from(e: zip::result::ZipError) -> Self {
        match e {
            zip::result::ZipError::Io(e) => ExportError::Io(e),
            other => ExportError::Zip(other.to_string()),
        }
    }
}

/// What an archive is about, for its manifest.
#[derive(Debug, Clone)]
pub struct ArchiveMeta {
    pub practice_id: String,
    pub practice_name: String,
    pub exported_at: String,
    pub source: Source,
    pub exported_by: String,
}

/// Writes an archive one record kind at a time; [`ArchiveWriter::finish`] adds the
/// manifest.
pub struct ArchiveWriter<W: Write + Seek> {
    zip: zip::ZipWriter<W>,
    meta: ArchiveMeta,
    files: Vec<ManifestFile>,
}

impl<W: Write + Seek> ArchiveWriter<W> {
    pub fn new(out: W, meta: ArchiveMeta) -> Self {
        Self {
            zip: zip::ZipWriter::new(out),
            meta,
            files: Vec::new(),
        }
    }

    fn add(
        &mut self,
        name: String,
        kind: RecordKind,
        records: u64,
        bytes: &[u8],
    ) -> Result<(), ExportError> {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(bytes.len() as u64 >= u64::from(u32::MAX));
        self.zip.start_file(name.as_str(), options)?;
        self.zip.write_all(bytes)?;
        self.files.push(ManifestFile {
            sha256: hex::encode(Sha256::digest(bytes)),
            bytes: bytes.len() as u64,
            kind: kind.as_str().to_owned(),
            records,
            name,
        });
        Ok(())
    }

    /// Adds `<kind>.json` and `<kind>.csv` for these records (each a JSON object, as the
    /// wire carries it).
    pub fn add_kind(&mut self, kind: RecordKind, records: &[Value]) -> Result<(), ExportError> {
        let json = serde_json::to_vec_pretty(records)
            .map_err(|e| ExportError::Io(std::io::Error::other(e)))?;
        let csv = to_csv(records)?;
        let n = records.len() as u64;
        self.add(format!("{}.json", kind.as_str()), kind, n, &json)?;
        self.add(format!("{}.csv", kind.as_str()), kind, n, &csv)?;
        Ok(())
    }

    /// Adds the manifest and closes the archive; answers the manifest and the writer.
    pub fn finish(mut self) -> Result<(Manifest, W), ExportError> {
        let manifest = Manifest {
            format: FORMAT.to_owned(),
            practice_id: self.meta.practice_id,
            practice_name: self.meta.practice_name,
            exported_at: self.meta.exported_at,
            source: self.meta.source,
            exported_by: self.meta.exported_by,
            files: self.files,
        };
        let text = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| ExportError::Io(std::io::Error::other(e)))?;
        self.zip
            .start_file(MANIFEST, zip::write::SimpleFileOptions::default())?;
        self.zip.write_all(&text)?;
        let out = self.zip.finish()?;
        Ok((manifest, out))
    }
}

/// Records as CSV: a header of every field that any record has (in the order they first
/// appear), then one row per record. Text is written as is, `null` as an empty cell, and
/// anything else (numbers, booleans, lists, maps) as its JSON.
pub fn to_csv(records: &[Value]) -> Result<Vec<u8>, ExportError> {
    let mut columns: Vec<&str> = Vec::new();
    let mut seen = BTreeSet::new();
    for r in records {
        if let Value::Object(map) = r {
            for key in map.keys() {
                if seen.insert(key.as_str()) {
                    columns.push(key.as_str());
                }
            }
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| ExportError::Io(std::io::Error::other(e));
    w.write_record(&columns).map_err(csv_err)?;
    for r in records {
        let row = columns.iter().map(|c| match r.get(*c) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        });
        w.write_record(row).map_err(csv_err)?;
    }
    w.into_inner()
        .map_err(|e| ExportError::Io(std::io::Error::other(e.to_string())))
}

/// An archive that checked out: its manifest, and the records of each kind (from the JSON
/// files), by kind's wire name.
#[derive(Debug, Clone)]
pub struct CheckedArchive {
    pub manifest: Manifest,
    pub records: BTreeMap<String, Vec<Value>>,
}

fn read_entry<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
) -> Result<Vec<u8>, ExportError> {
    let file = match zip.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => {
            return Err(ExportError::Missing(name.to_owned()));
        }
        Err(e) => return Err(e.into()),
    };
    if file.size() > MAX_FILE_BYTES {
        return Err(ExportError::TooLarge(name.to_owned()));
    }
    let mut out = Vec::with_capacity(file.size().min(64 << 20) as usize);
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut out)?;
    if out.len() as u64 > MAX_FILE_BYTES {
        return Err(ExportError::TooLarge(name.to_owned()));
    }
    Ok(out)
}

/// Checks an archive against its manifest: every listed file is there with its SHA-256
/// and size, nothing unlisted is there, each JSON file is an array of as many records as
/// listed, and each CSV file has as many rows. Reads into memory; writes nothing.
pub fn check_archive<R: Read + Seek>(archive: R) -> Result<CheckedArchive, ExportError> {
    let mut zip = zip::ZipArchive::new(archive)?;
    let manifest: Manifest = match read_entry(&mut zip, MANIFEST) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes).map_err(|e| ExportError::BadManifest(e.to_string()))?
        }
        Err(ExportError::Missing(_)) => return Err(ExportError::NoManifest),
        Err(e) => return Err(e),
    };
    if manifest.format != FORMAT {
        return Err(ExportError::UnknownFormat(manifest.format));
    }
    let listed: BTreeSet<&str> = manifest.files.iter().map(|f| f.name.as_str()).collect();
    for name in zip.file_names() {
        let name = name?;
        if name != MANIFEST && !listed.contains(name.as_ref()) {
            return Err(ExportError::Unlisted(name.into_owned()));
        }
    }
    let mut records = BTreeMap::new();
    for f in &manifest.files {
        let bytes = read_entry(&mut zip, &f.name)?;
        if bytes.len() as u64 != f.bytes || hex::encode(Sha256::digest(&bytes)) != f.sha256 {
            return Err(ExportError::Altered(f.name.clone()));
        }
        let bad = |reason: String| ExportError::BadFile {
            name: f.name.clone(),
            reason,
        };
        let found = if f.name.ends_with(".json") {
            let list: Vec<Value> =
                serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
            let n = list.len() as u64;
            records.insert(f.kind.clone(), list);
            n
        } else if f.name.ends_with(".csv") {
            let mut r = csv::Reader::from_reader(bytes.as_slice());
            let mut n = 0u64;
            for row in r.records() {
                row.map_err(|e| bad(e.to_string()))?;
                n += 1;
            }
            n
        } else {
            return Err(bad("neither JSON nor CSV".into()));
        };
        if found != f.records {
            return Err(ExportError::Miscounted {
                name: f.name.clone(),
                listed: f.records,
                found,
            });
        }
    }
    Ok(CheckedArchive { manifest, records })
}
