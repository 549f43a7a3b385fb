//! The vault on real SQLCipher files: keys, pages, and no plaintext on disk.

use std::path::Path;

use strongroom_protocol::{Change, ChangeRecord, ChangesPage, Matter, MatterStatus};
use strongroom_vault::{Vault, VaultError, VaultKey};
use uuid::Uuid;

const CANARY_TITLE: &str = "Zanzibar-Quokka canary matter 7731";
const CANARY_CLIENT: &str = "Ottoline Canaryfeather";

fn matter(title: &str, client: &str) -> Matter {
    Matter {
        id: Uuid::new_v4(),
        number: "T-0001".into(),
        title: title.into(),
        matter_type: "Litigation".into(),
        status: MatterStatus::Open,
        client_name: client.into(),
        responsible: "Test Lawyer".into(),
        opened_on: "2026-11-01".into(),
    }
}

fn page(after: i64, matters: &[Matter], has_more: bool) -> ChangesPage {
    let changes: Vec<Change> = matters
        .iter()
        .enumerate()
        .map(|(i, m)| Change {
            seq: after + 1 + i as i64,
            version: 1,
            record: ChangeRecord::Matter { matter: m.clone() },
        })
        .collect();
    ChangesPage {
        cursor: after + changes.len() as i64,
        changes,
        has_more,
    }
}

/// Every file in `dir` (recursively) as bytes, with its path.
fn files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn create_write_reopen_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let key = VaultKey::generate().unwrap();
    let m = matter("Estate of A", "B Client");
    {
        let mut v = Vault::create(&path, &key).unwrap();
        assert_eq!(v.schema_version().unwrap(), 1);
        v.apply_page(
            &page(0, std::slice::from_ref(&m), false),
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
    // A plain SQLite reader cannot read it either.
    let plain = rusqlite::Connection::open(&path).unwrap();
    assert!(
        plain
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r
                .get::<_, i64>(0))
            .is_err()
    );
    assert!(Vault::open(&path, &key).is_ok());
    assert!(matches!(
        Vault::open(&dir.path().join("missing.db"), &key),
        Err(VaultError::NotFound(_))
    ));
}

#[test]
fn no_plaintext_in_the_vault_or_its_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let key = VaultKey::generate().unwrap();
    let mut v = Vault::create(&path, &key).unwrap();
    v.set_meta("user_email", "canary.person@example.test")
        .unwrap();
    v.apply_page(
        &page(0, &[matter(CANARY_TITLE, CANARY_CLIENT)], false),
        "2026-11-27T00:00:00Z",
    )
    .unwrap();
    // While open (data in the WAL) and after close (checkpointed), nothing readable.
    let check = || {
        let all = files(dir.path());
        assert!(
            all.iter()
                .any(|(p, _)| p.to_string_lossy().ends_with("-wal"))
                || !all.is_empty()
        );
        for (p, bytes) in all {
            for needle in [
                CANARY_TITLE,
                CANARY_CLIENT,
                "canary.person@example.test",
                "T-0001",
            ] {
                assert!(
                    !contains(&bytes, needle.as_bytes()),
                    "{needle:?} in plaintext in {}",
                    p.display()
                );
            }
            assert!(
                !contains(&bytes, key.as_bytes()),
                "raw key in {}",
                p.display()
            );
            assert!(
                !contains(&bytes, hex::encode(key.as_bytes()).as_bytes()),
                "hex key in {}",
                p.display()
            );
        }
    };
    check();
    v.close().unwrap();
    check();
}

#[test]
fn a_page_that_does_not_follow_the_cursor_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let key = VaultKey::generate().unwrap();
    let mut v = Vault::create(&path, &key).unwrap();
    v.apply_page(
        &page(0, &[matter("one", "c1"), matter("two", "c2")], true),
        "t1",
    )
    .unwrap();
    assert_eq!(v.sync_state().unwrap().cursor, 2);

    // Overlaps what is stored.
    let overlapping = page(1, &[matter("three", "c3"), matter("four", "c4")], false);
    assert!(matches!(
        v.apply_page(&overlapping, "t2"),
        Err(VaultError::PageOutOfOrder(_))
    ));
    // Goes backwards.
    let mut backwards = page(2, &[matter("five", "c5"), matter("six", "c6")], false);
    backwards.changes.swap(0, 1);
    assert!(matches!(
        v.apply_page(&backwards, "t2"),
        Err(VaultError::PageOutOfOrder(_))
    ));
    // Claims a cursor before its own changes.
    let mut short = page(2, &[matter("seven", "c7")], false);
    short.cursor = 2;
    assert!(matches!(
        v.apply_page(&short, "t2"),
        Err(VaultError::PageOutOfOrder(_))
    ));

    assert_eq!(v.matter_count().unwrap(), 2);
    assert_eq!(
        v.sync_state().unwrap(),
        strongroom_vault::SyncState {
            cursor: 2,
            last_sync_at: Some("t1".into())
        }
    );
}

#[test]
fn updates_and_tombstones_apply_by_seq() {
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let mut v = Vault::create(&dir.path().join("vault.db"), &key).unwrap();
    let mut a = matter("original", "c");
    let b = matter("other", "d");
    v.apply_page(&page(0, &[a.clone(), b.clone()], false), "t")
        .unwrap();
    a.title = "renamed".into();
    let p = ChangesPage {
        changes: vec![
            Change {
                seq: 3,
                version: 2,
                record: ChangeRecord::Matter { matter: a.clone() },
            },
            Change {
                seq: 4,
                version: 2,
                record: ChangeRecord::MatterDeleted { id: b.id },
            },
        ],
        cursor: 4,
        has_more: false,
    };
    v.apply_page(&p, "t").unwrap();
    let rows = v.matters().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].matter.title, "renamed");
    assert_eq!((rows[0].seq, rows[0].version), (3, 2));
}

#[test]
fn a_vault_from_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let key = VaultKey::generate().unwrap();
    Vault::create(&path, &key).unwrap().close().unwrap();
    {
        // Raise user_version through a keyed raw connection, as a future build would.
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(&format!(
            "PRAGMA key = \"x'{}'\"; PRAGMA user_version = 99;",
            hex::encode(key.as_bytes())
        ))
        .unwrap();
    }
    assert!(matches!(
        Vault::open(&path, &key),
        Err(VaultError::SchemaTooNew {
            found: 99,
            known: 1
        })
    ));
}

#[test]
fn wipe_removes_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let key = VaultKey::generate().unwrap();
    let v = Vault::create(&path, &key).unwrap();
    v.set_meta("k", "v").unwrap();
    drop(v);
    Vault::wipe_files(&path).unwrap();
    assert!(files(dir.path()).is_empty());
    Vault::wipe_files(&path).unwrap();
}

#[test]
fn key_debug_is_redacted() {
    let key = VaultKey::generate().unwrap();
    let shown = format!("{key:?}");
    assert!(!shown.contains(&hex::encode(key.as_bytes())));
    assert!(VaultKey::from_slice(&[0u8; 31]).is_none());
}
