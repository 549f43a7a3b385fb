//! Cookie preferences (promise 6): the catalogue of every cookie and browser storage item
//! the service and its web pages set ([`CATALOGUE`], served at `GET /v1/cookies` without
//! sign-in), each member's consent record (`GET` and `PUT /v1/me/consent`), Global
//! Privacy Control (`GET /.well-known/gpc.json`, and `Sec-GPC: 1` on any request), and the
//! rule that the service sets no non-essential cookie without consent.
//!
//! One record per member serves every surface: a choice made in the desktop app (a bearer
//! session) is the choice the browser (the web cookie session) reads, and the other way
//! round. Each change is a new record (history, newest first) with its time, the policy's
//! version, its source (`user`, `gpc`) and surface (`desktop`, `web`), written in one
//! transaction with its `consent_changed` audit entry. With no record, the default holds:
//! everything but strictly necessary off.
//!
//! Global Privacy Control: a request carrying `Sec-GPC: 1` is a refusal of analytics.
//! For a member with no record yet, such a request writes one, source `gpc`, analytics
//! (and functional) off. The signal then wins on every request that carries it: analytics
//! is off for that request whatever the record says, and the analytics cookie is never
//! set and is expired. A member who opts in to analytics while their browser sends GPC
//! (the consent answer says `gpc: true`, so the page shows it) has that choice kept: it
//! applies where the signal is not sent (the desktop app, another browser), never where
//! it is. Simple, and no surface can turn the signal off by a click.
//!
//! Invariant: strictly necessary items cannot be refused: a change that tries is 400
//! `strictly_necessary_locked` and records nothing.
//! Invariant: a functional or analytics cookie is set only on an answer to a browser's
//! web session whose member's consent allows it for that request (analytics: never with
//! `Sec-GPC: 1`); a request that brings such a cookie its consent does not allow gets it
//! expired (`Max-Age=0`) in the answer, whatever the route ([`expire_unconsented_cookies`]).
//! Invariant: [`CATALOGUE`] names every cookie the service can set; the test
//! `every_cookie_the_service_sets_is_in_the_catalogue` exercises the routes that set them.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use strongroom_protocol::consent::{
    CatalogueItem, CategoryInfo, ConsentAction, ConsentChange, ConsentChoices, ConsentRecord,
    ConsentSource, ConsentState, ConsentSurface, CookieCatalogue, CookieCategory, Density,
    DisplayPreferences, EffectiveConsent, GpcSupport, MAX_CONSENT_HISTORY, SetBy, StorageKind,
    Theme,
};
use strongroom_protocol::{Problem, ProblemCode};
use uuid::Uuid;

use crate::api::{ApiError, AppState, ProtocolHeader, unix_now};
use crate::policies::current_privacy_version;
use crate::sessions::{client_ip, rfc3339};
use crate::store::Principal;
use crate::store::consent::{NewConsent, StoredConsent};
use crate::web_session::{self, SESSION_COOKIE, cookie, expire_cookie, set_cookie};

/// The privacy policy's version before policies were versioned in the store: the label of
/// its first stored version (see [`crate::policies::seed`]). A consent record names the
/// current privacy policy's version ([`crate::policies::current_privacy_version`]).
pub const POLICY_VERSION: &str = "2026-11-28";

/// When this service's Global Privacy Control support last changed (`gpc.json`).
pub const GPC_LAST_UPDATE: &str = "2026-11-28";

/// The functional cookie: the web pages' display preferences.
pub const DISPLAY_COOKIE: &str = "__Host-strongroom-display";
/// The display cookie's life: a year.
pub const DISPLAY_COOKIE_MAX_AGE: i64 = 365 * 24 * 3600;

/// The analytics cookie: a random id, for aggregate counts only.
pub const ANALYTICS_COOKIE: &str = "__Host-strongroom-aid";
/// The analytics cookie's life: 390 days (within the 13 months regulators allow).
pub const ANALYTICS_COOKIE_MAX_AGE: i64 = 390 * 24 * 3600;

/// One catalogue row, as data.
pub struct Item {
    pub name: &'static str,
    pub kind: StorageKind,
    pub category: CookieCategory,
    pub purpose: &'static str,
    pub lifetime: &'static str,
    pub max_age_secs: Option<i64>,
    pub set_by: SetBy,
    pub holds: &'static str,
}

/// Every cookie and storage item the service and its web pages set. A new one is added
/// here first; the service sets nothing that is not named here.
pub const CATALOGUE: &[Item] = &[
    Item {
        name: SESSION_COOKIE,
        kind: StorageKind::Cookie,
        category: CookieCategory::StrictlyNecessary,
        purpose: "Keeps you signed in to the web pages: it is how the service knows each \
                  request is yours. Without it you could not sign in.",
        lifetime: "Until you sign out, or at most 30 days (14 days unused)",
        max_age_secs: Some(crate::api::SESSION_ABSOLUTE_SECS),
        set_by: SetBy::Service,
        holds: "An opaque random token; the service keeps only its hash. HttpOnly, so the \
                page's script cannot read it.",
    },
    Item {
        name: DISPLAY_COOKIE,
        kind: StorageKind::Cookie,
        category: CookieCategory::Functional,
        purpose: "Remembers how you like the web pages shown (colour scheme and list \
                  density), so they look the same next time.",
        lifetime: "1 year, or until you withdraw consent",
        max_age_secs: Some(DISPLAY_COOKIE_MAX_AGE),
        set_by: SetBy::Service,
        holds: "Your display choices, such as `dark.compact`. Nothing that identifies you.",
    },
    Item {
        name: ANALYTICS_COOKIE,
        kind: StorageKind::Cookie,
        category: CookieCategory::Analytics,
        purpose: "Lets the service count, in aggregate, how many browsers use the web pages \
                  each week. Never set while your browser sends Global Privacy Control.",
        lifetime: "390 days, or until you withdraw consent",
        max_age_secs: Some(ANALYTICS_COOKIE_MAX_AGE),
        set_by: SetBy::Service,
        holds: "A random id, not linked to your account, your practice or your records.",
    },
];

/// The catalogue item named `name`.
pub fn item(name: &str) -> Option<&'static Item> {
    CATALOGUE.iter().find(|i| i.name == name)
}

/// The catalogue on the wire, under the privacy policy's version `policy_version`.
pub fn catalogue(policy_version: &str) -> CookieCatalogue {
    let categories = CookieCategory::ALL
        .into_iter()
        .map(|category| {
            let (title, description) = match category {
                CookieCategory::StrictlyNecessary => (
                    "Strictly necessary",
                    "Needed for signing in and keeping your session safe. They cannot be \
                     turned off: without them the service cannot work. They are never used \
                     for anything else.",
                ),
                CookieCategory::Functional => (
                    "Functional",
                    "Remember choices that make the pages nicer to use. Off until you turn \
                     them on.",
                ),
                CookieCategory::Analytics => (
                    "Analytics",
                    "Count use in aggregate, never tied to you. Off until you turn them on, \
                     and always off while your browser sends Global Privacy Control.",
                ),
            };
            CategoryInfo {
                category,
                title: title.into(),
                description: description.into(),
                locked: category == CookieCategory::StrictlyNecessary,
            }
        })
        .collect();
    let items = CATALOGUE
        .iter()
        .map(|i| CatalogueItem {
            name: i.name.into(),
            kind: i.kind,
            category: i.category,
            purpose: i.purpose.into(),
            lifetime: i.lifetime.into(),
            max_age_secs: i.max_age_secs,
            set_by: i.set_by,
            holds: i.holds.into(),
        })
        .collect();
    CookieCatalogue {
        policy_version: policy_version.into(),
        categories,
        items,
    }
}

/// Whether a request carries Global Privacy Control (`Sec-GPC: 1`).
pub fn request_has_gpc(headers: &HeaderMap) -> bool {
    headers
        .get_all("sec-gpc")
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.trim() == "1"))
}

/// A member's session and the surface it is on: a bearer token is the desktop app, the
/// web session cookie a browser.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub principal: Principal,
    pub surface: ConsentSurface,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        Ok(Caller {
            principal,
            surface: surface(&parts.headers),
        })
    }
}

fn surface(headers: &HeaderMap) -> ConsentSurface {
    if web_session::is_web(headers) {
        ConsentSurface::Web
    } else {
        ConsentSurface::Desktop
    }
}

/// The record that holds when none is stored: everything but strictly necessary off.
fn default_record(policy_version: &str) -> ConsentRecord {
    ConsentRecord {
        id: None,
        strictly_necessary: true,
        choices: ConsentChoices::default(),
        source: ConsentSource::Default,
        surface: None,
        policy_version: policy_version.into(),
        recorded_at: None,
    }
}

fn wire(s: &StoredConsent) -> ConsentRecord {
    ConsentRecord {
        id: Some(s.id),
        strictly_necessary: true,
        choices: s.choices.clone(),
        source: s.source,
        surface: Some(s.surface),
        policy_version: s.policy_version.clone(),
        recorded_at: Some(rfc3339(s.recorded_at)),
    }
}

/// What `choices` allow for a request, with Global Privacy Control or without.
pub fn effective(choices: &ConsentChoices, gpc: bool) -> EffectiveConsent {
    let items = CATALOGUE
        .iter()
        .map(|i| {
            let own = choices.items.get(i.name).copied();
            let allowed = match i.category {
                CookieCategory::StrictlyNecessary => true,
                CookieCategory::Functional => own.unwrap_or(choices.functional),
                CookieCategory::Analytics => !gpc && own.unwrap_or(choices.analytics),
            };
            (i.name.to_owned(), allowed)
        })
        .collect();
    EffectiveConsent {
        strictly_necessary: true,
        functional: choices.functional,
        analytics: choices.analytics && !gpc,
        items,
    }
}

fn locked() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        ProblemCode::StrictlyNecessaryLocked,
        "strictly necessary cookies cannot be turned off: without them you cannot sign in",
    )
}

/// The choices after `change`, from `current`. Refuses (and changes nothing) an attempt
/// to refuse a strictly necessary item, and an item the catalogue does not name.
pub fn apply_change(
    current: &ConsentChoices,
    change: &ConsentChange,
) -> Result<ConsentChoices, ApiError> {
    if change.categories.strictly_necessary == Some(false) {
        return Err(locked());
    }
    let mut items = current.items.clone();
    for (name, choice) in &change.items {
        let Some(it) = item(name) else {
            return Err(ApiError::bad_request(
                "items names something that is not in the catalogue (GET /v1/cookies)",
            ));
        };
        if it.category == CookieCategory::StrictlyNecessary {
            if *choice == Some(false) {
                return Err(locked());
            }
            continue;
        }
        match choice {
            Some(on) => items.insert(it.name.to_owned(), *on),
            None => items.remove(it.name),
        };
    }
    let plain = |on: bool| ConsentChoices {
        functional: on,
        analytics: on,
        items: BTreeMap::new(),
    };
    Ok(match change.action {
        ConsentAction::AcceptAll => {
            if change.categories != Default::default() || !change.items.is_empty() {
                return Err(ApiError::bad_request(
                    "accept_all takes no categories or items; use custom",
                ));
            }
            plain(true)
        }
        ConsentAction::RejectAll => {
            if change.categories != Default::default() || !change.items.is_empty() {
                return Err(ApiError::bad_request(
                    "reject_all takes no categories or items; use custom",
                ));
            }
            plain(false)
        }
        ConsentAction::Custom => ConsentChoices {
            functional: change.categories.functional.unwrap_or(current.functional),
            analytics: change.categories.analytics.unwrap_or(current.analytics),
            items,
        },
    })
}

/// The member's consent as `caller` sees it now, and the cookies its answer should set.
/// A request with Global Privacy Control from a member with no record writes the `gpc`
/// record first. On a browser's web session, the analytics id is set when its consent
/// allows it and the browser has none.
pub(crate) async fn consent_state(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    ip: Option<String>,
) -> Result<(ConsentState, Vec<HeaderValue>), ApiError> {
    let gpc = request_has_gpc(headers);
    let p = caller.principal;
    let policy_version = current_privacy_version(state.store.as_ref()).await?;
    if gpc {
        let record = StoredConsent {
            id: Uuid::new_v4(),
            choices: ConsentChoices::default(),
            source: ConsentSource::Gpc,
            surface: caller.surface,
            policy_version: policy_version.clone(),
            recorded_at: unix_now(),
        };
        state
            .store
            .record_consent(
                NewConsent {
                    practice: p.practice_id,
                    user: p.user_id,
                    record,
                    ip,
                },
                true,
            )
            .await?;
    }
    let history = state
        .store
        .consent_history(p.practice_id, p.user_id, MAX_CONSENT_HISTORY)
        .await?;
    let current = history
        .first()
        .map(wire)
        .unwrap_or_else(|| default_record(&policy_version));
    let effective = effective(&current.choices, gpc);
    let choice_needed =
        current.source != ConsentSource::User || current.policy_version != policy_version;
    let mut cookies = Vec::new();
    if caller.surface == ConsentSurface::Web
        && effective.items.get(ANALYTICS_COOKIE) == Some(&true)
        && cookie(headers, ANALYTICS_COOKIE).is_none()
    {
        let id = crate::auth::new_token().map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ProblemCode::Internal,
                "no randomness available",
            )
        })?;
        cookies.push(set_cookie(
            ANALYTICS_COOKIE,
            &id,
            ANALYTICS_COOKIE_MAX_AGE,
            true,
        ));
    }
    Ok((
        ConsentState {
            current,
            effective,
            gpc,
            policy_version,
            choice_needed,
            history: history.iter().map(wire).collect(),
        },
        cookies,
    ))
}

/// The display cookie's value: the theme and the density, e.g. `dark.compact`.
pub(crate) fn display_cookie_value(p: &DisplayPreferences) -> String {
    let theme = match p.theme {
        Theme::System => "system",
        Theme::Light => "light",
        Theme::Dark => "dark",
    };
    let density = match p.density {
        Density::Comfortable => "comfortable",
        Density::Compact => "compact",
    };
    [theme, ".", density].concat()
}

fn with_cookies(body: impl IntoResponse, cookies: Vec<HeaderValue>) -> Response {
    let mut resp = body.into_response();
    for c in cookies {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

/// Every cookie and storage item the service and its web pages set, by category, with
/// what each is for and how long it lasts. No sign-in needed.
#[utoipa::path(
    get,
    path = "/v1/cookies",
    tag = "consent",
    responses(
        (status = 200, description = "The catalogue", body = CookieCatalogue),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn cookies(
    State(state): State<AppState>,
) -> Result<Json<CookieCatalogue>, ApiError> {
    let version = current_privacy_version(state.store.as_ref()).await?;
    Ok(Json(catalogue(&version)))
}

/// The caller's consent: the current record (the default when there is none), what it
/// allows for this request (Global Privacy Control narrows it), and the history, newest
/// first. With `Sec-GPC: 1` and no record yet, a `gpc` record is written first. On a
/// browser's session with analytics allowed, the answer sets the analytics id.
#[utoipa::path(
    get,
    path = "/v1/me/consent",
    tag = "consent",
    params(ProtocolHeader),
    security(("session" = [])),
    responses(
        (status = 200, description = "The member's consent", body = ConsentState),
        (status = 400, description = "A protocol version this service does not speak \
         (`incompatible_protocol`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_consent(
    caller: Caller,
    State(state): State<AppState>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ip = client_ip(connection.as_ref().map(|Extension(c)| c));
    let (answer, cookies) = consent_state(&state, &caller, &headers, ip).await?;
    Ok(with_cookies(Json(answer), cookies))
}

/// Changes the caller's consent: `accept_all`, `reject_all` (as easy as accepting: one
/// request, no further choice), or `custom` categories and items. Recorded as a new
/// record (with the time, the policy's version, source `user` and the surface) and audited.
/// A browser's answer expires the cookies the new choice no longer allows.
#[utoipa::path(
    put,
    path = "/v1/me/consent",
    tag = "consent",
    params(ProtocolHeader),
    security(("session" = [])),
    request_body(content = ConsentChange, content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded; the member's consent now", body = ConsentState),
        (status = 400, description = "A malformed change, or an item not in the catalogue \
         (`bad_request`); strictly necessary items turned off (`strictly_necessary_locked`), \
         and nothing was recorded; or a protocol version this service does not speak \
         (`incompatible_protocol`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A browser's change without the CSRF defence \
         (`csrf_refused`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn put_consent(
    caller: Caller,
    State(state): State<AppState>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Result<Json<ConsentChange>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(change) = body.map_err(|e| {
        ApiError::bad_request(format!(
            "the request body is not a consent change: {}",
            e.body_text()
        ))
    })?;
    let p = caller.principal;
    let current = state
        .store
        .consent_history(p.practice_id, p.user_id, 1)
        .await?
        .first()
        .map(|s| s.choices.clone())
        .unwrap_or_default();
    let choices = apply_change(&current, &change)?;
    let ip = client_ip(connection.as_ref().map(|Extension(c)| c));
    state
        .store
        .record_consent(
            NewConsent {
                practice: p.practice_id,
                user: p.user_id,
                record: StoredConsent {
                    id: Uuid::new_v4(),
                    choices,
                    source: ConsentSource::User,
                    surface: caller.surface,
                    policy_version: current_privacy_version(state.store.as_ref()).await?,
                    recorded_at: unix_now(),
                },
                ip: ip.clone(),
            },
            false,
        )
        .await?;
    let (answer, cookies) = consent_state(&state, &caller, &headers, ip).await?;
    Ok(with_cookies(Json(answer), cookies))
}

/// Global Privacy Control's support resource: this service honours the signal.
#[utoipa::path(
    get,
    path = "/.well-known/gpc.json",
    tag = "consent",
    responses(
        (status = 200, description = "GPC is honoured", body = GpcSupport,
         content_type = "application/json"),
    )
)]
pub(crate) async fn gpc_json() -> Json<GpcSupport> {
    Json(GpcSupport {
        gpc: true,
        last_update: GPC_LAST_UPDATE.into(),
    })
}

/// Names of the cookies a `Set-Cookie` header list already sets.
fn names_set(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split_once('=').map(|(n, _)| n.trim().to_owned()))
        .collect()
}

/// Expires, in any answer, the non-essential cookies a request brings that its member's
/// consent does not allow for it (checked after the handler, so a change made by this very
/// request counts). Without a valid web session the consent is unknown: only the
/// analytics id is expired, and only under Global Privacy Control. If the consent cannot
/// be read, every non-essential cookie brought is expired.
pub(crate) async fn expire_unconsented_cookies(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let brought: Vec<&'static Item> = CATALOGUE
        .iter()
        .filter(|i| {
            i.kind == StorageKind::Cookie
                && i.category != CookieCategory::StrictlyNecessary
                && cookie(req.headers(), i.name).is_some()
        })
        .collect();
    if brought.is_empty() {
        return next.run(req).await;
    }
    let gpc = request_has_gpc(req.headers());
    let token = cookie(req.headers(), SESSION_COOKIE).map(crate::auth::token_hash);
    let ip = client_ip(req.extensions().get::<ConnectInfo<SocketAddr>>());
    let mut resp = next.run(req).await;
    let allowed: Option<BTreeMap<String, bool>> = match token {
        None => None,
        Some(hash) => match allowed_for(&state, &hash, ip.as_deref(), gpc).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "reading consent to expire cookies");
                Some(BTreeMap::new())
            }
        },
    };
    let already = names_set(resp.headers());
    for i in brought {
        let keep = match &allowed {
            Some(items) => items.get(i.name).copied().unwrap_or(false),
            None => !(gpc && i.category == CookieCategory::Analytics),
        };
        if !keep && !already.iter().any(|n| n == i.name) {
            resp.headers_mut()
                .append(header::SET_COOKIE, expire_cookie(i.name));
        }
    }
    resp
}

/// What the consent of the live web session with this token hash allows; none when there
/// is no such session.
async fn allowed_for(
    state: &AppState,
    token_hash: &str,
    ip: Option<&str>,
    gpc: bool,
) -> Result<Option<BTreeMap<String, bool>>, crate::store::StoreError> {
    let Some(p) = state
        .store
        .session(token_hash, unix_now(), state.sessions.idle_secs, ip)
        .await?
    else {
        return Ok(None);
    };
    let choices = state
        .store
        .consent_history(p.practice_id, p.user_id, 1)
        .await?
        .first()
        .map(|s| s.choices.clone())
        .unwrap_or_default();
    Ok(Some(effective(&choices, gpc).items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use strongroom_protocol::consent::CategoryChoices;

    fn change(action: ConsentAction) -> ConsentChange {
        ConsentChange {
            action,
            categories: CategoryChoices::default(),
            items: BTreeMap::new(),
        }
    }

    #[test]
    fn the_catalogue_has_every_category_and_unique_host_prefixed_cookies() {
        let mut names: Vec<_> = CATALOGUE.iter().map(|i| i.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), CATALOGUE.len());
        for c in CookieCategory::ALL {
            assert!(CATALOGUE.iter().any(|i| i.category == c), "{c:?}");
        }
        for i in CATALOGUE {
            if i.kind == StorageKind::Cookie && i.set_by == SetBy::Service {
                assert!(i.name.starts_with("__Host-"), "{}", i.name);
            }
        }
    }

    #[test]
    fn reject_all_is_one_step_and_strictly_necessary_is_locked() {
        let all = apply_change(
            &ConsentChoices::default(),
            &change(ConsentAction::AcceptAll),
        )
        .unwrap();
        assert!(all.functional && all.analytics);
        let none = apply_change(&all, &change(ConsentAction::RejectAll)).unwrap();
        assert_eq!(none, ConsentChoices::default());
        let mut c = change(ConsentAction::Custom);
        c.categories.strictly_necessary = Some(false);
        assert!(format!("{:?}", apply_change(&all, &c)).contains("StrictlyNecessaryLocked"));
        let mut c = change(ConsentAction::Custom);
        c.items.insert(SESSION_COOKIE.into(), Some(false));
        assert!(format!("{:?}", apply_change(&all, &c)).contains("StrictlyNecessaryLocked"));
        let mut c = change(ConsentAction::Custom);
        c.items.insert("tracker".into(), Some(true));
        assert!(format!("{:?}", apply_change(&all, &c)).contains("BadRequest"));
    }

    #[test]
    fn items_override_their_category_and_gpc_always_turns_analytics_off() {
        let mut c = change(ConsentAction::Custom);
        c.categories.functional = Some(true);
        c.items.insert(DISPLAY_COOKIE.into(), Some(false));
        c.items.insert(ANALYTICS_COOKIE.into(), Some(true));
        let choices = apply_change(&ConsentChoices::default(), &c).unwrap();
        let e = effective(&choices, false);
        assert!(e.functional && !e.analytics);
        assert!(!e.items[DISPLAY_COOKIE]);
        assert!(e.items[ANALYTICS_COOKIE]);
        assert!(e.items[SESSION_COOKIE]);
        let e = effective(&choices, true);
        assert!(!e.items[ANALYTICS_COOKIE]);
        let e = effective(
            &apply_change(&choices, &change(ConsentAction::AcceptAll)).unwrap(),
            true,
        );
        assert!(!e.analytics && !e.items[ANALYTICS_COOKIE]);
        // null clears an item's own choice.
        let mut c = change(ConsentAction::Custom);
        c.items.insert(DISPLAY_COOKIE.into(), None);
        let cleared = apply_change(&choices, &c).unwrap();
        assert!(!cleared.items.contains_key(DISPLAY_COOKIE));
        assert!(effective(&cleared, false).items[DISPLAY_COOKIE]);
    }

    #[test]
    fn gpc_is_read_from_its_header() {
        let mut h = HeaderMap::new();
        assert!(!request_has_gpc(&h));
        h.insert("sec-gpc", HeaderValue::from_static("0"));
        assert!(!request_has_gpc(&h));
        h.insert("sec-gpc", HeaderValue::from_static(" 1 "));
        assert!(request_has_gpc(&h));
    }
}
