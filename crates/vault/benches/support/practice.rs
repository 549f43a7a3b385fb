//! The practice the vault's benches load: 100k matters (by default) and ten times as many
//! related records, as the change feed would send them, from a fixed seed (every run and
//! every bench loads the same rows).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use strongroom_protocol::{
    Change, ChangeRecord, ChangesPage, Contact, ContactKind, Document, FileNote, Matter,
    MatterStatus, Participant, Task, TimeEntry,
};
use uuid::Uuid;

/// Changes per page: as many as the server sends at most.
pub const PAGE: usize = strongroom_protocol::MAX_PAGE_SIZE as usize;

pub const WORDS: &[&str] = &[
    "agreement",
    "affidavit",
    "appeal",
    "arbitration",
    "assets",
    "bail",
    "barrister",
    "beneficiary",
    "breach",
    "brief",
    "caveat",
    "claim",
    "client",
    "company",
    "compensation",
    "consent",
    "contract",
    "conveyance",
    "costs",
    "counsel",
    "court",
    "covenant",
    "creditor",
    "custody",
    "damages",
    "deadline",
    "deed",
    "defence",
    "defendant",
    "deposit",
    "discovery",
    "dismissal",
    "dispute",
    "dividend",
    "easement",
    "employment",
    "estate",
    "evidence",
    "executor",
    "expert",
    "family",
    "fee",
    "filing",
    "freight",
    "guarantee",
    "hearing",
    "indemnity",
    "injunction",
    "insurance",
    "interest",
    "invoice",
    "judgment",
    "jurisdiction",
    "landlord",
    "lease",
    "liability",
    "licence",
    "lien",
    "litigation",
    "loan",
    "mediation",
    "merger",
    "mortgage",
    "negligence",
    "notice",
    "objection",
    "order",
    "parenting",
    "partnership",
    "payment",
    "plaintiff",
    "pleading",
    "policy",
    "probate",
    "property",
    "purchase",
    "receiver",
    "redundancy",
    "refund",
    "registry",
    "remedy",
    "rent",
    "settlement",
    "shareholder",
    "statement",
    "subpoena",
    "summons",
    "surety",
    "tenancy",
    "tenant",
    "title",
    "transfer",
    "tribunal",
    "trust",
    "trustee",
    "undertaking",
    "valuation",
    "variation",
    "warrant",
    "will",
    "witness",
    "called",
    "discussed",
    "reviewed",
    "drafted",
    "emailed",
    "advised",
    "attended",
    "instructed",
    "prepared",
];
pub const FIRST: &[&str] = &[
    "Aroha",
    "Chinedu",
    "Daniel",
    "Elena",
    "Felicity",
    "Hemi",
    "Ingrid",
    "Kwame",
    "Lucia",
    "Mei",
    "Nikolai",
    "Olga",
    "Priya",
    "Rangi",
    "Sophie",
    "Tomasz",
    "Uma",
    "Valentina",
    "Wiremu",
    "Yusuf",
    "Zara",
    "Brendan",
    "Catalina",
    "Dmitri",
];
pub const LAST: &[&str] = &[
    "Okafor",
    "Lindqvist",
    "Nowak",
    "Delacroix",
    "Walker",
    "Vasquez",
    "Raman",
    "Achterberg",
    "Cho",
    "Tane",
    "Moreau",
    "Fitzgerald",
    "Haddad",
    "Ivanova",
    "Kowalski",
    "Mbeki",
    "Nakamura",
    "OBrien",
    "Petrov",
    "Quintero",
    "Rossi",
    "Singh",
];
pub const TYPES: &[&str] = &[
    "Litigation",
    "Probate",
    "Conveyancing",
    "Family",
    "Corporate",
    "Employment",
    "Commercial lease",
];
pub const LAWYERS: &[&str] = &[
    "Priya Raman",
    "Daniel Achterberg",
    "Mei-Lin Cho",
    "Rangi Tane",
    "Lucia Moreau",
];

pub fn words(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| WORDS[rng.random_range(0..WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn name(rng: &mut StdRng) -> String {
    format!(
        "{} {}",
        FIRST[rng.random_range(0..FIRST.len())],
        LAST[rng.random_range(0..LAST.len())]
    )
}

fn id(rng: &mut StdRng) -> Uuid {
    Uuid::from_u128(rng.random())
}

/// The practice as the feed would send it: contacts, then matters with their records.
pub fn dataset(matters: usize) -> Vec<ChangeRecord> {
    let mut rng = StdRng::seed_from_u64(20261127);
    let mut out = Vec::with_capacity(matters * 11);
    let contacts: Vec<Uuid> = (0..matters / 2).map(|_| id(&mut rng)).collect();
    for c in &contacts {
        let person = rng.random_bool(0.8);
        out.push(ChangeRecord::Contact {
            contact: Contact {
                id: *c,
                kind: if person {
                    ContactKind::Person
                } else {
                    ContactKind::Organisation
                },
                name: if person {
                    name(&mut rng)
                } else {
                    format!(
                        "{} {} Pty Ltd",
                        LAST[rng.random_range(0..LAST.len())],
                        WORDS[rng.random_range(0..WORDS.len())]
                    )
                },
                email: Some(format!("c{}@example.test", rng.random::<u32>())),
                phone: Some(format!(
                    "+61 8 {:04} {:04}",
                    rng.random_range(0..10000),
                    rng.random_range(0..10000)
                )),
                address: None,
            },
        });
    }
    for i in 0..matters {
        let mid = id(&mut rng);
        let client = name(&mut rng);
        out.push(ChangeRecord::Matter {
            matter: Matter {
                id: mid,
                number: format!("HV-{}-{:05}", 2020 + i % 7, i),
                title: format!(
                    "{} {}",
                    client.split(' ').nth(1).unwrap_or("X"),
                    words(&mut rng, 4)
                ),
                matter_type: TYPES[rng.random_range(0..TYPES.len())].into(),
                status: match rng.random_range(0..10) {
                    0..=6 => MatterStatus::Open,
                    7 => MatterStatus::OnHold,
                    _ => MatterStatus::Closed,
                },
                client_name: client,
                responsible: LAWYERS[rng.random_range(0..LAWYERS.len())].into(),
                opened_on: format!("{}-{:02}-{:02}", 2020 + i % 7, 1 + i % 12, 1 + i % 28),
                closed_on: None,
                description: words(&mut rng, 12),
                custom_fields: Default::default(),
            },
        });
        for r in 0..3 {
            out.push(ChangeRecord::Participant {
                participant: Participant {
                    id: id(&mut rng),
                    matter_id: mid,
                    contact_id: contacts[rng.random_range(0..contacts.len())],
                    role: ["client", "other side", "barrister"][r].into(),
                },
            });
        }
        for _ in 0..4 {
            out.push(ChangeRecord::FileNote {
                file_note: FileNote {
                    id: id(&mut rng),
                    matter_id: mid,
                    author: LAWYERS[rng.random_range(0..LAWYERS.len())].into(),
                    written_at: "2026-11-02T10:00:00Z".into(),
                    subject: words(&mut rng, 3),
                    body: {
                        let n = rng.random_range(15..40);
                        words(&mut rng, n)
                    },
                },
            });
        }
        out.push(ChangeRecord::Task {
            task: Task {
                id: id(&mut rng),
                matter_id: mid,
                title: words(&mut rng, 5),
                due_on: Some("2026-12-01".into()),
                assignee: None,
                done: rng.random_bool(0.5),
            },
        });
        out.push(ChangeRecord::TimeEntry {
            time_entry: TimeEntry {
                id: id(&mut rng),
                matter_id: mid,
                worked_on: "2026-11-02".into(),
                minutes: rng.random_range(6..240),
                rate_cents: 45_000,
                billable: rng.random_bool(0.8),
                narrative: words(&mut rng, 8),
                author: LAWYERS[rng.random_range(0..LAWYERS.len())].into(),
            },
        });
        out.push(ChangeRecord::Document {
            document: Document {
                id: id(&mut rng),
                matter_id: mid,
                name: format!("{}.pdf", words(&mut rng, 3)),
                folder: "Correspondence".into(),
                size_bytes: rng.random_range(1000..5_000_000),
                content_hash: "ab".repeat(32),
            },
        });
    }
    out
}

pub fn pages(records: Vec<ChangeRecord>, page: usize) -> Vec<ChangesPage> {
    let total = records.len();
    let mut out = Vec::with_capacity(total / page + 1);
    let mut seq = 0i64;
    let mut it = records.into_iter().peekable();
    while it.peek().is_some() {
        let changes: Vec<Change> = it
            .by_ref()
            .take(page)
            .map(|record| {
                seq += 1;
                Change {
                    seq,
                    version: 1,
                    record,
                }
            })
            .collect();
        out.push(ChangesPage {
            cursor: seq,
            has_more: (seq as usize) < total,
            total: None,
            changes,
        });
    }
    out
}

/// How many matters a bench loads: `STRONGROOM_BENCH_MATTERS`, 100,000 by default.
pub fn matters_from_env() -> usize {
    std::env::var("STRONGROOM_BENCH_MATTERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// A folder for a bench's files, removed when dropped: under `STRONGROOM_BENCH_DIR` if it
/// is set, else the system's temporary folder.
pub fn bench_dir() -> tempfile::TempDir {
    tempfile::tempdir_in(
        std::env::var("STRONGROOM_BENCH_DIR")
            .unwrap_or_else(|_| std::env::temp_dir().to_string_lossy().into_owned()),
    )
    .unwrap()
}
