//! The crash test's child process: it works on a vault and reports each acknowledged step
//! on stdout, until the parent kills it with SIGKILL.
//!
//! `vault-crash-child commit VAULT KEYHEX START`: from seq START on, applies one page per
//! transaction (a file note and the cursor) and prints `ack SEQ` after each commit.
//! `vault-crash-child rekey VAULT OLDHEX NEWHEX PENDINGFILE`: rekeys the vault to the new
//! key, writing the new key's hex to PENDINGFILE before the swap, and prints `rekeyed`.

use std::io::Write;
use std::path::Path;

use strongroom_protocol::{Change, ChangeRecord, ChangesPage, FileNote};
use strongroom_vault::{Vault, VaultKey};

fn key(hex_text: &str) -> VaultKey {
    let bytes = hex::decode(hex_text).expect("key hex");
    VaultKey::from_slice(&bytes).expect("32-byte key")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut out = std::io::stdout().lock();
    match args.get(1).map(String::as_str) {
        Some("commit") => {
            let path = Path::new(&args[2]);
            let mut vault = Vault::open(path, &key(&args[3])).expect("open");
            let mut seq: i64 = args[4].parse().expect("start");
            let matter_id = uuid::Uuid::from_u128(1);
            loop {
                let page = ChangesPage {
                    changes: vec![Change {
                        seq,
                        version: 1,
                        record: ChangeRecord::FileNote {
                            file_note: FileNote {
                                id: uuid::Uuid::from_u128(seq as u128 + 1000),
                                matter_id,
                                author: "Crash Test".into(),
                                written_at: "2026-11-27T00:00:00Z".into(),
                                subject: format!("note {seq}"),
                                body: "x".repeat(200 + (seq as usize % 3000)),
                            },
                        },
                    }],
                    cursor: seq,
                    has_more: true,
                    total: None,
                };
                vault.apply_page(&page, "t").expect("apply");
                writeln!(out, "ack {seq}").expect("stdout");
                out.flush().expect("flush");
                seq += 1;
            }
        }
        Some("rekey") => {
            let path = Path::new(&args[2]);
            let vault = Vault::open(path, &key(&args[3])).expect("open");
            let new = key(&args[4]);
            let pending = args[5].clone();
            let new_hex = args[4].clone();
            let _vault = vault
                .rekey(&new, move || {
                    let mut f = std::fs::File::create(&pending)?;
                    f.write_all(new_hex.as_bytes())?;
                    f.sync_all()?;
                    Ok(())
                })
                .expect("rekey");
            writeln!(out, "rekeyed").expect("stdout");
        }
        _ => {
            eprintln!(
                "usage: vault-crash-child commit VAULT KEYHEX START | rekey VAULT OLDHEX NEWHEX PENDINGFILE"
            );
            std::process::exit(2);
        }
    }
}
