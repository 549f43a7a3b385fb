//! The first sync of a large practice over TLS on loopback, beside the raw bulk insert of
//! the same rows into a vault, measured in the same run.
//!
//! `cargo bench -p strongroom-client --bench first_sync`
//! Size: `STRONGROOM_BENCH_MATTERS` (default 100000; related records are ten times that).
//! `STRONGROOM_BENCH_OUT`: a file to write the figures to as JSON, for `scripts/bench`.
//!
//! The real server in-process (SQLite store in a temporary directory, TLS with its
//! development CA) with a practice seeded by `operator::seed_benchmark`; one desktop core
//! signs in without syncing, then `Core::sync` runs the first sync: pages of 5,000 changes
//! over HTTPS (gzip), decoded, stored in bulk transactions in a SQLCipher vault, then the
//! indexes and the full-text index built. Baseline: the same changes, read from the store
//! beforehand (not timed), applied to a fresh SQLCipher vault the same way (bulk mode,
//! the same transaction size, the same index build): the raw bulk insert.
//!
//! Without an OS keyring (as under a plain `cargo bench`) the synced vault's key comes
//! from a passphrase at a low Argon2 cost (unlocking is not measured); the baseline vault
//! has a random key.

#[path = "../../../benches/support/bench_out.rs"]
#[allow(dead_code)]
mod bench_out;

#[path = "../../../benches/support/desktop_user.rs"]
mod desktop_user;

#[path = "../../../benches/support/runtime.rs"]
mod runtime;

use std::time::{Duration, Instant};

use bench_out::{Measure, Report};

use strongroom_client::{Config, Core, ErrorCode};
use strongroom_protocol::ChangesPage;
use strongroom_server::ServeOptions;
use strongroom_server::store::records::Viewer;
use strongroom_vault::{BULK_BATCH_CHANGES, Vault, VaultKey};

const PASSPHRASE: &str = "a passphrase for the benchmark's vault";

fn secs(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64())
}

fn main() {
    runtime::run_as_desktop_user(bench)
}

async fn bench(as_user: String) {
    let matters: u32 = std::env::var("STRONGROOM_BENCH_MATTERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let related = u64::from(matters) * 10;
    let server_dir = tempfile::tempdir().unwrap();
    let server = strongroom_server::start(ServeOptions {
        data_dir: server_dir.path().to_owned(),
        listen: "127.0.0.1:0".parse().unwrap(),
        seed_demo: false,
    })
    .await
    .expect("server");
    eprintln!("seeding {matters} matters and {related} related records…");
    let seeded = strongroom_server::operator::seed_benchmark(
        server.store.as_ref(),
        matters,
        related,
        |_, _| {},
    )
    .await
    .expect("seed");

    // The baseline's input: every change the member will pull, read from the store.
    let mut pages: Vec<ChangesPage> = Vec::new();
    let mut cursor = 0;
    loop {
        let page = server
            .store
            .changes_after(seeded.practice, Viewer::Service, cursor, 5000)
            .await
            .unwrap();
        cursor = page.cursor;
        let more = page.has_more;
        pages.push(page);
        if !more {
            break;
        }
    }
    let rows: usize = pages.iter().map(|p| p.changes.len()).sum();

    // The first sync, end to end.
    let ca_pem = std::fs::read_to_string(&server.ca_pem_path).unwrap();
    let app_dir = tempfile::tempdir().unwrap();
    let mut cfg = Config::new(app_dir.path().join("data"));
    cfg.keyring_service = format!("law.strongroom.bench.{}", uuid::Uuid::new_v4());
    cfg.practice_ca_pem = Some(ca_pem);
    cfg.without_os_roots = true;
    cfg.passphrase_cost = (8 * 1024, 1);
    let mut core = Core::new(cfg);
    core.start().expect("start");
    let url = server.url();
    if let Err(e) = core
        .sign_in_without_sync(&url, &seeded.email, &seeded.password, None)
        .await
    {
        assert_eq!(e.code(), ErrorCode::PassphraseRequired, "sign in: {e}");
        core.sign_in_without_sync(&url, &seeded.email, &seeded.password, Some(PASSPHRASE))
            .await
            .expect("sign in with a passphrase");
    }
    eprintln!("first sync of {rows} changes…");
    let t = Instant::now();
    let report = core.sync().await.expect("first sync");
    let sync_took = t.elapsed();
    assert_eq!(report.applied, rows, "the sync stored every change");
    core.close().unwrap();

    // The raw bulk insert of the same rows.
    eprintln!("raw bulk insert of the same {rows} changes…");
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let t = Instant::now();
    let mut v = Vault::create(&dir.path().join("raw.db"), &key).unwrap();
    v.begin_bulk_load().unwrap();
    let mut start = 0;
    while start < pages.len() {
        let mut end = start;
        let mut changes = 0;
        while end < pages.len() && (end == start || changes < BULK_BATCH_CHANGES) {
            changes += pages[end].changes.len();
            end += 1;
        }
        v.apply_pages(&pages[start..end], "2026-11-27T00:00:00Z")
            .unwrap();
        start = end;
    }
    v.finish_bulk_load().unwrap();
    let raw_took = t.elapsed();
    v.close().unwrap();

    let rate = |d: Duration| rows as f64 / d.as_secs_f64();
    println!("| measure | result | baseline (same run) | target |");
    println!("|---|---|---|---|");
    println!(
        "| first sync, {rows} changes ({matters} matters), TLS on loopback | {} s ({:.0} rows/s), {} pages, {} bytes decoded | raw bulk insert into a vault {} s ({:.0} rows/s); {:.2}x | <= 10 s, <= 2x |",
        secs(sync_took),
        rate(sync_took),
        report.pages,
        report.bytes,
        secs(raw_took),
        rate(raw_took),
        sync_took.as_secs_f64() / raw_took.as_secs_f64(),
    );

    let mut out = Report::new("first_sync");
    out.note(as_user);
    out.scale("matters", matters);
    out.scale("related", related);
    out.scale("changes", rows as u64);
    let raw = "raw bulk insert of the same changes into a SQLCipher vault";
    let ratio = sync_took.as_secs_f64() / raw_took.as_secs_f64();
    out.push(
        Measure::new(
            "first-sync-time",
            &format!("first sync, {rows} changes ({matters} matters), TLS on loopback"),
            sync_took.as_secs_f64(),
            "s",
        )
        .at_most(10.0)
        .baseline(raw_took.as_secs_f64(), "s", raw)
        .detail(&format!(
            "{:.0} rows/s beside {:.0}; {} pages, {:.0} MB decoded",
            rate(sync_took),
            rate(raw_took),
            report.pages,
            report.bytes as f64 / 1e6
        )),
    );
    out.push(
        Measure::new(
            "first-sync-ratio",
            "first sync time over the raw bulk insert's",
            ratio,
            "x",
        )
        .at_most(2.0)
        .baseline(raw_took.as_secs_f64(), "s", raw),
    );
    out.write();
    server.stop().await;
}
