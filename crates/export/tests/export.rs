//! Archives written and checked: a round trip keeps every record, and a file missing,
//! added, altered or miscounted is refused by name.

use std::io::{Cursor, Write};

use serde_json::{Value, json};
use strongroom_export::{
    ArchiveMeta, ArchiveWriter, ExportError, MANIFEST, Manifest, Source, check_archive, to_csv,
};
use strongroom_protocol::RecordKind;

fn meta() -> ArchiveMeta {
    ArchiveMeta {
        practice_id: "p-1".into(),
        practice_name: "Harbour & Vine".into(),
        exported_at: "2026-11-28T01:00:00Z".into(),
        source: Source::Service,
        exported_by: "Dana Admin".into(),
    }
}

fn matters(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({
                "id": format!("m-{i}"),
                "number": format!("HV-{i:04}"),
                "title": format!("Smith, \"Jones\"\nand, co {i}"),
                "closed_on": null,
                "custom_fields": {"Court": "Federal"},
            })
        })
        .collect()
}

fn archive() -> Vec<u8> {
    let mut w = ArchiveWriter::new(Cursor::new(Vec::new()), meta());
    w.add_kind(RecordKind::Matter, &matters(25)).unwrap();
    w.add_kind(
        RecordKind::FileNote,
        &[json!({"id": "n-1", "body": "ünïcödé 💼"})],
    )
    .unwrap();
    w.add_kind(RecordKind::Task, &[]).unwrap();
    let (manifest, out) = w.finish().unwrap();
    assert_eq!(manifest.files.len(), 6);
    assert_eq!(manifest.records(), 26);
    out.into_inner()
}

/// Rewrites the archive's entries through `edit` (name, bytes) -> entries to write.
fn rewrite(bytes: &[u8], edit: impl Fn(&str, Vec<u8>) -> Vec<(String, Vec<u8>)>) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().unwrap().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut data).unwrap();
        for (n, d) in edit(&name, data) {
            out.start_file(n, zip::write::SimpleFileOptions::default())
                .unwrap();
            out.write_all(&d).unwrap();
        }
    }
    out.finish().unwrap().into_inner()
}

#[test]
fn a_round_trip_keeps_every_record_and_field() {
    let bytes = archive();
    let checked = check_archive(Cursor::new(&bytes)).unwrap();
    assert_eq!(checked.manifest.practice_name, "Harbour & Vine");
    assert_eq!(checked.manifest.source, Source::Service);
    assert_eq!(checked.records["matter"], matters(25));
    assert_eq!(checked.records["file_note"][0]["body"], "ünïcödé 💼");
    assert!(checked.records["task"].is_empty());
}

#[test]
fn csv_has_a_column_per_field_and_quotes_what_needs_it() {
    let csv = String::from_utf8(to_csv(&matters(1)).unwrap()).unwrap();
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        ["closed_on", "custom_fields", "id", "number", "title"]
    );
    let row = r.records().next().unwrap().unwrap();
    assert_eq!(&row[0], "");
    assert_eq!(&row[1], r#"{"Court":"Federal"}"#);
    assert_eq!(&row[4], "Smith, \"Jones\"\nand, co 0");
}

#[test]
fn every_altered_missing_added_or_miscounted_file_is_refused_by_name() {
    let bytes = archive();
    let manifest: Manifest = {
        let mut zip = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
        serde_json::from_reader(zip.by_name(MANIFEST).unwrap()).unwrap()
    };
    for f in &manifest.files {
        // One byte changed.
        let altered = rewrite(&bytes, |name, mut data| {
            if name == f.name {
                let last = data.len() - 1;
                data[last] ^= 1;
            }
            vec![(name.to_owned(), data)]
        });
        match check_archive(Cursor::new(altered)) {
            Err(ExportError::Altered(n)) => assert_eq!(n, f.name),
            other => panic!("{}: {other:?}", f.name),
        }
        // Left out.
        let missing = rewrite(&bytes, |name, data| {
            if name == f.name {
                vec![]
            } else {
                vec![(name.to_owned(), data)]
            }
        });
        match check_archive(Cursor::new(missing)) {
            Err(ExportError::Missing(n)) => assert_eq!(n, f.name),
            other => panic!("{}: {other:?}", f.name),
        }
    }
    let added = rewrite(&bytes, |name, data| {
        let mut out = vec![(name.to_owned(), data)];
        if name == MANIFEST {
            out.push(("../../etc/evil.json".into(), b"[]".to_vec()));
        }
        out
    });
    match check_archive(Cursor::new(added)) {
        Err(ExportError::Unlisted(n)) => assert_eq!(n, "../../etc/evil.json"),
        other => panic!("{other:?}"),
    }
    // A manifest that miscounts, with the hashes left right.
    let miscounted = rewrite(&bytes, |name, data| {
        if name != MANIFEST {
            return vec![(name.to_owned(), data)];
        }
        let mut m: Manifest = serde_json::from_slice(&data).unwrap();
        m.files[0].records += 1;
        vec![(name.to_owned(), serde_json::to_vec(&m).unwrap())]
    });
    assert!(matches!(
        check_archive(Cursor::new(miscounted)),
        Err(ExportError::Miscounted {
            listed: 26,
            found: 25,
            ..
        })
    ));
    let no_manifest = rewrite(&bytes, |name, data| {
        if name == MANIFEST {
            vec![]
        } else {
            vec![(name.to_owned(), data)]
        }
    });
    assert!(matches!(
        check_archive(Cursor::new(no_manifest)),
        Err(ExportError::NoManifest)
    ));
    assert!(matches!(
        check_archive(Cursor::new(b"not a zip".to_vec())),
        Err(ExportError::Zip(_))
    ));
}
