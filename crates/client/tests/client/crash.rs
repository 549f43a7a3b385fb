//! The crash harness across the sync path: the desktop core runs in a child process
//! (`client-crash-child`) against the real server over TLS, with a real SQLCipher vault and
//! the real keyring, and is killed with SIGKILL during the first sync, during pushes,
//! during key rotation and during a wipe. After every kill a fresh core starts on what is
//! left, and the harness checks that every step the child acknowledged survived: stored
//! batches, edits (on the device, then on the service exactly once), the vault under one of
//! its keys, and a wipe that is either not begun or complete, never torn.
//!
//! A control run acknowledges edits before committing them (durability switched off, as
//! the user sees it) and the harness must report the loss: it shows the harness can fail.
//!
//! Each report prints its kill points and losses; `docs/CRASH.md` records a longer run
//! (`STRONGROOM_CRASH_POINTS=N` multiplies the kill points).

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use strongroom_client::{Config, Core, SearchRequest, profile_for};
use strongroom_keystore::SecretKind;
use strongroom_protocol::RecordKind;
use strongroom_server::store::records::Viewer;
use strongroom_server::{operator, seed};

use super::Env;

/// The id of the `k`th note of a push run tagged `tag`, as the child makes it.
fn note_id(tag: u32, k: u32) -> uuid::Uuid {
    uuid::Uuid::from_u128((0x5eed_c4a5_u128 << 96) | (u128::from(tag) << 32) | u128::from(k))
}

/// Kill points per harness, times `STRONGROOM_CRASH_POINTS` (default 1).
fn points(base: usize) -> usize {
    let scale: usize = std::env::var("STRONGROOM_CRASH_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    base * scale.max(1)
}

/// A child at work, and the lines it has printed so far.
struct Running {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    fn spawn(env: &Env, data: &Path, mode: &str, arg: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_client-crash-child"))
            .args([
                mode,
                data.to_str().unwrap(),
                &env.service,
                env.server.ca_pem_path.to_str().unwrap(),
                arg,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the crash child");
        let out = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Running {
            child,
            lines,
            reader: Some(reader),
        }
    }

    fn count(&self, prefix: &str) -> usize {
        let lines = self.lines.lock().unwrap();
        lines.iter().filter(|l| l.starts_with(prefix)).count()
    }

    /// Waits until `n` lines start with `prefix`, the child ends, or `limit` passes.
    /// Answers whether the lines came.
    fn wait_for(&mut self, prefix: &str, n: usize, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.count(prefix) >= n {
                return true;
            }
            if self.child.try_wait().unwrap().is_some() {
                return self.count(prefix) >= n;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        false
    }

    /// SIGKILL (if still running); answers whether it was still running, and every line.
    fn kill(mut self) -> (bool, Vec<String>) {
        let running = self.child.try_wait().unwrap().is_none();
        let _ = self.child.kill();
        self.child.wait().unwrap();
        self.reader.take().unwrap().join().unwrap();
        let lines = self.lines.lock().unwrap().clone();
        (running, lines)
    }
}

fn config(env: &Env, data: &Path) -> Config {
    let mut cfg = env.config();
    cfg.data_dir = data.to_owned();
    cfg
}

/// A device in `data`, signed in to the demo practice and synced.
async fn demo_device(env: &Env, data: &Path) -> Core {
    let mut core = Core::new(config(env, data));
    core.start().unwrap();
    core.sign_in(
        &env.server.url(),
        seed::DEMO_EMAIL,
        seed::DEMO_PASSWORD,
        None,
    )
    .await
    .unwrap();
    core
}

/// A core started on what a killed child left: it must open.
fn restart(env: &Env, data: &Path) -> Core {
    let mut core = Core::new(config(env, data));
    let st = core.start().expect("the core starts after every kill");
    assert!(
        st.set_aside.is_none(),
        "a kill never leaves a vault that must be set aside"
    );
    core
}

fn millis(range: std::ops::Range<u64>) -> Duration {
    Duration::from_millis(rand::random_range(range))
}

#[derive(Debug, Default)]
struct Report {
    kill_points: usize,
    acknowledged: usize,
    lost: usize,
    doubled: usize,
}

/// The first sync of an 8,000-matter practice in batches of 200, killed again and again
/// until it completes: every stored batch survives, the resumed sync completes with every
/// matter once, and the search index is built.
async fn crash_first_sync(env: &Env, kills: usize) -> Report {
    let seeded = operator::seed_benchmark(env.server.store.as_ref(), 8_000, 0, |_, _| {})
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut core = Core::new(config(env, &data));
    core.start().unwrap();
    core.sign_in_without_sync(&env.server.url(), &seeded.email, &seeded.password, None)
        .await
        .unwrap();
    core.close().unwrap();
    drop(core);
    let mut report = Report::default();
    let mut finished = false;
    let mut held_before = 0u64;
    for i in 0..kills * 3 {
        let mut run = Running::spawn(env, &data, "first-sync", "200");
        // Two kills in three right after a batch is acknowledged, one at a random moment
        // (during start, a fetch, a batch's transaction, or the index build at the end).
        if i % 3 != 2 {
            run.wait_for("stored", rand::random_range(1..3), Duration::from_secs(60));
        } else {
            std::thread::sleep(millis(5..250));
        }
        let (killed, lines) = run.kill();
        finished = lines.iter().any(|l| l == "done");
        // Changes this run stored, by its last acknowledgement (`done` counts this run's).
        let stored: u64 = lines
            .iter()
            .filter_map(|l| l.strip_prefix("stored "))
            .filter_map(|l| l.split(' ').next()?.parse().ok())
            .max()
            .unwrap_or(0);
        report.acknowledged += lines
            .iter()
            .filter(|l| l.starts_with("stored ") && !l.starts_with("stored 0 "))
            .count();
        let mut core = restart(env, &data);
        let held = core.status().unwrap().matter_count as u64;
        if killed && !finished {
            report.kill_points += 1;
        }
        report.lost += (held_before + stored).saturating_sub(held) as usize;
        held_before = held;
        core.close().unwrap();
        if finished || report.kill_points >= kills {
            break;
        }
    }
    // Whatever is left, synced to the end: every matter once, and searchable.
    let mut core = restart(env, &data);
    if !finished {
        core.sync().await.unwrap();
    }
    let st = core.status().unwrap();
    assert_eq!(st.matter_count, 8_000, "every matter once");
    let number = core.matters().unwrap()[0].number.clone();
    let hits = core
        .search(&SearchRequest {
            text: number,
            ..Default::default()
        })
        .unwrap();
    assert!(!hits.is_empty(), "the search index was built");
    core.close().unwrap();
    report
}

/// Notes created and pushed, the child killed at random moments, right after an
/// acknowledgement, or mid-push. Every acknowledged note is in the vault after the kill and
/// on the service after the next sync, at version 1 (applied once).
async fn crash_pushes(env: &Env, kills: usize, mode: &str) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut core = demo_device(env, &data).await;
    core.close().unwrap();
    drop(core);
    let practice = env
        .server
        .store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .practice_id;
    let mut report = Report::default();
    let mut acked_all: Vec<uuid::Uuid> = Vec::new();
    let mut made: Vec<uuid::Uuid> = Vec::new();
    for point in 0..kills {
        // Note ids are made from the tag: the control's must not be the real run's, whose
        // notes are already on the service and would come back with the first sync.
        let tag = point as u32 + if mode == "push-ack-early" { 1_000 } else { 0 };
        let mut run = Running::spawn(env, &data, mode, &tag.to_string());
        // The control is killed right after an acknowledgement, where its edit is not yet
        // committed; the real run at three kinds of moment.
        let moment = if mode == "push-ack-early" {
            0
        } else {
            point % 3
        };
        match moment {
            0 if mode == "push-ack-early" => {
                // The control acknowledges every 300 ms; a few acknowledgements in.
                run.wait_for("ack", rand::random_range(1..4), Duration::from_secs(30));
            }
            0 => {
                run.wait_for("ack", rand::random_range(1..12), Duration::from_secs(30));
            }
            1 => {
                run.wait_for("pushing", rand::random_range(1..3), Duration::from_secs(30));
                std::thread::sleep(millis(0..40));
            }
            _ => std::thread::sleep(millis(50..600)),
        }
        let (_, lines) = run.kill();
        report.kill_points += 1;
        let acked: Vec<uuid::Uuid> = lines
            .iter()
            .filter_map(|l| l.strip_prefix("ack ")?.parse().ok())
            .collect();
        report.acknowledged += acked.len();
        let mut core = restart(env, &data);
        for id in &acked {
            if core.record(RecordKind::FileNote, *id).unwrap().is_none() {
                report.lost += 1;
            }
        }
        // Everything this run committed, acknowledged or not: the service must end with it.
        for k in 0..(acked.len() as u32 + 2) {
            let id = note_id(tag, k);
            if core.record(RecordKind::FileNote, id).unwrap().is_some() {
                made.push(id);
            }
        }
        core.close().unwrap();
        acked_all.extend(acked);
    }
    // The edits left in the outbox go out; then the service holds each note exactly once.
    let mut core = restart(env, &data);
    let mut synced = false;
    for _ in 0..3 {
        if core.sync().await.is_ok() && core.status().unwrap().pending_edits == 0 {
            synced = true;
            break;
        }
    }
    assert!(synced, "the outbox drains after the kills");
    // A push applied twice could also surface as a conflict or a refusal.
    let st = core.status().unwrap();
    report.doubled += (st.open_conflicts + st.rejected_edits) as usize;
    core.close().unwrap();
    for id in &made {
        let on_server = env
            .server
            .store
            .record(practice, Viewer::Service, RecordKind::FileNote, *id)
            .await
            .unwrap();
        match on_server {
            None => {
                if acked_all.contains(id) {
                    report.lost += 1;
                }
            }
            Some(change) if change.version != 1 => report.doubled += 1,
            Some(_) => {}
        }
    }
    report
}

/// Key rotations killed at random moments: the vault always opens from the keyring with
/// every record, never set aside.
async fn crash_rekeys(env: &Env, kills: usize) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut core = demo_device(env, &data).await;
    let expected = core.status().unwrap().matter_count;
    assert!(expected > 0);
    core.close().unwrap();
    drop(core);
    let mut report = Report::default();
    for point in 0..kills {
        let mut run = Running::spawn(env, &data, "rekey", "");
        if point == 0 {
            // The core's process writes no core dump (`protect_process_memory`).
            run.wait_for("rotated", 1, Duration::from_secs(30));
            let limits =
                std::fs::read_to_string(format!("/proc/{}/limits", run.child.id())).unwrap();
            let core_line = limits
                .lines()
                .find(|l| l.starts_with("Max core file size"))
                .unwrap()
                .split_whitespace()
                .skip(4)
                .take(2)
                .collect::<Vec<_>>();
            assert_eq!(core_line, ["0", "0"], "no core dumps: {limits}");
        }
        if point % 2 == 0 {
            run.wait_for("rotated", rand::random_range(1..4), Duration::from_secs(30));
            std::thread::sleep(millis(0..15));
        } else {
            std::thread::sleep(millis(20..400));
        }
        let (_, lines) = run.kill();
        report.kill_points += 1;
        report.acknowledged += lines.iter().filter(|l| *l == "rotated").count();
        let mut core = restart(env, &data);
        let st = core.status().unwrap();
        if !(st.signed_in && !st.locked && st.matter_count == expected) {
            report.lost += 1;
        }
        core.close().unwrap();
    }
    report
}

/// What a wipe that was killed left behind.
#[derive(Debug, Default)]
struct WipeReport {
    kill_points: usize,
    /// The wipe had not begun: the vault opens with everything.
    intact: usize,
    /// Nothing left: no vault file, no key.
    wiped: usize,
    /// Anything else (a key without its vault, part of the files): must be none.
    torn: usize,
    /// Acknowledged (`wiped` printed) but something was left: must be none.
    acked_but_left: usize,
}

/// Wipes killed at random moments. After the kill, a fresh core's start finishes any wipe
/// that began; then the device holds either its whole vault or nothing at all.
async fn crash_wipes(env: &Env, kills: usize) -> WipeReport {
    let mut report = WipeReport::default();
    let mut wipe_takes = Duration::from_millis(5);
    for point in 0..kills {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let mut core = demo_device(env, &data).await;
        let expected = core.status().unwrap().matter_count;
        core.close().unwrap();
        drop(core);
        let mut run = Running::spawn(env, &data, "wipe", "");
        run.wait_for("wiping", 1, Duration::from_secs(30));
        if point == 0 {
            // The first wipe runs to its end, timed: the kills after it land within that
            // time (and a little after), however loaded the machine is.
            let began = Instant::now();
            run.wait_for("wiped", 1, Duration::from_secs(30));
            wipe_takes = began.elapsed().max(Duration::from_millis(1));
        } else {
            let span = wipe_takes.as_micros() as u64 * 6 / 5;
            std::thread::sleep(Duration::from_micros(rand::random_range(0..span)));
        }
        let (_, lines) = run.kill();
        report.kill_points += 1;
        let acked = lines.iter().any(|l| l == "wiped");
        // A fresh start finishes a wipe that began.
        let mut core = Core::new(config(env, &data));
        let st = core.start().expect("the core starts after every kill");
        let profile = profile_for(&data);
        let ks = env.keystore();
        let keys = [
            SecretKind::VaultKey,
            SecretKind::PendingVaultKey,
            SecretKind::SessionToken,
        ]
        .iter()
        .filter(|k| ks.get(**k, &profile).unwrap().is_some())
        .count();
        let files = super::files_under(&data.join("vault")).len();
        core.close().unwrap();
        if st.signed_in && !st.locked && st.matter_count == expected && keys >= 2 {
            report.intact += 1;
        } else if !st.signed_in && keys == 0 && files == 0 {
            report.wiped += 1;
        } else {
            report.torn += 1;
            eprintln!("torn wipe: {st:?}, {keys} keys, {files} files");
        }
        if acked && (keys > 0 || files > 0) {
            report.acked_but_left += 1;
        }
        // Whatever the outcome, this device's keys go with the test.
        for kind in [
            SecretKind::VaultKey,
            SecretKind::PendingVaultKey,
            SecretKind::SessionToken,
        ] {
            ks.delete(kind, &profile).unwrap();
        }
    }
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_on_the_sync_path_loses_no_acknowledged_step() {
    let env = Env::new().await;

    let first = crash_first_sync(&env, points(6)).await;
    println!("crash harness, first sync: {first:?}");
    assert!(
        first.kill_points >= 3,
        "the first sync was killed part-way: {first:?}"
    );
    assert_eq!(first.lost, 0, "{first:?}");

    let push = crash_pushes(&env, points(9), "push").await;
    println!("crash harness, push: {push:?}");
    assert!(push.acknowledged > 0, "{push:?}");
    assert_eq!((push.lost, push.doubled), (0, 0), "{push:?}");

    let rekey = crash_rekeys(&env, points(6)).await;
    println!("crash harness, rekey: {rekey:?}");
    assert!(rekey.acknowledged > 0, "{rekey:?}");
    assert_eq!(rekey.lost, 0, "{rekey:?}");

    let wipe = crash_wipes(&env, points(6)).await;
    println!("crash harness, wipe: {wipe:?}");
    assert_eq!((wipe.torn, wipe.acked_but_left), (0, 0), "{wipe:?}");
    assert!(
        wipe.wiped > 0,
        "some kills came after the wipe began: {wipe:?}"
    );

    // The control: acknowledging before committing must show as a loss.
    let control = crash_pushes(&env, points(3), "push-ack-early").await;
    println!("crash harness, control (acknowledged before commit): {control:?}");
    assert!(
        control.lost > 0,
        "the harness catches a loss when durability is off: {control:?}"
    );

    println!(
        "crash harness: {} kill points, {} acknowledged steps, {} lost",
        first.kill_points + push.kill_points + rekey.kill_points + wipe.kill_points,
        first.acknowledged + push.acknowledged + rekey.acknowledged + wipe.wiped,
        first.lost + push.lost + rekey.lost + wipe.torn + wipe.acked_but_left,
    );
    env.cleanup_keyring();
}
