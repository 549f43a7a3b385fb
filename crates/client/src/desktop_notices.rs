//! Desktop notifications: which of the member's notices the app raises as an operating
//! system notification now (the `desktop` channel of promise 8, and the "desktop
//! notification too, where allowed" of a breach notice, promise 10).
//!
//! The service marks each notice with the member's `desktop` choice as it was when the
//! notice was made ([`Notice::desktop`]); an essential category's choice is always on. The
//! app asks [`Core::notices_to_raise`] every little while and after each sync, and raises
//! what it answers.
//!
//! Invariants:
//! - A notice is raised at most once on a device. The ids handed out are kept in the
//!   vault's meta ([`RAISED_KEY`]) before they are answered, so a crash after the answer
//!   can lose a notification, never repeat one. The inbox still holds every notice.
//! - Only unread notices with `desktop` on are raised. A notice read elsewhere first (in
//!   the browser, on another laptop) is not raised.
//! - A device that has raised nothing yet (just signed in) takes notices older than
//!   [`FRESH_FOR`] as seen: signing in on a new laptop does not raise a month of them.
//! - Nothing is raised from the vault's copy: offline, nothing new can have come.

use std::collections::BTreeSet;

use strongroom_protocol::notifications::Notice;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::{ClientError, Core};

/// The vault meta key of the ids of notices already raised on this device.
pub const RAISED_KEY: &str = "desktop_notices_raised";

/// How many raised ids are kept: the newest, by the inbox's order. The service's inbox is
/// newest first and bounded, so an id that falls off this list has fallen off the inbox.
const KEEP_RAISED: usize = 500;

/// On a device that has raised nothing yet, how new a notice must be to be raised.
pub const FRESH_FOR: time::Duration = time::Duration::hours(1);

impl Core {
    /// The notices to raise as desktop notifications now, oldest first, each once on this
    /// device. Online only: offline (or with no vault) it answers none. A refusal from the
    /// service (a revoked session, say) is the caller's to handle, as with any read.
    pub async fn notices_to_raise(&mut self) -> Result<Vec<Notice>, ClientError> {
        // Offline (as the live loop last found it), no request is made: a poll must never
        // hold the core while a dead connection times out.
        if self.vault.is_none() || self.connection == crate::Connection::Offline {
            return Ok(Vec::new());
        }
        let inbox = match self.notices().await {
            Ok(inbox) => inbox,
            Err(ClientError::Offline(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        if inbox.offline {
            return Ok(Vec::new());
        }
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        let kept: Option<Vec<Uuid>> = vault
            .meta(RAISED_KEY)?
            .and_then(|text| serde_json::from_str(&text).ok());
        let first_time = kept.is_none();
        let raised: BTreeSet<Uuid> = kept.unwrap_or_default().into_iter().collect();
        let now = OffsetDateTime::now_utc();
        let mut to_raise: Vec<Notice> = inbox
            .value
            .iter()
            .filter(|n| n.desktop && n.read_at.is_none() && !raised.contains(&n.id))
            .filter(|n| !first_time || is_fresh(&n.created_at, now))
            .cloned()
            .collect();
        // Keep what the inbox still holds and was raised, and what is raised now: the
        // inbox's order (newest first) decides which ids stay when there are too many.
        let keep: Vec<Uuid> = inbox
            .value
            .iter()
            .map(|n| n.id)
            .filter(|id| raised.contains(id) || to_raise.iter().any(|n| n.id == *id))
            .take(KEEP_RAISED)
            .collect();
        if first_time || !to_raise.is_empty() || keep.len() != raised.len() {
            let text =
                serde_json::to_string(&keep).map_err(|e| ClientError::Internal(e.to_string()))?;
            vault.set_meta(RAISED_KEY, &text)?;
        }
        to_raise.reverse();
        Ok(to_raise)
    }
}

/// Made within [`FRESH_FOR`] of `now`. A time that does not parse is not fresh.
fn is_fresh(created_at: &str, now: OffsetDateTime) -> bool {
    OffsetDateTime::parse(created_at, &Rfc3339).is_ok_and(|t| now - t <= FRESH_FOR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_is_an_hour_and_nonsense_is_stale() {
        let now = OffsetDateTime::parse("2026-11-28T12:00:00Z", &Rfc3339).unwrap();
        assert!(is_fresh("2026-11-28T11:30:00Z", now));
        assert!(is_fresh("2026-11-28T11:00:00Z", now));
        assert!(!is_fresh("2026-11-28T10:59:59Z", now));
        assert!(!is_fresh("yesterday", now));
        assert!(!is_fresh("", now));
    }
}
