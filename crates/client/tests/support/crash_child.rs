//! The sync-path crash harness's child process: the desktop core doing one kind of work
//! against a real server, printing each step it has acknowledged on stdout, until the parent
//! (`crates/client/tests/client/crash.rs`) kills it with SIGKILL.
//!
//! `client-crash-child MODE DATA_DIR KEYRING_SERVICE CA_FILE [ARG]`, the vault already
//! signed in by the parent:
//! - `first-sync BATCH`: syncs in batches of BATCH changes, printing `stored DONE TOTAL`
//!   after each batch is committed, then `done`.
//! - `push TAG`: creates file notes on the first matter, printing `ack ID` once each is
//!   committed to the vault (the user's edit is then acknowledged), and syncs every fifth
//!   note, printing `pushing` and `pushed`.
//! - `push-ack-early TAG`: the control. As `push`, but it prints `ack ID` *before* the
//!   edit is committed (durability switched off, as far as the user can tell): the harness
//!   must report a loss.
//! - `rekey`: rotates the vault key over and over, printing `rotated` after each.
//! - `wipe`: prints `wiping`, wipes the device, prints `wiped`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use strongroom_client::{Config, Core, EditOp};
use strongroom_protocol::RecordKind;

/// The id of the `k`th note of a run tagged `tag`.
pub fn note_id(tag: u32, k: u32) -> uuid::Uuid {
    uuid::Uuid::from_u128((0x5eed_c4a5_u128 << 96) | (u128::from(tag) << 32) | u128::from(k))
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").expect("stdout");
    out.flush().expect("flush");
}

#[tokio::main]
async fn main() {
    strongroom_client::protect_process_memory().expect("no core dumps");
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: client-crash-child MODE DATA_DIR KEYRING_SERVICE CA_FILE [ARG]");
        std::process::exit(2);
    }
    let mut cfg = Config::new(PathBuf::from(&args[2]));
    cfg.keyring_service = args[3].clone();
    cfg.practice_ca_pem = Some(std::fs::read_to_string(&args[4]).expect("the CA file"));
    cfg.without_os_roots = true;
    let arg = args.get(5).cloned().unwrap_or_default();
    if args[1] == "first-sync" {
        cfg.bulk_batch_changes = arg.parse().expect("BATCH");
    }
    let mut core = Core::new(cfg);
    let status = core.start().expect("start");
    assert!(status.signed_in && !status.locked, "the parent signed in");
    match args[1].as_str() {
        "first-sync" => {
            core.sync_with_progress(&mut |p| {
                say(&format!("stored {} {}", p.done, p.total.unwrap_or(0)))
            })
            .await
            .expect("sync");
            say("done");
        }
        mode @ ("push" | "push-ack-early") => {
            let tag: u32 = arg.parse().expect("TAG");
            let matter: uuid::Uuid = core.matters().expect("matters")[0]
                .id
                .parse()
                .expect("a matter id");
            for k in 0.. {
                let id = note_id(tag, k);
                let fields = serde_json::json!({
                    "matter_id": matter,
                    "author": "Crash Harness",
                    "written_at": "2026-11-28T00:00:00Z",
                    "subject": format!("crash note {tag}/{k}"),
                    "body": "y".repeat(100 + (k as usize * 37) % 2000),
                });
                let op = EditOp::Upsert {
                    fields: fields.as_object().expect("an object").clone(),
                };
                if mode == "push-ack-early" {
                    say(&format!("ack {id}"));
                    // Long enough that the parent's kill lands before the commit on a loaded machine.
                    std::thread::sleep(Duration::from_millis(300));
                    core.edit(RecordKind::FileNote, id, op).expect("edit");
                } else {
                    core.edit(RecordKind::FileNote, id, op).expect("edit");
                    say(&format!("ack {id}"));
                }
                if k % 5 == 4 {
                    say("pushing");
                    // An unreachable moment is the parent's business; the edits stay queued.
                    let _ = core.sync().await;
                    say("pushed");
                }
            }
        }
        "rekey" => loop {
            core.rotate_key().expect("rotate");
            say("rotated");
        },
        "wipe" => {
            say("wiping");
            core.wipe().expect("wipe");
            say("wiped");
        }
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    }
}
