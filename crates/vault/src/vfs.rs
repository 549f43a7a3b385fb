//! The vault's VFS: the platform's own, except that it never opens a temporary file.
//!
//! SQLite writes temporary files (sorter runs, statement journals, temporary tables) in
//! plaintext: SQLCipher encrypts only the database, its WAL and its journals. The vault
//! keeps temporary data in memory (`temp_store = MEMORY`), and every vault connection opens
//! through this VFS, which refuses any file without a name or flagged as temporary. So a
//! temporary file cannot be written by accident, and a bulk load may let its index sort use
//! SQLite's file-backed sorter (which keeps its run in one buffer instead of one heap
//! allocation per row) knowing that a sort too large for memory fails with
//! `SQLITE_CANTOPEN` rather than spill plaintext to disk.
//!
//! Invariant: no file but the vault, its WAL, its shared-memory index and its journals is
//! ever opened by a vault connection.

use std::ffi::{CStr, c_char, c_int};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicPtr, Ordering};

use rusqlite::ffi;

/// The name vault connections open with.
pub(crate) const NAME: &CStr = c"strongroom-no-temp";

/// The platform VFS this one forwards to.
static BASE: AtomicPtr<ffi::sqlite3_vfs> = AtomicPtr::new(std::ptr::null_mut());

/// The result of registering, once per process (an SQLite result code on failure).
static REGISTERED: OnceLock<Result<(), c_int>> = OnceLock::new();

/// What SQLite opens only as a temporary file.
const TEMPORARY: c_int = ffi::SQLITE_OPEN_TEMP_DB
    | ffi::SQLITE_OPEN_TRANSIENT_DB
    | ffi::SQLITE_OPEN_TEMP_JOURNAL
    | ffi::SQLITE_OPEN_SUBJOURNAL;

unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let base = BASE.load(Ordering::Acquire);
    // SAFETY: SQLite passes a file object of `szOsFile` bytes (the base VFS's size); on
    // failure its methods must be null. `base` was set before this VFS was registered.
    unsafe {
        if name.is_null() || flags & TEMPORARY != 0 || base.is_null() {
            (*file).pMethods = std::ptr::null();
            return ffi::SQLITE_CANTOPEN;
        }
        match (*base).xOpen {
            Some(base_open) => base_open(base, name, file, flags, out_flags),
            None => {
                (*file).pMethods = std::ptr::null();
                ffi::SQLITE_CANTOPEN
            }
        }
    }
}

/// Registers the VFS (once per process); the vault opens every connection with [`NAME`].
pub(crate) fn register() -> Result<(), c_int> {
    *REGISTERED.get_or_init(|| {
        // SAFETY: sqlite3_vfs_find and sqlite3_vfs_register are thread-safe in this build
        // (SQLITE_THREADSAFE=1). The copy keeps the base VFS's methods and data, and lives
        // for the rest of the process, as SQLite requires of a registered VFS.
        unsafe {
            if ffi::sqlite3_initialize() != ffi::SQLITE_OK {
                return Err(ffi::SQLITE_ERROR);
            }
            let base = ffi::sqlite3_vfs_find(std::ptr::null::<c_char>());
            if base.is_null() {
                return Err(ffi::SQLITE_ERROR);
            }
            BASE.store(base, Ordering::Release);
            let mut vfs: ffi::sqlite3_vfs = std::ptr::read(base);
            vfs.pNext = std::ptr::null_mut();
            vfs.zName = NAME.as_ptr();
            vfs.xOpen = Some(open);
            let vfs = Box::leak(Box::new(vfs));
            match ffi::sqlite3_vfs_register(vfs, 0) {
                ffi::SQLITE_OK => Ok(()),
                rc => Err(rc),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use rusqlite::OpenFlags;

    fn conn(dir: &tempfile::TempDir) -> rusqlite::Connection {
        crate::open_connection(
            &dir.path().join("t.db"),
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        )
        .unwrap()
    }

    /// Rows enough to overflow a ten-page cache.
    const FILL: &str = "CREATE TABLE t (v BLOB);
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
        INSERT INTO t SELECT randomblob(200) FROM n;";

    #[test]
    fn a_sort_too_large_for_memory_fails_instead_of_writing_a_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let c = conn(&dir);
        c.execute_batch(FILL).unwrap();
        c.execute_batch(
            "PRAGMA temp_store = FILE; PRAGMA cache_size = 10; PRAGMA temp.cache_size = 10;",
        )
        .unwrap();
        let err = c.execute_batch("CREATE INDEX t_v ON t (v);").unwrap_err();
        assert_eq!(
            err.sqlite_error_code(),
            Some(rusqlite::ErrorCode::CannotOpen),
            "{err}"
        );
        // A temporary table that outgrows the cache fails the same way.
        let err = c
            .execute_batch("CREATE TEMP TABLE u AS SELECT v FROM t;")
            .unwrap_err();
        assert_eq!(
            err.sqlite_error_code(),
            Some(rusqlite::ErrorCode::CannotOpen),
            "{err}"
        );
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["t.db"]);
    }

    #[test]
    fn a_sort_that_fits_the_cache_needs_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let c = conn(&dir);
        c.execute_batch(FILL).unwrap();
        c.execute_batch("PRAGMA temp_store = FILE; PRAGMA cache_size = -65536;")
            .unwrap();
        c.execute_batch("CREATE INDEX t_v ON t (v);").unwrap();
        let ok: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
    }
}
