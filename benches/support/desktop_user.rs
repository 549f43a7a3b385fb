//! Runs a benchmark under the memory-locking limits of the desktop app's real process: an
//! ordinary user's, which may lock at most `RLIMIT_MEMLOCK` of memory (8 MiB by default on
//! Debian and most Linux desktops), never root's.
//!
//! Why it matters: the vault runs with SQLCipher's `cipher_memory_security = ON`, which
//! wipes every SQLite allocation when it is freed and asks the kernel to lock it (`mlock`)
//! when it is made (`munlock` when freed). For an ordinary user the kernel locks the first
//! few MiB and refuses the rest at once; for root (`CAP_IPC_LOCK`), which is what CI and
//! the benchmark machine run as, it locks every allocation, and splitting and merging the
//! locked ranges of the heap then takes more time than the encryption (profiled: mlock and
//! munlock were a quarter of the vault bench's CPU samples as root). A laptop never runs
//! the app as root, so root's figures would measure a cost the product never has.
//!
//! [`as_desktop_user`] drops `CAP_IPC_LOCK` (from the bounding set too, so that processes
//! the bench starts, such as the app under tauri-driver, never regain it) and caps
//! `RLIMIT_MEMLOCK` at the desktop default. Wiping on free is unchanged: it is not a
//! privilege. The returned line says what was done, for the report's notes.

/// The memory-locking limit of an ordinary user's session (systemd's and the kernel's
/// default).
const DESKTOP_MEMLOCK: u64 = 8 * 1024 * 1024;

/// Drops `CAP_IPC_LOCK` and caps `RLIMIT_MEMLOCK` at [`DESKTOP_MEMLOCK`]; returns a note
/// saying what was done. Panics if it cannot: a bench that meant to measure the desktop's
/// conditions must not quietly measure root's.
///
/// `STRONGROOM_BENCH_AS_ROOT=1` leaves the process as it was started (for comparing with
/// root's figures); the note then says so.
pub fn as_desktop_user() -> String {
    use caps::{CapSet, Capability};
    if std::env::var_os("STRONGROOM_BENCH_AS_ROOT").is_some_and(|v| v == "1") {
        return "run with the memory-locking limits it was started with \
                (STRONGROOM_BENCH_AS_ROOT=1), not a desktop user's"
            .to_owned();
    }
    let cap = Capability::CAP_IPC_LOCK;
    let held = caps::has_cap(None, CapSet::Effective, cap).expect("reading capabilities")
        || caps::has_cap(None, CapSet::Permitted, cap).expect("reading capabilities");
    if held {
        // Root: out of the bounding set first (that needs CAP_SETPCAP, which root holds), so
        // that no program the bench starts gets it back when it is executed.
        caps::drop(None, CapSet::Bounding, cap)
            .expect("dropping CAP_IPC_LOCK from the bounding set");
        for set in [
            CapSet::Ambient,
            CapSet::Inheritable,
            CapSet::Effective,
            CapSet::Permitted,
        ] {
            caps::drop(None, set, cap).expect("dropping CAP_IPC_LOCK");
        }
    }
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit for the call to fill in.
    assert_eq!(
        unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut limit) },
        0
    );
    let before = limit.rlim_cur;
    if limit.rlim_cur > DESKTOP_MEMLOCK {
        limit.rlim_cur = DESKTOP_MEMLOCK;
        // SAFETY: lowering the soft limit of this process, with a valid rlimit.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &limit) }, 0);
    }
    let mib = |v: u64| {
        if v == libc::RLIM_INFINITY {
            "unlimited".to_owned()
        } else {
            format!("{} MiB", v / (1024 * 1024))
        }
    };
    format!(
        "run under a desktop user's memory-locking limits: CAP_IPC_LOCK {} and RLIMIT_MEMLOCK {} \
         (was {}), as the app's process has on a laptop; SQLCipher's memory security still \
         wipes every allocation when freed",
        if held {
            "dropped (the bench ran as root)"
        } else {
            "not held"
        },
        mib(limit.rlim_cur),
        mib(before),
    )
}
