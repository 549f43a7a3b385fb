//! A property test of sync: three devices of one member make random offline edits to the
//! same matters (two fields each, so edits both merge and clash) and sync in a random
//! order, against the real server over TLS with real vaults.
//!
//! After every device has synced twice round:
//! - every edit was answered exactly once: applied, or a conflict (none refused);
//! - every conflict is visible: the devices hold as many open conflicts as were answered;
//! - each device holds the service's state, except where one of its own open conflicts
//!   names the field that differs.
//!
//! Then each device keeps its own side of each of its conflicts, and after two more rounds
//! every device holds exactly the service's state and no conflict is left.

use std::collections::HashSet;

use proptest::prelude::*;
use strongroom_client::{Core, EditOp, SyncReport};
use strongroom_protocol::{ChangeRecord, ConflictResolution, RecordKind};
use strongroom_server::seed;
use strongroom_server::store::records::Viewer;

use super::{Env, second_device};

const DEVICES: usize = 3;
const MATTERS: usize = 3;
const FIELDS: [&str; 2] = ["title", "description"];

#[derive(Debug, Clone)]
enum Op {
    Edit {
        device: usize,
        matter: usize,
        field: usize,
    },
    Sync {
        device: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..DEVICES, 0..MATTERS, 0..FIELDS.len())
            .prop_map(|(device, matter, field)| Op::Edit { device, matter, field }),
        1 => (0..DEVICES).prop_map(|device| Op::Sync { device }),
    ]
}

fn field_of(record: &ChangeRecord, field: &str) -> String {
    let ChangeRecord::Matter { matter } = record else {
        panic!("not a matter: {record:?}");
    };
    match field {
        "title" => matter.title.clone(),
        _ => matter.description.clone(),
    }
}

/// What the syncs answered, added up.
#[derive(Debug, Default)]
struct Tally {
    applied: usize,
    conflicts: usize,
    rejected: usize,
}

impl Tally {
    fn add(&mut self, r: &SyncReport) {
        self.applied += r.pushed;
        self.conflicts += r.conflicts;
        self.rejected += r.rejected;
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 8,
        max_shrink_iters: 16,
        ..ProptestConfig::default()
    })]
    #[test]
    fn devices_converge_and_every_edit_is_applied_or_a_visible_conflict(
        ops in proptest::collection::vec(op(), 1..24)
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(run(ops));
    }
}

async fn run(ops: Vec<Op>) {
    let env = Env::new().await;
    let dirs: Vec<tempfile::TempDir> = (0..DEVICES).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut devices: Vec<Core> = Vec::new();
    for d in &dirs {
        devices.push(second_device(&env, d.path()).await);
    }
    let ids: Vec<uuid::Uuid> = devices[0]
        .matters()
        .unwrap()
        .iter()
        .take(MATTERS)
        .map(|m| m.id.parse().unwrap())
        .collect();
    let store = env.server.store.clone();
    let practice = store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .practice_id;
    let on_server = |id: uuid::Uuid| {
        let store = store.clone();
        async move {
            store
                .record(practice, Viewer::Service, RecordKind::Matter, id)
                .await
                .unwrap()
                .unwrap()
                .record
        }
    };

    let mut tally = Tally::default();
    let mut edits = 0usize;
    for op in &ops {
        match *op {
            Op::Edit {
                device,
                matter,
                field,
            } => {
                edits += 1;
                let value = format!("device {device}, edit {edits}");
                devices[device]
                    .edit(
                        RecordKind::Matter,
                        ids[matter],
                        EditOp::Upsert {
                            fields: serde_json::json!({ FIELDS[field]: value })
                                .as_object()
                                .unwrap()
                                .clone(),
                        },
                    )
                    .unwrap();
            }
            Op::Sync { device } => tally.add(&devices[device].sync().await.unwrap()),
        }
    }
    for _ in 0..2 {
        for d in devices.iter_mut() {
            tally.add(&d.sync().await.unwrap());
        }
    }

    // Exactly once, nothing refused.
    assert_eq!(
        tally.applied + tally.conflicts + tally.rejected,
        edits,
        "every edit answered once: {tally:?} for {ops:?}"
    );
    assert_eq!(tally.rejected, 0, "{ops:?}");
    // Every conflict visible where it was made.
    let mut open = 0;
    for d in devices.iter_mut() {
        assert_eq!(d.status().unwrap().pending_edits, 0);
        let distinct: HashSet<String> = d
            .conflicts()
            .unwrap()
            .into_iter()
            .map(|c| c.server_id)
            .collect();
        open += distinct.len();
    }
    assert_eq!(open, tally.conflicts, "every conflict is shown: {ops:?}");
    // The service's state everywhere, but where a device's own open conflict says why not.
    for (n, d) in devices.iter_mut().enumerate() {
        let conflicts = d.conflicts().unwrap();
        for id in &ids {
            let local = d.record(RecordKind::Matter, *id).unwrap().unwrap();
            let server = on_server(*id).await;
            for f in FIELDS {
                if field_of(&local, f) != field_of(&server, f) {
                    assert!(
                        conflicts.iter().any(|c| c.record_id == id.to_string()
                            && (c.field == f || c.field.is_empty())),
                        "device {n} differs on {f} of {id} with no conflict to show: {ops:?}"
                    );
                }
            }
        }
    }

    // A person decides each conflict (keeping their own side), then everyone converges.
    for d in devices.iter_mut() {
        let mut decided = HashSet::new();
        for c in d.conflicts().unwrap() {
            if decided.insert(c.server_id.clone()) {
                d.resolve_conflict(c.server_id.parse().unwrap(), &ConflictResolution::KeepMine)
                    .await
                    .unwrap();
            }
        }
        d.sync().await.unwrap();
    }
    for _ in 0..2 {
        for d in devices.iter_mut() {
            let r = d.sync().await.unwrap();
            assert_eq!(r.conflicts, 0);
        }
    }
    for (n, d) in devices.iter_mut().enumerate() {
        assert!(d.conflicts().unwrap().is_empty(), "device {n}: {ops:?}");
        for id in &ids {
            let local = d.record(RecordKind::Matter, *id).unwrap().unwrap();
            let server = on_server(*id).await;
            for f in FIELDS {
                assert_eq!(
                    field_of(&local, f),
                    field_of(&server, f),
                    "device {n}, {f} of {id}: {ops:?}"
                );
            }
        }
    }
    for d in devices.iter_mut() {
        d.wipe().unwrap();
    }
}
