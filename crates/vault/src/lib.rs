//! The encrypted vault: the practice's offline copy on a lawyer's laptop.
//!
//! A vault is one SQLCipher 4 database file opened with a raw 32-byte key ([`VaultKey`]).
//! There is no plaintext mode: [`Vault::create`] and [`Vault::open`] both demand a key, and
//! opening with the wrong key fails with [`VaultError::WrongKeyOrNotAVault`].
//!
//! It holds the full local model (matters, contacts, participants, file notes, tasks, time
//! entries, documents), what sync needs (sequence and version per record, tombstones, the
//! outbox, conflicts, the cursor) and a full-text index ([`search`]).
//!
//! Invariants:
//! - every connection runs with `cipher_memory_security=ON`, `temp_store=MEMORY`,
//!   `secure_delete=ON`, WAL and `synchronous=FULL`, and refuses a cipher older than
//!   SQLCipher 4 (a bulk load's index sort alone runs with `temp_store=FILE`, for the
//!   sorter's single buffer, and restores `MEMORY` after it);
//! - every connection opens through the vault's VFS ([`vfs`]), which never opens a
//!   temporary file: nothing but the encrypted vault and its WAL and journals is written;
//! - a page of changes and its cursor are written in one transaction ([`Vault::apply_page`]),
//!   and a page that does not follow the cursor is refused before anything is written;
//! - after an unclean shutdown (the open-marker file is still there) the vault is checked
//!   (`integrity_check`, `cipher_integrity_check`) before use; a vault that fails is set
//!   aside (renamed, never deleted or overwritten) and the caller offers a fresh sync;
//! - rekeying writes a complete copy under the new key before an atomic rename, so after a
//!   crash at any point the file opens with the old key or the new one.

pub mod browse;
mod key;
mod migrate;
mod outbox;
pub mod passphrase;
mod push;
mod records;
pub mod search;
mod vfs;

pub use browse::{MatterFile, MatterListing, MatterOrder};
pub use key::VaultKey;
pub use outbox::{EditOp, LocalEdit, OutboxEntry};
pub use push::{LocalConflict, PushApplied, RejectedEdit};
pub use search::{HitSource, SearchHit, SearchQuery};

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use strongroom_protocol::{ChangeRecord, ChangesPage, Matter, RecordKind};

use crate::records::Indexing;

/// What can go wrong with a vault.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("no vault exists at {0}")]
    NotFound(PathBuf),
    #[error("a vault already exists at {0}")]
    AlreadyExists(PathBuf),
    #[error("the vault could not be opened: wrong key, or the file is not a Strongroom vault")]
    WrongKeyOrNotAVault,
    #[error("the SQLCipher library is version {0}; version 4 or later is required")]
    CipherTooOld(String),
    #[error(
        "the vault was written by a newer Strongroom (schema {found}, this build knows {known})"
    )]
    SchemaTooNew { found: i64, known: i64 },
    #[error("the server sent a page that does not follow this vault's sync position: {0}")]
    PageOutOfOrder(String),
    #[error("the vault holds a value it cannot read: {0}")]
    Corrupt(String),
    #[error("the search index is being built; search is available when the first sync finishes")]
    IndexNotReady,
    #[error("the edit was refused: {0}")]
    InvalidEdit(String),
    #[error("the key parameters beside the vault cannot be used: {0}")]
    BadKeyParams(String),
    #[error("the vault failed its integrity check and was set aside as {0}")]
    SetAside(PathBuf),
    #[error("vault storage failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("vault file operation failed: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = VaultError> = std::result::Result<T, E>;

/// A matter as the vault returns it for lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatterRow {
    pub matter: Matter,
    pub seq: i64,
    pub version: i64,
}

/// The vault's sync position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncState {
    pub cursor: i64,
    pub last_sync_at: Option<String>,
}

/// How many changes a bulk load applies per transaction, at most (several pages). A commit
/// writes (and encrypts) every page it changed, and the cursor moves with it: fewer, larger
/// transactions write fewer pages twice, smaller ones lose less to a crash and show
/// progress more often. 100,000 changes hold some tens of megabytes of pages in the page
/// cache until their commit, well inside the bulk load's cache.
pub const BULK_BATCH_CHANGES: usize = 100_000;

/// How many records of each kind the vault holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub matters: i64,
    pub contacts: i64,
    pub participants: i64,
    pub file_notes: i64,
    pub tasks: i64,
    pub time_entries: i64,
    pub documents: i64,
}

impl Counts {
    pub fn total(&self) -> i64 {
        self.matters
            + self.contacts
            + self.participants
            + self.file_notes
            + self.tasks
            + self.time_entries
            + self.documents
    }
}

/// An open vault.
pub struct Vault {
    conn: Connection,
    path: PathBuf,
    /// While a first sync stores rows into tables without id indexes: the ids they may
    /// hold ([`records::apply_unkeyed`]). `None` otherwise, and until first needed.
    stored_ids: Option<records::StoredIds>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Opens a connection through the vault's VFS, which never opens a temporary file.
fn open_connection(path: &Path, flags: OpenFlags) -> Result<Connection> {
    vfs::register().map_err(|rc| {
        VaultError::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rc),
            Some("registering the vault's VFS".into()),
        ))
    })?;
    Ok(Connection::open_with_flags_and_vfs(path, flags, vfs::NAME)?)
}

/// `path` with `suffix` appended to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// Makes a rename or creation in `path`'s folder durable.
pub(crate) fn sync_dir(path: &Path) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::File::open(dir)?.sync_all()
}

/// Creates an empty file readable by its owner only (SQLite gives the -wal and -shm files
/// the same permissions as the database).
fn create_private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    Ok(())
}

/// The marker that says the vault is open; left behind by an unclean shutdown.
fn marker_path(path: &Path) -> PathBuf {
    with_suffix(path, ".open")
}

impl Vault {
    /// Creates a new vault at `path`, keyed with `key`. Fails if a file is already there.
    pub fn create(path: &Path, key: &VaultKey) -> Result<Self> {
        if path.exists() {
            return Err(VaultError::AlreadyExists(path.to_owned()));
        }
        create_private_file(path)?;
        let conn = open_connection(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let vault = Self::finish_open(conn, path, Some(key))?;
        sync_dir(path)?;
        Ok(vault)
    }

    /// Opens the existing vault at `path` with `key`. After an unclean shutdown the vault
    /// is checked first; one that fails is set aside ([`VaultError::SetAside`]).
    pub fn open(path: &Path, key: &VaultKey) -> Result<Self> {
        if !path.exists() {
            return Err(VaultError::NotFound(path.to_owned()));
        }
        // A copy left by a rekey that never finished is never the vault: drop it.
        let stale = with_suffix(path, ".rekey");
        if stale.exists() {
            std::fs::remove_file(&stale)?;
        }
        let unclean = marker_path(path).exists();
        let conn = open_connection(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let vault = Self::finish_open(conn, path, Some(key))?;
        if unclean && vault.integrity_check().is_err() {
            drop(vault);
            return Err(VaultError::SetAside(Self::set_aside(path)?));
        }
        Ok(vault)
    }

    /// Opens the vault with the first of `keys` that fits; returns which one did.
    pub fn open_with_any(path: &Path, keys: &[&VaultKey]) -> Result<(Self, usize)> {
        let mut last = VaultError::WrongKeyOrNotAVault;
        for (i, key) in keys.iter().enumerate() {
            match Self::open(path, key) {
                Ok(v) => return Ok((v, i)),
                Err(VaultError::WrongKeyOrNotAVault) => last = VaultError::WrongKeyOrNotAVault,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// An unencrypted database with the vault's schema, pragmas and code paths: only the
    /// benchmark's baseline, which the product never builds.
    #[cfg(feature = "bench-baseline")]
    pub fn create_unencrypted_baseline(path: &Path) -> Result<Self> {
        let conn = open_connection(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Self::finish_open(conn, path, None)
    }

    fn finish_open(conn: Connection, path: &Path, key: Option<&VaultKey>) -> Result<Self> {
        if let Some(key) = key {
            // Must come first: SQLCipher wipes its buffers before freeing them. Its own log
            // stays off: failures come back as errors.
            conn.execute_batch(
                "PRAGMA cipher_log_level = NONE; PRAGMA cipher_memory_security = ON;",
            )?;
            // Once memory security is on, so that the lookaside block is locked too.
            set_lookaside(&conn)?;
            key.apply(&conn)?;
            let version: String = conn
                .query_row("PRAGMA cipher_version", [], |r| r.get(0))
                .optional()?
                .unwrap_or_default();
            let major: u32 = version
                .split('.')
                .next()
                .and_then(|m| m.trim().parse().ok())
                .unwrap_or(0);
            if major < 4 {
                return Err(VaultError::CipherTooOld(version));
            }
        } else {
            set_lookaside(&conn)?;
        }
        // The first read decrypts page 1: a wrong key fails here, before anything is written.
        if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        }) {
            return Err(match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::NotADatabase) => VaultError::WrongKeyOrNotAVault,
                _ => VaultError::Sqlite(e),
            });
        }
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA temp_store = MEMORY;
             PRAGMA secure_delete = ON;
             PRAGMA cache_size = -16384;
             PRAGMA foreign_keys = ON;",
        )?;
        // Every record kind has its own statements: keep them all prepared.
        conn.set_prepared_statement_cache_capacity(128);
        // The same plan whatever the bound values. Without it, SQLite (3.5x) plans a
        // `LIMIT ?` with the bound number, and marks the statement to be prepared again
        // whenever that parameter is bound: every search and every window of the matter
        // list would parse and plan its statements afresh, even from the cache.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        std::fs::File::create(marker_path(path))?;
        let mut vault = Vault {
            conn,
            path: path.to_owned(),
            stored_ids: None,
        };
        migrate::run(&mut vault.conn)?;
        if vault.in_bulk_load()? {
            vault.bulk_pragmas()?;
        }
        Ok(vault)
    }

    /// Whether `key` opens this vault (checked on a separate read-only connection).
    pub fn key_matches(&self, key: &VaultKey) -> Result<bool> {
        let conn = open_connection(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
        key.apply(&conn)?;
        match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        }) {
            Ok(_) => Ok(true),
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Runs SQLite's integrity check and SQLCipher's page authentication check.
    pub fn integrity_check(&self) -> Result<()> {
        let verdict: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if verdict != "ok" {
            return Err(VaultError::Corrupt(verdict));
        }
        let mut stmt = self.conn.prepare("PRAGMA cipher_integrity_check")?;
        let problems: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if let Some(first) = problems.first() {
            return Err(VaultError::Corrupt(first.clone()));
        }
        Ok(())
    }

    /// Renames the vault and its companions to `<name>.corrupt-<unix time>`; never deletes.
    pub fn set_aside(path: &Path) -> Result<PathBuf> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let to = with_suffix(path, &format!(".corrupt-{stamp}"));
        for suffix in ["-wal", "-shm"] {
            let from = with_suffix(path, suffix);
            if from.exists() {
                std::fs::rename(&from, with_suffix(&to, suffix))?;
            }
        }
        std::fs::rename(path, &to)?;
        let _ = std::fs::remove_file(marker_path(path));
        sync_dir(path)?;
        Ok(to)
    }

    /// The vault file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version the vault is at.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Reads a value from the vault's key-value metadata.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    /// Writes a value into the vault's key-value metadata.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// The vault's sync position.
    pub fn sync_state(&self) -> Result<SyncState> {
        Ok(self.conn.query_row(
            "SELECT cursor, last_sync_at FROM sync_state WHERE id = 1",
            [],
            |r| {
                Ok(SyncState {
                    cursor: r.get(0)?,
                    last_sync_at: r.get(1)?,
                })
            },
        )?)
    }

    fn indexing(&self) -> Result<Indexing> {
        Ok(match self.meta("search_index")?.as_deref() {
            Some("deferred") => Indexing::Deferred,
            _ => Indexing::Live,
        })
    }

    /// Applies one page of changes and moves the cursor, in one transaction. The page is
    /// checked against the stored cursor first; a page that does not follow it is refused
    /// and nothing is written. Returns how many changes were applied.
    pub fn apply_page(&mut self, page: &ChangesPage, synced_at: &str) -> Result<usize> {
        self.apply_pages(std::slice::from_ref(page), synced_at)
    }

    /// Applies consecutive pages and the last one's cursor in one transaction (a bulk load
    /// groups pages up to [`BULK_BATCH_CHANGES`] so that each transaction rewrites fewer
    /// index pages). Every page must follow the one before it; if any does not, nothing is
    /// written.
    pub fn apply_pages(&mut self, pages: &[ChangesPage], synced_at: &str) -> Result<usize> {
        let Some(last) = pages.last() else {
            return Ok(0);
        };
        let indexing = self.indexing()?;
        let tx = self.conn.transaction()?;
        let mut cursor: i64 =
            tx.query_row("SELECT cursor FROM sync_state WHERE id = 1", [], |r| {
                r.get(0)
            })?;
        for page in pages {
            check_page(page, cursor)?;
            cursor = page.cursor;
        }
        let mut applied = 0;
        // The records this device has edits queued for are laid over again at the end (a
        // first sync has none queued, and keeps no list).
        let queued = outbox::any_queued(&tx)?;
        // A first sync stores its rows without id indexes, unless edits are queued: those
        // are laid over again by id.
        let mut unkeyed = indexing == Indexing::Deferred && !records::keys_indexed(&tx)?;
        if unkeyed && queued {
            records::create_record_keys(&tx)?;
            self.stored_ids = None;
            unkeyed = false;
        }
        if unkeyed && self.stored_ids.is_none() {
            self.stored_ids = Some(records::StoredIds::read(&tx)?);
        }
        let mut touched = Vec::new();
        let outcome = (|| -> Result<()> {
            for change in pages.iter().flat_map(|p| &p.changes) {
                let done = match self.stored_ids.as_mut() {
                    Some(stored) if unkeyed => records::apply_unkeyed(
                        &tx,
                        change.seq,
                        change.version,
                        &change.record,
                        stored,
                    )?,
                    _ => records::apply_change(
                        &tx,
                        change.seq,
                        change.version,
                        &change.record,
                        indexing,
                    )?,
                };
                if done {
                    applied += 1;
                }
                if queued && !matches!(change.record, ChangeRecord::Revoked { .. }) {
                    touched.push(change.record.key());
                }
            }
            if queued {
                outbox::reapply_queued(&tx, &touched, indexing)?;
            }
            tx.execute(
                "UPDATE sync_state SET cursor = ?1, last_sync_at = ?2 WHERE id = 1",
                params![last.cursor, synced_at],
            )?;
            Ok(())
        })()
        .and_then(|()| Ok(tx.commit()?));
        if outcome.is_err() {
            // What was rolled back may have taken ids out of the list: read it again.
            self.stored_ids = None;
        }
        outcome.map(|()| applied)
    }

    /// Starts a bulk load (a first sync): pages are stored without updating the search
    /// index, which [`Vault::finish_bulk_load`] builds in one pass. The state is stored, so
    /// a load interrupted by a crash resumes in the same mode.
    pub fn begin_bulk_load(&self) -> Result<()> {
        // Secondary indexes, and the id index of each record table, are dropped for the
        // load and built once, in order, at the end: far cheaper than inserting a million
        // random keys into each of them. Until then rows are inserted as they come, and
        // the vault keeps the stored ids in memory so that none is stored twice
        // ([`records::apply_unkeyed`]).
        self.conn.execute_batch(concat!(
            "BEGIN IMMEDIATE;",
            records::drop_secondary_indexes!(),
            "INSERT INTO meta (key, value) VALUES ('search_index', 'deferred')
                ON CONFLICT (key) DO UPDATE SET value = excluded.value;
             COMMIT;"
        ))?;
        self.bulk_pragmas()
    }

    /// A bulk load's connection settings: a large page cache, and WAL checkpoints left to
    /// the end instead of every thousand pages (each page is then written to the database
    /// once, not again and again as the load revisits it).
    ///
    /// The cache is up to 512 MiB: a practice of 100,000 matters makes a vault of about
    /// 600 MB, and every page the cache cannot hold is read back from the WAL, decrypted
    /// and checked again as the load and the index build revisit it. The cache takes
    /// memory only as pages come in (a small practice never fills it), and the end of the
    /// load gives it back ([`release_free_memory`]).
    fn bulk_pragmas(&self) -> Result<()> {
        self.conn
            .execute_batch("PRAGMA cache_size = -524288; PRAGMA wal_autocheckpoint = 0;")?;
        Ok(())
    }

    /// Whether a bulk load is under way.
    pub fn in_bulk_load(&self) -> Result<bool> {
        Ok(self.indexing()? == Indexing::Deferred)
    }

    /// Builds the search index from the stored rows and ends the bulk load.
    ///
    /// The work is done in steps, each its own transaction, so that the page cache holds one
    /// step's new pages at a time instead of all of them. The vault stays in bulk mode until
    /// the last step commits; after a crash in between, the steps run again from the start
    /// (each one is idempotent: indexes are created if missing, the search index is cleared
    /// before it is filled).
    pub fn finish_bulk_load(&mut self) -> Result<()> {
        self.stored_ids = None;
        self.create_secondary_indexes()?;
        let tx = self.conn.transaction()?;
        records::rebuild_matter_index(&tx)?;
        tx.commit()?;
        let tx = self.conn.transaction()?;
        records::rebuild_note_index(&tx)?;
        records::clear_revived_tombstones(&tx)?;
        tx.execute(
            "UPDATE meta SET value = 'ready' WHERE key = 'search_index'",
            [],
        )?;
        tx.commit()?;
        self.conn.execute_batch(
            "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA wal_autocheckpoint = 1000; PRAGMA cache_size = -16384;",
        )?;
        release_free_memory();
        Ok(())
    }

    /// Creates the id indexes and the secondary indexes a bulk load dropped, in one
    /// transaction.
    ///
    /// `CREATE INDEX` sorts the table's keys first. With `temp_store = MEMORY` SQLite's
    /// sorter makes one heap allocation per key, and under `cipher_memory_security` each is
    /// locked, wiped and unlocked (system calls, millions of them for a practice); with
    /// `temp_store = FILE` it gathers the keys in one growing buffer instead, and writes a
    /// temporary file only for a sort larger than the page cache. The vault's VFS never
    /// opens one ([`vfs`]): such a sort fails with `SQLITE_CANTOPEN`, and is then done again
    /// with the sorter in memory. `temp_store` is `MEMORY` again before this returns.
    fn create_secondary_indexes(&mut self) -> Result<()> {
        self.conn.pragma_update(None, "temp_store", "FILE")?;
        let buffered = self.create_secondary_indexes_once();
        let restored = self.conn.pragma_update(None, "temp_store", "MEMORY");
        match buffered {
            Ok(()) => Ok(restored?),
            Err(VaultError::Sqlite(e))
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::CannotOpen) =>
            {
                restored?;
                self.create_secondary_indexes_once()
            }
            Err(e) => Err(e),
        }
    }

    fn create_secondary_indexes_once(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        records::create_record_keys(&tx)?;
        tx.execute_batch(records::create_secondary_indexes!())?;
        tx.commit()?;
        Ok(())
    }

    /// Records that a sync completed at `synced_at` without moving the cursor.
    pub fn mark_synced(&self, synced_at: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE sync_state SET last_sync_at = ?1 WHERE id = 1",
            [synced_at],
        )?;
        Ok(())
    }

    /// All matters, most recently opened first.
    pub fn matters(&self) -> Result<Vec<MatterRow>> {
        let mut stmt = self.conn.prepare_cached(concat!(
            "SELECT seq, version, ",
            records::matter_columns!(),
            " FROM matters ORDER BY opened_on DESC, number"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok(MatterRow {
                seq: r.get(0)?,
                version: r.get(1)?,
                matter: records::matter_from_row(r, 2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One record by kind and id, with its `seq` and `version`.
    pub fn record(
        &self,
        kind: RecordKind,
        id: uuid::Uuid,
    ) -> Result<Option<(ChangeRecord, i64, i64)>> {
        records::read_record(&self.conn, kind, &id.to_string())
    }

    /// The ids of every record of `kind`, in no particular order.
    pub fn record_ids(&self, kind: RecordKind) -> Result<Vec<uuid::Uuid>> {
        let ids: Vec<String> = self
            .conn
            .prepare(records::select_ids(kind))?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        ids.iter()
            .map(|s| {
                s.parse().map_err(|_| {
                    VaultError::Corrupt(format!("{} id {s:?} is not a UUID", records::table(kind)))
                })
            })
            .collect()
    }

    /// Whether a tombstone is held for the record.
    pub fn has_tombstone(&self, kind: RecordKind, id: uuid::Uuid) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM tombstones WHERE record_kind = ?1 AND id = ?2")?
            .query_row(params![kind.as_str(), id.to_string()], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Counts the matters held offline.
    pub fn matter_count(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM matters", [], |r| r.get(0))?)
    }

    /// Counts every kind of record held offline.
    pub fn counts(&self) -> Result<Counts> {
        Ok(self.conn.query_row(
            "SELECT (SELECT count(*) FROM matters), (SELECT count(*) FROM contacts),
                    (SELECT count(*) FROM participants), (SELECT count(*) FROM file_notes),
                    (SELECT count(*) FROM tasks), (SELECT count(*) FROM time_entries),
                    (SELECT count(*) FROM documents)",
            [],
            |r| {
                Ok(Counts {
                    matters: r.get(0)?,
                    contacts: r.get(1)?,
                    participants: r.get(2)?,
                    file_notes: r.get(3)?,
                    tasks: r.get(4)?,
                    time_entries: r.get(5)?,
                    documents: r.get(6)?,
                })
            },
        )?)
    }

    /// Closes the vault cleanly: checkpoints the WAL into the main file and removes the
    /// open marker.
    pub fn close(self) -> Result<()> {
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        let path = self.path.clone();
        self.conn.close().map_err(|(_, e)| VaultError::Sqlite(e))?;
        match std::fs::remove_file(marker_path(&path)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Re-encrypts the vault under `new_key`. A complete copy is written under the new key
    /// first; `before_swap` then runs (the caller makes the new key findable, e.g. as a
    /// pending key); then the copy replaces the vault by an atomic rename. A crash before
    /// the rename leaves the old file (old key); after it, the new file (new key).
    pub fn rekey(
        self,
        new_key: &VaultKey,
        before_swap: impl FnOnce() -> Result<()>,
    ) -> Result<Vault> {
        let path = self.path.clone();
        let tmp = with_suffix(&path, ".rekey");
        if tmp.exists() {
            std::fs::remove_file(&tmp)?;
        }
        let version = self.schema_version()?;
        create_private_file(&tmp)?;
        {
            let tmp_str = tmp
                .to_str()
                .ok_or_else(|| VaultError::Corrupt("vault path is not UTF-8".into()))?;
            let key_text = zeroize::Zeroizing::new(new_key.raw_key_text());
            self.conn.execute(
                "ATTACH DATABASE ?1 AS rekeyed KEY ?2",
                params![tmp_str, key_text.as_str()],
            )?;
            let exported = self
                .conn
                .query_row("SELECT sqlcipher_export('rekeyed')", [], |_| Ok(()))
                .and_then(|_| {
                    self.conn
                        .pragma_update(Some("rekeyed"), "user_version", version)
                });
            self.conn.execute("DETACH DATABASE rekeyed", [])?;
            exported?;
        }
        std::fs::File::open(&tmp)?.sync_all()?;
        // The copy must open with the new key before the old file goes.
        {
            let check = open_connection(&tmp, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
            new_key.apply(&check)?;
            let n: i64 = check.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
            if n == 0 {
                return Err(VaultError::Corrupt("the re-encrypted copy is empty".into()));
            }
        }
        before_swap()?;
        self.close()?;
        for suffix in ["-wal", "-shm"] {
            let p = with_suffix(&path, suffix);
            if p.exists() {
                std::fs::remove_file(p)?;
            }
        }
        std::fs::rename(&tmp, &path)?;
        sync_dir(&path)?;
        Vault::open(&path, new_key)
    }

    /// Deletes the vault file and every companion (WAL, shared memory, open marker, key
    /// parameters, an unfinished rekey copy). Missing files are fine.
    pub fn wipe_files(path: &Path) -> Result<()> {
        for suffix in [
            "",
            "-wal",
            "-shm",
            "-journal",
            ".open",
            ".rekey",
            ".keyparams.json",
            ".keyparams.json.tmp",
        ] {
            match std::fs::remove_file(with_suffix(path, suffix)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        if path.parent().is_some_and(|p| p.exists()) {
            sync_dir(path)?;
        }
        Ok(())
    }
}

/// Hands the memory the C allocator holds free back to the system. A bulk load's page
/// cache is freed page by page when the cache shrinks back (every page wiped first, under
/// `cipher_memory_security`); glibc keeps such scattered free memory in its heap, so
/// without this the app would hold the load's hundreds of megabytes until it quits.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only returns free pages of glibc's heaps to the system; it
    // neither moves nor touches a live allocation, and is safe to call from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Lookaside slots per connection, and their size: SQLite serves a connection's small,
/// short-lived allocations from this one block instead of the process heap. Under
/// `cipher_memory_security` every heap allocation is locked with `mlock` and wiped and
/// unlocked when freed (two system calls each); the lookaside block is allocated once
/// (locked, and wiped when the connection closes) and its slots are reused. SQLite's default
/// (40 slots) is taken up by the prepared statements the vault keeps cached.
const LOOKASIDE_SLOT: i32 = 1200;
const LOOKASIDE_SLOTS: i32 = 512;

fn set_lookaside(conn: &Connection) -> Result<()> {
    // SAFETY: the handle is this open connection's and used on this thread only; the call
    // happens before any statement runs, so no lookaside memory is in use; a null buffer
    // makes SQLite allocate the block itself (through its allocator, hence locked and wiped).
    let rc = unsafe {
        rusqlite::ffi::sqlite3_db_config(
            conn.handle(),
            rusqlite::ffi::SQLITE_DBCONFIG_LOOKASIDE,
            std::ptr::null_mut::<std::ffi::c_void>(),
            LOOKASIDE_SLOT,
            LOOKASIDE_SLOTS,
        )
    };
    if rc != rusqlite::ffi::SQLITE_OK {
        return Err(VaultError::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rc),
            Some("configuring lookaside memory".into()),
        )));
    }
    Ok(())
}

/// Checks that `page` follows `cursor`: its changes are in increasing `seq` order, all after
/// `cursor` and none after the page's own cursor, which never goes backwards.
fn check_page(page: &ChangesPage, cursor: i64) -> Result<()> {
    if page.cursor < cursor {
        return Err(VaultError::PageOutOfOrder(format!(
            "page cursor {} is behind the stored cursor {cursor}",
            page.cursor
        )));
    }
    if page.has_more && page.cursor == cursor {
        return Err(VaultError::PageOutOfOrder(format!(
            "the page makes no progress past {cursor} yet says more changes wait"
        )));
    }
    let mut prev = cursor;
    for c in &page.changes {
        if c.seq <= prev {
            return Err(VaultError::PageOutOfOrder(format!(
                "change seq {} does not come after {prev}",
                c.seq
            )));
        }
        prev = c.seq;
    }
    if prev > page.cursor {
        return Err(VaultError::PageOutOfOrder(format!(
            "change seq {prev} is after the page cursor {}",
            page.cursor
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cached statement with a bound `LIMIT` keeps its plan from one run to the next: it
    /// is not parsed and planned again each time (as it is without the planner stability
    /// guarantee, which would cost every search and every window of the list).
    #[test]
    fn a_bound_limit_does_not_prepare_a_statement_again() {
        let dir = tempfile::tempdir().unwrap();
        let key = VaultKey::generate().unwrap();
        let v = Vault::create(&dir.path().join("vault.db"), &key).unwrap();
        let sql = "SELECT id FROM matters ORDER BY opened_on DESC LIMIT ?1 OFFSET ?2";
        for (limit, offset) in [(100, 0), (50, 100), (100, 4900)] {
            let mut stmt = v.conn.prepare_cached(sql).unwrap();
            stmt.query_map([limit, offset], |r| r.get::<_, String>(0))
                .unwrap()
                .for_each(drop);
        }
        let stmt = v.conn.prepare_cached(sql).unwrap();
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0);
    }

    /// A sort larger than the page cache cannot use the file-backed sorter (the VFS opens no
    /// temporary file): the indexes are then built with the sorter in memory, and the
    /// connection is back on `temp_store = MEMORY` either way.
    #[test]
    fn an_index_sort_too_large_for_the_cache_is_done_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.db");
        let key = VaultKey::generate().unwrap();
        let mut v = Vault::create(&path, &key).unwrap();
        v.begin_bulk_load().unwrap();
        v.conn
            .execute_batch(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)
                 INSERT INTO matters (id, seq, version, number, title, matter_type, status,
                                      client_name, responsible, opened_on)
                 SELECT lower(hex(randomblob(16))), i, 1, 'M-' || i, hex(randomblob(20)),
                        'Probate', 'open', hex(randomblob(12)), 'Someone', '2026-01-01'
                 FROM n;
                 PRAGMA cache_size = 10;",
            )
            .unwrap();
        v.finish_bulk_load().unwrap();
        let temp_store: i64 = v
            .conn
            .query_row("PRAGMA temp_store", [], |r| r.get(0))
            .unwrap();
        assert_eq!(temp_store, 2, "MEMORY");
        let indexes: i64 = v
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'matters'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            indexes, 7,
            "the id index and the six the list and filters read"
        );
        v.integrity_check().unwrap();
        assert!(!v.in_bulk_load().unwrap());
    }
}
