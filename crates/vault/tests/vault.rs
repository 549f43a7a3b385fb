//! The vault on real SQLCipher files: keys, migrations, pages, records, search, the outbox,
//! tampering, crashes, and no plaintext on disk.

mod common;

use common::*;
use proptest::prelude::*;
use serde_json::json;
use strongroom_protocol::{ChangeRecord, ChangesPage, MatterStatus, RecordKind};
use strongroom_vault::passphrase::{self, KdfParams, KeyParamsFile};
use strongroom_vault::{EditOp, HitSource, LocalEdit, SearchQuery, Vault, VaultError, VaultKey};
use uuid::Uuid;

#[test]
fn create_write_reopen_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let key = VaultKey::generate().unwrap();
    let m = matter("Estate of A", "B Client");
    {
        let mut v = Vault::create(&path, &key).unwrap();
        assert_eq!(v.schema_version().unwrap(), 5);
        v.apply_page(
            &page(0, vec![rec_matter(&m)], false),
            "2026-11-27T00:00:00Z",
        )
        .unwrap();
        v.close().unwrap();
    }
    let v = Vault::open(&path, &key).unwrap();
    let rows = v.matters().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].matter, m);
    assert_eq!(v.sync_state().unwrap().cursor, 1);
    assert!(matches!(
        Vault::create(&path, &key),
        Err(VaultError::AlreadyExists(_))
    ));
}

#[test]
fn wrong_key_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let key = VaultKey::generate().unwrap();
    Vault::create(&path, &key).unwrap().close().unwrap();
    let before = std::fs::read(&path).unwrap();
    let other = VaultKey::generate().unwrap();
    assert!(matches!(
        Vault::open(&path, &other),
        Err(VaultError::WrongKeyOrNotAVault)
    ));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "a failed open must not write"
    );
    assert!(
        !before.starts_with(b"SQLite format 3\0"),
        "no plain SQLite header"
    );
    // A plain SQLite reader cannot read it either.
    let plain = rusqlite::Connection::open(&path).unwrap();
    assert!(
        plain
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r
                .get::<_, i64>(0))
            .is_err()
    );
    drop(plain);
    assert!(Vault::open(&path, &key).is_ok());
    assert!(matches!(
        Vault::open(&dir.path().join("missing.db"), &key),
        Err(VaultError::NotFound(_))
    ));
}

#[test]
fn every_record_kind_round_trips_and_deletes_leave_tombstones() {
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let mut v = Vault::create(&dir.path().join("vault.db"), &key).unwrap();
    let set = RecordSet::sample("Round", "Trip");
    v.apply_page(&page(0, set.records(), false), "t").unwrap();
    for r in set.records() {
        let (kind, id) = r.key();
        let (back, seq, version) = v.record(kind, id).unwrap().unwrap();
        assert_eq!(back, r, "{kind:?}");
        assert!(seq > 0);
        assert_eq!(version, 1);
    }
    let counts = v.counts().unwrap();
    assert_eq!(counts.total(), set.records().len() as i64);
    // One contact in two roles on one matter, and a second contact.
    assert_eq!(counts.participants, 3);

    // Apply the same page again: nothing changes (seq is not newer).
    let again = ChangesPage {
        changes: page(0, set.records(), false).changes,
        cursor: 7,
        has_more: false,
        total: None,
    };
    let mut dup = again.clone();
    dup.cursor = v.sync_state().unwrap().cursor;
    assert!(
        v.apply_page(&dup, "t").is_err(),
        "old seqs are refused as out of order"
    );

    // Delete each kind; a tombstone remains and the row is gone.
    let start = v.sync_state().unwrap().cursor;
    let deletions: Vec<ChangeRecord> = set
        .records()
        .iter()
        .map(|r| {
            let (record_kind, id) = r.key();
            ChangeRecord::Deleted { record_kind, id }
        })
        .collect();
    v.apply_page(&page(start, deletions.clone(), false), "t")
        .unwrap();
    for d in deletions {
        let (kind, id) = d.key();
        assert!(
            v.record(kind, id).unwrap().is_none(),
            "{kind:?} still there"
        );
        assert!(v.has_tombstone(kind, id).unwrap());
    }
    assert_eq!(v.counts().unwrap().total(), 0);
}

#[test]
fn a_page_that_does_not_follow_the_cursor_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let mut v = Vault::create(&dir.path().join("vault.db"), &key).unwrap();
    v.apply_page(
        &page(
            0,
            vec![
                rec_matter(&matter("one", "c1")),
                rec_matter(&matter("two", "c2")),
            ],
            true,
        ),
        "t1",
    )
    .unwrap();
    assert_eq!(v.sync_state().unwrap().cursor, 2);

    let overlapping = page(
        1,
        vec![
            rec_matter(&matter("three", "c3")),
            rec_matter(&matter("four", "c4")),
        ],
        false,
    );
    assert!(matches!(
        v.apply_page(&overlapping, "t2"),
        Err(VaultError::PageOutOfOrder(_))
    ));
    let mut backwards = page(
        2,
        vec![
            rec_matter(&matter("five", "c5")),
            rec_matter(&matter("six", "c6")),
        ],
        false,
    );
    backwards.changes.swap(0, 1);
    assert!(matches!(
        v.apply_page(&backwards, "t2"),
        Err(VaultError::PageOutOfOrder(_))
    ));
    let mut short = page(2, vec![rec_matter(&matter("seven", "c7"))], false);
    short.cursor = 2;
    assert!(matches!(
        v.apply_page(&short, "t2"),
        Err(VaultError::PageOutOfOrder(_))
    ));
    // An empty page that claims more is waiting makes no progress: refused, so a client
    // cannot loop on it.
    let stuck = ChangesPage {
        changes: vec![],
        cursor: 2,
        has_more: true,
        total: None,
    };
    assert!(matches!(
        v.apply_page(&stuck, "t2"),
        Err(VaultError::PageOutOfOrder(_))
    ));

    assert_eq!(v.matter_count().unwrap(), 2);
    assert_eq!(v.sync_state().unwrap().last_sync_at.as_deref(), Some("t1"));
}

#[test]
fn the_oldest_schema_migrates_forward_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let key = VaultKey::generate().unwrap();
    let ids = write_schema_1_vault(&path, &key);
    let v = Vault::open(&path, &key).unwrap();
    assert_eq!(v.schema_version().unwrap(), 5);
    assert!(v.open_conflicts().unwrap().is_empty() && v.rejected_edits().unwrap().is_empty());
    let rows = v.matters().unwrap();
    assert_eq!(rows.len(), ids.len());
    for (i, id) in ids.iter().enumerate() {
        let r = rows.iter().find(|r| r.matter.id == *id).unwrap();
        assert_eq!(r.matter.title, format!("Schema one matter {i}"));
        assert_eq!(r.matter.client_name, format!("Client {i}"));
        assert_eq!(r.matter.description, "");
        assert!(r.matter.custom_fields.is_empty());
        assert_eq!((r.seq, r.version), (i as i64 + 1, 1));
    }
    assert_eq!(v.sync_state().unwrap().cursor, ids.len() as i64);
    assert_eq!(
        v.meta("server_url").unwrap().as_deref(),
        Some("https://old.example/")
    );
    // The old matters are searchable after the migration.
    let hits = v.search(&text_query("schema one", 50)).unwrap();
    assert_eq!(hits.len(), ids.len());
}

#[test]
fn a_vault_from_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let key = VaultKey::generate().unwrap();
    Vault::create(&path, &key).unwrap().close().unwrap();
    {
        let c = keyed_raw(&path, &key);
        c.execute_batch("PRAGMA user_version = 99;").unwrap();
    }
    assert!(matches!(
        Vault::open(&path, &key),
        Err(VaultError::SchemaTooNew {
            found: 99,
            known: 5
        })
    ));
}

#[test]
fn pragmas_are_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let key = VaultKey::generate().unwrap();
    let v = Vault::create(&path, &key).unwrap();
    drop(v);
    // Read them back through a connection configured the way the vault configures its own.
    let c = keyed_raw(&path, &key);
    let major: String = c
        .query_row("PRAGMA cipher_version", [], |r| r.get(0))
        .unwrap();
    assert!(
        major.split('.').next().unwrap().parse::<u32>().unwrap() >= 4,
        "{major}"
    );
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn canary_strings_of_every_record_kind_appear_in_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let key = VaultKey::generate().unwrap();
    let mut v = Vault::create(&path, &key).unwrap();
    let set = RecordSet::sample("Zanzibar-Quokka", "Ottoline Canaryfeather");
    v.set_meta("user_email", "canary.person@example.test")
        .unwrap();
    v.apply_page(&page(0, set.records(), false), "t").unwrap();
    // A local edit too: through the outbox.
    v.edit(
        &LocalEdit {
            kind: RecordKind::FileNote,
            id: set.note.id,
            op: EditOp::Upsert {
                fields: json!({"body": "Locally edited Marmalade-Pangolin canary"})
                    .as_object()
                    .unwrap()
                    .clone(),
            },
        },
        "t",
    )
    .unwrap();
    let mut needles = set.canaries();
    needles.push("canary.person@example.test".into());
    needles.push("Marmalade-Pangolin".into());
    let check = |stage: &str| {
        for (p, bytes) in files(dir.path()) {
            for n in &needles {
                assert!(
                    !contains(&bytes, n.as_bytes()),
                    "{stage}: {n:?} in plaintext in {}",
                    p.display()
                );
            }
            assert!(
                !contains(&bytes, key.as_bytes()),
                "{stage}: raw key in {}",
                p.display()
            );
            assert!(
                !contains(&bytes, hex::encode(key.as_bytes()).as_bytes()),
                "{stage}: hex key in {}",
                p.display()
            );
        }
    };
    check("open, data in the WAL");
    v.close().unwrap();
    check("closed");
    assert!(
        files(dir.path())
            .iter()
            .any(|(p, _)| p.ends_with("vault.db"))
    );
}

#[test]
fn flipping_any_byte_gives_an_error_never_altered_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let key = VaultKey::generate().unwrap();
    {
        let mut v = Vault::create(&path, &key).unwrap();
        let mut recs = Vec::new();
        for i in 0..40 {
            recs.extend(RecordSet::sample(&format!("Tamper{i}"), &format!("Client{i}")).records());
        }
        v.apply_page(&page(0, recs, false), "t").unwrap();
        v.close().unwrap();
    }
    let original = std::fs::read(&path).unwrap();
    let expected = dump(&Vault::open(&path, &key).unwrap());
    std::fs::remove_file(path.with_extension("db.open")).ok();
    let work = tempfile::tempdir().unwrap();
    let victim = work.path().join("vault.db");
    let positions = tamper_positions(original.len());
    let mut refused_on_read = 0;
    for &pos in &positions {
        let mut bytes = original.clone();
        bytes[pos] ^= 0x5a;
        Vault::wipe_files(&victim).unwrap();
        std::fs::write(&victim, &bytes).unwrap();
        match Vault::open(&victim, &key) {
            Err(_) => refused_on_read += 1,
            Ok(v) => {
                match try_dump(&v) {
                    Err(_) => refused_on_read += 1,
                    Ok(d) => {
                        assert_eq!(d, expected, "byte {pos} altered the data without an error")
                    }
                }
                // Pages a read did not touch are still authenticated by the full check.
                assert!(
                    v.integrity_check().is_err(),
                    "flipping byte {pos} went unnoticed by the integrity check"
                );
            }
        }
    }
    eprintln!(
        "{} bytes flipped: {refused_on_read} refused on open or read, the rest caught by the integrity check; none altered data",
        positions.len()
    );
    assert!(positions.len() >= 1000, "{}", positions.len());
}

#[test]
fn an_unclean_shutdown_is_checked_and_a_corrupt_vault_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let key = VaultKey::generate().unwrap();
    {
        let mut v = Vault::create(&path, &key).unwrap();
        v.apply_page(
            &page(0, RecordSet::sample("Aside", "Client").records(), false),
            "t",
        )
        .unwrap();
        v.close().unwrap();
    }
    // Clean close: no marker. An unclean one (dropped without close) leaves it, and the next
    // open checks the file and finds it sound.
    assert!(!dir.path().join("vault.db.open").exists());
    drop(Vault::open(&path, &key).unwrap());
    assert!(dir.path().join("vault.db.open").exists());
    Vault::open(&path, &key).unwrap().close().unwrap();

    // Damage a page in the middle, leave the marker: the open sets the file aside.
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    std::fs::File::create(dir.path().join("vault.db.open")).unwrap();
    match Vault::open(&path, &key) {
        Err(VaultError::SetAside(to)) => {
            assert!(to.exists(), "the set-aside copy is kept");
            assert_eq!(std::fs::read(&to).unwrap(), bytes, "and unaltered");
            assert!(!path.exists());
        }
        other => panic!("expected the vault to be set aside, got {other:?}"),
    }
}

#[test]
fn rekey_keeps_every_record_and_only_the_new_key_opens_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let old = VaultKey::generate().unwrap();
    let new = VaultKey::generate().unwrap();
    let mut v = Vault::create(&path, &old).unwrap();
    let set = RecordSet::sample("Rekey", "Client");
    v.apply_page(&page(0, set.records(), false), "t").unwrap();
    let before = dump(&v);
    let mut swapped = false;
    let v = v
        .rekey(&new, || {
            swapped = true;
            Ok(())
        })
        .unwrap();
    assert!(swapped);
    assert_eq!(dump(&v), before);
    assert_eq!(v.schema_version().unwrap(), 5);
    v.close().unwrap();
    assert!(matches!(
        Vault::open(&path, &old),
        Err(VaultError::WrongKeyOrNotAVault)
    ));
    let (v, which) = Vault::open_with_any(&path, &[&old, &new]).unwrap();
    assert_eq!(which, 1);
    assert_eq!(dump(&v), before);
}

#[test]
fn passphrase_keys_derive_repeatably_and_wrong_ones_fail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let params = KdfParams::with_cost(8 * 1024, 1).unwrap();
    passphrase::write_params(
        &path,
        &KeyParamsFile {
            current: params.clone(),
            pending: None,
        },
    )
    .unwrap();
    let key = params.derive("correct horse battery staple").unwrap();
    Vault::create(&path, &key).unwrap().close().unwrap();

    let stored = passphrase::read_params(&path).unwrap().unwrap();
    assert_eq!(stored.current, params);
    let again = stored
        .current
        .derive("correct horse battery staple")
        .unwrap();
    assert!(Vault::open(&path, &again).is_ok());
    let wrong = stored
        .current
        .derive("correct horse battery stapler")
        .unwrap();
    assert!(matches!(
        Vault::open(&path, &wrong),
        Err(VaultError::WrongKeyOrNotAVault)
    ));
    // The file holds parameters, never a key.
    let text = std::fs::read_to_string(passphrase::params_path(&path)).unwrap();
    assert!(!text.contains(&hex::encode(key.as_bytes())));
    // Broken parameters are a clear error, not a panic.
    std::fs::write(passphrase::params_path(&path), "{not json").unwrap();
    assert!(matches!(
        passphrase::read_params(&path),
        Err(VaultError::BadKeyParams(_))
    ));
    let mut odd = params.clone();
    odd.salt_hex = "zz".into();
    assert!(matches!(odd.derive("x"), Err(VaultError::BadKeyParams(_))));
}

#[test]
fn wipe_removes_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let key = VaultKey::generate().unwrap();
    let params = KdfParams::with_cost(8 * 1024, 1).unwrap();
    passphrase::write_params(
        &path,
        &KeyParamsFile {
            current: params,
            pending: None,
        },
    )
    .unwrap();
    let v = Vault::create(&path, &key).unwrap();
    v.set_meta("k", "v").unwrap();
    drop(v);
    Vault::wipe_files(&path).unwrap();
    assert!(
        files(dir.path()).is_empty(),
        "{:?}",
        files(dir.path()).iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    Vault::wipe_files(&path).unwrap();
}

#[test]
fn search_finds_by_number_title_client_people_and_notes_with_filters() {
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let mut v = Vault::create(&dir.path().join("vault.db"), &key).unwrap();
    let a = RecordSet::sample("Lindqvist Coastal", "Ingrid Lindqvist");
    let mut b = RecordSet::sample("Wattle Grove purchase", "Aroha Nowak");
    b.matter.status = MatterStatus::Closed;
    b.note.body = "Spoke with the Lindqvist family about the settlement".into();
    let mut recs = a.records();
    recs.extend(b.records());
    v.apply_page(&page(0, recs, false), "t").unwrap();

    let q = |text: &str| text_query(text, 20);
    let hits = v.search(&q("lindq")).unwrap();
    assert_eq!(hits.len(), 2);
    assert_eq!(
        (hits[0].matter_id, hits[0].source),
        (a.matter.id, HitSource::Matter),
        "matters before notes"
    );
    assert_eq!(hits[1].matter_id, b.matter.id);
    assert_eq!(hits[1].source, HitSource::FileNote { note_id: b.note.id });

    // By number, with punctuation; by a participant's name; by a prefix of two words.
    assert_eq!(
        v.search(&q(&a.matter.number)).unwrap()[0].matter_id,
        a.matter.id
    );
    assert_eq!(
        v.search(&q("barrister wigg"))
            .unwrap()
            .iter()
            .filter(|h| h.source == HitSource::Matter)
            .count(),
        2
    );
    assert_eq!(v.search(&q("watt gro")).unwrap().len(), 1);
    // Filters are exact and apply to note hits too.
    let closed = SearchQuery {
        status: Some(MatterStatus::Closed),
        ..q("lindq")
    };
    let hits = v.search(&closed).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].matter_id, b.matter.id);
    let by_lawyer = SearchQuery {
        responsible: Some("Nobody".into()),
        ..q("lindq")
    };
    assert!(v.search(&by_lawyer).unwrap().is_empty());
    // Hostile text is words, never FTS syntax.
    for text in ["\"", "NEAR(", "a OR", "*", "col:x", "^", "-", "\u{0}"] {
        v.search(&q(text)).unwrap();
    }
    // No words: browse, filtered.
    assert_eq!(
        v.search(&SearchQuery {
            status: Some(MatterStatus::Closed),
            ..q("")
        })
        .unwrap()
        .len(),
        1
    );

    // Edits reach the index: rename the contact, delete the note.
    v.edit(
        &LocalEdit {
            kind: RecordKind::Contact,
            id: a.contact.id,
            op: EditOp::Upsert {
                fields: json!({"name": "Ottoline Wrenfield"})
                    .as_object()
                    .unwrap()
                    .clone(),
            },
        },
        "t",
    )
    .unwrap();
    assert_eq!(v.search(&q("wrenfield")).unwrap()[0].matter_id, a.matter.id);
    v.edit(
        &LocalEdit {
            kind: RecordKind::FileNote,
            id: b.note.id,
            op: EditOp::Delete,
        },
        "t",
    )
    .unwrap();
    assert_eq!(v.search(&q("lindq")).unwrap().len(), 1);
}

#[test]
fn bulk_load_defers_the_index_and_builds_it_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let path = dir.path().join("vault.db");
    let mut v = Vault::create(&path, &key).unwrap();
    v.begin_bulk_load().unwrap();
    let set = RecordSet::sample("Deferred Index", "Client Person");
    v.apply_page(&page(0, set.records(), true), "t").unwrap();
    assert!(matches!(
        v.search(&text_query("deferred", 5)),
        Err(VaultError::IndexNotReady)
    ));
    // A restart in the middle stays in bulk mode.
    drop(v);
    let mut v = Vault::open(&path, &key).unwrap();
    assert!(v.in_bulk_load().unwrap());
    v.finish_bulk_load().unwrap();
    assert!(!v.in_bulk_load().unwrap());
    let hits = v.search(&text_query("deferred", 5)).unwrap();
    assert_eq!(hits.len(), 1);
    let hits = v.search(&text_query("wigg", 5)).unwrap();
    assert_eq!(hits.len(), 1, "people are indexed by the bulk build too");
}

/// The index a bulk load builds in one pass must answer every search exactly as the index
/// kept up to date record by record: same matters, same places, same scores.
/// A filtered search ranks the matches that pass its filters: the closed matters here come
/// after 400 open ones that match the same words, so they are not among the index's first
/// few hundred matches, and are found all the same (as matters, and through their notes).
#[test]
fn a_filtered_search_finds_matches_beyond_the_first_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let mut v = Vault::create(&dir.path().join("vault.db"), &key).unwrap();
    let mut recs = Vec::new();
    let mut closed = std::collections::BTreeSet::new();
    let mut noted = std::collections::BTreeSet::new();
    for i in 0..460 {
        let mut m = matter(&format!("Harbour lease {i}"), &format!("Client {i}"));
        if i >= 400 {
            m.status = MatterStatus::Closed;
            closed.insert(m.id);
        }
        recs.push(rec_matter(&m));
    }
    for i in 0..440 {
        let mut m = matter(&format!("Quiet matter {i}"), "Nobody");
        if i >= 420 {
            m.status = MatterStatus::Closed;
            noted.insert(m.id);
        }
        recs.push(rec_matter(&m));
        recs.push(rec_note(
            m.id,
            String::new(),
            format!("Reviewed the wharfage schedule, item {i}"),
        ));
    }
    v.apply_page(&page(0, recs, false), "t").unwrap();
    let search = |text: &str, status: Option<MatterStatus>| {
        v.search(&SearchQuery {
            text: text.into(),
            status,
            limit: 100,
            ..Default::default()
        })
        .unwrap()
    };

    let hits = search("harb", Some(MatterStatus::Closed));
    let found: std::collections::BTreeSet<Uuid> = hits.iter().map(|h| h.matter_id).collect();
    assert_eq!(found, closed, "every closed harbour matter, and only those");
    assert!(hits.iter().all(|h| h.source == HitSource::Matter));

    let hits = search("wharf", Some(MatterStatus::Closed));
    let found: std::collections::BTreeSet<Uuid> = hits.iter().map(|h| h.matter_id).collect();
    assert_eq!(found, noted, "every closed matter whose note says wharfage");
    assert!(
        hits.iter()
            .all(|h| matches!(h.source, HitSource::FileNote { .. }))
    );

    // Without the filter the list fills up from the first matches, as before.
    assert_eq!(search("harb", None).len(), 100);
}

#[test]
fn a_bulk_built_index_searches_exactly_like_a_live_one() {
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let sets: Vec<RecordSet> = [
        ("Alpha", "Aroha Okafor"),
        ("Bravo", "Chinedu Lindqvist"),
        ("Charlie", "Zoë Ōkafor"),
        ("Delta", "Mei Cho"),
    ]
    .iter()
    .map(|(p, c)| RecordSet::sample(p, c))
    .collect();
    let mut records: Vec<ChangeRecord> = sets.iter().flat_map(|s| s.records()).collect();
    // A matter with no participants, and one whose participant names a missing contact.
    let lone = matter("Lonely estate", "Nobody Known");
    records.push(rec_matter(&lone));
    let orphan = matter("Orphan appeal", "Somebody Else");
    records.push(rec_matter(&orphan));
    records.push(ChangeRecord::Participant {
        participant: strongroom_protocol::Participant {
            id: Uuid::new_v4(),
            matter_id: orphan.id,
            contact_id: Uuid::new_v4(),
            role: "ghost".into(),
        },
    });

    let mut live = Vault::create(&dir.path().join("live.db"), &key).unwrap();
    live.apply_page(&page(0, records.clone(), false), "t")
        .unwrap();
    let mut bulk = Vault::create(&dir.path().join("bulk.db"), &key).unwrap();
    bulk.begin_bulk_load().unwrap();
    bulk.apply_page(&page(0, records, false), "t").unwrap();
    bulk.finish_bulk_load().unwrap();

    let same_answers = |bulk: &Vault| {
        for text in [
            "wigg",
            "felicity chambers",
            "barrister",
            "witness",
            "client",
            "aroha",
            "okafor",
            "ōkafor",
            "zoe",
            "cho",
            "alpha",
            "bravo matter",
            "charlie description",
            "first call",
            "instructions",
            "lonely",
            "nobody",
            "orphan",
            "ghost",
            "t",
            "ch",
            "de",
        ] {
            let q = text_query(text, 500);
            let a = live.search(&q).unwrap();
            let b = bulk.search(&q).unwrap();
            assert_eq!(a.len(), b.len(), "{text:?}: {a:?} vs {b:?}");
            for (x, y) in a.iter().zip(&b) {
                assert_eq!((x.matter_id, x.source), (y.matter_id, y.source), "{text:?}");
                assert!((x.score - y.score).abs() < 1e-9, "{text:?}: {x:?} vs {y:?}");
            }
        }
    };
    same_answers(&bulk);
    // A finish cut short by a crash runs again from its first step: every step can run twice.
    bulk.finish_bulk_load().unwrap();
    same_answers(&bulk);
}

/// A first sync's large page cache is given back when the load ends: to the system, not
/// only to the allocator, so the app does not keep the load's memory until it quits.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn a_bulk_load_gives_its_page_cache_back_to_the_system() {
    fn rss_mib() -> i64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let kib: i64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kib / 1024
    }
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let mut v = Vault::create(&dir.path().join("vault.db"), &key).unwrap();
    // 25,000 file notes of about 2 KiB: some 50 MiB of pages, all of which the cache keeps.
    let m = matter("Memory matters", "Cache Client");
    let filler = "hearing adjourned pending the valuation report ".repeat(40);
    let mut pages = Vec::new();
    let mut after = 0;
    for chunk in 0..5 {
        let mut records = Vec::new();
        if chunk == 0 {
            records.push(rec_matter(&m));
        }
        for i in 0..5_000 {
            records.push(rec_note(
                m.id,
                format!("note {chunk}-{i}"),
                format!("{chunk}-{i} {filler}"),
            ));
        }
        let p = page(after, records, chunk < 4);
        after = p.cursor;
        pages.push(p);
    }

    let before = rss_mib();
    v.begin_bulk_load().unwrap();
    v.apply_pages(&pages, "t").unwrap();
    let loaded = rss_mib();
    v.finish_bulk_load().unwrap();
    let after = rss_mib();
    assert!(
        loaded - before >= 40,
        "the load's cache should have grown by tens of MiB: {before} MiB before, {loaded} MiB loaded"
    );
    assert!(
        after - before <= (loaded - before) / 3,
        "the cache was not given back: {before} MiB before, {loaded} MiB loaded, {after} MiB after"
    );
    // And the vault is whole and searchable.
    assert_eq!(v.counts().unwrap().total(), 25_001);
    let hits = v.search(&text_query("valuation", 5)).unwrap();
    assert_eq!(hits[0].matter_id, m.id);
}

#[test]
fn edits_are_validated_and_queued_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let mut v = Vault::create(&dir.path().join("vault.db"), &key).unwrap();
    let set = RecordSet::sample("Outbox", "Client");
    v.apply_page(&page(0, set.records(), false), "t").unwrap();
    let upsert = |fields: serde_json::Value| EditOp::Upsert {
        fields: fields.as_object().unwrap().clone(),
    };

    let bad = [
        (
            RecordKind::TimeEntry,
            set.time.id,
            upsert(json!({"minutes": "ninety"})),
        ),
        (
            RecordKind::TimeEntry,
            set.time.id,
            upsert(json!({"minutes": -5})),
        ),
        (
            RecordKind::Task,
            set.task.id,
            upsert(json!({"colour": "red"})),
        ),
        (
            RecordKind::Task,
            set.task.id,
            upsert(json!({"id": Uuid::new_v4()})),
        ),
        (RecordKind::Task, set.task.id, upsert(json!({}))),
        (
            RecordKind::FileNote,
            Uuid::new_v4(),
            upsert(json!({"body": "no matter_id, no author"})),
        ),
        (RecordKind::Document, Uuid::new_v4(), EditOp::Delete),
    ];
    for (kind, id, op) in bad {
        let err = v
            .edit(
                &LocalEdit {
                    kind,
                    id,
                    op: op.clone(),
                },
                "t",
            )
            .unwrap_err();
        assert!(
            matches!(err, VaultError::InvalidEdit(_)),
            "{kind:?} {op:?}: {err}"
        );
    }
    assert_eq!(v.outbox_len().unwrap(), 0, "a refused edit queues nothing");

    let new_note = Uuid::new_v4();
    let s1 = v
        .edit(
            &LocalEdit {
                kind: RecordKind::FileNote,
                id: new_note,
                op: upsert(json!({"matter_id": set.matter.id, "author": "Me", "written_at": "2026-11-27T09:00:00Z", "subject": "Call", "body": "Rang the client"})),
            },
            "t1",
        )
        .unwrap();
    let s2 = v
        .edit(
            &LocalEdit {
                kind: RecordKind::Task,
                id: set.task.id,
                op: upsert(json!({"done": true})),
            },
            "t2",
        )
        .unwrap();
    let s3 = v
        .edit(
            &LocalEdit {
                kind: RecordKind::Document,
                id: set.document.id,
                op: EditOp::Delete,
            },
            "t3",
        )
        .unwrap();
    assert!(s1 < s2 && s2 < s3);
    let ob = v.outbox().unwrap();
    assert_eq!(
        ob.iter().map(|e| e.mutation_seq).collect::<Vec<_>>(),
        vec![s1, s2, s3]
    );
    assert_eq!(ob[0].base_version, None, "a creation has no base version");
    assert_eq!(ob[1].base_version, Some(1));
    assert_eq!(ob[2].op, EditOp::Delete);
    let (task, _, _) = v.record(RecordKind::Task, set.task.id).unwrap().unwrap();
    let ChangeRecord::Task { task } = task else {
        panic!()
    };
    assert!(task.done);
    assert!(
        v.record(RecordKind::Document, set.document.id)
            .unwrap()
            .is_none()
    );

    v.ack_outbox(s2).unwrap();
    assert_eq!(v.outbox().unwrap().len(), 1);
    // Sequences are never reused, even after the queue empties.
    v.ack_outbox(s3).unwrap();
    let s4 = v
        .edit(
            &LocalEdit {
                kind: RecordKind::Task,
                id: set.task.id,
                op: upsert(json!({"done": false})),
            },
            "t4",
        )
        .unwrap();
    assert!(s4 > s3);
}

#[test]
fn key_debug_is_redacted() {
    let key = VaultKey::generate().unwrap();
    let shown = format!("{key:?}");
    assert!(!shown.contains(&hex::encode(key.as_bytes())));
    assert!(VaultKey::from_slice(&[0u8; 31]).is_none());
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_commit() {
    let points: usize = std::env::var("STRONGROOM_CRASH_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let report = crash_commits(points);
    eprintln!("{report:?}");
    assert_eq!(report.kill_points, points);
    assert_eq!(report.lost, 0, "{report:?}");
    assert!(
        report.acked > points as i64,
        "the child must have committed work: {report:?}"
    );
}

#[test]
fn sigkill_during_rekey_leaves_a_vault_one_of_the_keys_opens() {
    let points: usize = std::env::var("STRONGROOM_REKEY_CRASH_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let report = crash_rekeys(points);
    eprintln!("{report:?}");
    assert_eq!(report.unopenable, 0, "{report:?}");
    assert_eq!(report.kill_points, points);
    // Kill moments span the whole rekey, so both outcomes occur.
    assert!(report.old_key > 0 && report.new_key > 0, "{report:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn search_matches_a_naive_scan(
        titles in prop::collection::vec(prop::collection::vec(0usize..WORDS.len(), 1..4), 1..30),
        notes in prop::collection::vec((0usize..30, prop::collection::vec(0usize..WORDS.len(), 1..5)), 0..30),
        query in prop::collection::vec((0usize..WORDS.len(), 1usize..4), 1..3),
        closed_only in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let key = VaultKey::generate().unwrap();
        let mut v = Vault::create(&dir.path().join("vault.db"), &key).unwrap();
        let (recs, matters, note_texts) = search_corpus(&titles, &notes);
        v.apply_page(&page(0, recs, false), "t").unwrap();
        let words: Vec<String> = query.iter().map(|(w, n)| WORDS[*w][..(*n).min(WORDS[*w].len())].to_owned()).collect();
        let q = SearchQuery {
            text: words.join(" "),
            status: closed_only.then_some(MatterStatus::Closed),
            limit: 500,
            ..Default::default()
        };
        let got: std::collections::BTreeSet<Uuid> = v.search(&q).unwrap().into_iter().map(|h| h.matter_id).collect();
        let matches = |text: &str| words.iter().all(|w| text.split(' ').any(|t| t.starts_with(w.as_str())));
        let want: std::collections::BTreeSet<Uuid> = matters
            .iter()
            .filter(|m| !closed_only || m.status == MatterStatus::Closed)
            .filter(|m| {
                matches(&format!("{} {}", m.title.to_lowercase(), m.client_name.to_lowercase()))
                    || note_texts.iter().any(|(mid, t)| *mid == m.id && matches(t))
            })
            .map(|m| m.id)
            .collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn the_outbox_holds_exactly_the_committed_edits_in_order(
        ops in prop::collection::vec((0u8..4, 0usize..5, any::<bool>()), 1..40),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let key = VaultKey::generate().unwrap();
        let mut v = Vault::create(&dir.path().join("vault.db"), &key).unwrap();
        let set = RecordSet::sample("Prop", "Client");
        v.apply_page(&page(0, set.records(), false), "t").unwrap();
        let ids: Vec<Uuid> = (0..5).map(|i| Uuid::from_u128(9000 + i)).collect();
        let mut exists = [false; 5];
        let mut model: Vec<(i64, Uuid, bool)> = Vec::new();
        let mut last_seq = 0;
        for (op, which, flag) in ops {
            let id = ids[which];
            let edit = match op {
                0 | 1 => LocalEdit {
                    kind: RecordKind::Task,
                    id,
                    op: EditOp::Upsert { fields: json!({"matter_id": set.matter.id, "title": format!("t{which}"), "done": flag}).as_object().unwrap().clone() },
                },
                2 => LocalEdit { kind: RecordKind::Task, id, op: EditOp::Delete },
                _ => {
                    // Acknowledge the oldest half.
                    if let Some(&(upto, _, _)) = model.get(model.len() / 2) {
                        v.ack_outbox(upto).unwrap();
                        model.retain(|(s, _, _)| *s > upto);
                    }
                    continue;
                }
            };
            match v.edit(&edit, "t") {
                Ok(seq) => {
                    prop_assert!(seq > last_seq);
                    last_seq = seq;
                    let is_delete = edit.op == EditOp::Delete;
                    prop_assert!(!is_delete || exists[which]);
                    exists[which] = !is_delete;
                    model.push((seq, id, is_delete));
                }
                Err(e) => {
                    prop_assert!(matches!(e, VaultError::InvalidEdit(_)));
                    prop_assert!(edit.op == EditOp::Delete && !exists[which]);
                }
            }
            let got: Vec<(i64, Uuid, bool)> = v.outbox().unwrap().into_iter().map(|e| (e.mutation_seq, e.record_id, e.op == EditOp::Delete)).collect();
            prop_assert_eq!(&got, &model);
            for (i, id) in ids.iter().enumerate() {
                prop_assert_eq!(v.record(RecordKind::Task, *id).unwrap().is_some(), exists[i]);
            }
        }
    }
}

fn dump(v: &Vault) -> Vec<String> {
    try_dump(v).unwrap()
}

fn try_dump(v: &Vault) -> Result<Vec<String>, VaultError> {
    let mut out = Vec::new();
    for kind in RecordKind::ALL {
        let mut ids = v.record_ids(kind)?;
        ids.sort();
        for id in ids {
            out.push(format!("{:?}", v.record(kind, id)?));
        }
    }
    out.push(format!("{:?}", v.sync_state()?));
    Ok(out)
}

fn tamper_positions(len: usize) -> Vec<usize> {
    // Every byte of the first page's header and reserve, then a spread over every page.
    let mut p: Vec<usize> = (0..128).collect();
    let step = (len / 1200).max(1);
    p.extend((128..len).step_by(step));
    p.push(len - 1);
    p.sort();
    p.dedup();
    p
}

#[test]
fn a_record_deleted_and_revived_within_a_bulk_load_has_no_tombstone() {
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let mut v = Vault::create(&dir.path().join("vault.db"), &key).unwrap();
    v.begin_bulk_load().unwrap();
    let m = matter("Lazarus", "Client");
    let gone = matter("Gone", "Client");
    v.apply_page(
        &page(
            0,
            vec![
                ChangeRecord::Deleted {
                    record_kind: RecordKind::Matter,
                    id: m.id,
                },
                ChangeRecord::Deleted {
                    record_kind: RecordKind::Matter,
                    id: gone.id,
                },
            ],
            true,
        ),
        "t",
    )
    .unwrap();
    v.apply_page(&page(2, vec![rec_matter(&m)], false), "t")
        .unwrap();
    v.finish_bulk_load().unwrap();
    assert!(!v.has_tombstone(RecordKind::Matter, m.id).unwrap());
    assert!(v.has_tombstone(RecordKind::Matter, gone.id).unwrap());
    assert!(v.record(RecordKind::Matter, m.id).unwrap().is_some());
}

#[test]
fn grouped_pages_apply_together_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let mut v = Vault::create(&dir.path().join("vault.db"), &key).unwrap();
    let p1 = page(0, vec![rec_matter(&matter("one", "c"))], true);
    let p2 = page(1, vec![rec_matter(&matter("two", "c"))], true);
    let p3 = page(2, vec![rec_matter(&matter("three", "c"))], false);
    // A page that does not follow the one before refuses the whole group.
    let stray = page(0, vec![rec_matter(&matter("stray", "c"))], false);
    assert!(matches!(
        v.apply_pages(&[p1.clone(), stray], "t"),
        Err(VaultError::PageOutOfOrder(_))
    ));
    assert_eq!(v.matter_count().unwrap(), 0);
    assert_eq!(v.sync_state().unwrap().cursor, 0);
    assert_eq!(v.apply_pages(&[p1, p2, p3], "t").unwrap(), 3);
    assert_eq!(v.sync_state().unwrap().cursor, 3);
    assert_eq!(v.apply_pages(&[], "t").unwrap(), 0);
}

/// The service's answers to a push: an applied edit leaves the outbox and the record
/// takes the service's version; a conflict leaves it for the conflicts table with both
/// sides; a refused edit leaves it for `rejected_edits` and the record is put back as the
/// service has it. All of one push's answers land together; a repeated answer is skipped.
#[test]
fn push_answers_move_edits_out_of_the_outbox_and_nothing_is_dropped_unseen() {
    use strongroom_protocol::{
        AppliedAt, Change, ConflictKind, ConflictValues, MutationOutcome, MutationResult,
        ProblemCode, SyncConflict,
    };
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let mut v = Vault::create(&dir.path().join("vault.db"), &key).unwrap();
    let set = RecordSet::sample("Pushed", "Client");
    v.apply_page(&page(0, set.records(), false), "t").unwrap();
    let upsert = |fields: serde_json::Value| EditOp::Upsert {
        fields: fields.as_object().unwrap().clone(),
    };
    let edit = |v: &mut Vault, kind, id, op| {
        v.edit(&LocalEdit { kind, id, op }, "2026-11-27T10:00:00Z")
            .unwrap()
    };
    let applied = edit(
        &mut v,
        RecordKind::Task,
        set.task.id,
        upsert(json!({"done": true})),
    );
    let clashed = edit(
        &mut v,
        RecordKind::FileNote,
        set.note.id,
        upsert(json!({"subject": "Mine"})),
    );
    let refused = edit(
        &mut v,
        RecordKind::TimeEntry,
        set.time.id,
        upsert(json!({"minutes": 30})),
    );
    assert_eq!(v.outbox_len().unwrap(), 3);
    let server_id = Uuid::new_v4();
    let answers = vec![
        MutationResult {
            mutation_seq: applied,
            outcome: MutationOutcome::Applied {
                seq: 50,
                version: 7,
            },
        },
        MutationResult {
            mutation_seq: clashed,
            outcome: MutationOutcome::Conflict {
                conflict: SyncConflict {
                    id: server_id,
                    kind: ConflictKind::SameField,
                    record_kind: RecordKind::FileNote,
                    record_id: set.note.id,
                    base_version: Some(1),
                    server_version: 3,
                    fields: [(
                        "subject".to_owned(),
                        ConflictValues {
                            mine: json!("Mine"),
                            theirs: json!("Theirs"),
                        },
                    )]
                    .into_iter()
                    .collect(),
                },
                applied: Some(AppliedAt {
                    seq: 51,
                    version: 4,
                }),
            },
        },
        MutationResult {
            mutation_seq: refused,
            outcome: MutationOutcome::Rejected {
                code: ProblemCode::NotFound,
                detail: "no such record".into(),
            },
        },
    ];
    let done = v
        .apply_push_results(&answers, "2026-11-27T10:01:00Z")
        .unwrap();
    assert_eq!((done.applied, done.conflicts, done.rejected), (1, 1, 1));
    assert_eq!(v.outbox_len().unwrap(), 0);
    // Answered twice: nothing more happens.
    let again = v
        .apply_push_results(&answers, "2026-11-27T10:02:00Z")
        .unwrap();
    assert_eq!((again.applied, again.conflicts, again.rejected), (0, 0, 0));

    let conflicts = v.open_conflicts().unwrap();
    assert_eq!(conflicts.len(), 1);
    let c = &conflicts[0];
    assert_eq!(
        (
            c.server_id.as_str(),
            c.kind,
            c.field.as_str(),
            c.mine.as_deref(),
            c.theirs.as_deref()
        ),
        (
            server_id.to_string().as_str(),
            ConflictKind::SameField,
            "subject",
            Some("\"Mine\""),
            Some("\"Theirs\"")
        )
    );
    let rejected = v.rejected_edits().unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        (rejected[0].mutation_seq, rejected[0].code.as_str()),
        (refused, "not_found")
    );
    // The next edit of the task builds on the version the service gave it.
    edit(
        &mut v,
        RecordKind::Task,
        set.task.id,
        upsert(json!({"title": "Next"})),
    );
    let queued = v.outbox().unwrap();
    assert_eq!(queued[0].base_version, Some(7));

    // The refused edit is undone: the record is put back as the service has it, or
    // removed when the service has none for this member.
    let original = set
        .records()
        .into_iter()
        .find(|r| r.key().1 == set.time.id)
        .unwrap();
    v.restore_from_server(
        RecordKind::TimeEntry,
        set.time.id,
        Some(&Change {
            seq: 9,
            version: 2,
            record: original.clone(),
        }),
    )
    .unwrap();
    assert!(
        dump(&v)
            .iter()
            .any(|row| row.contains(&set.time.id.to_string()))
    );
    v.restore_from_server(RecordKind::TimeEntry, set.time.id, None)
        .unwrap();
    assert!(
        !dump(&v)
            .iter()
            .any(|row| row.contains(&set.time.id.to_string()))
    );
    assert_eq!(
        v.mark_conflict_resolved(&server_id.to_string(), "keep_theirs", "t")
            .unwrap(),
        1
    );
    assert!(v.open_conflicts().unwrap().is_empty());
}

/// A revocation in the feed removes the matter and every record on it, from the tables
/// and from search; queued edits to them are kept as refused (`access_revoked`), and the
/// practice-wide contact stays.
#[test]
fn a_revoked_matter_is_purged_and_its_pending_edits_reported() {
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let mut v = Vault::create(&dir.path().join("vault.db"), &key).unwrap();
    let set = RecordSet::sample("Walled", "Zebulon");
    let records = set.records();
    let n = records.len() as i64;
    v.apply_page(&page(0, records, false), "t").unwrap();
    let queued = v
        .edit(
            &LocalEdit {
                kind: RecordKind::FileNote,
                id: set.note.id,
                op: EditOp::Upsert {
                    fields: json!({"subject": "Drafted on the plane"})
                        .as_object()
                        .unwrap()
                        .clone(),
                },
            },
            "2026-11-27T10:00:00Z",
        )
        .unwrap();
    let search = |v: &Vault| v.search(&text_query("Zebulon", 50)).unwrap().len();
    assert!(search(&v) > 0);
    v.apply_page(
        &page(
            n,
            vec![ChangeRecord::Revoked {
                matter_id: set.matter.id,
            }],
            false,
        ),
        "t",
    )
    .unwrap();
    for kind in [
        RecordKind::Matter,
        RecordKind::Participant,
        RecordKind::FileNote,
        RecordKind::Task,
        RecordKind::TimeEntry,
        RecordKind::Document,
    ] {
        assert!(
            v.record_ids(kind).unwrap().is_empty(),
            "{kind:?} left behind"
        );
    }
    assert!(!v.record_ids(RecordKind::Contact).unwrap().is_empty());
    assert_eq!(search(&v), 0, "nothing of it is found any more");
    assert_eq!(v.outbox_len().unwrap(), 0);
    let rejected = v.rejected_edits().unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        (rejected[0].mutation_seq, rejected[0].code.as_str()),
        (queued, "access_revoked")
    );
    assert_eq!(v.sync_state().unwrap().cursor, n + 1);
}

/// A pull that brings an older or another device's state of a record this device has edits
/// queued for (an edit made while the sync waited on the network) shows the service's
/// record with the queued edits on top, in order, and keeps them queued; a queued delete
/// keeps the record deleted. Without this, the device showed the older text until its own
/// change came back from the service.
#[test]
fn a_pull_never_hides_an_edit_still_queued() {
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let mut v = Vault::create(&dir.path().join("vault.db"), &key).unwrap();
    let set = RecordSet::sample("Queued", "Client");
    v.apply_page(&page(0, set.records(), false), "t").unwrap();
    let cursor = v.sync_state().unwrap().cursor;
    let upsert = |fields: serde_json::Value| EditOp::Upsert {
        fields: fields.as_object().unwrap().clone(),
    };
    let edit = |v: &mut Vault, kind, id, op| {
        v.edit(&LocalEdit { kind, id, op }, "t").unwrap();
    };
    edit(
        &mut v,
        RecordKind::Matter,
        set.matter.id,
        upsert(json!({"description": "mine, first"})),
    );
    edit(
        &mut v,
        RecordKind::Matter,
        set.matter.id,
        upsert(json!({"status": "closed", "closed_on": "2026-11-20"})),
    );
    edit(
        &mut v,
        RecordKind::Matter,
        set.matter.id,
        upsert(json!({"description": "mine, last"})),
    );
    edit(&mut v, RecordKind::Task, set.task.id, EditOp::Delete);

    // The service's next state of both: another device's title, and an older description.
    let mut theirs = set.matter.clone();
    theirs.title = "Retitled at the office".into();
    theirs.description = "the service's older text".into();
    let mut task = set.task.clone();
    task.title = "Renamed at the office".into();
    let mut next = page(
        cursor,
        vec![rec_matter(&theirs), ChangeRecord::Task { task }],
        false,
    );
    for c in &mut next.changes {
        c.version = 2;
    }
    v.apply_page(&next, "t").unwrap();

    let Some((ChangeRecord::Matter { matter }, _, version)) =
        v.record(RecordKind::Matter, set.matter.id).unwrap()
    else {
        panic!("the matter is gone");
    };
    assert_eq!(
        matter.title, "Retitled at the office",
        "the service's change shows"
    );
    assert_eq!(
        matter.description, "mine, last",
        "the queued edits show, in order"
    );
    assert_eq!(matter.status, MatterStatus::Closed);
    assert_eq!(matter.closed_on.as_deref(), Some("2026-11-20"));
    assert_eq!(version, 2, "the next edit builds on the service's version");
    assert!(
        v.record(RecordKind::Task, set.task.id).unwrap().is_none(),
        "a queued delete keeps the record deleted"
    );
    assert_eq!(v.outbox().unwrap().len(), 4, "every edit still queued");
    // Search sees what is shown.
    let hits = v
        .search(&SearchQuery {
            text: "retitled".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(hits.len(), 1);
}

/// A first sync stores its rows before the id indexes exist (they are built at its end).
/// A record that comes again (changed on the service while the sync ran), before or after
/// a restart, or that is deleted after it came, is still stored once, as its newest change
/// has it; and once the load ends, a later change updates the stored row.
#[test]
fn a_first_sync_stores_each_record_once_as_its_newest_change_has_it() {
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let path = dir.path().join("vault.db");
    let mut v = Vault::create(&path, &key).unwrap();
    v.begin_bulk_load().unwrap();
    let mut twice = matter("First title", "Client");
    let mut across_restart = matter("Before the restart", "Client");
    let deleted = matter("Deleted later", "Client");
    let noted = matter("Noted", "Client");
    let note = rec_note(noted.id, "Attendance".into(), "zebra crossing".into());
    let first = vec![
        rec_matter(&twice),
        rec_matter(&across_restart),
        rec_matter(&deleted),
        rec_matter(&noted),
        note.clone(),
    ];
    v.apply_page(&page(0, first, true), "t").unwrap();
    twice.title = "Second title".into();
    let gone = ChangeRecord::Deleted {
        record_kind: RecordKind::Matter,
        id: deleted.id,
    };
    v.apply_page(&page(5, vec![rec_matter(&twice), gone], true), "t")
        .unwrap();
    // Once each, before the ids are indexed too (the list shows what the vault holds).
    let held = |v: &Vault| {
        let c = v.counts().unwrap();
        (c.matters, c.file_notes)
    };
    assert_eq!(held(&v), (3, 1));
    // A restart: the ids stored so far are read back from the tables.
    drop(v);
    let mut v = Vault::open(&path, &key).unwrap();
    assert!(v.in_bulk_load().unwrap());
    across_restart.title = "After the restart".into();
    let mut note_again = note.clone();
    if let ChangeRecord::FileNote { file_note } = &mut note_again {
        file_note.body = "yak shaving".into();
    }
    v.apply_page(
        &page(7, vec![rec_matter(&across_restart), note_again], false),
        "t",
    )
    .unwrap();
    assert_eq!(held(&v), (3, 1));
    v.finish_bulk_load().unwrap();
    assert_eq!(held(&v), (3, 1));
    let title = |v: &Vault, id| match v.record(RecordKind::Matter, id).unwrap() {
        Some((ChangeRecord::Matter { matter }, _, _)) => matter.title,
        other => panic!("matter {id}: {other:?}"),
    };
    assert_eq!(title(&v, twice.id), "Second title");
    assert_eq!(title(&v, across_restart.id), "After the restart");
    assert!(v.record(RecordKind::Matter, deleted.id).unwrap().is_none());
    assert!(v.has_tombstone(RecordKind::Matter, deleted.id).unwrap());
    assert!(v.search(&text_query("zebra", 5)).unwrap().is_empty());
    assert_eq!(v.search(&text_query("yak", 5)).unwrap().len(), 1);

    twice.title = "Third title".into();
    v.apply_page(&page(9, vec![rec_matter(&twice)], false), "t")
        .unwrap();
    assert_eq!(v.counts().unwrap().matters, 3);
    assert_eq!(title(&v, twice.id), "Third title");
}

/// A local edit during a first sync finds its record by id: the id indexes are built for
/// it, and the rest of the load still stores each record once, with the edit laid over the
/// service's newer version until it is pushed.
#[test]
fn an_edit_during_a_first_sync_finds_its_record_and_the_load_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let mut v = Vault::create(&dir.path().join("vault.db"), &key).unwrap();
    v.begin_bulk_load().unwrap();
    let mut m = matter("Edited during the first sync", "Client");
    let other = matter("Another", "Client");
    v.apply_page(&page(0, vec![rec_matter(&m)], true), "t")
        .unwrap();
    let fields = json!({"description": "written here"});
    v.edit(
        &LocalEdit {
            kind: RecordKind::Matter,
            id: m.id,
            op: EditOp::Upsert {
                fields: fields.as_object().unwrap().clone(),
            },
        },
        "t",
    )
    .unwrap();
    m.title = "Retitled on the service".into();
    v.apply_page(
        &page(1, vec![rec_matter(&m), rec_matter(&other)], false),
        "t",
    )
    .unwrap();
    v.finish_bulk_load().unwrap();
    assert_eq!(v.counts().unwrap().matters, 2);
    let Some((ChangeRecord::Matter { matter }, _, _)) = v.record(RecordKind::Matter, m.id).unwrap()
    else {
        panic!("the edited matter is gone");
    };
    assert_eq!(matter.title, "Retitled on the service");
    assert_eq!(matter.description, "written here");
    assert_eq!(v.outbox_len().unwrap(), 1);
}

/// Schema 5 rebuilds every record table (ids unique by an index of their own instead of a
/// PRIMARY KEY): every record, its row id (which the search index refers to) and the
/// search itself come through; afterwards ids are still unique.
#[test]
fn a_schema_4_vault_keeps_every_record_and_its_search_through_the_record_keys_migration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let key = VaultKey::generate().unwrap();
    let set = RecordSet::sample("Migrated", "Harriet Client");
    write_schema_4_vault(&path, &key, &set);
    let mut v = Vault::open(&path, &key).unwrap();
    assert_eq!(v.schema_version().unwrap(), 5);
    v.integrity_check().unwrap();

    let mut expected = Vec::new();
    let mut found = Vec::new();
    for record in set.records() {
        let (kind, id) = record.key();
        expected.push(format!("{record:?}"));
        let (stored, _, version) = v.record(kind, id).unwrap().unwrap();
        assert_eq!(version, 1);
        found.push(format!("{stored:?}"));
    }
    assert_eq!(found, expected);
    assert_eq!(v.counts().unwrap().total(), set.records().len() as i64);

    // The note's row id still leads its search to its matter; the matter's still finds it.
    for text in ["instructions taken", "Migrated matter", "Wigg"] {
        let hits = v.search(&text_query(text, 5)).unwrap();
        assert_eq!(hits.len(), 1, "{text}: {hits:?}");
        assert_eq!(hits[0].matter_id, set.matter.id, "{text}");
    }

    // A later change of a stored record updates it, never a second row.
    let mut m = set.matter.clone();
    m.title = "Migrated and retitled".into();
    v.apply_page(&page(10, vec![rec_matter(&m)], false), "t")
        .unwrap();
    assert_eq!(v.counts().unwrap().matters, 1);
    assert_eq!(v.search(&text_query("retitled", 5)).unwrap().len(), 1);
}
