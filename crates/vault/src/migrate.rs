//! Versioned schema migrations, applied in order when a vault opens.
//!
//! Invariant: a landed migration is never edited; a change to the schema is a new file
//! appended to [`MIGRATIONS`]. `PRAGMA user_version` records how many have been applied.

use rusqlite::Connection;

use crate::{Result, VaultError};

/// The migrations, in order. Index `i` takes the schema from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_full_model.sql"),
    include_str!("../migrations/0003_push_results.sql"),
    include_str!("../migrations/0004_list_sorting.sql"),
    include_str!("../migrations/0005_record_keys.sql"),
];

pub(crate) fn run(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(VaultError::SchemaTooNew {
            found: current,
            known,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        // user_version takes no bound parameter; the value is a loop index, not input.
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
