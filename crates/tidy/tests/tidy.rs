//! Tidy checks: documentation on every module, no switch that weakens TLS or the keyring,
//! and landed migrations that never change.

use std::path::PathBuf;

use sha2::{Digest, Sha256};
use strongroom_tidy::{files_with_ext, repo_root};

fn rust_sources() -> Vec<PathBuf> {
    let root = repo_root();
    let mut files = Vec::new();
    for dir in ["crates", "src-tauri", "tests"] {
        files.extend(files_with_ext(&root.join(dir), ".rs"));
    }
    assert!(files.len() > 10, "found too few sources: {files:?}");
    files
}

#[test]
fn every_rust_module_starts_with_a_doc_comment() {
    let mut missing = Vec::new();
    for f in rust_sources() {
        let text = std::fs::read_to_string(&f).unwrap();
        if !text.trim_start().starts_with("//!") {
            missing.push(f);
        }
    }
    assert!(
        missing.is_empty(),
        "modules without a `//!` doc: {missing:#?}"
    );
}

/// Text that must not appear in the product's sources (this file is exempt).
const FORBIDDEN: &[(&str, &str)] = &[
    (
        "danger_accept_invalid",
        "no switch may accept invalid certificates",
    ),
    (
        "dangerous()",
        "rustls' dangerous API bypasses certificate checks",
    ),
    (
        "keyring::mock",
        "the keyring's in-memory mock must never be used",
    ),
    (
        "set_default_credential_builder",
        "entries are built from the native backend only",
    ),
    ("http://127.0.0.1", "the client talks TLS only"),
];

#[test]
fn no_forbidden_switches() {
    let me = file!().rsplit('/').next().unwrap().to_owned();
    let mut hits = Vec::new();
    for f in rust_sources() {
        if f.ends_with(&me) || f.to_string_lossy().contains("/tests/e2e/driver.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for (needle, why) in FORBIDDEN {
            if text.contains(needle) {
                hits.push(format!("{}: {needle}: {why}", f.display()));
            }
        }
    }
    assert!(hits.is_empty(), "{hits:#?}");
}

/// Every landed migration, with its SHA-256. A landed migration is never edited: add a new
/// one, and its line here.
const LANDED_MIGRATIONS: &[(&str, &str)] = &[
    (
        "crates/vault/migrations/0001_init.sql",
        "eecd2707dbc2069eabfce12a67a25a098322c66c41535e633f4f923c9b256014",
    ),
    (
        "crates/server/migrations/sqlite/0001_init.sql",
        "db9a2b49d2e06454f16fb96be0c279333c95e548321e740a49ae67971039df44",
    ),
];

#[test]
fn landed_migrations_are_unchanged() {
    let root = repo_root();
    let mut changed = Vec::new();
    for (path, want) in LANDED_MIGRATIONS {
        let bytes = std::fs::read(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        let got = hex::encode(Sha256::digest(&bytes));
        if got != *want {
            changed.push(format!("{path}: expected {want}, found {got}"));
        }
    }
    assert!(
        changed.is_empty(),
        "landed migrations were edited: {changed:#?}"
    );
    // And every migration on disk is listed.
    for dir in ["crates/vault/migrations", "crates/server/migrations"] {
        for f in files_with_ext(&root.join(dir), ".sql") {
            let rel = f
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            assert!(
                LANDED_MIGRATIONS.iter().any(|(p, _)| rel.ends_with(p)),
                "migration {rel} is not listed in LANDED_MIGRATIONS"
            );
        }
    }
}
