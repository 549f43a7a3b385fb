//! Sync through a fault-injecting TCP proxy on loopback: it drops connections, delays
//! them, cuts a response in the middle, and resets the connection after the server has
//! committed a push (holding the answer back until the test has seen the commit in the
//! server's store). Every edit ends up applied exactly once — each edited record's version
//! moves by exactly one — and both devices converge on the service's state.
//!
//! The proxy passes TLS through untouched (the client still verifies the server), so it can
//! only see the turns of the conversation: the client speaks, the server answers the
//! handshake, then the client's next bytes carry its request. "After the request" below
//! means after that third turn.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use strongroom_client::{Config, Core, EditOp, ErrorCode};
use strongroom_protocol::{ChangeRecord, RecordKind};
use strongroom_server::store::records::Viewer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::Env;
use strongroom_server::seed;

/// What the proxy does to the connections it accepts from now on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Passes everything.
    Pass,
    /// Closes each connection at once.
    Drop,
    /// Passes everything, each chunk late.
    Delay(Duration),
    /// After the request, passes this many bytes of the answer, then closes.
    Cut(usize),
    /// After the request, holds the answer back until told, then resets the connection.
    HoldThenReset,
}

struct Proxy {
    addr: std::net::SocketAddr,
    fault: Arc<Mutex<Fault>>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
    /// Released to reset every held connection.
    reset: Arc<tokio::sync::Notify>,
    /// Counts connections that reached the held state.
    held: Arc<std::sync::atomic::AtomicUsize>,
    _accept: JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: std::net::SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let fault = Arc::new(Mutex::new(Fault::Pass));
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Default::default();
        let reset = Arc::new(tokio::sync::Notify::new());
        let held = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let accept = {
            let (fault, conns, reset, held) =
                (fault.clone(), conns.clone(), reset.clone(), held.clone());
            tokio::spawn(async move {
                loop {
                    let Ok((client, _)) = listener.accept().await else {
                        return;
                    };
                    let mode = *fault.lock().unwrap();
                    let (reset, held) = (reset.clone(), held.clone());
                    let task = tokio::spawn(async move {
                        serve(client, upstream, mode, reset, held).await;
                    });
                    conns.lock().unwrap().push(task);
                }
            })
        };
        Proxy {
            addr,
            fault,
            conns,
            reset,
            held,
            _accept: accept,
        }
    }

    fn url(&self) -> String {
        format!("https://{}/", self.addr)
    }

    /// Applies `fault` to new connections, and ends every open one (so pooled connections
    /// do not carry the old behaviour over).
    fn set(&self, fault: Fault) {
        *self.fault.lock().unwrap() = fault;
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
        self.held.store(0, std::sync::atomic::Ordering::SeqCst);
    }
}

async fn serve(
    mut client: TcpStream,
    upstream: std::net::SocketAddr,
    mode: Fault,
    reset: Arc<tokio::sync::Notify>,
    held: Arc<std::sync::atomic::AtomicUsize>,
) {
    if mode == Fault::Drop {
        return;
    }
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut cbuf, mut sbuf) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    let mut server_spoke = false;
    let mut requested = false;
    let mut answered = 0usize;
    let mut holding = false;
    loop {
        tokio::select! {
            n = client.read(&mut cbuf) => {
                let Ok(n) = n else { return };
                if n == 0 { return; }
                if server_spoke { requested = true; }
                if let Fault::Delay(d) = mode { tokio::time::sleep(d).await; }
                if server.write_all(&cbuf[..n]).await.is_err() { return; }
            }
            n = server.read(&mut sbuf), if !holding => {
                let Ok(n) = n else { return };
                if n == 0 { return; }
                server_spoke = true;
                if requested {
                    match mode {
                        Fault::Cut(limit) => {
                            let room = limit.saturating_sub(answered);
                            let _ = client.write_all(&sbuf[..n.min(room)]).await;
                            answered += n.min(room);
                            if answered >= limit { return; }
                            continue;
                        }
                        Fault::HoldThenReset => {
                            holding = true;
                            held.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            continue;
                        }
                        _ => {}
                    }
                }
                if let Fault::Delay(d) = mode { tokio::time::sleep(d).await; }
                if client.write_all(&sbuf[..n]).await.is_err() { return; }
            }
            () = reset.notified(), if holding => {
                // A reset, not a close: the client sees the connection torn down with
                // its answer never sent.
                let _ = client.set_zero_linger();
                return;
            }
        }
    }
}

/// A device of the demo member that talks to the service through `url`.
async fn device(env: &Env, dir: &std::path::Path, url: &str) -> Core {
    let mut cfg = Config::new(dir.join("data"));
    cfg.keyring_service = env.service.clone();
    cfg.practice_ca_pem = Some(env.ca_pem.clone());
    cfg.without_os_roots = true;
    let mut core = Core::new(cfg);
    core.start().unwrap();
    core.sign_in(url, seed::DEMO_EMAIL, seed::DEMO_PASSWORD, None)
        .await
        .unwrap();
    core
}

/// Syncs until a sync succeeds (the proxy passing again), at most 20 tries.
async fn sync_through(core: &mut Core) {
    for _ in 0..20 {
        match core.sync().await {
            Ok(_) => return,
            Err(e) => assert_eq!(
                e.code(),
                ErrorCode::ServerUnreachable,
                "only the network may fail here: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the sync never succeeded with the proxy passing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn faults_never_lose_or_double_an_edit_and_devices_converge() {
    let env = Env::new().await;
    let proxy = Proxy::start(env.server.addr).await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut a = device(&env, dir_a.path(), &proxy.url()).await;
    let mut b = device(&env, dir_b.path(), &proxy.url()).await;
    let store = env.server.store.clone();
    let practice = store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .practice_id;
    let version_of = |id: uuid::Uuid| {
        let store = store.clone();
        async move {
            store
                .record(practice, Viewer::Service, RecordKind::Matter, id)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let ids: Vec<uuid::Uuid> = a
        .matters()
        .unwrap()
        .iter()
        .map(|m| m.id.parse().unwrap())
        .collect();
    assert!(ids.len() >= 5, "the demo practice has matters to edit");
    let mut before = Vec::new();
    for id in &ids {
        before.push(version_of(*id).await.version);
    }
    let describe = |core: &mut Core, id: uuid::Uuid, text: String| {
        core.edit(
            RecordKind::Matter,
            id,
            EditOp::Upsert {
                fields: serde_json::json!({ "description": text })
                    .as_object()
                    .unwrap()
                    .clone(),
            },
        )
        .unwrap();
    };

    // Each fault in turn, each with a fresh edit waiting on A: the sync under the fault,
    // then syncs with the proxy passing until one succeeds.
    // The cut comes 3,000 bytes into the answers after the request: past the handshake's
    // tickets and the headers, inside a page that carries a long description (hex, which
    // gzip cannot shrink below that).
    let long: String = (0..400)
        .map(|_| uuid::Uuid::new_v4().simple().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let faults = [
        Fault::Drop,
        Fault::Delay(Duration::from_millis(30)),
        Fault::Cut(3000),
        Fault::HoldThenReset,
    ];
    let text = |i: usize| match faults.get(i) {
        Some(Fault::Cut(_)) => long.clone(),
        Some(f) => format!("Edited under {f:?}"),
        None => "Edited on B".to_owned(),
    };
    for (i, fault) in faults.iter().enumerate() {
        let id = ids[i];
        describe(&mut a, id, text(i));
        proxy.set(*fault);
        if *fault == Fault::HoldThenReset {
            // The push goes out and is held; once the server has committed it, the
            // connection is reset with the answer unsent.
            let mut sync = Box::pin(a.sync());
            let committed = async {
                loop {
                    if version_of(id).await.version > before[i] {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            };
            tokio::select! {
                outcome = &mut sync => panic!("the sync ended before the commit: {outcome:?}"),
                () = committed => {}
            }
            assert!(proxy.held.load(std::sync::atomic::Ordering::SeqCst) >= 1);
            proxy.reset.notify_waiters();
            let outcome = sync.await;
            assert_eq!(
                outcome.expect_err("a reset answer is a failure").code(),
                ErrorCode::ServerUnreachable
            );
        } else {
            let outcome = a.sync().await;
            if let Err(e) = outcome {
                assert_eq!(e.code(), ErrorCode::ServerUnreachable, "{fault:?}: {e}");
            }
        }
        proxy.set(Fault::Pass);
        sync_through(&mut a).await;
        assert_eq!(a.status().unwrap().pending_edits, 0, "{fault:?}");
    }
    // B pulls under a cut answer too, then converges.
    describe(&mut b, ids[4], text(4));
    proxy.set(Fault::Cut(3000));
    let _ = b.sync().await;
    proxy.set(Fault::Pass);
    sync_through(&mut b).await;
    sync_through(&mut a).await;

    // Exactly once: each edited matter moved by one version, with the edit's text.
    for (i, id) in ids.iter().enumerate().take(5) {
        let now = version_of(*id).await;
        assert_eq!(
            now.version,
            before[i] + 1,
            "matter {i} applied exactly once"
        );
        let ChangeRecord::Matter { matter } = now.record else {
            panic!("not a matter");
        };
        assert_eq!(matter.description, text(i), "matter {i}");
    }
    for id in ids.iter().skip(5) {
        let i = ids.iter().position(|x| x == id).unwrap();
        assert_eq!(version_of(*id).await.version, before[i], "untouched");
    }
    // Both devices hold what the service holds, with nothing pending or in conflict.
    let a_matters = a.matters().unwrap();
    let b_matters = b.matters().unwrap();
    assert_eq!(
        format!("{a_matters:?}"),
        format!("{b_matters:?}"),
        "the devices converge"
    );
    for core in [&mut a, &mut b] {
        let s = core.status().unwrap();
        assert_eq!(
            (s.pending_edits, s.open_conflicts, s.rejected_edits),
            (0, 0, 0)
        );
    }
    a.wipe().unwrap();
    b.wipe().unwrap();
}
