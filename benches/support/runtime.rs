//! A benchmark's tokio runtime, started only once the process runs under a desktop user's
//! memory-locking limits ([`crate::desktop_user`]). Capabilities belong to each thread:
//! they are dropped before the runtime starts its threads, so that every thread, and every
//! process the bench starts, runs without them.

use std::future::Future;

/// Drops to a desktop user's limits, then runs `bench` (given the note saying so) on a
/// two-thread runtime, as the machine has two cores.
pub fn run_as_desktop_user<F: Future>(bench: impl FnOnce(String) -> F) -> F::Output {
    let as_user = crate::desktop_user::as_desktop_user();
    eprintln!("{as_user}");
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the runtime")
        .block_on(bench(as_user))
}
