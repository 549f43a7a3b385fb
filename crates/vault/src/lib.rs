//! The encrypted vault: the practice's offline copy on a lawyer's laptop.
//!
//! A vault is one SQLCipher 4 database file opened with a raw 32-byte key ([`VaultKey`]).
//! There is no plaintext mode: [`Vault::create`] and [`Vault::open`] both demand a key, and
//! opening with the wrong key fails with [`VaultError::WrongKeyOrNotAVault`].
//!
//! Invariants:
//! - every connection runs with `temp_store=MEMORY`, `secure_delete=ON`,
//!   `cipher_memory_security=ON`, WAL and `synchronous=FULL`, and refuses a cipher older
//!   than SQLCipher 4;
//! - a page of changes and its cursor are written in one transaction ([`Vault::apply_page`]),
//!   and a page that does not follow the stored cursor is refused before anything is written.

mod key;
mod migrate;

pub use key::VaultKey;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use strongroom_protocol::{ChangeRecord, ChangesPage, Matter, MatterStatus};

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

/// An open vault.
pub struct Vault {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// Creates a new vault at `path`, keyed with `key`. Fails if a file is already there.
    pub fn create(path: &Path, key: &VaultKey) -> Result<Self> {
        if path.exists() {
            return Err(VaultError::AlreadyExists(path.to_owned()));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Self::finish_open(conn, path, key)
    }

    /// Opens the existing vault at `path` with `key`.
    pub fn open(path: &Path, key: &VaultKey) -> Result<Self> {
        if !path.exists() {
            return Err(VaultError::NotFound(path.to_owned()));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Self::finish_open(conn, path, key)
    }

    fn finish_open(conn: Connection, path: &Path, key: &VaultKey) -> Result<Self> {
        // Must come first: SQLCipher wipes its buffers before freeing them.
        conn.execute_batch("PRAGMA cipher_memory_security = ON;")?;
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
        // The first read decrypts page 1: a wrong key fails here.
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
             PRAGMA foreign_keys = ON;",
        )?;
        let mut vault = Vault {
            conn,
            path: path.to_owned(),
        };
        migrate::run(&mut vault.conn)?;
        Ok(vault)
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
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Writes a value into the vault's key-value metadata.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
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

    /// Applies one page of changes and moves the cursor, in one transaction. The page is
    /// checked against the stored cursor first; a page that does not follow it is refused
    /// and nothing is written.
    pub fn apply_page(&mut self, page: &ChangesPage, synced_at: &str) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let cursor: i64 = tx.query_row("SELECT cursor FROM sync_state WHERE id = 1", [], |r| {
            r.get(0)
        })?;
        check_page(page, cursor)?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO matters
                   (id, seq, version, number, title, matter_type, status, client_name, responsible, opened_on)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (id) DO UPDATE SET
                   seq = excluded.seq, version = excluded.version, number = excluded.number,
                   title = excluded.title, matter_type = excluded.matter_type,
                   status = excluded.status, client_name = excluded.client_name,
                   responsible = excluded.responsible, opened_on = excluded.opened_on
                 WHERE excluded.seq > matters.seq",
            )?;
            let mut delete = tx.prepare_cached("DELETE FROM matters WHERE id = ?1")?;
            for change in &page.changes {
                match &change.record {
                    ChangeRecord::Matter { matter: m } => {
                        upsert.execute(params![
                            m.id.to_string(),
                            change.seq,
                            change.version,
                            m.number,
                            m.title,
                            m.matter_type,
                            m.status.as_str(),
                            m.client_name,
                            m.responsible,
                            m.opened_on,
                        ])?;
                    }
                    ChangeRecord::MatterDeleted { id } => {
                        delete.execute([id.to_string()])?;
                    }
                }
            }
        }
        tx.execute(
            "UPDATE sync_state SET cursor = ?1, last_sync_at = ?2 WHERE id = 1",
            params![page.cursor, synced_at],
        )?;
        tx.commit()?;
        Ok(page.changes.len())
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
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, seq, version, number, title, matter_type, status, client_name, responsible, opened_on
             FROM matters ORDER BY opened_on DESC, number",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, String>(8)?,
                r.get::<_, String>(9)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (
                id,
                seq,
                version,
                number,
                title,
                matter_type,
                status,
                client_name,
                responsible,
                opened_on,
            ) = row?;
            let id = id
                .parse()
                .map_err(|_| VaultError::Corrupt(format!("matter id {id:?} is not a UUID")))?;
            let status = MatterStatus::parse(&status)
                .ok_or_else(|| VaultError::Corrupt(format!("unknown matter status {status:?}")))?;
            out.push(MatterRow {
                matter: Matter {
                    id,
                    number,
                    title,
                    matter_type,
                    status,
                    client_name,
                    responsible,
                    opened_on,
                },
                seq,
                version,
            });
        }
        Ok(out)
    }

    /// Counts the matters held offline.
    pub fn matter_count(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM matters", [], |r| r.get(0))?)
    }

    /// Closes the vault, checkpointing the WAL into the main file.
    pub fn close(self) -> Result<()> {
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        self.conn.close().map_err(|(_, e)| VaultError::Sqlite(e))
    }

    /// Deletes the vault file and its -wal and -shm companions. Missing files are fine.
    pub fn wipe_files(path: &Path) -> Result<()> {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            match std::fs::remove_file(PathBuf::from(p)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
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
