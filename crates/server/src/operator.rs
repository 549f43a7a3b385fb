//! The operator commands' work, apart from the command line: creating a practice, creating
//! a member, creating a support staff member, and seeding a benchmark practice with generated matters. `main.rs` reads the
//! arguments and standard input and prints the answers; every refusal here is an error with
//! a message meant for the operator, raised before anything is written.

use anyhow::Context;
use base64::Engine;
use rand::{Rng, SeedableRng, TryRngCore};
use strongroom_protocol::{
    ChangeRecord, Contact, ContactKind, Document, FileNote, Matter, MatterStatus, Participant,
    Role, Task, TimeEntry,
};
use uuid::Uuid;

use crate::auth;
use crate::store::{PracticeId, Store, StoreError, UserId};

pub use crate::password_policy::{
    MAX_CHARS as MAX_PASSWORD_CHARS, MIN_CHARS as MIN_PASSWORD_CHARS,
};
/// The most matters `seed` makes.
pub const MAX_SEED_MATTERS: u32 = 100_000;
/// Matters written per transaction by `seed`.
pub const SEED_BATCH: usize = 1000;
/// The generator's seed: the same text every run.
pub const SEED_RNG: u64 = 0x5354_524f_4e47;

/// A practice's or member's name: trimmed, 1 to 200 characters.
fn checked_name(what: &str, name: &str) -> anyhow::Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        anyhow::bail!("the {what} name must be 1 to 200 characters");
    }
    Ok(name.to_owned())
}

/// Checks a practice's name; answers it trimmed.
pub fn check_practice_name(name: &str) -> anyhow::Result<String> {
    checked_name("practice", name)
}

/// Creates a practice.
pub async fn create_practice(store: &dyn Store, name: &str) -> anyhow::Result<PracticeId> {
    let name = check_practice_name(name)?;
    store
        .create_practice(&name)
        .await
        .context("creating the practice")
}

/// Checks a new member's password against the password policy (length, and not guessable
/// from common passwords or the member's own email and name).
pub fn check_password(password: &str, email: &str, name: &str) -> anyhow::Result<()> {
    crate::password_policy::check(password, &[email, name])?;
    Ok(())
}

/// Creates a member of `practice` with a password hashed by Argon2id. Refuses a bad
/// email, name or password, an unknown practice, and an email in use (in any practice),
/// before writing anything.
pub async fn create_member(
    store: &dyn Store,
    practice: Uuid,
    email: &str,
    name: &str,
    password: String,
    role: Role,
) -> anyhow::Result<UserId> {
    let email = email.trim();
    if email.is_empty() || email.chars().count() > 254 || !email.contains('@') {
        anyhow::bail!("the email must be an address of at most 254 characters");
    }
    let name = checked_name("member's", name)?;
    check_password(&password, email, &name)?;
    let practice = PracticeId(practice);
    let practice_name = match store.practice(practice).await {
        Ok(p) => p.name,
        Err(StoreError::NotFound) => anyhow::bail!("there is no practice {}", practice.0),
        Err(e) => return Err(e).context("reading the practice"),
    };
    crate::password_policy::check(&password, &[email, &name, &practice_name])?;
    let taken = || anyhow::anyhow!("a member with the email {email} exists already");
    if store
        .user_by_email(email)
        .await
        .context("looking the email up")?
        .is_some()
    {
        return Err(taken());
    }
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .context("hashing the password")??;
    match store.create_user(practice, email, &name, &hash, role).await {
        Ok(id) => Ok(id),
        // Someone took the email in the meantime.
        Err(StoreError::Conflict(_)) => Err(taken()),
        Err(e) => Err(e).context("creating the member"),
    }
}

/// Creates a support staff member (a realm apart from every practice: they reach no
/// practice's data without a grant it approves) with a password hashed by Argon2id.
/// Refuses a bad email, name or password, and an email in use by staff, before writing.
pub async fn create_support_staff(
    store: &dyn Store,
    email: &str,
    name: &str,
    password: String,
) -> anyhow::Result<Uuid> {
    let email = email.trim();
    if email.is_empty() || email.chars().count() > 254 || !email.contains('@') {
        anyhow::bail!("the email must be an address of at most 254 characters");
    }
    let name = checked_name("staff member's", name)?;
    check_password(&password, email, &name)?;
    let taken = || anyhow::anyhow!("a support staff member with the email {email} exists already");
    if store
        .staff_by_email(email)
        .await
        .context("looking the email up")?
        .is_some()
    {
        return Err(taken());
    }
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .context("hashing the password")??;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    match store.create_staff(email, &name, &hash, now).await {
        Ok(id) => Ok(id),
        Err(StoreError::Conflict(_)) => Err(taken()),
        Err(e) => Err(e).context("creating the support staff member"),
    }
}

/// What `seed` made.
#[derive(Debug, Clone)]
pub struct BenchmarkSeed {
    pub practice: PracticeId,
    pub practice_name: String,
    pub email: String,
    pub password: String,
    pub matters: u32,
    /// Records on those matters (contacts, participants, notes, tasks, time, documents).
    pub related: u64,
}

/// The most related records `seed` makes.
pub const MAX_SEED_RELATED: u64 = 1_000_000;

/// Creates a practice "Benchmark practice <time>" with one member (a generated password),
/// `matters` generated matters and `related` records spread evenly over them (each
/// matter's first is a contact, the rest cycle through participants, file notes, tasks,
/// time entries and documents), about [`SEED_BATCH`] records to a transaction; `progress`
/// hears (records done, records in all) after each batch.
pub async fn seed_benchmark(
    store: &dyn Store,
    matters: u32,
    related: u64,
    mut progress: impl FnMut(u64, u64),
) -> anyhow::Result<BenchmarkSeed> {
    if matters == 0 || matters > MAX_SEED_MATTERS {
        anyhow::bail!("--matters must be 1 to {MAX_SEED_MATTERS}");
    }
    if related > MAX_SEED_RELATED {
        anyhow::bail!("--related must be at most {MAX_SEED_RELATED}");
    }
    let stamp = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    let practice_name = ["Benchmark practice ", &stamp].concat();
    let practice = store
        .create_practice(&practice_name)
        .await
        .context("creating the practice")?;
    let simple = practice.0.simple().to_string();
    let email = [
        "bench-",
        simple.get(..12).unwrap_or(&simple),
        "@benchmark.example",
    ]
    .concat();
    let password = generated_password()?;
    let for_hash = password.clone();
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&for_hash))
        .await
        .context("hashing the password")??;
    store
        .create_user(practice, &email, "Benchmark User", &hash, Role::Lawyer)
        .await
        .context("creating the member")?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(SEED_RNG);
    let total = u64::from(matters) + related;
    let (per_matter, extra) = (related / u64::from(matters), related % u64::from(matters));
    let mut done = 0u64;
    let mut batch: Vec<ChangeRecord> = Vec::with_capacity(SEED_BATCH * 2);
    for i in 0..matters {
        let matter = benchmark_matter(&mut rng, i);
        let n = per_matter + u64::from(u64::from(i) < extra);
        let records = benchmark_related(&mut rng, &matter, n);
        batch.push(ChangeRecord::Matter { matter });
        batch.extend(records);
        if batch.len() >= SEED_BATCH || i + 1 == matters {
            let n = batch.len() as u64;
            store
                .bulk_put(practice, &batch)
                .await
                .with_context(|| format!("writing records {} to {}", done + 1, done + n))?;
            batch.clear();
            done += n;
            progress(done, total);
        }
    }
    Ok(BenchmarkSeed {
        practice,
        practice_name,
        email,
        password,
        matters,
        related,
    })
}

/// `n` records on `matter`: a contact first (the client), then participants, file notes,
/// tasks, time entries and documents in turn.
pub fn benchmark_related(rng: &mut impl Rng, matter: &Matter, n: u64) -> Vec<ChangeRecord> {
    let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    if n == 0 {
        return out;
    }
    let contact = Contact {
        id: Uuid::from_u128(rng.random()),
        kind: ContactKind::Person,
        name: matter.client_name.clone(),
        email: Some(format!(
            "client{}@example.com",
            rng.random_range(1..100_000u32)
        )),
        phone: Some(format!("+61 4{:08}", rng.random_range(0..100_000_000u32))),
        address: None,
    };
    let contact_id = contact.id;
    out.push(ChangeRecord::Contact { contact });
    const ROLES: &[&str] = &["Client", "Other side", "Barrister", "Witness", "Executor"];
    for k in 1..n {
        let id = Uuid::from_u128(rng.random());
        let day = rng.random_range(1..=28u32);
        let month = rng.random_range(1..=12u32);
        let date = format!("2026-{month:02}-{day:02}");
        let sentence = |rng: &mut dyn rand::RngCore| {
            SENTENCES
                .get(rng.random_range(0..SENTENCES.len()))
                .copied()
                .unwrap_or("")
        };
        let record = match k % 6 {
            1 => ChangeRecord::Participant {
                participant: Participant {
                    id,
                    matter_id: matter.id,
                    contact_id,
                    role: ROLES[rng.random_range(0..ROLES.len())].to_owned(),
                },
            },
            2 | 5 => ChangeRecord::FileNote {
                file_note: FileNote {
                    id,
                    matter_id: matter.id,
                    author: matter.responsible.clone(),
                    written_at: format!("{date}T09:{:02}:00Z", rng.random_range(0..60u32)),
                    subject: sentence(rng).to_owned(),
                    body: (0..rng.random_range(2..6))
                        .map(|_| sentence(rng))
                        .collect::<Vec<_>>()
                        .join(" "),
                },
            },
            3 => ChangeRecord::Task {
                task: Task {
                    id,
                    matter_id: matter.id,
                    title: sentence(rng).to_owned(),
                    due_on: Some(date),
                    assignee: Some(matter.responsible.clone()),
                    done: rng.random_bool(0.3),
                },
            },
            4 => ChangeRecord::TimeEntry {
                time_entry: TimeEntry {
                    id,
                    matter_id: matter.id,
                    worked_on: date,
                    minutes: 6 * rng.random_range(1..=20u32),
                    rate_cents: 45_000,
                    billable: rng.random_bool(0.8),
                    narrative: sentence(rng).to_owned(),
                    author: matter.responsible.clone(),
                },
            },
            _ => ChangeRecord::Document {
                document: Document {
                    id,
                    matter_id: matter.id,
                    name: format!("Document {k}.pdf"),
                    folder: "Correspondence".into(),
                    size_bytes: rng.random_range(10_000..5_000_000),
                    content_hash: format!(
                        "{:032x}{:032x}",
                        rng.random::<u128>() >> 1,
                        rng.random::<u128>() >> 1
                    )
                    .chars()
                    .take(64)
                    .collect(),
                },
            },
        };
        out.push(record);
    }
    out
}

/// A password of 24 characters from the OS's randomness (144 bits, base64url).
fn generated_password() -> anyhow::Result<String> {
    let mut bytes = [0u8; 18];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .context("no randomness available")?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

const GIVEN: &[&str] = &[
    "Aroha", "Chinedu", "Ingrid", "Sophie", "Hemi", "Elena", "Priya", "Daniel", "Mei-Lin",
    "Tomasz", "Fatima", "Liam", "Ngaio", "Rahul", "Olivia", "Kwame", "Anneke", "Mateo", "Yuki",
    "Siobhan", "Arjun", "Leilani", "Henrik", "Amara", "Callum", "Zara", "Nikolai", "Tui",
];
const FAMILY: &[&str] = &[
    "Okafor",
    "Lindqvist",
    "Nowak",
    "Delacroix",
    "Walker",
    "Vasquez",
    "Raman",
    "Achterberg",
    "Cho",
    "Kowalski",
    "Haddad",
    "O'Brien",
    "Te Rangi",
    "Sharma",
    "Fletcher",
    "Mensah",
    "de Vries",
    "Rossi",
    "Tanaka",
    "Gallagher",
    "Patel",
    "Kahananui",
    "Berg",
    "Adeyemi",
];
const COMPANY: &[&str] = &[
    "Coastal Freight",
    "Brightwater Hospitality",
    "Kestrel Robotics",
    "Southern Cross Timber",
    "Harbourside Dental",
    "Ironbark Civil",
    "Tidewater Logistics",
    "Greenfield Organics",
    "Meridian Software",
    "Bluegum Aged Care",
    "Pinnacle Mining Services",
    "Wattle Creek Wines",
];
const STREETS: &[&str] = &[
    "Wattle Grove",
    "Harbour Road",
    "Marine Parade",
    "Station Street",
    "Kauri Lane",
    "Beaufort Street",
    "Hillcrest Avenue",
    "Ocean View Drive",
    "Mill Lane",
    "Quarry Road",
];
const SUBURBS: &[&str] = &[
    "Fremantle",
    "Ponsonby",
    "Newtown",
    "Subiaco",
    "Karori",
    "Fitzroy",
    "Devonport",
    "Glebe",
];
const LAWYERS: &[&str] = &[
    "Priya Raman",
    "Daniel Achterberg",
    "Mei-Lin Cho",
    "Tomasz Kowalski",
    "Fatima Haddad",
    "Callum Gallagher",
    "Ngaio Te Rangi",
];
const COURTS: &[&str] = &["FCA", "NSWSC", "VSC", "HCNZ", "FCFCOA", "WADC"];
const SENTENCES: &[&str] = &[
    "Client instructs that the matter is urgent.",
    "Initial conference held; costs agreement signed.",
    "Awaiting documents from the other side.",
    "Counsel's opinion sought on limitation.",
    "Settlement conference listed for next month.",
    "Client prefers a negotiated outcome if possible.",
    "Searches ordered and received.",
    "Conflict check completed; no conflicts found.",
    "Trust money received on account of costs.",
    "Letter of demand sent; response due in 14 days.",
    "Mediation proposed by the other side.",
    "File reviewed by supervising partner.",
];

/// One generated matter, the `index`th (from 0), with a fresh id and text from `rng`.
pub fn benchmark_matter(rng: &mut impl Rng, index: u32) -> Matter {
    let mut pick = |list: &[&'static str]| -> &'static str {
        list.get(rng.random_range(0..list.len().max(1)))
            .copied()
            .unwrap_or("")
    };
    let person = |g: &str, f: &str| [g, " ", f].concat();
    let client_person = person(pick(GIVEN), pick(FAMILY));
    let other_person = person(pick(GIVEN), pick(FAMILY));
    let company = [pick(COMPANY), " Pty Ltd"].concat();
    let street = pick(STREETS);
    let suburb = pick(SUBURBS);
    let responsible = pick(LAWYERS).to_owned();
    let court = pick(COURTS);
    let year: i32 = rng.random_range(2018..=2026);
    let month: u32 = rng.random_range(1..=12);
    let day: u32 = rng.random_range(1..=28);
    let kind = rng.random_range(0..8u32);
    let house = rng.random_range(1..=240u32);
    let (matter_type, title, client) = match kind {
        0 => (
            "Probate",
            format!("Estate of {other_person}: grant of probate"),
            client_person,
        ),
        1 => (
            "Litigation",
            format!("{client_person} v {company}"),
            client_person.clone(),
        ),
        2 => (
            "Conveyancing",
            format!("Purchase of {house} {street}, {suburb}"),
            client_person,
        ),
        3 => (
            "Commercial lease",
            format!("{company} lease renewal, {street}"),
            company.clone(),
        ),
        4 => (
            "Family",
            format!("{client_person}: parenting arrangements"),
            client_person,
        ),
        5 => (
            "Corporate",
            format!("{company} share sale"),
            company.clone(),
        ),
        6 => (
            "Employment",
            format!("{client_person} unfair dismissal claim"),
            client_person,
        ),
        _ => (
            "Wills and estates",
            format!("{client_person}: wills and enduring powers of attorney"),
            client_person,
        ),
    };
    let roll = rng.random_range(0..10u32);
    let status = match roll {
        0..=6 => MatterStatus::Open,
        7 => MatterStatus::OnHold,
        _ => MatterStatus::Closed,
    };
    let closed_on = (status == MatterStatus::Closed).then(|| {
        let months = (year * 12 + month as i32 - 1) + rng.random_range(1..=18);
        let d: u32 = rng.random_range(1..=28);
        format!("{:04}-{:02}-{d:02}", months / 12, months % 12 + 1)
    });
    let sentences = rng.random_range(1..=4usize);
    let description = (0..sentences)
        .map(|_| {
            SENTENCES
                .get(rng.random_range(0..SENTENCES.len()))
                .copied()
                .unwrap_or("")
        })
        .collect::<Vec<_>>()
        .join(" ");
    let mut custom_fields = std::collections::BTreeMap::new();
    if matches!(kind, 1 | 4 | 6) {
        custom_fields.insert(
            "Court file number".to_owned(),
            format!("{court}-{year}-{:05}", rng.random_range(1..100_000u32)),
        );
    }
    if kind == 2 {
        custom_fields.insert(
            "Settlement date".to_owned(),
            format!("{year:04}-{month:02}-{:02}", rng.random_range(1..=28u32)),
        );
    }
    Matter {
        id: Uuid::new_v4(),
        number: format!("BP-{year}-{:06}", index + 1),
        title,
        matter_type: matter_type.to_owned(),
        status,
        client_name: client,
        responsible,
        opened_on: format!("{year:04}-{month:02}-{day:02}"),
        closed_on,
        description,
        custom_fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(seed: u64) -> Vec<(String, String, String, String)> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        (0..200)
            .map(|i| benchmark_matter(&mut rng, i))
            .map(|m| (m.number, m.title, m.client_name, m.description))
            .collect()
    }

    #[test]
    fn generated_text_is_deterministic_and_varied() {
        let a = texts(SEED_RNG);
        assert_eq!(a, texts(SEED_RNG));
        assert_ne!(a, texts(SEED_RNG + 1));
        let titles: std::collections::BTreeSet<_> = a.iter().map(|t| &t.1).collect();
        assert!(titles.len() > 150, "only {} distinct titles", titles.len());
        assert_eq!(a[0].0.len(), "BP-2026-000001".len());
        assert!(a[199].0.ends_with("-000200"), "{}", a[199].0);
    }

    #[test]
    fn generated_dates_are_well_formed_and_closing_follows_opening() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(SEED_RNG);
        let date = time::macros::format_description!("[year]-[month]-[day]");
        let mut closed = 0;
        for i in 0..2000 {
            let m = benchmark_matter(&mut rng, i);
            let opened = time::Date::parse(&m.opened_on, date).unwrap();
            assert_eq!(m.closed_on.is_some(), m.status == MatterStatus::Closed);
            if let Some(c) = &m.closed_on {
                assert!(time::Date::parse(c, date).unwrap() > opened, "{m:?}");
                closed += 1;
            }
        }
        assert!(closed > 100, "{closed} closed of 2000");
    }

    #[test]
    fn member_passwords_follow_the_policy() {
        let ok = "marmalade pangolin treaty 71";
        assert!(check_password(ok, "a@b.example", "A Person").is_ok());
        assert!(check_password(&"x".repeat(11), "a@b.example", "A Person").is_err());
        assert!(check_password(&"é".repeat(1025), "a@b.example", "A Person").is_err());
        assert!(check_password("", "a@b.example", "A Person").is_err());
        assert!(check_password("password1234", "a@b.example", "A Person").is_err());
        assert!(
            check_password(
                "rangitoto fletcher",
                "tui@rangitoto.example",
                "Tui Fletcher"
            )
            .is_err()
        );
    }
}
