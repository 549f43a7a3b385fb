//! An edit on one device visible on another: the whole live path, measured.
//!
//! `cargo bench -p strongroom-client --bench live`
//!
//! The real server (SQLite store, TLS on loopback, the demo practice) and two desktop cores
//! with SQLCipher vaults, each running its live loop (`run_live`) as the app does. Device
//! A edits a matter's title (`Core::edit`, which queues it and pokes A's loop); A's loop
//! pushes it; the service pokes B's open event stream; B's loop pulls it into B's vault.
//! Each sample is the time from the edit call to the end of the B sync that applied it
//! (checked in B's vault after each sample, outside the timing). Samples:
//! `STRONGROOM_BENCH_EDITS` (default 300), after 20 of warm-up. `STRONGROOM_BENCH_OUT`: a
//! file to write the figures to as JSON, for `scripts/bench`.
//!
//! Without an OS keyring (as under a plain `cargo bench`) the vaults use passphrase keys,
//! at a low Argon2 cost: unlocking is not what is measured here.

#[path = "../../../benches/support/bench_out.rs"]
#[allow(dead_code)]
mod bench_out;

#[path = "../../../benches/support/desktop_user.rs"]
mod desktop_user;

#[path = "../../../benches/support/runtime.rs"]
mod runtime;

use std::sync::Arc;
use std::time::{Duration, Instant};

use strongroom_client::{
    Config, Core, EditOp, ErrorCode, LiveOptions, LiveUpdate, SyncReport, run_live,
};
use strongroom_protocol::RecordKind;
use strongroom_server::{ServeOptions, seed};
use tokio::sync::{Mutex, mpsc};

use bench_out::{Measure, Report};

const PASSPHRASE: &str = "a passphrase for the benchmark's vaults";

async fn device(server_url: &str, ca_pem: &str, dir: &std::path::Path, service: &str) -> Core {
    let mut cfg = Config::new(dir.join("data"));
    cfg.keyring_service = service.to_owned();
    cfg.practice_ca_pem = Some(ca_pem.to_owned());
    cfg.without_os_roots = true;
    cfg.passphrase_cost = (8 * 1024, 1);
    let mut core = Core::new(cfg);
    core.start().expect("start");
    match core
        .sign_in(server_url, seed::DEMO_EMAIL, seed::DEMO_PASSWORD, None)
        .await
    {
        Ok(_) => {}
        Err(e) if e.code() == ErrorCode::PassphraseRequired => {
            core.sign_in(
                server_url,
                seed::DEMO_EMAIL,
                seed::DEMO_PASSWORD,
                Some(PASSPHRASE),
            )
            .await
            .expect("sign in with a passphrase");
        }
        Err(e) => panic!("sign in: {e}"),
    }
    core
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn main() {
    runtime::run_as_desktop_user(bench)
}

async fn bench(as_user: String) {
    let samples: usize = std::env::var("STRONGROOM_BENCH_EDITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let server_dir = tempfile::tempdir().unwrap();
    let server = strongroom_server::start(ServeOptions {
        data_dir: server_dir.path().to_owned(),
        listen: "127.0.0.1:0".parse().unwrap(),
        seed_demo: true,
    })
    .await
    .expect("server");
    let ca_pem = std::fs::read_to_string(&server.ca_pem_path).unwrap();
    let service = format!("law.strongroom.bench.{}", uuid::Uuid::new_v4());
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Arc::new(Mutex::new(
        device(&server.url(), &ca_pem, dir_a.path(), &service).await,
    ));
    let b = Arc::new(Mutex::new(
        device(&server.url(), &ca_pem, dir_b.path(), &service).await,
    ));
    let opts = LiveOptions {
        poll_interval: Duration::from_secs(3600),
        ..Default::default()
    };
    // B's syncs that brought something, stamped as they end.
    let (applied_tx, mut applied_rx) = mpsc::unbounded_channel::<Instant>();
    let (connected_tx, mut connected_rx) = mpsc::unbounded_channel::<()>();
    for (core, tell) in [(a.clone(), false), (b.clone(), true)] {
        let opts = opts.clone();
        let (applied_tx, connected_tx) = (applied_tx.clone(), connected_tx.clone());
        tokio::spawn(async move {
            let control = core.lock().await.live_control();
            run_live(&core, &control, opts, move |u| match u {
                LiveUpdate::Connected => {
                    let _ = connected_tx.send(());
                }
                LiveUpdate::Synced(Ok(SyncReport { applied, .. })) if tell && *applied > 0 => {
                    let _ = applied_tx.send(Instant::now());
                }
                _ => {}
            })
            .await
        });
    }
    for _ in 0..2 {
        tokio::time::timeout(Duration::from_secs(30), connected_rx.recv())
            .await
            .expect("both live streams open");
    }
    // Let the first syncs on connecting finish before measuring.
    tokio::time::sleep(Duration::from_millis(500)).await;
    while applied_rx.try_recv().is_ok() {}

    let matter_id: uuid::Uuid = a.lock().await.matters().unwrap()[0].id.parse().unwrap();
    let mut latencies = Vec::with_capacity(samples);
    let started = Instant::now();
    for i in 0..(samples + 20) {
        let title = format!("Live edit {i}");
        let t0 = Instant::now();
        a.lock()
            .await
            .edit(
                RecordKind::Matter,
                matter_id,
                EditOp::Upsert {
                    fields: serde_json::json!({ "title": title })
                        .as_object()
                        .unwrap()
                        .clone(),
                },
            )
            .expect("edit");
        let t1 = tokio::time::timeout(Duration::from_secs(30), applied_rx.recv())
            .await
            .expect("the edit reached the other device within 30 s")
            .unwrap();
        // Outside the timing: B's vault holds exactly this edit.
        let seen = b
            .lock()
            .await
            .matters()
            .unwrap()
            .into_iter()
            .find(|m| m.id == matter_id.to_string())
            .unwrap()
            .title;
        assert_eq!(seen, title, "sample {i}: the other device shows the edit");
        if i >= 20 {
            latencies.push(t1.saturating_duration_since(t0));
        }
    }
    let total = started.elapsed();
    latencies.sort();
    println!(
        "edit visible on another device, {} samples ({:.1} s): p50 {} ms, p99 {} ms, max {} ms \
         (targets: p50 <= 50 ms, p99 <= 200 ms)",
        latencies.len(),
        total.as_secs_f64(),
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
        ms(*latencies.last().unwrap()),
    );
    let ms_of = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut report = Report::new("live");
    report.note(as_user);
    report.scale("edits", latencies.len() as u64);
    report.scale("warm_up_edits", 20u64);
    let name = format!(
        "edit visible on another device, of {} edits",
        latencies.len()
    );
    report.push(
        Measure::new(
            "live-p50",
            &format!("{name}, p50"),
            ms_of(percentile(&latencies, 0.50)),
            "ms",
        )
        .at_most(50.0),
    );
    report.push(
        Measure::new(
            "live-p99",
            &format!("{name}, p99"),
            ms_of(percentile(&latencies, 0.99)),
            "ms",
        )
        .at_most(200.0)
        .detail(&format!("max {} ms", ms(*latencies.last().unwrap()))),
    );
    report.write();
    server.stop().await;
}
