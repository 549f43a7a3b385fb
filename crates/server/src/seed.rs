//! The demo practice: a handful of realistic matters for trying the product and for tests.

use strongroom_protocol::{Matter, MatterStatus, Role};
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
    vec![
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
    ]
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
    for matter in demo_matters() {
        store.put_matter(practice, &matter).await?;
    }
    Ok(Some(practice))
}
