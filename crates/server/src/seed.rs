//! The demo practice: a handful of realistic matters for trying the product and for tests,
//! each with the people on it, file notes, tasks, time and document records.

use sha2::{Digest, Sha256};
use strongroom_protocol::{
    ChangeRecord, Contact, ContactKind, Document, FileNote, Matter, MatterStatus, Participant,
    Role, Task, TimeEntry,
};
use uuid::Uuid;

use crate::auth;
use crate::store::{PracticeId, Store};

pub const DEMO_PRACTICE: &str = "Harbour & Vine Lawyers";
pub const DEMO_EMAIL: &str = "demo@harbourvine.example";
pub const DEMO_PASSWORD: &str = "Harbour-Vine-demo-2026";
pub const DEMO_NAME: &str = "Priya Raman";

/// The demo matters, with fresh ids.
pub fn demo_matters() -> Vec<Matter> {
    let m = |number: &str,
             title: &str,
             matter_type: &str,
             status,
             client: &str,
             responsible: &str,
             opened: &str| Matter {
        id: Uuid::new_v4(),
        number: number.into(),
        title: title.into(),
        matter_type: matter_type.into(),
        status,
        client_name: client.into(),
        responsible: responsible.into(),
        opened_on: opened.into(),
        closed_on: None,
        description: String::new(),
        custom_fields: Default::default(),
    };
    use MatterStatus::*;
    described(vec![
        m(
            "HV-2026-0142",
            "Estate of Margaret Okafor: grant of probate",
            "Probate",
            Open,
            "Chinedu Okafor",
            "Priya Raman",
            "2026-11-02",
        ),
        m(
            "HV-2026-0137",
            "Lindqvist v Coastal Freight Pty Ltd",
            "Litigation",
            Open,
            "Ingrid Lindqvist",
            "Daniel Achterberg",
            "2026-10-21",
        ),
        m(
            "HV-2026-0129",
            "Purchase of 14 Wattle Grove, Fremantle",
            "Conveyancing",
            Open,
            "Aroha Nowak",
            "Priya Raman",
            "2026-10-08",
        ),
        m(
            "HV-2026-0118",
            "Brightwater Cafe lease renewal",
            "Commercial lease",
            Open,
            "Brightwater Hospitality Pty Ltd",
            "Mei-Lin Cho",
            "2026-09-15",
        ),
        m(
            "HV-2025-0963",
            "Delacroix parenting arrangements",
            "Family",
            Open,
            "Sophie Delacroix",
            "Daniel Achterberg",
            "2025-12-03",
        ),
        m(
            "HV-2025-0931",
            "Kestrel Robotics Series A financing",
            "Corporate",
            Open,
            "Kestrel Robotics Ltd",
            "Mei-Lin Cho",
            "2025-11-17",
        ),
        m(
            "HV-2025-0877",
            "Walker unfair dismissal claim",
            "Employment",
            OnHold,
            "Hemi Walker",
            "Priya Raman",
            "2025-10-01",
        ),
        m(
            "HV-2025-0702",
            "Vasquez wills and enduring powers of attorney",
            "Wills and estates",
            Closed,
            "Elena Vasquez",
            "Mei-Lin Cho",
            "2025-07-22",
        ),
    ])
}

/// Seeds the demo practice unless its user exists already. Returns the practice's id when
/// it was created.
pub async fn seed_demo(store: &dyn Store) -> anyhow::Result<Option<PracticeId>> {
    if store.user_by_email(DEMO_EMAIL).await?.is_some() {
        return Ok(None);
    }
    let practice = store.create_practice(DEMO_PRACTICE).await?;
    let hash = tokio::task::spawn_blocking(|| auth::hash_password(DEMO_PASSWORD)).await??;
    store
        .create_user(practice, DEMO_EMAIL, DEMO_NAME, &hash, Role::Admin)
        .await?;
    let matters = demo_matters();
    for matter in &matters {
        store.put_matter(practice, matter).await?;
    }
    store.bulk_put(practice, &demo_records(&matters)).await?;
    Ok(Some(practice))
}

/// How many changes the demo practice's feed holds: its matters and their records.
pub fn demo_change_count() -> usize {
    let matters = demo_matters();
    matters.len() + demo_records(&matters).len()
}

/// What is on each demo matter, by its number: the people (name, person or organisation,
/// email, role), file notes (days before today's demo date, subject, body), tasks (title,
/// due date, done), time (date, minutes, narrative) and documents (folder, name, size).
struct OnMatter {
    number: &'static str,
    description: &'static str,
    custom: &'static [(&'static str, &'static str)],
    people: &'static [(&'static str, ContactKind, &'static str, &'static str)],
    notes: &'static [(&'static str, &'static str, &'static str)],
    tasks: &'static [(&'static str, Option<&'static str>, bool)],
    time: &'static [(&'static str, u32, &'static str)],
    documents: &'static [(&'static str, &'static str, i64)],
}

use ContactKind::{Organisation, Person};

const ON_MATTERS: &[OnMatter] = &[
    OnMatter {
        number: "HV-2026-0142",
        description: "Grant of probate for the estate of the late Margaret Okafor; one executor, a house in Mosman Park and two bank accounts.",
        custom: &[
            ("Date of death", "2026-10-14"),
            ("Estate value (est.)", "$1.42m"),
        ],
        people: &[
            (
                "Chinedu Okafor",
                Person,
                "chinedu.okafor@example.net",
                "Executor",
            ),
            ("Adaeze Okafor", Person, "adaeze@example.net", "Beneficiary"),
            (
                "Westshore Valuers",
                Organisation,
                "reports@westshore.example",
                "Valuer",
            ),
        ],
        notes: &[
            (
                "2026-11-03T09:30:00Z",
                "First meeting with the executor",
                "Chinedu brought the original will (dated 2019) and the death certificate. Two accounts with Southern Cross Bank; the house is in Margaret's sole name.",
            ),
            (
                "2026-11-12T14:05:00Z",
                "Call with the valuer",
                "Westshore can inspect on 20 November; report within a week of the visit.",
            ),
        ],
        tasks: &[
            ("Lodge the probate application", Some("2026-12-05"), false),
            (
                "Advertise the notice to creditors",
                Some("2026-11-20"),
                false,
            ),
            (
                "Certified copy of the death certificate",
                Some("2026-11-06"),
                true,
            ),
        ],
        time: &[
            (
                "2026-11-03",
                72,
                "Initial conference with the executor; reviewed the will and assets",
            ),
            (
                "2026-11-12",
                18,
                "Call with Westshore Valuers about the inspection",
            ),
        ],
        documents: &[
            ("Originals", "Will of Margaret Okafor (2019).pdf", 1_482_113),
            (
                "Correspondence",
                "Letter to executor - costs disclosure.docx",
                48_220,
            ),
        ],
    },
    OnMatter {
        number: "HV-2026-0137",
        description: "Claim for damage to a shipping container of furniture in transit from Gothenburg; the carrier denies liability under its terms.",
        custom: &[
            ("Court file number", "CIV 2291/2026"),
            ("Amount claimed", "$186,400"),
        ],
        people: &[
            (
                "Ingrid Lindqvist",
                Person,
                "ingrid@lindqvist-design.example",
                "Plaintiff",
            ),
            (
                "Coastal Freight Pty Ltd",
                Organisation,
                "legal@coastalfreight.example",
                "Defendant",
            ),
            (
                "Marsh & Pike",
                Organisation,
                "dock@marshpike.example",
                "Other side's lawyers",
            ),
        ],
        notes: &[
            (
                "2026-10-22T10:00:00Z",
                "Instructions",
                "Container arrived water-damaged; survey report attached to the claim. Client wants to try mediation first.",
            ),
            (
                "2026-11-18T16:40:00Z",
                "Without prejudice call with Marsh & Pike",
                "They may offer 40%; told them our client would not consider less than 75% before discovery.",
            ),
        ],
        tasks: &[
            ("Serve the statement of claim", Some("2026-11-04"), true),
            (
                "Prepare the mediation position paper",
                Some("2026-12-10"),
                false,
            ),
        ],
        time: &[
            (
                "2026-10-22",
                90,
                "Taking instructions; reviewed the bill of lading and the survey",
            ),
            ("2026-10-30", 150, "Drafting the statement of claim"),
            ("2026-11-18", 24, "Call with the other side's lawyers"),
        ],
        documents: &[
            ("Pleadings", "Statement of claim (filed).pdf", 612_774),
            ("Evidence", "Marine survey report.pdf", 3_204_117),
        ],
    },
    OnMatter {
        number: "HV-2026-0129",
        description: "Purchase of a freehold house; settlement 12 December, finance approved, building inspection done.",
        custom: &[
            ("Settlement date", "2026-12-12"),
            ("Purchase price", "$965,000"),
        ],
        people: &[
            ("Aroha Nowak", Person, "aroha.nowak@example.org", "Buyer"),
            (
                "Fremantle Home Loans",
                Organisation,
                "settlements@fhl.example",
                "Lender",
            ),
        ],
        notes: &[(
            "2026-10-09T11:15:00Z",
            "Contract reviewed",
            "Special condition 4 (subject to finance) satisfied on 24 October. Title search clear; one easement for drainage.",
        )],
        tasks: &[
            ("Book settlement with the lender", Some("2026-12-01"), false),
            ("Order the final title search", Some("2026-12-10"), false),
        ],
        time: &[(
            "2026-10-09",
            54,
            "Reviewed the contract and title; letter of advice",
        )],
        documents: &[(
            "Contract",
            "Contract of sale - 14 Wattle Grove.pdf",
            904_331,
        )],
    },
    OnMatter {
        number: "HV-2026-0118",
        description: "Renewal of the cafe's lease for a further five years with a rent review.",
        custom: &[("Lease expiry", "2027-01-31")],
        people: &[
            (
                "Brightwater Hospitality Pty Ltd",
                Organisation,
                "owner@brightwatercafe.example",
                "Tenant",
            ),
            (
                "Quay Properties",
                Organisation,
                "leasing@quayproperties.example",
                "Landlord",
            ),
        ],
        notes: &[(
            "2026-09-16T09:00:00Z",
            "Heads of terms",
            "Landlord proposes CPI + 1% annually; client wants a market review at year three instead.",
        )],
        tasks: &[(
            "Send our mark-up of the renewal deed",
            Some("2026-11-28"),
            false,
        )],
        time: &[(
            "2026-09-16",
            42,
            "Reviewed the heads of terms; advice to the client",
        )],
        documents: &[("Drafts", "Deed of renewal - landlord draft.docx", 77_506)],
    },
    OnMatter {
        number: "HV-2025-0963",
        description: "Parenting arrangements for two children after separation; consent orders sought.",
        custom: &[],
        people: &[
            ("Sophie Delacroix", Person, "sophie.d@example.com", "Client"),
            ("Marc Delacroix", Person, "", "Other party"),
        ],
        notes: &[(
            "2025-12-04T13:30:00Z",
            "Family dispute resolution",
            "Certificate issued; both parties agree to week-about care. Draft consent orders next.",
        )],
        tasks: &[("Draft the consent orders", Some("2026-01-15"), true)],
        time: &[(
            "2025-12-04",
            60,
            "Conference with the client after the FDR session",
        )],
        documents: &[],
    },
    OnMatter {
        number: "HV-2025-0931",
        description: "Series A preference share issue; lead investor Tasman Ventures.",
        custom: &[("Round size", "$6,000,000")],
        people: &[
            (
                "Kestrel Robotics Ltd",
                Organisation,
                "cfo@kestrel.example",
                "Company",
            ),
            (
                "Tasman Ventures",
                Organisation,
                "deals@tasmanvc.example",
                "Lead investor",
            ),
        ],
        notes: &[],
        tasks: &[("Update the cap table after completion", None, false)],
        time: &[("2025-11-20", 210, "Drafting the subscription agreement")],
        documents: &[("Transaction", "Subscription agreement v3.docx", 233_908)],
    },
    OnMatter {
        number: "HV-2025-0877",
        description: "Unfair dismissal application; on hold while the client considers the employer's offer.",
        custom: &[],
        people: &[(
            "Hemi Walker",
            Person,
            "hemi.walker@example.net",
            "Applicant",
        )],
        notes: &[],
        tasks: &[],
        time: &[(
            "2025-10-02",
            48,
            "Initial advice on the dismissal and time limits",
        )],
        documents: &[],
    },
    OnMatter {
        number: "HV-2025-0702",
        description: "New wills and enduring powers of attorney; signed and stored.",
        custom: &[],
        people: &[(
            "Elena Vasquez",
            Person,
            "elena.vasquez@example.com",
            "Client",
        )],
        notes: &[],
        tasks: &[],
        time: &[("2025-07-22", 96, "Taking instructions; drafting the wills")],
        documents: &[("Originals", "Will of Elena Vasquez (signed).pdf", 1_102_546)],
    },
];

/// The records on the demo matters (contacts first, then what names them), with fresh ids.
pub fn demo_records(matters: &[Matter]) -> Vec<ChangeRecord> {
    let mut out = Vec::new();
    let mut later = Vec::new();
    for on in ON_MATTERS {
        let Some(matter) = matters.iter().find(|m| m.number == on.number) else {
            continue;
        };
        let mid = matter.id;
        for (name, kind, email, role) in on.people {
            let contact = Contact {
                id: Uuid::new_v4(),
                kind: *kind,
                name: (*name).into(),
                email: (!email.is_empty()).then(|| (*email).into()),
                phone: None,
                address: None,
            };
            later.push(ChangeRecord::Participant {
                participant: Participant {
                    id: Uuid::new_v4(),
                    matter_id: mid,
                    contact_id: contact.id,
                    role: (*role).into(),
                },
            });
            out.push(ChangeRecord::Contact { contact });
        }
        for (at, subject, body) in on.notes {
            later.push(ChangeRecord::FileNote {
                file_note: FileNote {
                    id: Uuid::new_v4(),
                    matter_id: mid,
                    author: matter.responsible.clone(),
                    written_at: (*at).into(),
                    subject: (*subject).into(),
                    body: (*body).into(),
                },
            });
        }
        for (title, due, done) in on.tasks {
            later.push(ChangeRecord::Task {
                task: Task {
                    id: Uuid::new_v4(),
                    matter_id: mid,
                    title: (*title).into(),
                    due_on: due.map(Into::into),
                    assignee: Some(matter.responsible.clone()),
                    done: *done,
                },
            });
        }
        for (on_day, minutes, narrative) in on.time {
            later.push(ChangeRecord::TimeEntry {
                time_entry: TimeEntry {
                    id: Uuid::new_v4(),
                    matter_id: mid,
                    worked_on: (*on_day).into(),
                    minutes: *minutes,
                    rate_cents: 42_000,
                    billable: true,
                    narrative: (*narrative).into(),
                    author: matter.responsible.clone(),
                },
            });
        }
        for (folder, name, size) in on.documents {
            let hash = Sha256::digest(format!("{}/{folder}/{name}", on.number).as_bytes());
            later.push(ChangeRecord::Document {
                document: Document {
                    id: Uuid::new_v4(),
                    matter_id: mid,
                    name: (*name).into(),
                    folder: (*folder).into(),
                    size_bytes: *size,
                    content_hash: hex::encode(hash),
                },
            });
        }
    }
    out.extend(later);
    out
}

/// The demo matters with their descriptions and the practice's own fields.
fn described(mut matters: Vec<Matter>) -> Vec<Matter> {
    for m in &mut matters {
        if let Some(on) = ON_MATTERS.iter().find(|o| o.number == m.number) {
            m.description = on.description.into();
            m.custom_fields = on
                .custom
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect();
        }
    }
    matters
}
