//! The member's own preferences and what the service tells them, as the desktop sees
//! them: the cookie catalogue and the member's consent record (promise 6), notification
//! preferences and the in-app inbox (promise 8), and the aggregated usage report's preview
//! (administrators only).
//!
//! Like the dashboard's ([`crate::dashboard`]), reads go to the service and keep their
//! answer in the vault's meta (`cache:*`), so a page opens offline with the last answer
//! and says how old it is ([`Cached`]); actions need the service and fail
//! [`ClientError::Offline`] without it, changing nothing. An action's answer also
//! replaces the kept copy, so the page offline shows what was last decided.
//!
//! Invariants:
//! - One consent record per member, shared with the browser: the desktop sends its change
//!   with the session's bearer token, and the service records it with the desktop as its
//!   surface (`ConsentSurface::Desktop`); no copy of the choice is kept anywhere else.
//! - A notification preferences change from the desktop always says so
//!   (`UpdateSource::User`), whatever the window sent.
//! - What is locked stays locked, and says why: refusing strictly necessary cookies is
//!   [`ClientError::StrictlyNecessaryLocked`], turning an essential category off
//!   [`ClientError::EssentialCategory`], each with the service's words; the service
//!   decides, nothing here second-guesses it.

use strongroom_protocol::consent::{ConsentChange, ConsentState, CookieCatalogue, UsageReport};
use strongroom_protocol::notifications::{
    Notice, NotificationPreferences, PreferencesUpdate, UpdateSource,
};

use crate::{Cached, ClientError, Core, now_rfc3339};

/// The vault keys of the kept reads.
mod cache {
    pub const COOKIES: &str = "cache:cookies";
    pub const CONSENT: &str = "cache:consent";
    pub const NOTIFICATION_PREFERENCES: &str = "cache:notification_preferences";
    pub const NOTICES: &str = "cache:notices";
    pub const USAGE_REPORT: &str = "cache:usage_report";
}

impl Core {
    /// Every cookie and storage item the service and its web pages set, by category, with
    /// what each is for and how long it lasts.
    pub async fn cookie_catalogue(&mut self) -> Result<Cached<CookieCatalogue>, ClientError> {
        self.cached_fetch(cache::COOKIES, |server, _| async move {
            server.cookie_catalogue().await
        })
        .await
    }

    /// The member's consent record (the one the browser reads too), what it allows, and
    /// its history, newest first.
    pub async fn consent(&mut self) -> Result<Cached<ConsentState>, ClientError> {
        self.cached_fetch(cache::CONSENT, |server, token| async move {
            server.consent(&token).await
        })
        .await
    }

    /// Accepts all, rejects all, or chooses by category and item; recorded by the service
    /// with the desktop as its surface. Answers the member's consent as it now is.
    pub async fn change_consent(
        &mut self,
        change: &ConsentChange,
    ) -> Result<ConsentState, ClientError> {
        let change = change.clone();
        let state = self
            .act_with(|server, token| async move { server.change_consent(&token, &change).await })
            .await?;
        self.keep(cache::CONSENT, &state);
        Ok(state)
    }

    /// Every notification category and channel, essential ones locked on with their
    /// reason, each choice with when and how it was last made.
    pub async fn notification_preferences(
        &mut self,
    ) -> Result<Cached<NotificationPreferences>, ClientError> {
        self.cached_fetch(
            cache::NOTIFICATION_PREFERENCES,
            |server, token| async move { server.notification_preferences(&token).await },
        )
        .await
    }

    /// Makes all the changes or none, as made in the desktop app; answers the preferences
    /// as they now are.
    pub async fn update_notification_preferences(
        &mut self,
        update: &PreferencesUpdate,
    ) -> Result<NotificationPreferences, ClientError> {
        let update = PreferencesUpdate {
            changes: update.changes.clone(),
            source: UpdateSource::User,
        };
        let prefs = self
            .act_with(|server, token| async move {
                server
                    .update_notification_preferences(&token, &update)
                    .await
            })
            .await?;
        self.keep(cache::NOTIFICATION_PREFERENCES, &prefs);
        Ok(prefs)
    }

    /// The member's in-app notices, newest first.
    pub async fn notices(&mut self) -> Result<Cached<Vec<Notice>>, ClientError> {
        self.cached_fetch(cache::NOTICES, |server, token| async move {
            server.notices(&token).await
        })
        .await
    }

    /// Marks one of the member's notices read (the first time counts); the kept inbox
    /// shows it read too.
    pub async fn mark_notice_read(&mut self, id: uuid::Uuid) -> Result<(), ClientError> {
        self.act_with(|server, token| async move { server.mark_notice_read(&token, id).await })
            .await?;
        self.amend_kept(cache::NOTICES, |kept: &mut Vec<Notice>| {
            match kept.iter_mut().find(|n| n.id == id && n.read_at.is_none()) {
                Some(n) => {
                    n.read_at = Some(now_rfc3339());
                    true
                }
                None => false,
            }
        });
        Ok(())
    }

    /// Exactly what the aggregated usage report would send, and whether this practice is
    /// counted in it (administrators only: others fail [`ClientError::Forbidden`]).
    pub async fn usage_report_preview(&mut self) -> Result<Cached<UsageReport>, ClientError> {
        self.cached_fetch(cache::USAGE_REPORT, |server, token| async move {
            server.usage_report_preview(&token).await
        })
        .await
    }

    /// Keeps an action's answer as the read's copy. Best effort: the service has decided
    /// already, so a vault that cannot take it only leaves an older copy for offline.
    fn keep<T: serde::Serialize>(&self, key: &str, value: &T) {
        if let Err(e) = self.cache_put(key, value, &now_rfc3339()) {
            tracing::debug!(error = %e, "an action's answer was not kept");
        }
    }
}
