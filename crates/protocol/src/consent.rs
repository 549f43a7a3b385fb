//! Wire types of cookie preferences: the catalogue of every cookie and browser storage item
//! the service and its web pages set (`GET /v1/cookies`), a member's consent record (`GET`
//! and `PUT /v1/me/consent`), and Global Privacy Control's well-known answer.
//!
//! A member has one consent record, whatever surface they use: a choice made in the desktop
//! app shows in the browser and the other way round. Each change is kept (newest first),
//! with its time, the cookie policy's version, its source (the member, Global Privacy
//! Control, or the default) and the surface it was made on.
//!
//! Invariant: strictly necessary items cannot be refused; a request that tries is refused
//! whole ([`crate::ProblemCode::StrictlyNecessaryLocked`]), and nothing is recorded.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The categories of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum CookieCategory {
    /// Needed for the service to work at all (the session); always on.
    StrictlyNecessary,
    /// Remembers choices that make the pages nicer to use; off until consented.
    Functional,
    /// Counts use in aggregate; off until consented, and off under Global Privacy Control.
    Analytics,
}

impl CookieCategory {
    pub const ALL: [CookieCategory; 3] = [
        CookieCategory::StrictlyNecessary,
        CookieCategory::Functional,
        CookieCategory::Analytics,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CookieCategory::StrictlyNecessary => "strictly_necessary",
            CookieCategory::Functional => "functional",
            CookieCategory::Analytics => "analytics",
        }
    }
}

/// Where an item lives in the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum StorageKind {
    Cookie,
    LocalStorage,
}

/// Who puts an item in the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum SetBy {
    /// The hosted service, in a `Set-Cookie` answer.
    Service,
    /// The web pages' own script.
    WebUi,
}

/// One cookie or storage item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CatalogueItem {
    /// The cookie's or key's exact name.
    pub name: String,
    pub kind: StorageKind,
    pub category: CookieCategory,
    /// What it is for, in words a member can read.
    pub purpose: String,
    /// How long it lasts, in words ("until you sign out, at most 30 days").
    pub lifetime: String,
    /// Its longest life in seconds; none: until the browser closes or the item is removed.
    pub max_age_secs: Option<i64>,
    pub set_by: SetBy,
    /// What it holds, in words (never its value).
    pub holds: String,
}

/// A category as the catalogue explains it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CategoryInfo {
    pub category: CookieCategory,
    pub title: String,
    pub description: String,
    /// Always on, and why (strictly necessary only).
    pub locked: bool,
}

/// `GET /v1/cookies`: every cookie and storage item, by category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CookieCatalogue {
    /// The cookie policy's version; a consent record names the version it was made under.
    pub policy_version: String,
    pub categories: Vec<CategoryInfo>,
    pub items: Vec<CatalogueItem>,
}

/// What made a consent record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ConsentSource {
    /// The member chose.
    User,
    /// A request carried `Sec-GPC: 1` while the member had made no choice: analytics off.
    Gpc,
    /// Nothing was chosen: everything but strictly necessary is off. Never stored; shown
    /// when there is no record yet.
    Default,
}

impl ConsentSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentSource::User => "user",
            ConsentSource::Gpc => "gpc",
            ConsentSource::Default => "default",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::User, Self::Gpc, Self::Default]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Where a choice was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ConsentSurface {
    /// The desktop app (a bearer session).
    Desktop,
    /// A browser (the web cookie session).
    Web,
}

impl ConsentSurface {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentSurface::Desktop => "desktop",
            ConsentSurface::Web => "web",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Desktop, Self::Web]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// The choices of a consent record. Strictly necessary is always on and not stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConsentChoices {
    pub functional: bool,
    pub analytics: bool,
    /// Per-item choices that differ from their category's, by catalogue name.
    #[serde(default)]
    pub items: BTreeMap<String, bool>,
}

/// One consent record, as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConsentRecord {
    /// None for the default (never stored).
    pub id: Option<Uuid>,
    /// Always true: strictly necessary items cannot be refused.
    pub strictly_necessary: bool,
    pub choices: ConsentChoices,
    pub source: ConsentSource,
    /// None for the default.
    pub surface: Option<ConsentSurface>,
    /// The cookie policy's version the record was made under.
    pub policy_version: String,
    /// When: RFC 3339, UTC; none for the default.
    pub recorded_at: Option<String>,
}

/// Whether each category and item is allowed for the request that asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EffectiveConsent {
    pub strictly_necessary: bool,
    pub functional: bool,
    pub analytics: bool,
    /// Every catalogue item by name.
    pub items: BTreeMap<String, bool>,
}

/// `GET` and `PUT /v1/me/consent`: the member's current record, what it allows for this
/// request, and the record's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConsentState {
    pub current: ConsentRecord,
    /// What is allowed for this request: the record, with analytics off when the request
    /// carries Global Privacy Control (the signal wins on every request that carries it;
    /// an opt-in made while it is on is kept and applies where it is not sent).
    pub effective: EffectiveConsent,
    /// The request carried `Sec-GPC: 1`.
    pub gpc: bool,
    /// The cookie policy's current version.
    pub policy_version: String,
    /// The member has not chosen under the current policy version (no choice of theirs
    /// yet, only Global Privacy Control's, or one made under an older version): ask.
    pub choice_needed: bool,
    /// Every stored record, newest first (at most [`MAX_CONSENT_HISTORY`]).
    pub history: Vec<ConsentRecord>,
}

/// The most records a consent answer lists.
pub const MAX_CONSENT_HISTORY: u32 = 100;

/// `PUT /v1/me/consent`: accept all, reject all, or choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ConsentAction {
    AcceptAll,
    RejectAll,
    Custom,
}

/// Category choices of a custom change; an absent one stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CategoryChoices {
    /// Only `true` is accepted: strictly necessary is locked on.
    #[serde(default)]
    pub strictly_necessary: Option<bool>,
    #[serde(default)]
    pub functional: Option<bool>,
    #[serde(default)]
    pub analytics: Option<bool>,
}

/// `PUT /v1/me/consent` request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConsentChange {
    pub action: ConsentAction,
    /// For `custom`: the categories to set.
    #[serde(default, deserialize_with = "object_only")]
    pub categories: CategoryChoices,
    /// For `custom`: per-item choices by catalogue name (`null` clears an item's choice,
    /// so it follows its category again). Accept all and reject all clear them all.
    #[serde(default)]
    pub items: BTreeMap<String, Option<bool>>,
}

/// `GET /.well-known/gpc.json` (the GPC specification's support resource).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GpcSupport {
    pub gpc: bool,
    /// `YYYY-MM-DD`.
    #[serde(rename = "lastUpdate")]
    pub last_update: String,
}

/// `POST /v1/web/session` request body: a browser's sign-in. Its `Debug` never shows the
/// password or a code.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WebSignInRequest {
    /// At most 254 characters, with an `@`.
    #[cfg_attr(feature = "openapi", schema(max_length = 254, pattern = "@"))]
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1024))]
    pub password: String,
    /// The authenticator's current code, when the member has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 16))]
    pub totp_code: Option<String>,
    /// One of the member's recovery codes, instead of `totp_code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub recovery_code: Option<String>,
}

impl std::fmt::Debug for WebSignInRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSignInRequest")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .field("totp_code", &self.totp_code.as_ref().map(|_| "<redacted>"))
            .field(
                "recovery_code",
                &self.recovery_code.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// `POST /v1/web/session` answer: who signed in. The session's token is only in the
/// `HttpOnly` cookie, never in a body the page's script can read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebSession {
    /// The session's public id, as the sessions list names it.
    pub session_id: Uuid,
    pub user: crate::UserInfo,
    pub practice: crate::PracticeInfo,
}

/// The web pages' colour scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Theme {
    System,
    Light,
    Dark,
}

/// How tightly the web pages' lists are set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Density {
    Comfortable,
    Compact,
}

/// `POST /v1/web/preferences`: display preferences the browser may remember in the
/// functional cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DisplayPreferences {
    pub theme: Theme,
    pub density: Density,
}

/// `POST /v1/web/preferences` answer: whether the browser was asked to remember them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PreferencesSaved {
    /// The functional cookie was set.
    pub remembered: bool,
    /// Why not, when not: `no_consent` (functional cookies are off for this member),
    /// `not_a_browser` (the request came with a bearer token, not the web session).
    pub reason: Option<String>,
}

/// The fewest practices an aggregate of the usage report may cover: a bucket with fewer
/// is suppressed, never emitted, so no practice can be singled out.
pub const MIN_GROUP_PRACTICES: u32 = 5;

/// One week of the usage report, summed over every practice that takes part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UsageBucket {
    /// The Monday the week starts on (UTC), `YYYY-MM-DD`.
    pub week_start: String,
    /// How many practices the sums cover: never fewer than [`MIN_GROUP_PRACTICES`].
    pub practices: u32,
    /// Members who signed in that week (counted once per week).
    pub active_members: u64,
    /// Sign-ins (new sessions, desktop or web) that week.
    pub sign_ins: u64,
}

/// `GET /v1/practice/usage-report/preview`: exactly what the aggregated usage report
/// would send, and whether this practice is in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UsageReport {
    /// When it was computed: RFC 3339, UTC.
    pub generated_at: String,
    pub min_group_practices: u32,
    /// The weeks emitted, oldest first; nothing else leaves.
    pub buckets: Vec<UsageBucket>,
    /// Weeks left out because fewer than [`MIN_GROUP_PRACTICES`] practices took part
    /// (their figures are not computed into anything that leaves).
    pub suppressed_weeks: Vec<String>,
    /// Whether any of this practice's usage is counted: only that of members whose
    /// consent allows analytics (a Global Privacy Control record does not).
    pub this_practice_counted: bool,
}

/// Deserializes `T` only from a JSON object: serde would also take a struct from an array
/// of its fields in order, which the schema does not allow (`[null, null]` is no choice).
fn object_only<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::Error;
    let value = serde_json::Value::deserialize(d)?;
    if !value.is_object() {
        return Err(D::Error::custom("expected an object of categories"));
    }
    T::deserialize(value).map_err(D::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_are_an_object_never_an_array() {
        let ok: ConsentChange =
            serde_json::from_str(r#"{"action":"custom","categories":{"analytics":true}}"#).unwrap();
        assert_eq!(ok.categories.analytics, Some(true));
        for bad in [
            r#"{"action":"custom","categories":[null,null]}"#,
            r#"{"action":"custom","categories":[true,false,true]}"#,
            r#"{"action":"custom","categories":null}"#,
        ] {
            assert!(serde_json::from_str::<ConsentChange>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_round_trip_and_match_serde() {
        for c in CookieCategory::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        for s in [
            ConsentSource::User,
            ConsentSource::Gpc,
            ConsentSource::Default,
        ] {
            assert_eq!(ConsentSource::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in [ConsentSurface::Desktop, ConsentSurface::Web] {
            assert_eq!(ConsentSurface::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(ConsentSource::parse("USER"), None);
    }

    #[test]
    fn a_change_refuses_unknown_fields_and_defaults_the_rest() {
        let c: ConsentChange = serde_json::from_str(r#"{"action":"reject_all"}"#).unwrap();
        assert_eq!(c.action, ConsentAction::RejectAll);
        assert!(c.items.is_empty());
        assert!(serde_json::from_str::<ConsentChange>(r#"{"action":"all"}"#).is_err());
        assert!(
            serde_json::from_str::<ConsentChange>(r#"{"action":"custom","marketing":true}"#)
                .is_err()
        );
        let c: ConsentChange = serde_json::from_str(
            r#"{"action":"custom","categories":{"functional":true},"items":{"a":null,"b":false}}"#,
        )
        .unwrap();
        assert_eq!(c.categories.functional, Some(true));
        assert_eq!(c.items.get("a"), Some(&None));
        assert_eq!(c.items.get("b"), Some(&Some(false)));
    }

    #[test]
    fn gpc_support_uses_the_specifications_names() {
        let v = serde_json::to_value(GpcSupport {
            gpc: true,
            last_update: "2026-11-28".into(),
        })
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"gpc": true, "lastUpdate": "2026-11-28"})
        );
    }
}
