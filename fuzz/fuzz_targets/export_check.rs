//! The app's check of an export archive (`strongroom_export::check_archive`). The first
//! input byte picks one of three uses of the rest:
//!
//! - as the archive's bytes: the check must never panic, and when it accepts, the archive
//!   must match its manifest by an independent reading (every file but the manifest
//!   listed, every listed file there with its size and SHA-256, as many records as
//!   listed);
//! - as the content of an archive written by `ArchiveWriter` (fuzz-chosen record kinds,
//!   records and manifest fields): the check must accept it and give back every record;
//! - as such an archive and one change to it (a file removed, added, altered, renamed, or
//!   a manifest entry's size, SHA-256 or count changed, or its format): the check must
//!   refuse it.

#![no_main]

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use strongroom_export::{ArchiveMeta, ArchiveWriter, MANIFEST, Manifest, Source, check_archive};
use strongroom_protocol::RecordKind;

/// The most records of one kind written here.
const MAX_RECORDS: usize = 16;
/// How deep a record's values nest here at most.
const MAX_DEPTH: usize = 16;

#[derive(Arbitrary, Debug)]
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Text(String),
    List(Vec<Json>),
    Map(Vec<(String, Json)>),
}

impl Json {
    /// The value, nested at most [`MAX_DEPTH`] deep: export records are wire records, whose
    /// values nest two deep at most, and serde_json (rightly) refuses to read a nesting
    /// past 128, so a writer fed deeper values makes an archive the check refuses.
    fn value(&self) -> Value {
        self.nested(0)
    }

    fn nested(&self, depth: usize) -> Value {
        if depth >= MAX_DEPTH {
            return Value::Null;
        }
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Int(n) => Value::from(*n),
            Json::Text(s) => Value::String(s.clone()),
            Json::List(l) => Value::Array(l.iter().map(|j| j.nested(depth + 1)).collect()),
            Json::Map(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), v.nested(depth + 1)))
                    .collect(),
            ),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Content {
    practice_id: String,
    practice_name: String,
    exported_at: String,
    service: bool,
    exported_by: String,
    /// By kind (an index into `RecordKind::ALL`; a kind given twice counts once): each
    /// record an object with these fields.
    kinds: Vec<(u8, Vec<Vec<(String, Json)>>)>,
}

#[derive(Arbitrary, Debug)]
enum Change {
    Remove(u8),
    Add(String, Vec<u8>),
    Alter { file: u8, pos: u16, xor: u8 },
    Append(u8, Vec<u8>),
    Rename(u8, String),
    ListedBytes(u8, u64),
    ListedSha(u8, u8),
    ListedRecords(u8, u64),
    Format(String),
}

/// Everything an archive holds, by name.
type Entries = BTreeMap<String, Vec<u8>>;

fn read_all(bytes: &[u8]) -> Entries {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("our archive reads");
    let mut out = Entries::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().unwrap().into_owned();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        out.insert(name, data);
    }
    out
}

/// A zip of these entries; none when the zip library will not write one of the names.
fn write_all(entries: &Entries) -> Option<Vec<u8>> {
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        out.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .ok()?;
        out.write_all(data).unwrap();
    }
    Some(out.finish().unwrap().into_inner())
}

/// An independent reading of an archive that the check accepted: it must match its
/// manifest.
fn matches_manifest(bytes: &[u8], manifest: &Manifest) {
    let entries = read_all(bytes);
    for name in entries.keys() {
        assert!(
            name == MANIFEST || manifest.files.iter().any(|f| &f.name == name),
            "accepted an archive holding {name:?}, which its manifest does not list"
        );
    }
    for f in &manifest.files {
        let data = entries
            .get(&f.name)
            .unwrap_or_else(|| panic!("accepted an archive without {:?}", f.name));
        assert_eq!(data.len() as u64, f.bytes, "accepted a wrong size");
        assert_eq!(
            hex::encode(Sha256::digest(data)),
            f.sha256,
            "accepted a wrong SHA-256"
        );
        if f.name.ends_with(".json") {
            let list: Vec<Value> = serde_json::from_slice(data).expect("accepted JSON reads");
            assert_eq!(list.len() as u64, f.records, "accepted a wrong count");
        } else {
            assert!(f.name.ends_with(".csv"), "accepted {:?}", f.name);
        }
    }
}

fn any_bytes(data: &[u8]) {
    if let Ok(checked) = check_archive(Cursor::new(data)) {
        matches_manifest(data, &checked.manifest);
        let _ = checked.manifest.records();
    }
}

/// The archive `ArchiveWriter` makes of `content`, and the records it holds by kind.
fn written(content: &Content) -> (Vec<u8>, BTreeMap<String, Vec<Value>>) {
    let meta = ArchiveMeta {
        practice_id: content.practice_id.clone(),
        practice_name: content.practice_name.clone(),
        exported_at: content.exported_at.clone(),
        source: if content.service {
            Source::Service
        } else {
            Source::Device
        },
        exported_by: content.exported_by.clone(),
    };
    let mut w = ArchiveWriter::new(Cursor::new(Vec::new()), meta);
    let mut records = BTreeMap::new();
    for (k, list) in &content.kinds {
        let kind = RecordKind::ALL[usize::from(*k) % RecordKind::ALL.len()];
        if records.contains_key(kind.as_str()) {
            continue;
        }
        let list: Vec<Value> = list
            .iter()
            .take(MAX_RECORDS)
            .map(|fields| {
                Value::Object(
                    fields
                        .iter()
                        .map(|(k, v)| (k.clone(), v.value()))
                        .collect::<Map<_, _>>(),
                )
            })
            .collect();
        w.add_kind(kind, &list)
            .expect("an archive of records is written");
        records.insert(kind.as_str().to_owned(), list);
    }
    let (manifest, out) = w.finish().expect("an archive is finished");
    assert_eq!(
        manifest.records(),
        records.values().map(|l| l.len() as u64).sum::<u64>()
    );
    (out.into_inner(), records)
}

fn accepted(content: &Content) {
    let (bytes, records) = written(content);
    let checked = match check_archive(Cursor::new(&bytes)) {
        Ok(c) => c,
        Err(e) => panic!("an archive ArchiveWriter wrote is refused: {e}"),
    };
    assert_eq!(checked.records, records, "the records read back differ");
    assert_eq!(checked.manifest.practice_name, content.practice_name);
    matches_manifest(&bytes, &checked.manifest);
}

fn refused(content: &Content, change: &Change) {
    let (bytes, _) = written(content);
    let mut entries = read_all(&bytes);
    let mut manifest: Manifest = serde_json::from_slice(&entries[MANIFEST]).unwrap();
    let names: Vec<String> = manifest.files.iter().map(|f| f.name.clone()).collect();
    let pick =
        |i: u8| -> Option<usize> { (!names.is_empty()).then(|| usize::from(i) % names.len()) };
    match change {
        Change::Remove(i) => {
            let Some(i) = pick(*i) else { return };
            entries.remove(&names[i]);
        }
        Change::Add(name, data) => {
            if name == MANIFEST || entries.contains_key(name) {
                return;
            }
            entries.insert(name.clone(), data.clone());
        }
        Change::Alter { file, pos, xor } => {
            let Some(i) = pick(*file) else { return };
            let data = entries.get_mut(&names[i]).unwrap();
            if data.is_empty() {
                data.push(*xor);
            } else {
                let at = usize::from(*pos) % data.len();
                data[at] ^= (*xor).max(1);
            }
        }
        Change::Append(file, more) => {
            let Some(i) = pick(*file) else { return };
            if more.is_empty() {
                return;
            }
            entries.get_mut(&names[i]).unwrap().extend_from_slice(more);
        }
        Change::Rename(file, name) => {
            let Some(i) = pick(*file) else { return };
            if name == MANIFEST || entries.contains_key(name) {
                return;
            }
            let data = entries.remove(&names[i]).unwrap();
            entries.insert(name.clone(), data);
        }
        Change::ListedBytes(file, n) => {
            let Some(i) = pick(*file) else { return };
            if manifest.files[i].bytes == *n {
                return;
            }
            manifest.files[i].bytes = *n;
        }
        Change::ListedSha(file, x) => {
            let Some(i) = pick(*file) else { return };
            let f = &mut manifest.files[i];
            let mut sha = hex::decode(&f.sha256).unwrap();
            let at = usize::from(*x) % sha.len();
            sha[at] ^= 1 << (x % 8);
            f.sha256 = hex::encode(sha);
        }
        Change::ListedRecords(file, n) => {
            let Some(i) = pick(*file) else { return };
            if manifest.files[i].records == *n {
                return;
            }
            manifest.files[i].records = *n;
        }
        Change::Format(format) => {
            if *format == manifest.format {
                return;
            }
            manifest.format.clone_from(format);
        }
    }
    entries.insert(MANIFEST.to_owned(), serde_json::to_vec(&manifest).unwrap());
    let Some(changed) = write_all(&entries) else {
        return;
    };
    if let Ok(checked) = check_archive(Cursor::new(&changed)) {
        panic!(
            "a changed archive ({change:?}) is accepted: {:?}",
            checked.manifest
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => any_bytes(rest),
        1 => {
            if let Ok(content) = Content::arbitrary_take_rest(Unstructured::new(rest)) {
                accepted(&content);
            }
        }
        _ => {
            let mut u = Unstructured::new(rest);
            if let (Ok(change), Ok(content)) =
                (Change::arbitrary(&mut u), Content::arbitrary_take_rest(u))
            {
                refused(&content, &change);
            }
        }
    }
});
