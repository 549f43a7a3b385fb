//! Wire types of notification preferences (promise 8): channels, categories, each member's
//! choices with when and how they were last made, in-app notices, and the one-click
//! unsubscribe's answer.
//!
//! Categories are essential (security alerts, breach notices, billing, service notices,
//! policy changes: locked on in every channel, each with the reason shown to the member) or
//! non-essential (product news, tips, usage suggestions: a choice per channel).
//!
//! Defaults, for a privacy-first product: a non-essential category sends no email and
//! raises no desktop notification until the member turns it on; it does appear in the
//! in-app inbox (a notice stays inside the service, in the member's own inbox, and tells
//! no one else anything), which the member may also turn off.
//!
//! Invariant: an essential category is on in every channel, whatever is stored; only
//! non-essential categories have choices.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a notification reaches a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Channel {
    /// A message to the member's address, through the service's outbox.
    Email,
    /// A notice in the member's inbox in the app (`GET /v1/me/notices`).
    InApp,
    /// The desktop app raises an operating-system notification for the notice.
    Desktop,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Email, Channel::InApp, Channel::Desktop];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::InApp => "in_app",
            Channel::Desktop => "desktop",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Category {
    /// Essential: sign-ins, second factors, sessions ended.
    SecurityAlerts,
    /// Essential: a personal-data breach that affects the member's practice.
    BreachNotices,
    /// Essential: invoices, payment problems, the subscription.
    Billing,
    /// Essential: outages, maintenance, changes to how the service runs.
    ServiceNotices,
    /// Essential: a new version of the privacy policy or the terms.
    PolicyChanges,
    /// Non-essential: new features and announcements.
    ProductNews,
    /// Non-essential: how to get more from Strongroom.
    Tips,
    /// Non-essential: suggestions drawn from how the practice uses Strongroom.
    UsageSuggestions,
}

impl Category {
    pub const ALL: [Category; 8] = [
        Category::SecurityAlerts,
        Category::BreachNotices,
        Category::Billing,
        Category::ServiceNotices,
        Category::PolicyChanges,
        Category::ProductNews,
        Category::Tips,
        Category::UsageSuggestions,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::SecurityAlerts => "security_alerts",
            Category::BreachNotices => "breach_notices",
            Category::Billing => "billing",
            Category::ServiceNotices => "service_notices",
            Category::PolicyChanges => "policy_changes",
            Category::ProductNews => "product_news",
            Category::Tips => "tips",
            Category::UsageSuggestions => "usage_suggestions",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Words for the member: the category's name in a sentence ("emails about ...").
    pub fn describe(self) -> &'static str {
        match self {
            Category::SecurityAlerts => "security alerts",
            Category::BreachNotices => "breach notices",
            Category::Billing => "billing",
            Category::ServiceNotices => "service notices",
            Category::PolicyChanges => "policy changes",
            Category::ProductNews => "product news",
            Category::Tips => "tips",
            Category::UsageSuggestions => "usage suggestions",
        }
    }

    /// Why an essential category cannot be turned off; `None` for a non-essential one.
    pub fn essential_reason(self) -> Option<&'static str> {
        match self {
            Category::SecurityAlerts => Some(
                "Security alerts tell you about sign-ins, second factors and sessions on your \
                 account, so you can act if someone else is using it.",
            ),
            Category::BreachNotices => Some(
                "The law (GDPR articles 33 and 34, Australia's Notifiable Data Breaches \
                 scheme, New Zealand's Privacy Act 2020) requires us to tell you about a \
                 breach that affects your data.",
            ),
            Category::Billing => Some(
                "Billing messages concern your subscription and payments; without them an \
                 account could lapse unnoticed.",
            ),
            Category::ServiceNotices => Some(
                "Service notices tell you about outages and maintenance that affect your \
                 access to your practice's data.",
            ),
            Category::PolicyChanges => Some(
                "We must tell you when the privacy policy or the terms change, so you can \
                 read the change before it applies to you.",
            ),
            Category::ProductNews | Category::Tips | Category::UsageSuggestions => None,
        }
    }

    /// Whether the category is locked on.
    pub fn is_essential(self) -> bool {
        self.essential_reason().is_some()
    }

    /// Whether a member who never chose gets this category on `channel`: essential ones
    /// everywhere; non-essential ones in the app's inbox only.
    pub fn default_on(self, channel: Channel) -> bool {
        self.is_essential() || channel == Channel::InApp
    }
}

/// How a choice was last made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ChoiceSource {
    /// Nobody chose: the default (or, for an essential category, the lock).
    Default,
    /// The member, in the desktop app.
    User,
    /// The member, on the web surface.
    Web,
    /// The one-click unsubscribe link of an email (RFC 8058).
    UnsubscribeLink,
}

impl ChoiceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ChoiceSource::Default => "default",
            ChoiceSource::User => "user",
            ChoiceSource::Web => "web",
            ChoiceSource::UnsubscribeLink => "unsubscribe_link",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ChoiceSource::Default,
            ChoiceSource::User,
            ChoiceSource::Web,
            ChoiceSource::UnsubscribeLink,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// One channel of one category: on or off, and when and how that was last decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChannelChoice {
    pub enabled: bool,
    pub source: ChoiceSource,
    /// When it was last changed (RFC 3339, UTC); none for a default.
    #[serde(default)]
    pub changed_at: Option<String>,
}

/// One category in a member's preferences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CategoryPreferences {
    pub category: Category,
    /// Locked on in every channel.
    pub essential: bool,
    /// Why it is locked on; none for a non-essential category.
    #[serde(default)]
    pub reason: Option<String>,
    pub email: ChannelChoice,
    pub in_app: ChannelChoice,
    pub desktop: ChannelChoice,
}

impl CategoryPreferences {
    /// The choice of one channel.
    pub fn channel(&self, channel: Channel) -> &ChannelChoice {
        match channel {
            Channel::Email => &self.email,
            Channel::InApp => &self.in_app,
            Channel::Desktop => &self.desktop,
        }
    }
}

/// `GET /v1/me/notifications/preferences`: every category, in [`Category::ALL`]'s order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NotificationPreferences {
    pub categories: Vec<CategoryPreferences>,
}

impl NotificationPreferences {
    /// The preferences of one category.
    pub fn category(&self, category: Category) -> Option<&CategoryPreferences> {
        self.categories.iter().find(|c| c.category == category)
    }
}

/// One change to a member's preferences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PreferenceChange {
    pub category: Category,
    pub channel: Channel,
    pub enabled: bool,
}

/// Where a member changed their preferences.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum UpdateSource {
    /// The desktop app.
    #[default]
    User,
    /// The web surface.
    Web,
}

/// `PATCH /v1/me/notifications/preferences`: the changes to make, all or none. Turning an
/// essential category off is refused (`essential_category`); turning it on changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PreferencesUpdate {
    pub changes: Vec<PreferenceChange>,
    /// Kept for older clients, and ignored: the service records the surface of the
    /// session that sent the change (a bearer token is the desktop app, `user`; the web
    /// session cookie a browser, `web`), so no surface can claim to be the other.
    #[serde(default)]
    pub source: UpdateSource,
}

/// The most changes one update may carry.
pub const MAX_PREFERENCE_CHANGES: usize = 64;

/// A notice in a member's in-app inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Notice {
    pub id: Uuid,
    pub category: Category,
    pub title: String,
    pub body: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// When the member marked it read; none: unread.
    #[serde(default)]
    pub read_at: Option<String>,
    /// Whether it belongs in the in-app inbox (the member's `in_app` choice when it was
    /// made).
    pub in_app: bool,
    /// Whether the desktop app should also raise an operating-system notification (the
    /// member's `desktop` choice when it was made).
    pub desktop: bool,
}

/// `POST /v1/unsubscribe/{token}`'s answer (as JSON, for a client that does not ask for
/// HTML).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Unsubscribed {
    pub category: Category,
    /// Email of this category is now off (always false).
    pub email: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_essentials_have_reasons() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::json!(c.as_str())
            );
            for ch in Channel::ALL {
                assert_eq!(Channel::parse(ch.as_str()), Some(ch));
                // Non-essential email is off until the member opts in.
                if !c.is_essential() && ch != Channel::InApp {
                    assert!(!c.default_on(ch), "{c:?} {ch:?}");
                }
            }
        }
        let essential: Vec<_> = Category::ALL
            .into_iter()
            .filter(|c| c.is_essential())
            .collect();
        assert_eq!(essential.len(), 5);
        assert!(essential.iter().all(|c| Category::ALL.contains(c)
            && c.default_on(Channel::Email)
            && c.default_on(Channel::Desktop)));
    }
}
