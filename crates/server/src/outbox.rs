//! The durable mail outbox's worker: sends due rows of `mail_outbox` through the
//! [`Mailer`], retrying with exponential back-off.
//!
//! Rows are written by [`crate::notifications::Notifier::notify`] in the transaction that
//! decides them. The worker, started with the server when an SMTP server is configured,
//! claims due rows (leasing each, see [`crate::store::notifications`]), checks again that
//! the member still takes email of a non-essential category (they may have opted out while
//! it waited: then the row is cancelled, never sent), sends, and records the outcome: sent,
//! or failed and due again after `first_retry * 2^(attempts)` (at most `max_retry`), or
//! given up after `max_attempts` or when the message cannot be sent as it is (a bad
//! address).
//!
//! Invariant: a row stays until it is sent or given up, so mail survives a restart; a
//! server that stops mid-send leaves the row leased, and it is sent again once the lease
//! ends (at least once; the lease keeps two live workers from sending it twice).
//! Invariant: a non-essential message is sent only to a member who takes email of its
//! category when it goes. Tests: `server::api::{sqlite,postgres}::an_opted_out_category_is_never_sent`.
//! Invariant: the worker never logs a recipient, a subject, a body or a header (the
//! unsubscribe link is a credential of sorts): only row ids and errors.

use std::sync::Arc;
use std::time::Duration;

use strongroom_protocol::notifications::{Category, Channel};

use crate::mailer::{MailError, Mailer, OutgoingMail};
use crate::store::Store;
use crate::store::notifications::{OutboxRow, effective};

/// How the worker paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxSettings {
    /// How often it looks for due mail when nothing wakes it.
    pub poll: Duration,
    /// The wait after a first failure; it doubles with each further one.
    pub first_retry: Duration,
    /// The longest wait between attempts.
    pub max_retry: Duration,
    /// Attempts before a message is given up.
    pub max_attempts: i64,
    /// How long a claimed row is left to the worker that claimed it.
    pub lease: Duration,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(5),
            first_retry: Duration::from_secs(30),
            max_retry: Duration::from_secs(3600),
            max_attempts: 12,
            lease: Duration::from_secs(120),
        }
    }
}

/// Rows claimed at once.
const BATCH: i64 = 20;

fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}

/// The wait before the next attempt, after `attempts` failed ones (1 or more).
pub fn backoff(settings: &OutboxSettings, attempts: i64) -> Duration {
    let steps = u32::try_from((attempts - 1).clamp(0, 30)).unwrap_or(30);
    settings
        .first_retry
        .saturating_mul(2u32.saturating_pow(steps))
        .min(settings.max_retry)
}

/// Starts the worker on the current runtime. It runs until the handle is aborted.
pub fn spawn(
    store: Arc<dyn Store>,
    mailer: Arc<Mailer>,
    settings: OutboxSettings,
    wake: Arc<tokio::sync::Notify>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match run_once(store.as_ref(), &mailer, &settings).await {
                // A full batch: there may be more due now.
                Ok(n) if n as i64 >= BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "the mail outbox could not be read"),
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(settings.poll) => {}
            }
        }
    })
}

/// Whether the row may go: essential mail always; non-essential mail only while its
/// member takes email of its category.
async fn still_wanted(
    store: &dyn Store,
    row: &OutboxRow,
) -> Result<bool, crate::store::StoreError> {
    let (Some(user), Some(category)) = (row.user, Category::parse(&row.category)) else {
        return Ok(true);
    };
    if category.is_essential() {
        return Ok(true);
    }
    let stored = store.notification_choices(user).await?;
    let choice = stored
        .iter()
        .find(|c| c.category == category && c.channel == Channel::Email)
        .map(|c| c.enabled);
    Ok(effective(category, Channel::Email, choice))
}

/// Claims and sends what is due now; answers how many rows it claimed.
pub async fn run_once(
    store: &dyn Store,
    mailer: &Mailer,
    settings: &OutboxSettings,
) -> Result<usize, crate::store::StoreError> {
    let now = now_ms();
    let lease = i64::try_from(settings.lease.as_millis()).unwrap_or(i64::MAX);
    let rows = store
        .claim_due_mail(now, now.saturating_add(lease), BATCH)
        .await?;
    let claimed = rows.len();
    for row in rows {
        let secs = now_ms().div_euclid(1000);
        if !still_wanted(store, &row).await? {
            tracing::info!(outbox_id = row.id, "mail cancelled: the member opted out");
            store
                .mail_cancelled(row.id, "the member turned this category off", secs)
                .await?;
            continue;
        }
        let sent = mailer
            .send_mail(&OutgoingMail {
                to: &row.recipient,
                subject: &row.subject,
                body: &row.body,
                headers: &row.headers,
            })
            .await;
        match sent {
            Ok(()) => {
                tracing::info!(outbox_id = row.id, "mail sent");
                store.mail_sent(row.id, now_ms()).await?;
            }
            Err(e) => {
                let attempts = row.attempts + 1;
                let permanent = matches!(e, MailError::Address(_) | MailError::Header(_));
                let retry = (!permanent && attempts < settings.max_attempts).then(|| {
                    let wait = backoff(settings, attempts);
                    now_ms().saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX))
                });
                // The error names no recipient for an address the SMTP server took; for
                // one it refused, only that it was refused.
                let error = match &e {
                    MailError::Address(_) => "the address is not one mail can go to".to_owned(),
                    other => other.to_string(),
                };
                tracing::warn!(
                    outbox_id = row.id,
                    attempts,
                    retrying = retry.is_some(),
                    "mail not sent"
                );
                store.mail_failed(row.id, &error, retry, secs).await?;
            }
        }
    }
    Ok(claimed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let s = OutboxSettings::default();
        assert_eq!(backoff(&s, 1), Duration::from_secs(30));
        assert_eq!(backoff(&s, 2), Duration::from_secs(60));
        assert_eq!(backoff(&s, 3), Duration::from_secs(120));
        assert_eq!(backoff(&s, 8), Duration::from_secs(3600));
        assert_eq!(backoff(&s, 1000), Duration::from_secs(3600));
    }
}
