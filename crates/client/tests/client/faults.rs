//! The fault matrix: every fault of a TCP proxy on loopback against every phase of a sync,
//! one cell each, from one table (`PHASES` × `MODES`), and a long soak of random faults.
//!
//! The proxy passes TLS through untouched (the client still verifies the server), so it
//! sees only the turns of the conversation: the client speaks, the server answers the
//! handshake, then the client's next bytes carry its request. "After the request" below
//! means after that third turn. A fault applies to new connections and to the open ones
//! (a pooled connection, the live stream) from the moment it is set, so it lands where the
//! test sets it: before an operation, or mid-way through one (the first sync and a pull
//! set it from the progress callback, after the first batch is stored; the holdings report
//! after the last).
//!
//! Every cell holds the same invariants: the operation ends, in time, either well or with a
//! typed error (`ErrorCode`), never a panic or a hang; no acknowledged edit is lost and
//! none is applied twice (each edited record's version on the service moves by exactly
//! one, and every pulled change is stored once); and once the fault clears, a sync leaves
//! the device holding exactly what the service holds. The matrix prints as a table.
//!
//! The soak (`scripts/soak`, ignored in the normal run) flips random faults at random
//! moments under several devices editing for `STRONGROOM_SOAK_SECS`, then checks the same.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use strongroom_client::{
    ClientError, Config, Core, EditOp, ErrorCode, LiveOptions, LiveUpdate, SyncProgress, Timeouts,
    run_live,
};
use strongroom_protocol::{ChangeRecord, ConflictResolution, RecordKind};
use strongroom_server::seed;
use strongroom_server::store::Store;
use strongroom_server::store::records::Viewer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::Env;

/// What the proxy does, from the moment it is set, to new connections and open ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Passes everything.
    Pass,
    /// Nothing listens: connections are refused (the open ones are reset).
    Refused,
    /// Accepts each connection and closes it at once (the open ones too).
    Drop,
    /// Accepts and never answers: nothing is passed either way until the fault clears, so
    /// the client's own timeout must fire (a paused network: nothing is lost, only late).
    Stall,
    /// Passes everything, each chunk late.
    Delay(Duration),
    /// Passes the answers a few bytes at a time: a narrow link.
    Trickle { bytes: usize, every: Duration },
    /// After the request, passes this many bytes of the answers, then closes.
    Cut(usize),
    /// After the request, holds the answer back until told (once the service has committed
    /// what the request asked), then resets the connection.
    HoldThenReset,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::Pass => "pass",
            Fault::Refused => "refused",
            Fault::Drop => "drop",
            Fault::Stall => "stall",
            Fault::Delay(_) => "delay",
            Fault::Trickle { .. } => "trickle",
            Fault::Cut(n) if n < 1024 => "cut-early",
            Fault::Cut(_) => "cut-late",
            Fault::HoldThenReset => "hold+reset",
        }
    }

    /// Whether every request still gets its whole answer (late, maybe).
    fn passes(self) -> bool {
        matches!(self, Fault::Pass | Fault::Delay(_) | Fault::Trickle { .. })
    }
}

/// The fault modes of the matrix.
const MODES: [Fault; 9] = [
    Fault::Pass,
    Fault::Refused,
    Fault::Drop,
    Fault::Stall,
    Fault::Delay(Duration::from_millis(30)),
    Fault::Trickle {
        bytes: 512,
        every: Duration::from_millis(2),
    },
    // Early (64 bytes): inside the first answer's first record, or the handshake's tail on
    // a new connection. Late (3,000 bytes): past the headers, inside a page's body (the
    // pages here carry long descriptions); a smaller answer passes whole.
    Fault::Cut(64),
    Fault::Cut(3000),
    Fault::HoldThenReset,
];

/// The phases of a sync, named as the code names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// `Core::sign_in_without_sync`: `GET /v1/health`, `POST /v1/auth/sign-in`; the fault
    /// is set before it.
    SignIn,
    /// The first `Core::sync` of a new vault (bulk load), many pages; the fault lands
    /// after the first batch is stored.
    FirstSync,
    /// An incremental pull (`SyncSession::fetch_batch`), two pages; the fault lands after
    /// the first.
    Pull,
    /// `SyncSession::push` of local edits; the fault is set before the sync. Held and
    /// reset after the service committed them.
    Push,
    /// `Core::resolve_conflict`; the fault is set before it. Held and reset after the
    /// service wrote the resolution.
    ResolveConflict,
    /// `run_live`: the event stream and the syncs it runs, on a local edit and on another
    /// device's; the fault lands on the open stream.
    Live,
    /// The holdings report after a sync (`tell_holdings`); the fault lands after the last
    /// page is stored.
    Holdings,
}

const PHASES: [Phase; 7] = [
    Phase::SignIn,
    Phase::FirstSync,
    Phase::Pull,
    Phase::Push,
    Phase::ResolveConflict,
    Phase::Live,
    Phase::Holdings,
];

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::SignIn => "sign_in",
            Phase::FirstSync => "first_sync",
            Phase::Pull => "pull",
            Phase::Push => "push",
            Phase::ResolveConflict => "resolve_conflict",
            Phase::Live => "run_live",
            Phase::Holdings => "tell_holdings",
        }
    }
}

/// A TCP proxy on loopback in front of the service, with a fault set from the test.
struct Proxy {
    addr: std::net::SocketAddr,
    upstream: std::net::SocketAddr,
    mode: watch::Sender<Fault>,
    accept: Mutex<Option<JoinHandle<()>>>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
    /// Wakes held connections to reset them.
    reset: Arc<Notify>,
    /// Connections holding an answer back now.
    held: Arc<AtomicUsize>,
    /// Faults set, by name.
    injected: Mutex<BTreeMap<&'static str, usize>>,
}

impl Proxy {
    async fn start(upstream: std::net::SocketAddr) -> Self {
        let (mode, _) = watch::channel(Fault::Pass);
        let mut proxy = Proxy {
            addr: "127.0.0.1:0".parse().unwrap(),
            upstream,
            mode,
            accept: Mutex::new(None),
            conns: Default::default(),
            reset: Arc::new(Notify::new()),
            held: Arc::new(AtomicUsize::new(0)),
            injected: Default::default(),
        };
        proxy.addr = proxy.listen();
        proxy
    }

    /// Listens on the proxy's address (a free port the first time) and accepts in a task.
    fn listen(&self) -> std::net::SocketAddr {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(self.addr).unwrap();
        let listener = socket.listen(128).unwrap();
        let addr = listener.local_addr().unwrap();
        let (mode, conns, reset, held, upstream) = (
            self.mode.clone(),
            self.conns.clone(),
            self.reset.clone(),
            self.held.clone(),
            self.upstream,
        );
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let rx = mode.subscribe();
                let (reset, held) = (reset.clone(), held.clone());
                let task = tokio::spawn(serve(client, upstream, rx, reset, held));
                let mut conns = conns.lock().unwrap();
                conns.retain(|c| !c.is_finished());
                conns.push(task);
            }
        });
        *self.accept.lock().unwrap() = Some(task);
        addr
    }

    fn url(&self) -> String {
        format!("https://{}/", self.addr)
    }

    /// Sets the fault from now on.
    fn set(&self, fault: Fault) {
        let old = self.mode.send_replace(fault);
        if fault != Fault::Pass && fault != old {
            *self
                .injected
                .lock()
                .unwrap()
                .entry(fault.name())
                .or_default() += 1;
        }
        let listening = self.accept.lock().unwrap().is_some();
        if fault == Fault::Refused && listening {
            if let Some(task) = self.accept.lock().unwrap().take() {
                task.abort();
            }
        } else if fault != Fault::Refused && !listening {
            self.listen();
        }
    }

    /// Resets the connections holding an answer.
    fn reset_held(&self) {
        self.reset.notify_waiters();
    }

    fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(task) = self.accept.lock().unwrap().take() {
            task.abort();
        }
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }
}

/// Ends a connection with a reset rather than a close.
fn reset(stream: &TcpStream) {
    let _ = stream.set_zero_linger();
}

/// A connection's part in [`Proxy::held`]: counted while it holds an answer back.
struct Hold<'a> {
    held: &'a AtomicUsize,
    on: bool,
}

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        if self.on {
            self.held.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

async fn serve(
    client: TcpStream,
    upstream: std::net::SocketAddr,
    mut rx: watch::Receiver<Fault>,
    release: Arc<Notify>,
    held: Arc<AtomicUsize>,
) {
    let mut client = client;
    let mut mode = *rx.borrow_and_update();
    if matches!(mode, Fault::Refused | Fault::Drop) {
        reset(&client);
        return;
    }
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut cbuf, mut sbuf) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    let mut server_spoke = false;
    let mut requested = false;
    let mut answered = 0usize;
    let mut hold = Hold {
        held: &held,
        on: false,
    };
    loop {
        let stalled = mode == Fault::Stall;
        tokio::select! {
            changed = rx.changed() => {
                if changed.is_err() {
                    return;
                }
                let new = *rx.borrow_and_update();
                if matches!(new, Fault::Refused | Fault::Drop)
                    || (hold.on && new != Fault::HoldThenReset)
                {
                    reset(&client);
                    return;
                }
                // A cut counts the answers' bytes from when it is set.
                answered = 0;
                mode = new;
            }
            n = client.read(&mut cbuf), if !stalled => {
                let Ok(n) = n else { return };
                if n == 0 {
                    return;
                }
                if server_spoke {
                    requested = true;
                }
                if let Fault::Delay(d) = mode {
                    tokio::time::sleep(d).await;
                }
                if server.write_all(&cbuf[..n]).await.is_err() {
                    return;
                }
            }
            n = server.read(&mut sbuf), if !stalled && !hold.on => {
                let Ok(n) = n else { return };
                if n == 0 {
                    return;
                }
                server_spoke = true;
                let chunk = &sbuf[..n];
                let sent = match mode {
                    Fault::Cut(limit) if requested => {
                        let room = limit.saturating_sub(answered).min(n);
                        let _ = client.write_all(&chunk[..room]).await;
                        answered += room;
                        if answered >= limit {
                            return;
                        }
                        Ok(())
                    }
                    Fault::HoldThenReset if requested => {
                        hold.on = true;
                        held.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    }
                    Fault::Trickle { bytes, every } => {
                        let mut sent = Ok(());
                        for slice in chunk.chunks(bytes) {
                            sent = client.write_all(slice).await;
                            if sent.is_err() {
                                break;
                            }
                            tokio::time::sleep(every).await;
                        }
                        sent
                    }
                    Fault::Delay(d) => {
                        tokio::time::sleep(d).await;
                        client.write_all(chunk).await
                    }
                    _ => client.write_all(chunk).await,
                };
                if sent.is_err() {
                    return;
                }
            }
            () = release.notified(), if hold.on => {
                // A reset, not a close: the client sees the connection torn down with its
                // answer never sent.
                reset(&client);
                return;
            }
        }
    }
}

/// How long any one operation may take under a fault before it counts as a hang: well
/// past every timeout of the devices under test.
const HANG: Duration = Duration::from_secs(20);

/// The network timeouts of the devices under test: short, so a stall costs little.
fn short_timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(1),
        request: Duration::from_secs(2),
        quiet: Duration::from_secs(20),
    }
}

/// A device's configuration under `dir`: pages of `batch` changes, short timeouts.
fn device_config(env: &Env, dir: &std::path::Path, batch: usize) -> Config {
    let mut cfg = Config::new(dir.join("data"));
    cfg.keyring_service = env.service.clone();
    cfg.practice_ca_pem = Some(env.ca_pem.clone());
    cfg.without_os_roots = true;
    cfg.bulk_batch_changes = batch;
    cfg.timeouts = short_timeouts();
    cfg
}

/// A device of the demo member that talks to the service through `url`, signed in and
/// synced.
async fn device(env: &Env, dir: &std::path::Path, url: &str, batch: usize) -> Core {
    let mut core = Core::new(device_config(env, dir, batch));
    core.start().unwrap();
    core.sign_in(url, seed::DEMO_EMAIL, seed::DEMO_PASSWORD, None)
        .await
        .unwrap();
    core
}

/// The codes a network fault may surface as.
fn network_code(code: ErrorCode) -> bool {
    matches!(code, ErrorCode::ServerUnreachable | ErrorCode::Offline)
}

/// Runs `op` while a held answer is reset once `committed` says the service has done
/// what was asked (at once when there is nothing to wait for). A hang is an error.
async fn with_release<T, F, C, CF>(proxy: &Proxy, committed: C, op: F) -> Result<T, String>
where
    F: std::future::Future<Output = T>,
    C: Fn() -> CF,
    CF: std::future::Future<Output = bool>,
{
    let release = async {
        loop {
            if proxy.held() > 0 && committed().await {
                proxy.reset_held();
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::select! {
        out = tokio::time::timeout(HANG, op) => out.map_err(|_| format!("no answer in {HANG:?}: a hang")),
        () = release => unreachable!(),
    }
}

/// Syncs until a sync succeeds (the proxy passing again): answers the failed tries.
async fn sync_through(core: &mut Core, what: &str) -> usize {
    for tries in 0..20 {
        match tokio::time::timeout(HANG, core.sync()).await {
            Ok(Ok(_)) => return tries,
            Ok(Err(e)) => assert!(
                network_code(e.code()),
                "{what}: only the network may fail here: {e}"
            ),
            Err(_) => panic!("{what}: a sync hung with the proxy passing"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: the sync never succeeded with the proxy passing");
}

/// Syncs until a sync succeeds (at most 20 tries, each failure a network error, counted
/// in `cell`); answers the changes that sync applied.
async fn sync_again(core: &mut Core, what: &str, cell: &mut Cell) -> u64 {
    for tries in 0.. {
        match core.sync().await {
            Ok(r) => return r.applied as u64,
            Err(e) => {
                assert!(network_code(e.code()), "{what}: {e}");
                assert!(tries < 20, "{what}: never synced again");
                cell.retries += 1;
            }
        }
    }
    unreachable!("the loop returns or fails")
}

/// What one cell saw.
#[derive(Debug, Clone, Default)]
struct Cell {
    /// The error under the fault, if any.
    code: Option<ErrorCode>,
    /// Failed tries after the fault cleared, before the device converged.
    retries: usize,
    /// Anything else worth a word in the report.
    note: &'static str,
}

impl Cell {
    fn of<T>(outcome: &Result<T, ClientError>, what: &str) -> Self {
        match outcome {
            Ok(_) => Cell::default(),
            Err(e) => {
                assert!(
                    network_code(e.code()),
                    "{what}: a network fault must surface as a network error, not {:?}: {e}",
                    e.code()
                );
                Cell {
                    code: Some(e.code()),
                    ..Cell::default()
                }
            }
        }
    }

    fn text(&self) -> String {
        let mut s = match self.code {
            None => "ok".to_owned(),
            Some(ErrorCode::ServerUnreachable) => "unreach".to_owned(),
            Some(c) => serde_json::to_value(c)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned(),
        };
        if self.retries > 0 {
            s.push_str(&format!("+{}r", self.retries));
        }
        s.push_str(self.note);
        s
    }
}

/// The service's side of things, to compare devices with.
struct Service {
    store: Arc<dyn Store>,
    practice: strongroom_server::store::PracticeId,
    user: strongroom_server::store::UserId,
}

impl Service {
    async fn of(env: &Env) -> Self {
        let store = env.server.store.clone();
        let user = store
            .user_by_email(seed::DEMO_EMAIL)
            .await
            .unwrap()
            .unwrap();
        Service {
            store,
            practice: user.practice_id,
            user: user.id,
        }
    }

    /// Every record the member may see, as the service holds it now (tombstones too).
    async fn feed(&self) -> Vec<strongroom_protocol::Change> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = self
                .store
                .changes_after(self.practice, Viewer::Member(self.user), after, 1000)
                .await
                .unwrap();
            out.extend(page.changes);
            after = page.cursor;
            if !page.has_more {
                return out;
            }
        }
    }

    async fn matter(&self, id: uuid::Uuid) -> (i64, strongroom_protocol::Matter) {
        let change = self
            .store
            .record(self.practice, Viewer::Service, RecordKind::Matter, id)
            .await
            .unwrap()
            .unwrap();
        let ChangeRecord::Matter { matter } = change.record else {
            panic!("not a matter");
        };
        (change.version, matter)
    }

    async fn version(&self, id: uuid::Uuid) -> i64 {
        self.matter(id).await.0
    }

    /// Live records and live matters.
    async fn counts(&self) -> (u64, u64) {
        let feed = self.feed().await;
        let live = feed
            .iter()
            .filter(|c| !matches!(c.record, ChangeRecord::Deleted { .. }))
            .count() as u64;
        let matters = feed
            .iter()
            .filter(|c| matches!(c.record, ChangeRecord::Matter { .. }))
            .count() as u64;
        (live, matters)
    }

    /// Where the device differs from the service (a record, the matters' count, anything
    /// pending, in conflict or refused), if it does.
    async fn differs(&self, core: &mut Core) -> Option<String> {
        let feed = self.feed().await;
        let mut matters = 0;
        for change in &feed {
            let (kind, id) = change.record.key();
            let held = core.record(kind, id).unwrap();
            let want = match &change.record {
                ChangeRecord::Deleted { .. } => None,
                record => {
                    if kind == RecordKind::Matter {
                        matters += 1;
                    }
                    Some(record)
                }
            };
            if held.as_ref() != want {
                return Some(format!(
                    "{kind:?} {id}: holds {held:?}, the service {want:?}"
                ));
            }
        }
        let s = core.status().unwrap();
        if s.matter_count != matters {
            return Some(format!("{} matters held of {matters}", s.matter_count));
        }
        let left = (s.pending_edits, s.open_conflicts, s.rejected_edits);
        (left != (0, 0, 0)).then(|| format!("pending, in conflict, refused: {left:?}"))
    }

    /// The device holds exactly what the service holds, with nothing pending.
    async fn assert_converged(&self, core: &mut Core, what: &str) {
        if let Some(d) = self.differs(core).await {
            panic!("{what}: the device differs from the service: {d}");
        }
    }
}

fn fields(v: serde_json::Value) -> EditOp {
    EditOp::Upsert {
        fields: v.as_object().unwrap().clone(),
    }
}

/// A description gzip cannot shrink much: `n` random UUIDs in hex.
fn long_text(label: &str, n: usize) -> String {
    let mut s = format!("{label}: ");
    for _ in 0..n {
        s.push_str(&uuid::Uuid::new_v4().simple().to_string());
        s.push(' ');
    }
    s
}

fn describe(core: &mut Core, id: uuid::Uuid, text: &str) {
    core.edit(
        RecordKind::Matter,
        id,
        fields(serde_json::json!({ "description": text })),
    )
    .unwrap();
}

/// The live loop's updates, as the report counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Connected,
    Disconnected,
    Synced,
    Failed(ErrorCode),
}

/// Every fault against every phase: see the module's documentation.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn faults_matrix_every_mode_against_every_sync_phase() {
    let begun = Instant::now();
    let env = Env::new().await;
    let service = Service::of(&env).await;
    let proxy = Proxy::start(env.server.addr).await;
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    // A: the device under test for pulls, pushes, conflicts and holdings (pages of 4).
    // B: another laptop of the member, straight to the service, making what A pulls.
    let mut a = device(&env, dirs[0].path(), &proxy.url(), 4).await;
    let mut b = device(&env, dirs[1].path(), &env.server.url(), 500).await;
    let ids: Vec<uuid::Uuid> = a
        .matters()
        .unwrap()
        .iter()
        .map(|m| m.id.parse().unwrap())
        .collect();
    assert!(ids.len() >= 8, "the demo practice has matters to edit");
    let mut matrix: BTreeMap<(usize, usize), Cell> = BTreeMap::new();
    let mut live: Option<(Arc<tokio::sync::Mutex<Core>>, Proxy, JoinHandle<()>)> = None;
    let seen: Arc<Mutex<Vec<Seen>>> = Default::default();

    for (p, &phase) in PHASES.iter().enumerate() {
        for (m, &mode) in MODES.iter().enumerate() {
            let what = format!("{} × {}", phase.name(), mode.name());
            let cell_begun = Instant::now();
            let cell = match phase {
                Phase::SignIn => sign_in_cell(&env, &proxy, mode, &what).await,
                Phase::FirstSync => first_sync_cell(&env, &service, &proxy, mode, &what).await,
                Phase::Pull => pull_cell(&service, &proxy, &mut a, &mut b, &ids, mode, &what).await,
                Phase::Push => push_cell(&service, &proxy, &mut a, &ids, mode, &what).await,
                Phase::ResolveConflict => {
                    resolve_cell(&service, &proxy, &mut a, &mut b, &ids, mode, &what).await
                }
                Phase::Live => {
                    if live.is_none() {
                        live = Some(start_live(&env, dirs[2].path(), seen.clone()).await);
                    }
                    let (core, proxy, _) = live.as_ref().unwrap();
                    live_cell(&service, proxy, core, &mut b, &ids, &seen, mode, &what).await
                }
                Phase::Holdings => {
                    holdings_cell(&service, &proxy, &mut a, &mut b, &ids, mode, &what).await
                }
            };
            println!(
                "{what}: {} ({} ms)",
                cell.text(),
                cell_begun.elapsed().as_millis()
            );
            matrix.insert((p, m), cell);
        }
    }
    if let Some((core, _, task)) = live.take() {
        task.abort();
        let _ = task.await;
        core.lock().await.wipe().unwrap();
    }
    a.wipe().unwrap();
    b.wipe().unwrap();
    println!("{}", report(&matrix));
    println!(
        "the fault matrix: {} cells in {:.1} s",
        matrix.len(),
        begun.elapsed().as_secs_f64()
    );
}

/// The matrix as a table: a row per phase, a column per mode.
fn report(matrix: &BTreeMap<(usize, usize), Cell>) -> String {
    let width = 12;
    let mut out = format!("\n{:<18}", "phase \\ fault");
    for mode in MODES {
        out.push_str(&format!("{:<width$}", mode.name()));
    }
    out.push('\n');
    for (p, phase) in PHASES.iter().enumerate() {
        out.push_str(&format!("{:<18}", phase.name()));
        for m in 0..MODES.len() {
            out.push_str(&format!("{:<width$}", matrix[&(p, m)].text()));
        }
        out.push('\n');
    }
    out.push_str(
        "ok: no error under the fault; unreach: ErrorCode::ServerUnreachable; +Nr: failed \
         tries after the fault cleared; ok*: the sync went well, the holdings went with the \
         next one\n",
    );
    out
}

/// Sign-in under the fault: a typed error and no vault, or a signed-in vault; then
/// sign-in through a passing proxy. The device goes on to the first sync's cell.
async fn sign_in_cell(env: &Env, proxy: &Proxy, mode: Fault, what: &str) -> Cell {
    let dir = tempfile::tempdir().unwrap();
    let cfg = device_config(env, dir.path(), 16);
    let vault = cfg.vault_path();
    let mut core = Core::new(cfg);
    core.start().unwrap();
    proxy.set(mode);
    let outcome = with_release(proxy, || async { true }, async {
        core.sign_in_without_sync(&proxy.url(), seed::DEMO_EMAIL, seed::DEMO_PASSWORD, None)
            .await
    })
    .await
    .unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut cell = Cell::of(&outcome, what);
    if mode.passes() {
        assert!(outcome.is_ok(), "{what}: {outcome:?}");
    }
    if outcome.is_err() {
        assert!(
            !vault.exists(),
            "{what}: no vault before the service accepts"
        );
        assert!(!core.status().unwrap().signed_in, "{what}");
    }
    proxy.set(Fault::Pass);
    if outcome.is_err() {
        for tries in 0.. {
            match core
                .sign_in_without_sync(&proxy.url(), seed::DEMO_EMAIL, seed::DEMO_PASSWORD, None)
                .await
            {
                Ok(_) => break,
                Err(e) => {
                    assert!(network_code(e.code()), "{what}: {e}");
                    assert!(tries < 20, "{what}: sign-in never worked again");
                    cell.retries += 1;
                }
            }
        }
    }
    assert!(core.status().unwrap().signed_in, "{what}");
    assert!(vault.exists(), "{what}");
    core.wipe().unwrap();
    cell
}

/// The first sync of a new device (pages of 16), with the fault landing after the first
/// batch is stored; then syncs through a passing proxy. Every change is stored once.
async fn first_sync_cell(
    env: &Env,
    service: &Service,
    proxy: &Proxy,
    mode: Fault,
    what: &str,
) -> Cell {
    let dir = tempfile::tempdir().unwrap();
    let mut core = Core::new(device_config(env, dir.path(), 16));
    core.start().unwrap();
    proxy.set(Fault::Pass);
    core.sign_in_without_sync(&proxy.url(), seed::DEMO_EMAIL, seed::DEMO_PASSWORD, None)
        .await
        .unwrap();
    let feed = service.feed().await.len() as u64;
    let mut stored = 0u64;
    let mut total = None;
    let mut calls = 0;
    let outcome = with_release(proxy, || async { true }, async {
        core.sync_with_progress(&mut |p: &SyncProgress| {
            calls += 1;
            stored = p.done;
            total = total.or(p.total);
            if calls == 1 {
                proxy.set(mode);
            }
        })
        .await
    })
    .await
    .unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut cell = Cell::of(&outcome, what);
    assert!(calls >= 1, "{what}: the first batch came before the fault");
    assert_eq!(
        total,
        Some(feed),
        "{what}: the first answer counts the feed"
    );
    assert!(stored < feed || outcome.is_ok(), "{what}");
    if mode.passes() {
        assert!(outcome.is_ok(), "{what}: {outcome:?}");
    }
    proxy.set(Fault::Pass);
    // The rest: each change stored once, whatever the fault cut short.
    let rest = sync_again(&mut core, what, &mut cell).await;
    if outcome.is_err() {
        assert!(stored < feed, "{what}");
        assert_eq!(
            stored + rest,
            feed,
            "{what}: every change stored exactly once"
        );
    } else {
        assert_eq!(rest, 0, "{what}: nothing left after a whole first sync");
    }
    service.assert_converged(&mut core, what).await;
    core.wipe().unwrap();
    cell
}

/// B changes six matters (long descriptions); A pulls them in pages of four, the fault
/// landing after the first page. Every change stored once, and A converges.
async fn pull_cell(
    service: &Service,
    proxy: &Proxy,
    a: &mut Core,
    b: &mut Core,
    ids: &[uuid::Uuid],
    mode: Fault,
    what: &str,
) -> Cell {
    proxy.set(Fault::Pass);
    let texts: Vec<String> = (0..6)
        .map(|i| long_text(&format!("{what} {i}"), 120))
        .collect();
    for (id, text) in ids.iter().zip(&texts) {
        describe(b, *id, text);
    }
    b.sync().await.unwrap();
    let mut stored = 0u64;
    let mut calls = 0;
    let outcome = with_release(proxy, || async { true }, async {
        a.sync_with_progress(&mut |p: &SyncProgress| {
            calls += 1;
            stored = p.done;
            if calls == 1 {
                proxy.set(mode);
            }
        })
        .await
    })
    .await
    .unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut cell = Cell::of(&outcome, what);
    if mode.passes() {
        assert!(outcome.is_ok(), "{what}: {outcome:?}");
    }
    proxy.set(Fault::Pass);
    let rest = sync_again(a, what, &mut cell).await;
    assert_eq!(stored + rest, 6, "{what}: every change stored exactly once");
    service.assert_converged(a, what).await;
    cell
}

/// A edits two matters; its sync pushes them under the fault (held until the service
/// committed both, then reset). Each moves by exactly one version, with A's text.
async fn push_cell(
    service: &Service,
    proxy: &Proxy,
    a: &mut Core,
    ids: &[uuid::Uuid],
    mode: Fault,
    what: &str,
) -> Cell {
    proxy.set(Fault::Pass);
    let edited = [ids[6], ids[7]];
    let mut before = Vec::new();
    for id in edited {
        before.push(service.version(id).await);
    }
    let texts: Vec<String> = (0..2)
        .map(|i| long_text(&format!("{what} {i}"), 120))
        .collect();
    for (id, text) in edited.iter().zip(&texts) {
        describe(a, *id, text);
    }
    proxy.set(mode);
    let before_ref = &before;
    let committed = move || async move {
        for (id, v) in edited.iter().zip(before_ref) {
            if service.version(*id).await <= *v {
                return false;
            }
        }
        true
    };
    let outcome = with_release(proxy, committed, a.sync())
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut cell = Cell::of(&outcome, what);
    if mode.passes() {
        assert!(outcome.is_ok(), "{what}: {outcome:?}");
    }
    if mode == Fault::HoldThenReset {
        assert!(outcome.is_err(), "{what}: a reset answer is a failure");
    }
    proxy.set(Fault::Pass);
    cell.retries += sync_through(a, what).await;
    for ((id, v), text) in edited.iter().zip(&before).zip(&texts) {
        let (now, matter) = service.matter(*id).await;
        assert_eq!(now, v + 1, "{what}: applied exactly once");
        assert_eq!(&matter.description, text, "{what}: A's text");
    }
    service.assert_converged(a, what).await;
    cell
}

/// A and B give one matter's title different values; B syncs first, so A's sync brings a
/// conflict. A keeps its own under the fault (held until the service wrote it, then
/// reset); then again through a passing proxy until the service has it. The title moves
/// by exactly one version, A holds no open conflict, and both converge.
async fn resolve_cell(
    service: &Service,
    proxy: &Proxy,
    a: &mut Core,
    b: &mut Core,
    ids: &[uuid::Uuid],
    mode: Fault,
    what: &str,
) -> Cell {
    proxy.set(Fault::Pass);
    let id = ids[5];
    let (mine, theirs) = (format!("A's title, {what}"), format!("B's title, {what}"));
    describe_title(a, id, &mine);
    describe_title(b, id, &theirs);
    b.sync().await.unwrap();
    let r = a.sync().await.unwrap();
    assert_eq!(r.conflicts, 1, "{what}: the clash waits for A");
    let conflict: uuid::Uuid = a.conflicts().unwrap()[0].server_id.parse().unwrap();
    let before = service.version(id).await;
    proxy.set(mode);
    let committed = move || async move { service.version(id).await > before };
    let outcome = with_release(
        proxy,
        committed,
        a.resolve_conflict(conflict, &ConflictResolution::KeepMine),
    )
    .await
    .unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut cell = Cell::of(&outcome, what);
    if mode.passes() {
        assert!(outcome.is_ok(), "{what}: {outcome:?}");
    }
    proxy.set(Fault::Pass);
    if outcome.is_err() {
        assert_eq!(a.status().unwrap().open_conflicts, 1, "{what}: still open");
        for tries in 0.. {
            match a
                .resolve_conflict(conflict, &ConflictResolution::KeepMine)
                .await
            {
                Ok(()) => break,
                Err(e) => {
                    assert!(network_code(e.code()), "{what}: {e}");
                    assert!(tries < 20, "{what}: never resolved");
                    cell.retries += 1;
                }
            }
        }
    }
    assert_eq!(a.status().unwrap().open_conflicts, 0, "{what}: resolved");
    let (now, matter) = service.matter(id).await;
    assert_eq!(
        now,
        before + 1,
        "{what}: the resolution written exactly once"
    );
    assert_eq!(matter.title, mine, "{what}: A kept its own");
    cell.retries += sync_through(a, what).await;
    b.sync().await.unwrap();
    service.assert_converged(a, what).await;
    service.assert_converged(b, what).await;
    cell
}

fn describe_title(core: &mut Core, id: uuid::Uuid, title: &str) {
    core.edit(
        RecordKind::Matter,
        id,
        fields(serde_json::json!({ "title": title })),
    )
    .unwrap();
}

/// B adds a task; A pulls it, the fault landing after the last page, so it hits the
/// holdings report. The sync is not failed for it; the report goes with a later sync, and
/// then the service holds what A holds.
async fn holdings_cell(
    service: &Service,
    proxy: &Proxy,
    a: &mut Core,
    b: &mut Core,
    ids: &[uuid::Uuid],
    mode: Fault,
    what: &str,
) -> Cell {
    proxy.set(Fault::Pass);
    let task = uuid::Uuid::new_v4();
    b.edit(
        RecordKind::Task,
        task,
        fields(serde_json::json!({
            "matter_id": ids[0], "title": format!("Task, {what}"), "done": false
        })),
    )
    .unwrap();
    b.sync().await.unwrap();
    let outcome = with_release(proxy, || async { true }, async {
        a.sync_with_progress(&mut |p: &SyncProgress| {
            if Some(p.done) == p.total {
                proxy.set(mode);
            }
        })
        .await
    })
    .await
    .unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut cell = Cell::of(&outcome, what);
    assert!(
        outcome.is_ok(),
        "{what}: the report is best effort: {outcome:?}"
    );
    proxy.set(Fault::Pass);
    let counts = service.counts().await;
    let reported = current_holdings(a).await;
    if reported != Some(counts) {
        // Not told under the fault: the next sync tells it.
        cell.note = "*";
        cell.retries += sync_through(a, what).await;
    }
    assert_eq!(
        current_holdings(a).await,
        Some(counts),
        "{what}: the service holds what A holds"
    );
    if mode.passes() {
        assert_eq!(cell.note, "", "{what}: told at once");
    }
    service.assert_converged(a, what).await;
    cell
}

/// What the service says this device holds: (records, matters).
async fn current_holdings(core: &mut Core) -> Option<(u64, u64)> {
    core.sessions()
        .await
        .unwrap()
        .value
        .into_iter()
        .find(|s| s.current)
        .unwrap()
        .holdings
        .map(|h| (h.records, h.matters))
}

/// L: a device with its own proxy and its live loop running, connected.
async fn start_live(
    env: &Env,
    dir: &std::path::Path,
    seen: Arc<Mutex<Vec<Seen>>>,
) -> (Arc<tokio::sync::Mutex<Core>>, Proxy, JoinHandle<()>) {
    let proxy = Proxy::start(env.server.addr).await;
    let core = Arc::new(tokio::sync::Mutex::new(
        device(env, dir, &proxy.url(), 500).await,
    ));
    let opts = LiveOptions {
        first_retry: Duration::from_millis(50),
        max_retry: Duration::from_millis(500),
        poll_interval: Duration::from_secs(600),
    };
    let task = {
        let (core, seen) = (core.clone(), seen.clone());
        tokio::spawn(async move {
            let control = core.lock().await.live_control();
            run_live(&core, &control, opts, |u| {
                seen.lock().unwrap().push(match u {
                    LiveUpdate::Connected => Seen::Connected,
                    LiveUpdate::Disconnected => Seen::Disconnected,
                    LiveUpdate::Synced(Ok(_)) => Seen::Synced,
                    LiveUpdate::Synced(Err(e)) => Seen::Failed(e.code()),
                })
            })
            .await
        })
    };
    let deadline = Instant::now() + HANG;
    while !seen.lock().unwrap().contains(&Seen::Synced) {
        assert!(Instant::now() < deadline, "the live loop never synced");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (core, proxy, task)
}

/// With L's live loop running: the fault lands on its open stream; L edits a matter (its
/// loop pushes it) and B edits another (the service pokes L). Then the fault clears and,
/// with no sync asked for, L's edit is on the service exactly once and B's on L.
#[allow(clippy::too_many_arguments)]
async fn live_cell(
    service: &Service,
    proxy: &Proxy,
    l: &Arc<tokio::sync::Mutex<Core>>,
    b: &mut Core,
    ids: &[uuid::Uuid],
    seen: &Arc<Mutex<Vec<Seen>>>,
    mode: Fault,
    what: &str,
) -> Cell {
    let (mine, theirs) = (ids[3], ids[4]);
    let before = service.version(mine).await;
    let (my_text, their_text) = (format!("L, {what}"), long_text(&format!("B, {what}"), 120));
    let mark = seen.lock().unwrap().len();
    proxy.set(mode);
    describe(&mut *l.lock().await, mine, &my_text);
    describe(b, theirs, &their_text);
    b.sync().await.unwrap();
    let (my_ref, their_ref) = (&my_text, &their_text);
    let converged = move || async move {
        let (v, m) = service.matter(mine).await;
        if v != before + 1 || &m.description != my_ref {
            assert!(v <= before + 1, "{what}: L's edit applied more than once");
            return false;
        }
        let mut l = l.lock().await;
        let held = l.record(RecordKind::Matter, theirs).unwrap();
        matches!(held, Some(ChangeRecord::Matter { matter }) if &matter.description == their_ref)
            && l.status().unwrap().pending_edits == 0
    };
    let trouble = || {
        seen.lock().unwrap()[mark..]
            .iter()
            .any(|s| matches!(s, Seen::Disconnected | Seen::Failed(_)))
    };
    // Under the fault: until the loop reports trouble, or converges, or a request's
    // timeout and more have passed.
    let dwell = short_timeouts().request + Duration::from_millis(1500);
    let committed = move || async move { service.version(mine).await > before };
    with_release(proxy, committed, async {
        let until = Instant::now() + dwell;
        while Instant::now() < until && !trouble() && !converged().await {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{what}: {e}"));
    let under: Vec<Seen> = seen.lock().unwrap()[mark..].to_vec();
    proxy.set(Fault::Pass);
    let deadline = Instant::now() + HANG;
    while !converged().await {
        assert!(
            Instant::now() < deadline,
            "{what}: the live loop never caught up: {:?}",
            &seen.lock().unwrap()[mark..]
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let after: Vec<Seen> = seen.lock().unwrap()[mark..].to_vec();
    for s in &after {
        if let Seen::Failed(code) = s {
            assert!(network_code(*code), "{what}: the live loop saw {code:?}");
        }
    }
    let code = under.iter().find_map(|s| match s {
        Seen::Failed(c) => Some(*c),
        Seen::Disconnected => Some(ErrorCode::ServerUnreachable),
        _ => None,
    });
    let failures = |s: &[Seen]| {
        s.iter()
            .filter(|s| matches!(s, Seen::Failed(_) | Seen::Disconnected))
            .count()
    };
    if mode.passes() {
        assert_eq!(code, None, "{what}: {under:?}");
    }
    let mut l = l.lock().await;
    service.assert_converged(&mut l, what).await;
    Cell {
        code,
        retries: failures(&after).saturating_sub(failures(&under)),
        note: "",
    }
}

/// A service that refuses every pushed edit and fails the first fetch of the record
/// (503), then answers it as it holds it: the failure lands exactly between the push's
/// answer and the fetch that undoes the refused edit, where a proxy passing TLS through
/// cannot aim. Counts the pushes (with their mutation sequences) and the fetches.
async fn refusing_service(
    dir: &std::path::Path,
    matter: serde_json::Value,
) -> (
    std::net::SocketAddr,
    axum_server::Handle<std::net::SocketAddr>,
    Arc<Mutex<Vec<i64>>>,
    Arc<AtomicUsize>,
) {
    use axum::routing::{get, post};
    let paths = strongroom_server::tls::TlsPaths::in_dir(dir);
    strongroom_server::tls::ensure_dev_certificate(&paths).unwrap();
    let cfg = strongroom_server::tls::server_config(&paths).unwrap();
    let pushed: Arc<Mutex<Vec<i64>>> = Default::default();
    let fetches = Arc::new(AtomicUsize::new(0));
    let change = serde_json::json!({"seq": 1, "version": 1, "kind": "matter", "matter": matter});
    let app = axum::Router::new()
        .route(
            "/v1/health",
            get(|| async {
                axum::Json(serde_json::json!({
                    "status": "ok",
                    "protocol_version": strongroom_protocol::PROTOCOL_VERSION
                }))
            }),
        )
        .route(
            "/v1/auth/sign-in",
            post(|| async {
                axum::Json(serde_json::json!({
                    "token": "refusing-token-0123456789",
                    "user": {"id": uuid::Uuid::nil(), "email": "x@refusing.example", "display_name": "X"},
                    "practice": {"id": uuid::Uuid::nil(), "name": "Refusing"}
                }))
            }),
        )
        .route(
            "/v1/sync/changes",
            get({
                let change = change.clone();
                move |q: axum::extract::Query<BTreeMap<String, String>>| async move {
                    let after: i64 = q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
                    axum::Json(if after == 0 {
                        serde_json::json!({"changes": [change], "cursor": 1, "has_more": false})
                    } else {
                        serde_json::json!({"changes": [], "cursor": after, "has_more": false})
                    })
                }
            }),
        )
        .route(
            "/v1/sync/push",
            post({
                let pushed = pushed.clone();
                move |axum::Json(req): axum::Json<strongroom_protocol::PushRequest>| async move {
                    let results: Vec<_> = req
                        .mutations
                        .iter()
                        .map(|m| {
                            pushed.lock().unwrap().push(m.mutation_seq);
                            serde_json::json!({
                                "mutation_seq": m.mutation_seq, "outcome": "rejected",
                                "code": "forbidden", "detail": "not on this matter"
                            })
                        })
                        .collect();
                    axum::Json(serde_json::json!({ "results": results }))
                }
            }),
        )
        .route(
            "/v1/records/matter/{id}",
            get({
                let fetches = fetches.clone();
                move || async move {
                    if fetches.fetch_add(1, Ordering::SeqCst) == 0 {
                        Err(axum::http::StatusCode::SERVICE_UNAVAILABLE)
                    } else {
                        Ok(axum::Json(change))
                    }
                }
            }),
        )
        .route(
            "/v1/sessions/holdings",
            post(|| async { axum::http::StatusCode::NO_CONTENT }),
        );
    let handle = axum_server::Handle::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = axum_server::from_tcp_rustls(
        listener,
        axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(cfg)),
    )
    .unwrap()
    .handle(handle.clone());
    tokio::spawn(async move { server.serve(app.into_make_service()).await });
    handle.listening().await.unwrap();
    (addr, handle, pushed, fetches)
}

/// The service refuses an edit, and the fetch that would put the record back as the
/// service holds it fails: the edit stays queued (nothing of the answer is applied), so
/// the next sync pushes it again, is answered the same, fetches the record and puts it
/// back. The refused value is never left on show with nothing queued to undo it.
#[tokio::test]
async fn faults_a_refused_edit_is_undone_though_the_fetch_after_it_failed() {
    strongroom_server::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let id = uuid::Uuid::new_v4();
    let matter = serde_json::json!({
        "id": id, "number": "R-1", "title": "As the service holds it",
        "matter_type": "Litigation", "status": "open", "client_name": "C",
        "responsible": "R", "opened_on": "2026-01-01"
    });
    let (addr, handle, pushed, fetches) = refusing_service(dir.path(), matter).await;
    let mut cfg = Config::new(dir.path().join("app"));
    cfg.keyring_service = format!("law.strongroom.test.{}", uuid::Uuid::new_v4());
    cfg.practice_ca_pem = Some(std::fs::read_to_string(dir.path().join("ca.pem")).unwrap());
    cfg.without_os_roots = true;
    cfg.timeouts = short_timeouts();
    let mut core = Core::new(cfg);
    core.start().unwrap();
    core.sign_in(
        &format!("https://{addr}/"),
        "x@refusing.example",
        "pw",
        None,
    )
    .await
    .unwrap();
    let title = |core: &mut Core| match core.record(RecordKind::Matter, id).unwrap() {
        Some(ChangeRecord::Matter { matter }) => matter.title,
        other => panic!("{other:?}"),
    };
    assert_eq!(title(&mut core), "As the service holds it");
    describe_title(&mut core, id, "Refused");

    let err = core.sync().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::ServerUnreachable, "{err}");
    let s = core.status().unwrap();
    assert_eq!(
        (s.pending_edits, s.rejected_edits),
        (1, 0),
        "nothing of the answer applied: the edit is still queued"
    );

    let report = core.sync().await.unwrap();
    assert_eq!(report.rejected, 1);
    assert_eq!(title(&mut core), "As the service holds it", "put back");
    let s = core.status().unwrap();
    assert_eq!((s.pending_edits, s.rejected_edits), (0, 1));
    let seqs = pushed.lock().unwrap().clone();
    assert_eq!(seqs.len(), 2, "pushed twice: {seqs:?}");
    assert_eq!(seqs[0], seqs[1], "the same edit, answered the same");
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
    core.wipe().unwrap();
    handle.shutdown();
}

/// The fields the soak's devices edit, one each: edits to different fields merge, so
/// every edit is applied (none clashes) and each moves its matter by one version. The last
/// device syncs by its live loop alone.
const SOAK_FIELDS: [&str; 4] = ["description", "title", "client_name", "responsible"];

/// What a soak device did.
#[derive(Debug, Default)]
struct SoakDevice {
    rounds: usize,
    edits: usize,
    /// Edits per matter.
    per_matter: BTreeMap<uuid::Uuid, i64>,
    /// The last value written to this device's field, per matter.
    last: BTreeMap<uuid::Uuid, String>,
}

/// Syncs and their failures, by code.
type Tally = Arc<Mutex<BTreeMap<String, usize>>>;

fn tally(t: &Tally, outcome: Result<(), ErrorCode>) {
    let key = match outcome {
        Ok(()) => "ok".to_owned(),
        Err(code) => serde_json::to_value(code)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned(),
    };
    *t.lock().unwrap().entry(key).or_default() += 1;
}

/// One round of a soak device: a few edits to its own field of random matters.
fn soak_edits(
    core: &mut Core,
    me: &mut SoakDevice,
    i: usize,
    ids: &[uuid::Uuid],
    rng: &mut impl rand::Rng,
) {
    me.rounds += 1;
    let field = SOAK_FIELDS[i];
    for _ in 0..rng.random_range(1..=3) {
        let id = ids[rng.random_range(0..ids.len())];
        let text = format!("device {i} edit {} ({field})", me.edits);
        core.edit(
            RecordKind::Matter,
            id,
            fields(serde_json::json!({ field: text })),
        )
        .unwrap();
        me.edits += 1;
        *me.per_matter.entry(id).or_default() += 1;
        me.last.insert(id, text);
    }
}

/// Random faults at random moments over many rounds, several devices editing: run with
/// `scripts/soak` (`STRONGROOM_SOAK_SECS`, default 60). Each device has a proxy of its
/// own whose fault a task of its own flips at random; each round a device makes a few
/// edits to its own field of random matters and syncs, once or twice; the last device
/// never syncs by itself: its live loop does. At the end every proxy passes, every device
/// syncs (the last by its loop alone) until its outbox is empty, and the service must hold
/// each matter at its first version plus exactly the edits made to it, each device's last
/// value in its field, and every device exactly what the service holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a long soak: scripts/soak"]
async fn soak_random_faults_lose_and_double_nothing() {
    use rand::{Rng, SeedableRng};
    let secs: u64 = std::env::var("STRONGROOM_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let seed: u64 = std::env::var("STRONGROOM_SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("soak: {secs} s, seed {seed} (STRONGROOM_SOAK_SEED to repeat the choices)");
    let env = Env::new().await;
    let service = Service::of(&env).await;
    let devices = SOAK_FIELDS.len();
    let dirs: Vec<tempfile::TempDir> = (0..devices).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut proxies = Vec::new();
    let mut cores = Vec::new();
    for dir in &dirs {
        let proxy = Arc::new(Proxy::start(env.server.addr).await);
        cores.push(device(&env, dir.path(), &proxy.url(), 64).await);
        proxies.push(proxy);
    }
    let ids: Vec<uuid::Uuid> = cores[0]
        .matters()
        .unwrap()
        .iter()
        .map(|m| m.id.parse().unwrap())
        .collect();
    let mut first = BTreeMap::new();
    for id in &ids {
        first.insert(*id, service.version(*id).await);
    }
    let begun = Instant::now();
    let until = begun + Duration::from_secs(secs);
    let modes = [
        Fault::Refused,
        Fault::Drop,
        Fault::Stall,
        Fault::Delay(Duration::from_millis(20)),
        Fault::Trickle {
            bytes: 256,
            every: Duration::from_millis(1),
        },
        Fault::Cut(64),
        Fault::Cut(3000),
        Fault::HoldThenReset,
    ];

    // The faults: each proxy passes about half the time, else one of the modes, each for
    // a random while; a held answer is reset after a random wait.
    let mut flippers = Vec::new();
    for (i, proxy) in proxies.iter().enumerate() {
        let proxy = proxy.clone();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ (0x5eed + i as u64));
        flippers.push(tokio::spawn(async move {
            loop {
                let fault = if rng.random_bool(0.5) {
                    Fault::Pass
                } else {
                    modes[rng.random_range(0..modes.len())]
                };
                proxy.set(fault);
                let end = Instant::now() + Duration::from_millis(rng.random_range(20..1500));
                while Instant::now() < end {
                    if proxy.held() > 0 && rng.random_bool(0.2) {
                        proxy.reset_held();
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }));
    }

    // The devices, each in a task of its own; the last one's syncs are its live loop's.
    let syncs: Tally = Default::default();
    let live_core = Arc::new(tokio::sync::Mutex::new(cores.pop().unwrap()));
    let live_loop = {
        let (core, syncs) = (live_core.clone(), syncs.clone());
        tokio::spawn(async move {
            let control = core.lock().await.live_control();
            let opts = LiveOptions {
                first_retry: Duration::from_millis(50),
                max_retry: Duration::from_secs(1),
                poll_interval: Duration::from_secs(2),
            };
            run_live(&core, &control, opts, |u| {
                if let LiveUpdate::Synced(outcome) = u {
                    let outcome = outcome.as_ref().map(|_| ()).map_err(|e| e.code());
                    if let Err(code) = outcome {
                        assert!(network_code(code), "the live device: {code:?}");
                    }
                    tally(&syncs, outcome);
                }
            })
            .await
        })
    };
    let live_edits = {
        let (core, ids) = (live_core.clone(), ids.clone());
        let i = devices - 1;
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ (0xde71ce + i as u64));
        tokio::spawn(async move {
            let mut me = SoakDevice::default();
            while Instant::now() < until {
                soak_edits(&mut *core.lock().await, &mut me, i, &ids, &mut rng);
                tokio::time::sleep(Duration::from_millis(rng.random_range(0..300))).await;
            }
            me
        })
    };
    let mut tasks = Vec::new();
    for (i, mut core) in cores.into_iter().enumerate() {
        let (ids, syncs) = (ids.clone(), syncs.clone());
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ (0xde71ce + i as u64));
        tasks.push(tokio::spawn(async move {
            let mut me = SoakDevice::default();
            while Instant::now() < until {
                soak_edits(&mut core, &mut me, i, &ids, &mut rng);
                for _ in 0..rng.random_range(1..=2) {
                    match tokio::time::timeout(HANG, core.sync()).await {
                        Ok(outcome) => {
                            let outcome = outcome.map(|_| ()).map_err(|e| e.code());
                            if let Err(code) = outcome {
                                assert!(network_code(code), "device {i}: {code:?}");
                            }
                            tally(&syncs, outcome);
                        }
                        Err(_) => panic!("device {i}: a sync hung"),
                    }
                }
                tokio::time::sleep(Duration::from_millis(rng.random_range(0..200))).await;
            }
            (core, me)
        }));
    }
    let mut done = Vec::new();
    for t in tasks {
        done.push(t.await.expect("a device panicked"));
    }
    let live_me = live_edits.await.expect("the live device's edits panicked");
    for f in &flippers {
        f.abort();
    }
    for p in &proxies {
        p.set(Fault::Pass);
    }

    // Everything through: the devices that sync by hand, then the live one by its loop
    // alone, then everyone pulls everyone's last edits.
    for (i, (core, _)) in done.iter_mut().enumerate() {
        sync_through(core, &format!("device {i}")).await;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let differs = service.differs(&mut *live_core.lock().await).await;
        let Some(d) = differs else { break };
        assert!(
            Instant::now() < deadline,
            "the live device never caught up: {d}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (i, (core, _)) in done.iter_mut().enumerate() {
        sync_through(core, &format!("device {i}")).await;
        service.assert_converged(core, &format!("device {i}")).await;
    }
    assert!(
        !live_loop.is_finished(),
        "the live loop ended: {:?}",
        live_loop.await
    );
    live_loop.abort();
    let _ = live_loop.await;
    let mut live_core = Arc::into_inner(live_core).unwrap().into_inner();
    service
        .assert_converged(&mut live_core, "the live device")
        .await;

    let mut everyone: Vec<&SoakDevice> = done.iter().map(|(_, me)| me).collect();
    everyone.push(&live_me);
    let mut losses = 0i64;
    let mut duplicates = 0i64;
    let mut lost_values = 0usize;
    for id in &ids {
        let made: i64 = everyone
            .iter()
            .map(|me| me.per_matter.get(id).copied().unwrap_or(0))
            .sum();
        let (version, matter) = service.matter(*id).await;
        let moved = version - first[id];
        losses += (made - moved).max(0);
        duplicates += (moved - made).max(0);
        let values = serde_json::to_value(&matter).unwrap();
        for (i, me) in everyone.iter().enumerate() {
            if let Some(last) = me.last.get(id)
                && values[SOAK_FIELDS[i]].as_str() != Some(last.as_str())
            {
                lost_values += 1;
            }
        }
    }
    let rounds: usize = everyone.iter().map(|me| me.rounds).sum();
    let edits: usize = everyone.iter().map(|me| me.edits).sum();
    let mut faults: BTreeMap<&'static str, usize> = BTreeMap::new();
    for p in &proxies {
        for (name, n) in p.injected.lock().unwrap().iter() {
            *faults.entry(name).or_default() += n;
        }
    }
    let syncs = syncs.lock().unwrap().clone();
    println!(
        "soak: {:.0} s, {devices} devices ({} syncing by hand, 1 by its live loop), \
         {rounds} rounds, {edits} edits, {} syncs {syncs:?}, {} faults injected {faults:?}, \
         losses {losses}, duplicates {duplicates}, last values missing {lost_values}",
        begun.elapsed().as_secs_f64(),
        devices - 1,
        syncs.values().sum::<usize>(),
        faults.values().sum::<usize>(),
    );
    assert_eq!((losses, duplicates, lost_values), (0, 0, 0));
    for (core, _) in &mut done {
        core.wipe().unwrap();
    }
    live_core.wipe().unwrap();
}
