//! The floor under the vault's bulk apply: the least work that stores a first sync's rows
//! and makes them searchable, measured on the same practice as `benches/vault.rs`, so that
//! the vault's figures can be read against what no implementation on this machine can beat.
//!
//! The least work is: the seven tables with no key and no index, filled in transactions of
//! 100,000 changes with plain `INSERT`s (no upsert, no sync bookkeeping); then one unique
//! index on each table's id, which any store of records must have to apply a later change;
//! then two FTS5 tables without prefix indexes (matters: number, title, client,
//! description; notes: subject, body) built in one pass; then the WAL checkpoint. The vault
//! does all of that and more: the secondary indexes its list and filters read, prefix
//! indexes for search-as-you-type, each matter's people in its index, upserts, the
//! cursor.
//!
//! It is measured two ways:
//! - one thread, as above, in one file;
//! - two threads, the second core included: the rows and their id indexes in one file, the
//!   search index in another, filled from the same pages at the same time. No merging of the
//!   two files is counted, so this is a bound no real two-file design reaches.
//!
//! Each way runs on plain SQLite, on SQLCipher with `cipher_memory_security` off, and on
//! SQLCipher with it on (as the vault has it: DESIGN.md's invariant, issue 3's item 5).
//! SQLCipher can turn memory security on but never off again in a process, so the order is
//! fixed (plain, off, on) and each run checks the setting it expects.
//!
//! `cargo bench -p strongroom-vault --bench floor`
//! Size: `STRONGROOM_BENCH_MATTERS` (default 100000; related rows are ten times that).
//! `STRONGROOM_BENCH_OUT`: a file to write the figures to as JSON, for `scripts/bench`.

#[path = "../../../benches/support/bench_out.rs"]
#[allow(dead_code)]
mod bench_out;

#[path = "../../../benches/support/desktop_user.rs"]
mod desktop_user;

#[allow(dead_code)]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, Transaction, params};
use strongroom_protocol::{ChangeRecord, ChangesPage};

use bench_out::{Measure, Report};
use support::practice::{PAGE, bench_dir, dataset, matters_from_env, pages};

/// Changes a transaction, as the vault's bulk load has them.
const BATCH: usize = 100_000;

/// The store a run writes to.
#[derive(Clone, Copy, PartialEq)]
enum Store {
    Plain,
    Cipher { memory_security: bool },
}

impl Store {
    fn name(self) -> &'static str {
        match self {
            Store::Plain => "plain SQLite",
            Store::Cipher {
                memory_security: false,
            } => "SQLCipher, memory security off",
            Store::Cipher {
                memory_security: true,
            } => "SQLCipher, memory security on",
        }
    }
}

/// Opens `path` with the vault's durability pragmas and a bulk load's page cache.
fn open(path: &Path, store: Store) -> Connection {
    let conn = Connection::open(path).unwrap();
    if let Store::Cipher { memory_security } = store {
        // A fixed raw key: no key derivation, as the vault opens with its raw key.
        conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "5a".repeat(32)))
            .unwrap();
        if memory_security {
            conn.execute_batch("PRAGMA cipher_memory_security = ON;")
                .unwrap();
        }
        let on: String = conn
            .query_row("PRAGMA cipher_memory_security", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            on == "1",
            memory_security,
            "memory security is {on} for a run that expects {memory_security}: SQLCipher \
             cannot turn it off again, so runs with it off must come first"
        );
    }
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY;
         PRAGMA secure_delete = ON; PRAGMA cache_size = -524288; PRAGMA wal_autocheckpoint = 0;",
    )
    .unwrap();
    conn
}

/// The vault's seven tables, with the same columns and no key or index.
fn create_tables(conn: &Connection) {
    conn.execute_batch(
        "CREATE TABLE matters (id TEXT NOT NULL, seq INTEGER, version INTEGER, number TEXT,
            title TEXT, matter_type TEXT, status TEXT, client_name TEXT, responsible TEXT,
            opened_on TEXT, closed_on TEXT, description TEXT, custom_fields TEXT);
         CREATE TABLE contacts (id TEXT NOT NULL, seq INTEGER, version INTEGER, kind TEXT,
            name TEXT, email TEXT, phone TEXT, address TEXT);
         CREATE TABLE participants (id TEXT NOT NULL, seq INTEGER, version INTEGER,
            matter_id TEXT, contact_id TEXT, role TEXT);
         CREATE TABLE file_notes (id TEXT NOT NULL, seq INTEGER, version INTEGER,
            matter_id TEXT, author TEXT, written_at TEXT, subject TEXT, body TEXT);
         CREATE TABLE tasks (id TEXT NOT NULL, seq INTEGER, version INTEGER, matter_id TEXT,
            title TEXT, due_on TEXT, assignee TEXT, done INTEGER);
         CREATE TABLE time_entries (id TEXT NOT NULL, seq INTEGER, version INTEGER,
            matter_id TEXT, worked_on TEXT, minutes INTEGER, rate_cents INTEGER,
            billable INTEGER, narrative TEXT, author TEXT);
         CREATE TABLE documents (id TEXT NOT NULL, seq INTEGER, version INTEGER,
            matter_id TEXT, name TEXT, folder TEXT, size_bytes INTEGER, content_hash TEXT);",
    )
    .unwrap();
}

/// The two search tables, contentless as the vault's, without its prefix indexes; each
/// gathers up to 64 MiB of text before writing a segment, as the vault's build does.
fn create_search(conn: &Connection) {
    conn.execute_batch(
        "CREATE VIRTUAL TABLE matter_fts USING fts5 (number, title, client, description,
            content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2');
         CREATE VIRTUAL TABLE note_fts USING fts5 (subject, body,
            content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2');
         INSERT INTO matter_fts (matter_fts, rank) VALUES ('hashsize', 67108864);
         INSERT INTO note_fts (note_fts, rank) VALUES ('hashsize', 67108864);",
    )
    .unwrap();
}

/// The pages in transactions of [`BATCH`] changes.
fn batches(pages: &[ChangesPage]) -> impl Iterator<Item = &[ChangesPage]> {
    let per = (BATCH / pages.first().map_or(1, |p| p.changes.len().max(1))).max(1);
    pages.chunks(per)
}

/// Inserts one record's row.
fn insert_row(tx: &Transaction<'_>, seq: i64, version: i64, record: &ChangeRecord) {
    let (s, v) = (seq, version);
    let statement = |sql: &str| tx.prepare_cached(sql).unwrap();
    match record {
        ChangeRecord::Matter { matter: m } => statement(
            "INSERT INTO matters VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )
        .execute(params![
            m.id.to_string(),
            s,
            v,
            m.number,
            m.title,
            m.matter_type,
            m.status.as_str(),
            m.client_name,
            m.responsible,
            m.opened_on,
            m.closed_on,
            m.description,
            "{}"
        ]),
        ChangeRecord::Contact { contact: c } => statement(
            "INSERT INTO contacts VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .execute(params![
            c.id.to_string(),
            s,
            v,
            c.kind.as_str(),
            c.name,
            c.email,
            c.phone,
            c.address
        ]),
        ChangeRecord::Participant { participant: p } => {
            statement("INSERT INTO participants VALUES (?1, ?2, ?3, ?4, ?5, ?6)").execute(params![
                p.id.to_string(),
                s,
                v,
                p.matter_id.to_string(),
                p.contact_id.to_string(),
                p.role
            ])
        }
        ChangeRecord::FileNote { file_note: n } => statement(
            "INSERT INTO file_notes VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .execute(params![
            n.id.to_string(),
            s,
            v,
            n.matter_id.to_string(),
            n.author,
            n.written_at,
            n.subject,
            n.body
        ]),
        ChangeRecord::Task { task: t } => {
            statement("INSERT INTO tasks VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)").execute(params![
                t.id.to_string(),
                s,
                v,
                t.matter_id.to_string(),
                t.title,
                t.due_on,
                t.assignee,
                t.done
            ])
        }
        ChangeRecord::TimeEntry { time_entry: t } => {
            statement("INSERT INTO time_entries VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")
                .execute(params![
                    t.id.to_string(),
                    s,
                    v,
                    t.matter_id.to_string(),
                    t.worked_on,
                    t.minutes,
                    t.rate_cents,
                    t.billable,
                    t.narrative,
                    t.author
                ])
        }
        ChangeRecord::Document { document: d } => statement(
            "INSERT INTO documents VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .execute(params![
            d.id.to_string(),
            s,
            v,
            d.matter_id.to_string(),
            d.name,
            d.folder,
            d.size_bytes,
            d.content_hash
        ]),
        ChangeRecord::Deleted { .. } | ChangeRecord::Revoked { .. } => Ok(0),
    }
    .unwrap();
}

/// Stores every page's rows, then indexes each table's id.
fn store_rows(conn: &Connection, pages: &[ChangesPage]) {
    create_tables(conn);
    for batch in batches(pages) {
        let tx = conn.unchecked_transaction().unwrap();
        for c in batch.iter().flat_map(|p| &p.changes) {
            insert_row(&tx, c.seq, c.version, &c.record);
        }
        tx.commit().unwrap();
    }
    conn.execute_batch(
        "BEGIN;
         CREATE UNIQUE INDEX matters_id ON matters (id);
         CREATE UNIQUE INDEX contacts_id ON contacts (id);
         CREATE UNIQUE INDEX participants_id ON participants (id);
         CREATE UNIQUE INDEX file_notes_id ON file_notes (id);
         CREATE UNIQUE INDEX tasks_id ON tasks (id);
         CREATE UNIQUE INDEX time_entries_id ON time_entries (id);
         CREATE UNIQUE INDEX documents_id ON documents (id);
         COMMIT;",
    )
    .unwrap();
}

/// What one run took: wall-clock time, the rows part and the search part.
struct Took {
    total: Duration,
    rows: Duration,
    search: Duration,
}

/// One thread, one file: rows, id indexes, then the search index from the tables.
fn one_thread(dir: &Path, pages: &[ChangesPage], store: Store) -> Took {
    let path = dir.join("one.db");
    let t = Instant::now();
    let conn = open(&path, store);
    store_rows(&conn, pages);
    let rows = t.elapsed();
    let s = Instant::now();
    create_search(&conn);
    conn.execute_batch(
        "BEGIN;
         INSERT INTO matter_fts (rowid, number, title, client, description)
             SELECT rowid, number, title, client_name, description FROM matters;
         INSERT INTO note_fts (rowid, subject, body) SELECT rowid, subject, body FROM file_notes;
         COMMIT;",
    )
    .unwrap();
    let search = s.elapsed();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    let total = t.elapsed();
    drop(conn);
    remove(&path);
    Took {
        total,
        rows,
        search,
    }
}

/// Two threads, two files: the rows and id indexes in one, the search index in the other,
/// from the same pages at the same time (row ids counted in the order the rows go in).
fn two_threads(dir: &Path, pages: &[ChangesPage], store: Store) -> Took {
    let (rows_path, search_path) = (dir.join("rows.db"), dir.join("search.db"));
    let t = Instant::now();
    let (rows, search) = std::thread::scope(|s| {
        let rows = s.spawn(|| {
            let conn = open(&rows_path, store);
            store_rows(&conn, pages);
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .unwrap();
            t.elapsed()
        });
        let search = s.spawn(|| {
            let conn = open(&search_path, store);
            create_search(&conn);
            let (mut matter, mut note) = (0i64, 0i64);
            for batch in batches(pages) {
                let tx = conn.unchecked_transaction().unwrap();
                for c in batch.iter().flat_map(|p| &p.changes) {
                    match &c.record {
                        ChangeRecord::Matter { matter: m } => {
                            matter += 1;
                            tx.prepare_cached(
                                "INSERT INTO matter_fts (rowid, number, title, client, description)
                                 VALUES (?1, ?2, ?3, ?4, ?5)",
                            )
                            .unwrap()
                            .execute(params![
                                matter,
                                m.number,
                                m.title,
                                m.client_name,
                                m.description
                            ])
                            .unwrap();
                        }
                        ChangeRecord::FileNote { file_note: n } => {
                            note += 1;
                            tx.prepare_cached(
                                "INSERT INTO note_fts (rowid, subject, body) VALUES (?1, ?2, ?3)",
                            )
                            .unwrap()
                            .execute(params![note, n.subject, n.body])
                            .unwrap();
                        }
                        _ => {}
                    }
                }
                tx.commit().unwrap();
            }
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .unwrap();
            t.elapsed()
        });
        (rows.join().unwrap(), search.join().unwrap())
    });
    let total = t.elapsed();
    remove(&rows_path);
    remove(&search_path);
    Took {
        total,
        rows,
        search,
    }
}

fn remove(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        std::fs::remove_file(p).ok();
    }
}

fn main() {
    let as_user = desktop_user::as_desktop_user();
    eprintln!("{as_user}");
    let matters = matters_from_env();
    let dir = bench_dir();
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!("generating {matters} matters and their related records…");
    let records = dataset(matters);
    let rows = records.len();
    let pages = pages(records, PAGE);

    // Plain first, then memory security off, then on: it cannot be turned off again.
    let stores = [
        Store::Plain,
        Store::Cipher {
            memory_security: false,
        },
        Store::Cipher {
            memory_security: true,
        },
    ];
    let mut one = Vec::new();
    let mut two = Vec::new();
    for store in stores {
        eprintln!("{}: one thread…", store.name());
        one.push(one_thread(dir.path(), &pages, store));
        eprintln!("{}: two threads…", store.name());
        two.push(two_threads(dir.path(), &pages, store));
    }

    let rate = |d: Duration| rows as f64 / d.as_secs_f64();
    let secs = |d: Duration| d.as_secs_f64();
    println!("| least work, {rows} rows | one thread | two threads |");
    println!("|---|---|---|");
    for (i, store) in stores.iter().enumerate() {
        println!(
            "| {} | {:.0} rows/s ({:.1} s: rows and ids {:.1} s, search {:.1} s) | {:.0} rows/s ({:.1} s: rows and ids {:.1} s, search {:.1} s, at once) |",
            store.name(),
            rate(one[i].total),
            secs(one[i].total),
            secs(one[i].rows),
            secs(one[i].search),
            rate(two[i].total),
            secs(two[i].total),
            secs(two[i].rows),
            secs(two[i].search),
        );
    }
    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let first3 = |s: &str| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ");

    let mut report = Report::new("floor");
    report.note(as_user);
    report.scale("matters", matters as u64);
    report.scale("rows", rows as u64);
    report.scale("changes_per_transaction", BATCH as u64);
    let plain = "plain SQLite, the same least work";
    for (way, took, key) in [("one thread", &one, "one"), ("two threads", &two, "two")] {
        for (i, store) in stores.iter().enumerate().skip(1) {
            let security = if i == 2 { "on" } else { "off" };
            report.push(
                Measure::new(
                    &format!("floor-{key}-{security}-rate"),
                    &format!("least work, {way}, {}", store.name()),
                    rate(took[i].total),
                    "rows/s",
                )
                .at_least(200_000.0)
                .baseline(rate(took[0].total), "rows/s", plain)
                .detail(&format!(
                    "{:.1} s: rows and ids {:.1} s, search {:.1} s{}",
                    secs(took[i].total),
                    secs(took[i].rows),
                    secs(took[i].search),
                    if key == "two" { ", at once" } else { "" }
                )),
            );
            report.push(
                Measure::new(
                    &format!("floor-{key}-{security}-ratio"),
                    &format!("least work, {way}, {} over plain SQLite", store.name()),
                    secs(took[i].total) / secs(took[0].total),
                    "x",
                )
                .at_most(1.3)
                .baseline(secs(took[0].total), "s", plain),
            );
        }
    }
    report.note(format!(
        "plain SQLite: one thread {:.1} s (rows and ids {:.1} s, search {:.1} s), two threads {:.1} s (rows and ids {:.1} s, search {:.1} s)",
        secs(one[0].total),
        secs(one[0].rows),
        secs(one[0].search),
        secs(two[0].total),
        secs(two[0].rows),
        secs(two[0].search)
    ));
    report.note(format!(
        "load average (1, 5, 15 min) before / after: {} / {}",
        first3(&load_before),
        first3(&load_after)
    ));
    report.write();
}
