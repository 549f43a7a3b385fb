//! Shared builders for the vault tests: records, pages, file scans, old-schema vaults and
//! the crash harness.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use strongroom_protocol::{
    Change, ChangeRecord, ChangesPage, Contact, ContactKind, Document, FileNote, Matter,
    MatterStatus, Participant, Task, TimeEntry,
};
use strongroom_vault::{SearchQuery, Vault, VaultKey};
use uuid::Uuid;

pub fn matter(title: &str, client: &str) -> Matter {
    Matter {
        id: Uuid::new_v4(),
        number: format!("T-{}", &Uuid::new_v4().simple().to_string()[..6]),
        title: title.into(),
        matter_type: "Litigation".into(),
        status: MatterStatus::Open,
        client_name: client.into(),
        responsible: "Test Lawyer".into(),
        opened_on: "2026-11-01".into(),
        closed_on: None,
        description: String::new(),
        custom_fields: Default::default(),
    }
}

pub fn rec_matter(m: &Matter) -> ChangeRecord {
    ChangeRecord::Matter { matter: m.clone() }
}

/// A file note on `matter_id`, by the test lawyer.
pub fn rec_note(matter_id: Uuid, subject: String, body: String) -> ChangeRecord {
    ChangeRecord::FileNote {
        file_note: FileNote {
            id: Uuid::new_v4(),
            matter_id,
            author: "Test Lawyer".into(),
            written_at: "2026-11-02T10:00:00Z".into(),
            subject,
            body,
        },
    }
}

/// A search for `text`, no filters, at most `limit` hits.
pub fn text_query(text: &str, limit: usize) -> SearchQuery {
    SearchQuery {
        text: text.into(),
        limit,
        ..Default::default()
    }
}

/// A page of `records` right after `after`.
pub fn page(after: i64, records: Vec<ChangeRecord>, has_more: bool) -> ChangesPage {
    let changes: Vec<Change> = records
        .into_iter()
        .enumerate()
        .map(|(i, record)| Change {
            seq: after + 1 + i as i64,
            version: 1,
            record,
        })
        .collect();
    ChangesPage {
        cursor: after + changes.len() as i64,
        changes,
        has_more,
        total: None,
    }
}

/// One matter with one of every related record.
pub struct RecordSet {
    pub matter: Matter,
    pub contact: Contact,
    pub barrister: Contact,
    pub roles: [Participant; 3],
    pub note: FileNote,
    pub task: Task,
    pub time: TimeEntry,
    pub document: Document,
}

impl RecordSet {
    pub fn sample(prefix: &str, client: &str) -> Self {
        let mut m = matter(&format!("{prefix} matter"), client);
        m.description = format!("{prefix} description of the dispute");
        m.custom_fields
            .insert("Court file".into(), format!("{prefix}-CF-1"));
        let contact = Contact {
            id: Uuid::new_v4(),
            kind: ContactKind::Person,
            name: client.into(),
            email: Some(format!(
                "{}@contact.example",
                prefix.to_lowercase().replace(char::is_whitespace, ".")
            )),
            phone: Some("+61 8 5550 1234".into()),
            address: Some(format!("{prefix} House, 1 Canary Lane")),
        };
        let barrister = Contact {
            id: Uuid::new_v4(),
            kind: ContactKind::Organisation,
            name: "Felicity Wigg Chambers".into(),
            email: None,
            phone: None,
            address: None,
        };
        let role = |c: &Contact, r: &str| Participant {
            id: Uuid::new_v4(),
            matter_id: m.id,
            contact_id: c.id,
            role: r.into(),
        };
        let roles = [
            role(&contact, "client"),
            role(&contact, "witness"),
            role(&barrister, "barrister"),
        ];
        let note = FileNote {
            id: Uuid::new_v4(),
            matter_id: m.id,
            author: "Test Lawyer".into(),
            written_at: "2026-11-02T10:00:00Z".into(),
            subject: format!("{prefix} first call"),
            body: format!("{prefix} note body: instructions taken"),
        };
        let task = Task {
            id: Uuid::new_v4(),
            matter_id: m.id,
            title: format!("{prefix} file the defence"),
            due_on: Some("2026-12-01".into()),
            assignee: Some("Test Lawyer".into()),
            done: false,
        };
        let time = TimeEntry {
            id: Uuid::new_v4(),
            matter_id: m.id,
            worked_on: "2026-11-02".into(),
            minutes: 42,
            rate_cents: 45_000,
            billable: true,
            narrative: format!("{prefix} perusal of brief"),
            author: "Test Lawyer".into(),
        };
        let document = Document {
            id: Uuid::new_v4(),
            matter_id: m.id,
            name: format!("{prefix} statement of claim.pdf"),
            folder: format!("{prefix} pleadings"),
            size_bytes: 123_456,
            content_hash: "ab".repeat(32),
        };
        RecordSet {
            matter: m,
            contact,
            barrister,
            roles,
            note,
            task,
            time,
            document,
        }
    }

    pub fn records(&self) -> Vec<ChangeRecord> {
        let mut v = vec![
            ChangeRecord::Contact {
                contact: self.contact.clone(),
            },
            ChangeRecord::Contact {
                contact: self.barrister.clone(),
            },
            ChangeRecord::Matter {
                matter: self.matter.clone(),
            },
        ];
        v.extend(self.roles.iter().map(|p| ChangeRecord::Participant {
            participant: p.clone(),
        }));
        v.push(ChangeRecord::FileNote {
            file_note: self.note.clone(),
        });
        v.push(ChangeRecord::Task {
            task: self.task.clone(),
        });
        v.push(ChangeRecord::TimeEntry {
            time_entry: self.time.clone(),
        });
        v.push(ChangeRecord::Document {
            document: self.document.clone(),
        });
        v
    }

    /// Distinctive text from every kind of record.
    pub fn canaries(&self) -> Vec<String> {
        vec![
            self.matter.title.clone(),
            self.matter.client_name.clone(),
            self.matter.description.clone(),
            self.matter
                .custom_fields
                .values()
                .next()
                .cloned()
                .unwrap_or_default(),
            self.contact.address.clone().unwrap_or_default(),
            self.contact.email.clone().unwrap_or_default(),
            self.note.subject.clone(),
            self.note.body.clone(),
            self.task.title.clone(),
            self.time.narrative.clone(),
            self.document.name.clone(),
            self.document.folder.clone(),
        ]
    }
}

/// Every file under `dir`, with its bytes.
pub fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
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

pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// A raw SQLCipher connection keyed like the vault's.
pub fn keyed_raw(path: &Path, key: &VaultKey) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(path).unwrap();
    let pragma = ["PRAGMA key = \"x'", &hex::encode(key.as_bytes()), "'\";"].concat();
    c.execute_batch(&pragma).unwrap();
    c
}

/// Writes a vault exactly as schema 1 (the walking skeleton) left it, with data.
pub fn write_schema_1_vault(path: &Path, key: &VaultKey) -> Vec<Uuid> {
    let c = keyed_raw(path, key);
    c.execute_batch("PRAGMA journal_mode = WAL;").unwrap();
    c.execute_batch(include_str!("../../migrations/0001_init.sql"))
        .unwrap();
    c.execute_batch("PRAGMA user_version = 1;").unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        let id = Uuid::new_v4();
        c.execute(
            "INSERT INTO matters (id, seq, version, number, title, matter_type, status, client_name, responsible, opened_on)
             VALUES (?1, ?2, 1, ?3, ?4, 'Probate', 'open', ?5, 'Old Lawyer', '2025-01-01')",
            rusqlite::params![id.to_string(), i + 1, format!("OLD-{i}"), format!("Schema one matter {i}"), format!("Client {i}")],
        )
        .unwrap();
        ids.push(id);
    }
    c.execute("UPDATE sync_state SET cursor = 5, last_sync_at = 't'", [])
        .unwrap();
    c.execute(
        "INSERT INTO meta (key, value) VALUES ('server_url', 'https://old.example/')",
        [],
    )
    .unwrap();
    ids
}

pub const WORDS: &[&str] = &[
    "lease",
    "probate",
    "estate",
    "wattle",
    "coastal",
    "freight",
    "kestrel",
    "robotics",
    "delacroix",
    "parenting",
    "dismissal",
    "conveyance",
    "mortgage",
    "caveat",
    "injunction",
    "warrant",
    "affidavit",
    "subpoena",
];

/// Matters titled from word lists, notes attached to some of them.
pub fn search_corpus(
    titles: &[Vec<usize>],
    notes: &[(usize, Vec<usize>)],
) -> (Vec<ChangeRecord>, Vec<Matter>, Vec<(Uuid, String)>) {
    let mut recs = Vec::new();
    let mut matters = Vec::new();
    for (i, t) in titles.iter().enumerate() {
        let mut m = matter(
            &t.iter().map(|w| WORDS[*w]).collect::<Vec<_>>().join(" "),
            &format!("Zed {i}"),
        );
        m.number = format!("N {i}");
        m.status = if i % 2 == 1 {
            MatterStatus::Closed
        } else {
            MatterStatus::Open
        };
        recs.push(ChangeRecord::Matter { matter: m.clone() });
        matters.push(m);
    }
    let mut texts = Vec::new();
    for (which, words) in notes {
        let m = &matters[which % matters.len()];
        let body = words
            .iter()
            .map(|w| WORDS[*w])
            .collect::<Vec<_>>()
            .join(" ");
        recs.push(ChangeRecord::FileNote {
            file_note: FileNote {
                id: Uuid::new_v4(),
                matter_id: m.id,
                author: "A".into(),
                written_at: "t".into(),
                subject: String::new(),
                body: body.clone(),
            },
        });
        texts.push((m.id, body));
    }
    (recs, matters, texts)
}

#[derive(Debug, Default)]
pub struct CrashReport {
    pub kill_points: usize,
    /// Commits the child acknowledged, in all.
    pub acked: i64,
    /// Acknowledged commits missing afterwards.
    pub lost: i64,
}

fn spawn_child(
    args: &[&str],
) -> (
    std::process::Child,
    Arc<Mutex<Vec<String>>>,
    std::thread::JoinHandle<()>,
) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vault-crash-child"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the crash child");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let out = child.stdout.take().unwrap();
    let sink = lines.clone();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    (child, lines, reader)
}

/// Kills a committing child `points` times at random moments; checks every acknowledged
/// commit after each kill.
pub fn crash_commits(points: usize) -> CrashReport {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let key = VaultKey::generate().unwrap();
    Vault::create(&path, &key).unwrap().close().unwrap();
    let key_hex = hex::encode(key.as_bytes());
    let mut report = CrashReport::default();
    let mut next = 1i64;
    for _ in 0..points {
        let start = next.to_string();
        let (mut child, lines, reader) =
            spawn_child(&["commit", path.to_str().unwrap(), &key_hex, &start]);
        std::thread::sleep(Duration::from_millis(rand::random_range(2..60)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        let acked: Vec<i64> = lines
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| l.strip_prefix("ack ")?.parse().ok())
            .collect();
        report.kill_points += 1;
        report.acked += acked.len() as i64;
        let v = Vault::open(&path, &key).expect("the vault opens after every kill");
        v.integrity_check()
            .expect("and passes its integrity checks");
        let cursor = v.sync_state().unwrap().cursor;
        let notes = v.counts().unwrap().file_notes;
        assert_eq!(notes, cursor, "the cursor and the stored pages agree");
        if let Some(&max) = acked.last() {
            report.lost += (max - cursor).max(0);
        }
        next = cursor + 1;
        v.close().unwrap();
    }
    report
}

#[derive(Debug, Default)]
pub struct RekeyReport {
    pub kill_points: usize,
    pub old_key: usize,
    pub new_key: usize,
    pub unopenable: usize,
}

/// Kills a rekeying child at random moments; the vault must open with one of the keys the
/// caller could know (the old one, or the pending one if it was recorded).
pub fn crash_rekeys(points: usize) -> RekeyReport {
    let mut report = RekeyReport::default();
    // The first run is not killed: it measures how long a whole rekey takes, and the kill
    // moments are spread over that time and a little beyond.
    let mut full = Duration::from_millis(100);
    for i in 0..=points {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.db");
        let pending = dir.path().join("pending-key");
        let old = VaultKey::generate().unwrap();
        let new = VaultKey::generate().unwrap();
        let expected_matters;
        {
            let mut v = Vault::create(&path, &old).unwrap();
            let mut recs = Vec::new();
            for j in 0..30 {
                recs.extend(RecordSet::sample(&format!("Rekey{i}x{j}"), "C").records());
            }
            v.apply_page(&page(0, recs, false), "t").unwrap();
            expected_matters = v.counts().unwrap();
            v.close().unwrap();
        }
        let (mut child, _lines, reader) = spawn_child(&[
            "rekey",
            path.to_str().unwrap(),
            &hex::encode(old.as_bytes()),
            &hex::encode(new.as_bytes()),
            pending.to_str().unwrap(),
        ]);
        if i == 0 {
            let t = std::time::Instant::now();
            assert!(
                child.wait().unwrap().success(),
                "an uninterrupted rekey succeeds"
            );
            full = t.elapsed();
        } else {
            let max = (full.as_micros() as u64 * 13 / 10).max(1000);
            std::thread::sleep(Duration::from_micros(rand::random_range(0..max)));
            let _ = child.kill();
            child.wait().unwrap();
            report.kill_points += 1;
        }
        reader.join().unwrap();
        let mut keys = vec![&old];
        let pending_key = std::fs::read_to_string(&pending)
            .ok()
            .and_then(|h| hex::decode(h.trim()).ok())
            .and_then(|b| VaultKey::from_slice(&b));
        if let Some(k) = &pending_key {
            keys.push(k);
        }
        match Vault::open_with_any(&path, &keys) {
            Ok((v, which)) => {
                assert_eq!(
                    v.counts().unwrap(),
                    expected_matters,
                    "no record lost in the rekey"
                );
                if which == 0 {
                    report.old_key += 1
                } else {
                    report.new_key += 1
                }
            }
            Err(_) => report.unopenable += 1,
        }
    }
    report
}

/// Writes a vault as schema 4 left it (ids kept unique by PRIMARY KEY constraints), holding
/// `set`, with its search index, at row ids other than the first (the matter at 41, the
/// note at 17), so that a migration that renumbered rows would lose the search.
pub fn write_schema_4_vault(path: &Path, key: &VaultKey, set: &RecordSet) {
    let c = keyed_raw(path, key);
    c.execute_batch("PRAGMA journal_mode = WAL;").unwrap();
    for sql in [
        include_str!("../../migrations/0001_init.sql"),
        include_str!("../../migrations/0002_full_model.sql"),
        include_str!("../../migrations/0003_push_results.sql"),
        include_str!("../../migrations/0004_list_sorting.sql"),
    ] {
        c.execute_batch(sql).unwrap();
    }
    c.execute_batch("PRAGMA user_version = 4;").unwrap();
    let m = &set.matter;
    let custom = serde_json::to_string(&m.custom_fields).unwrap();
    c.execute(
        "INSERT INTO matters (rowid, id, seq, version, number, title, matter_type, status,
            client_name, responsible, opened_on, closed_on, description, custom_fields)
         VALUES (41, ?1, 3, 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        rusqlite::params![
            m.id.to_string(),
            m.number,
            m.title,
            m.matter_type,
            m.status.as_str(),
            m.client_name,
            m.responsible,
            m.opened_on,
            m.closed_on,
            m.description,
            custom
        ],
    )
    .unwrap();
    for (seq, contact) in [(1, &set.contact), (2, &set.barrister)] {
        c.execute(
            "INSERT INTO contacts (id, seq, version, kind, name, email, phone, address)
             VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7)",
            rusqlite::params![
                contact.id.to_string(),
                seq,
                contact.kind.as_str(),
                contact.name,
                contact.email,
                contact.phone,
                contact.address
            ],
        )
        .unwrap();
    }
    for (i, p) in set.roles.iter().enumerate() {
        c.execute(
            "INSERT INTO participants (id, seq, version, matter_id, contact_id, role)
             VALUES (?1, ?2, 1, ?3, ?4, ?5)",
            rusqlite::params![
                p.id.to_string(),
                4 + i as i64,
                p.matter_id.to_string(),
                p.contact_id.to_string(),
                p.role
            ],
        )
        .unwrap();
    }
    let n = &set.note;
    c.execute(
        "INSERT INTO file_notes (rowid, id, seq, version, matter_id, author, written_at, subject, body)
         VALUES (17, ?1, 7, 1, ?2, ?3, ?4, ?5, ?6)",
        rusqlite::params![
            n.id.to_string(), n.matter_id.to_string(), n.author, n.written_at, n.subject, n.body
        ],
    )
    .unwrap();
    let t = &set.task;
    c.execute(
        "INSERT INTO tasks (id, seq, version, matter_id, title, due_on, assignee, done)
         VALUES (?1, 8, 1, ?2, ?3, ?4, ?5, ?6)",
        rusqlite::params![
            t.id.to_string(),
            t.matter_id.to_string(),
            t.title,
            t.due_on,
            t.assignee,
            t.done
        ],
    )
    .unwrap();
    let w = &set.time;
    c.execute(
        "INSERT INTO time_entries (id, seq, version, matter_id, worked_on, minutes, rate_cents,
            billable, narrative, author)
         VALUES (?1, 9, 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        rusqlite::params![
            w.id.to_string(),
            w.matter_id.to_string(),
            w.worked_on,
            w.minutes,
            w.rate_cents,
            w.billable,
            w.narrative,
            w.author
        ],
    )
    .unwrap();
    let d = &set.document;
    c.execute(
        "INSERT INTO documents (id, seq, version, matter_id, name, folder, size_bytes, content_hash)
         VALUES (?1, 10, 1, ?2, ?3, ?4, ?5, ?6)",
        rusqlite::params![
            d.id.to_string(), d.matter_id.to_string(), d.name, d.folder, d.size_bytes,
            d.content_hash
        ],
    )
    .unwrap();
    c.execute(
        "INSERT INTO matter_fts (rowid, number, title, client, people, description)
         VALUES (41, ?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![
            m.number,
            m.title,
            m.client_name,
            format!(
                "{} client {} witness Felicity Wigg Chambers barrister",
                set.contact.name, set.contact.name
            ),
            m.description
        ],
    )
    .unwrap();
    c.execute(
        "INSERT INTO note_fts (rowid, subject, body) VALUES (17, ?1, ?2)",
        rusqlite::params![n.subject, n.body],
    )
    .unwrap();
    c.execute("UPDATE sync_state SET cursor = 10, last_sync_at = 't'", [])
        .unwrap();
}
