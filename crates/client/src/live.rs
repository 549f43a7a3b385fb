//! Keeping the vault current while the app runs.
//!
//! [`run_live`] holds the service's live stream (`GET /v1/sync/events`) open and syncs each
//! time the service says the practice's changes moved, and each time the app says a local
//! edit is waiting ([`LiveControl::poke`]). When the stream cannot be had it polls instead,
//! waiting longer after each failure (exponential back-off with jitter, from
//! [`LiveOptions::first_retry`] up to [`LiveOptions::max_retry`]), and marks the core
//! offline until an answer comes. A sync that fails while the stream is up is tried again
//! after the same back-off. With no signed-in, unlocked vault it waits to be poked.
//!
//! Invariant: the loop only ever calls [`crate::sync_shared`]; whatever a sync decides
//! (a purge, a refusal, a wipe on a revoked session) is decided there, never here. A
//! failure of the stream alone changes nothing but the connection state.

use std::time::Duration;

use strongroom_sync::LiveEvent;
use tokio::sync::{Mutex, Notify};

use crate::{ClientError, Connection, Core, SyncReport, sync_shared};

/// How the loop paces itself.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// The wait after the first failure.
    pub first_retry: Duration,
    /// The longest wait between attempts.
    pub max_retry: Duration,
    /// How often to poll while the stream is down but the service answers.
    pub poll_interval: Duration,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(60),
            poll_interval: Duration::from_secs(30),
        }
    }
}

/// What the loop tells the app, so it can refresh what it shows.
#[derive(Debug)]
pub enum LiveUpdate {
    /// The live stream is open: the service is reachable.
    Connected,
    /// The stream is lost or could not be opened; polling until it is back.
    Disconnected,
    /// A sync ran, with this outcome.
    Synced(Result<SyncReport, ClientError>),
}

/// The app's handle on a running loop.
#[derive(Debug, Default)]
pub struct LiveControl {
    wake: Notify,
}

impl LiveControl {
    /// Asks for a sync soon: a local edit is waiting, or the user signed in or unlocked.
    pub fn poke(&self) {
        self.wake.notify_one();
    }
}

/// Exponential back-off with "equal jitter": each wait is half the current step plus a
/// random part of the other half, so many clients cut off together do not return together.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    pub fn new(first: Duration, max: Duration) -> Self {
        Self {
            first,
            max,
            failures: 0,
        }
    }

    /// The wait before the next attempt after one more failure.
    pub fn next_wait(&mut self) -> Duration {
        let step = self
            .first
            .saturating_mul(2u32.saturating_pow(self.failures.min(20)))
            .min(self.max);
        self.failures = self.failures.saturating_add(1);
        let half = step / 2;
        half + half.mul_f64(rand::random::<f64>())
    }

    /// An attempt worked: start again from the first wait.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// Whether an error means "nothing to sync until the user acts": sign in, unlock, or
/// trust the server. Passing failures are retried instead.
fn needs_the_user(e: &ClientError) -> bool {
    use crate::ErrorCode as C;
    matches!(
        e.code(),
        C::VaultLocked
            | C::NotSignedIn
            | C::SessionExpired
            | C::VaultKeyMissing
            | C::VaultUnreadable
            | C::KeyringUnavailable
            | C::PassphraseRequired
            | C::IncompatibleServer
            | C::CertificateRefused
            | C::BadCaFile
            | C::InvalidAddress
            | C::DeviceRemoved
    )
}

/// Runs until the process ends: see the module's documentation. `on_update` is called
/// after each change the app may want to show.
pub async fn run_live(
    core: &Mutex<Core>,
    control: &LiveControl,
    opts: LiveOptions,
    on_update: impl Fn(&LiveUpdate),
) {
    let mut backoff = Backoff::new(opts.first_retry, opts.max_retry);
    loop {
        let session = core.lock().await.live_session();
        let (server, token) = match session {
            Ok(s) => s,
            Err(e) => {
                if !needs_the_user(&e) {
                    tracing::warn!(code = ?e.code(), "live: cannot start");
                }
                // Nothing to do until the user signs in or unlocks; look again now and then.
                let _ = tokio::time::timeout(opts.poll_interval, control.wake.notified()).await;
                continue;
            }
        };
        match server.events(&token).await {
            Ok(mut stream) => {
                backoff.reset();
                core.lock().await.set_connection(Connection::Online);
                on_update(&LiveUpdate::Connected);
                // The service sends `changed` first: the first sync happens below. A sync
                // that fails for a passing reason while the stream stays up (its own
                // request lost or timed out, a 5xx) is tried again after a back-off wait:
                // else what it carried would wait for the next event, if one ever came.
                let mut retry: Option<tokio::time::Instant> = None;
                let lost = loop {
                    let due = async move {
                        match retry {
                            Some(at) => tokio::time::sleep_until(at).await,
                            None => std::future::pending().await,
                        }
                    };
                    let after = tokio::select! {
                        event = stream.next() => match event {
                            Ok(Some(LiveEvent::Changed)) => sync_and_tell(core, &on_update).await,
                            // The session ended, or the service closed the stream: one sync
                            // learns why (and acts on it), then the loop starts over.
                            Ok(Some(LiveEvent::Ended)) | Ok(None) => {
                                sync_and_tell(core, &on_update).await;
                                break false;
                            }
                            Err(e) => {
                                tracing::info!(error = %e, "live: stream lost");
                                break true;
                            }
                        },
                        () = control.wake.notified() => sync_and_tell(core, &on_update).await,
                        () = due => sync_and_tell(core, &on_update).await,
                    };
                    match after {
                        AfterSync::Synced => {
                            retry = None;
                            backoff.reset();
                        }
                        AfterSync::Failed => {
                            retry = Some(tokio::time::Instant::now() + backoff.next_wait());
                        }
                        AfterSync::NeedsTheUser => break false,
                    }
                };
                if lost {
                    core.lock().await.set_connection(Connection::Offline);
                    on_update(&LiveUpdate::Disconnected);
                    tokio::time::sleep(backoff.next_wait()).await;
                }
            }
            Err(e) => {
                let e = ClientError::from(e);
                if e.is_offline() {
                    core.lock().await.set_connection(Connection::Offline);
                    on_update(&LiveUpdate::Disconnected);
                } else {
                    tracing::info!(code = ?e.code(), "live: stream refused");
                }
                // Poll: a sync may work where the stream did not (and learns of a revoked
                // session); then wait, longer after each failure, or until poked.
                let outcome = sync_until_done(core).await;
                let worked = outcome.is_ok();
                on_update(&LiveUpdate::Synced(outcome));
                let wait = if worked {
                    backoff.reset();
                    opts.poll_interval
                } else {
                    backoff.next_wait()
                };
                let _ = tokio::time::timeout(wait, control.wake.notified()).await;
            }
        }
    }
}

/// How a sync the loop ran ended.
enum AfterSync {
    Synced,
    /// For a passing reason: try again later.
    Failed,
    /// Nothing to do until the user acts: the stream is given up.
    NeedsTheUser,
}

/// Syncs once, telling the app.
async fn sync_and_tell(core: &Mutex<Core>, on_update: &impl Fn(&LiveUpdate)) -> AfterSync {
    let outcome = sync_until_done(core).await;
    let after = match &outcome {
        Ok(_) => AfterSync::Synced,
        Err(e) if needs_the_user(e) => AfterSync::NeedsTheUser,
        Err(_) => AfterSync::Failed,
    };
    on_update(&LiveUpdate::Synced(outcome));
    after
}

/// One sync; if the user's own sync is running, waits for it to end and syncs again, so a
/// poke is never lost to it.
async fn sync_until_done(core: &Mutex<Core>) -> Result<SyncReport, ClientError> {
    loop {
        match sync_shared(core).await {
            Err(ClientError::SyncInProgress) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_with_jitter_up_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        let waits: Vec<Duration> = (0..10).map(|_| b.next_wait()).collect();
        let steps = [1u64, 2, 4, 8, 16, 32, 60, 60, 60, 60];
        for (w, step) in waits.iter().zip(steps) {
            let step = Duration::from_secs(step);
            assert!(
                *w >= step / 2 && *w <= step,
                "{w:?} outside {step:?}/2..={step:?}"
            );
        }
        b.reset();
        assert!(b.next_wait() <= Duration::from_secs(1));
    }

    #[test]
    fn jitter_spreads_clients_apart() {
        let waits: std::collections::HashSet<Duration> = (0..20)
            .map(|_| {
                let mut b = Backoff::new(Duration::from_secs(8), Duration::from_secs(60));
                b.next_wait()
            })
            .collect();
        assert!(
            waits.len() > 10,
            "20 clients should not wait alike: {waits:?}"
        );
    }
}
