//! Cookie preferences and the browser's cookie session, over real TLS: the catalogue and
//! every cookie the routes set, defaults, accept and reject, the strictly necessary lock,
//! Global Privacy Control (`Sec-GPC: 1` and `gpc.json`), the session cookie's attributes
//! and storage, the CSRF defence, one consent record across the desktop (bearer) and the
//! browser (cookie), and isolation between members and practices. Registered in
//! `on_both_stores!` in `api.rs`.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use strongroom_protocol::consent::{ConsentState, CookieCatalogue};

use super::access::Who;
use super::*;

/// One `Set-Cookie` of an answer, parsed.
#[derive(Debug, Clone)]
struct SetCookie {
    name: String,
    value: String,
    /// Attribute names (lower case) and values, as sent.
    attrs: BTreeMap<String, String>,
    raw: String,
}

impl SetCookie {
    fn parse(raw: &str) -> SetCookie {
        let mut parts = raw.split(';');
        let (name, value) = parts.next().unwrap().split_once('=').unwrap();
        let attrs = parts
            .map(|a| {
                let a = a.trim();
                match a.split_once('=') {
                    Some((k, v)) => (k.to_ascii_lowercase(), v.to_owned()),
                    None => (a.to_ascii_lowercase(), String::new()),
                }
            })
            .collect();
        SetCookie {
            name: name.trim().to_owned(),
            value: value.trim().to_owned(),
            attrs,
            raw: raw.to_owned(),
        }
    }

    fn expires_now(&self) -> bool {
        self.attrs.get("max-age").map(String::as_str) == Some("0")
    }
}

/// An answer as a browser sees it.
struct Answer {
    status: u16,
    cookies: Vec<SetCookie>,
    body: Value,
}

impl Answer {
    fn sets(&self, name: &str) -> Option<&SetCookie> {
        self.cookies
            .iter()
            .find(|c| c.name == name && !c.expires_now())
    }

    fn expires(&self, name: &str) -> bool {
        self.cookies
            .iter()
            .any(|c| c.name == name && c.expires_now())
    }

    fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    fn consent(&self) -> ConsentState {
        assert_eq!(self.status, 200, "{}", self.body);
        serde_json::from_value(self.body.clone()).unwrap()
    }
}

/// A browser: a cookie jar kept from `Set-Cookie`, the service's own `Origin`, the CSRF
/// header when asked, and Global Privacy Control when switched on.
struct Browser {
    jar: BTreeMap<String, String>,
    gpc: bool,
    /// Every `Set-Cookie` this browser was ever sent, and whether its request carried GPC.
    seen: Vec<(bool, SetCookie)>,
}

impl Browser {
    fn new() -> Self {
        Browser {
            jar: BTreeMap::new(),
            gpc: false,
            seen: Vec::new(),
        }
    }

    fn with_gpc() -> Self {
        Browser {
            gpc: true,
            ..Browser::new()
        }
    }

    /// A request from the service's own page: `Origin`, `X-Strongroom-CSRF: 1` and
    /// `Sec-Fetch-Site: same-origin`, as the web pages' script sends them.
    async fn send(
        &mut self,
        f: &Fixture,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let origin = f.server.url().trim_end_matches('/').to_owned();
        self.raw(
            f,
            method,
            path,
            body,
            &[
                ("origin", origin.as_str()),
                ("x-strongroom-csrf", "1"),
                ("sec-fetch-site", "same-origin"),
            ],
        )
        .await
    }

    /// A request with exactly these extra headers (and the jar, and GPC if on).
    async fn raw(
        &mut self,
        f: &Fixture,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = f.http.request(method, f.url(path));
        if !self.jar.is_empty() {
            let cookie = self
                .jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req = req.header("cookie", cookie);
        }
        if self.gpc {
            req = req.header("sec-gpc", "1");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let cookies: Vec<SetCookie> = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| SetCookie::parse(v.to_str().unwrap()))
            .collect();
        for c in &cookies {
            if c.expires_now() {
                self.jar.remove(&c.name);
            } else {
                self.jar.insert(c.name.clone(), c.value.clone());
            }
        }
        let gpc = self.gpc;
        self.seen.extend(cookies.iter().map(|c| (gpc, c.clone())));
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            cookies,
            body,
        }
    }

    async fn sign_in(&mut self, f: &Fixture, email: &str, password: &str) -> Answer {
        self.send(
            f,
            Method::POST,
            "/v1/web/session",
            Some(json!({"email": email, "password": password})),
        )
        .await
    }

    async fn consent(&mut self, f: &Fixture) -> Answer {
        self.send(f, Method::GET, "/v1/me/consent", None).await
    }

    async fn change(&mut self, f: &Fixture, change: Value) -> Answer {
        self.send(f, Method::PUT, "/v1/me/consent", Some(change))
            .await
    }

    fn has(&self, name: &str) -> bool {
        self.jar.contains_key(name)
    }
}

const SESSION: &str = "__Host-strongroom-session";
const DISPLAY: &str = "__Host-strongroom-display";
const AID: &str = "__Host-strongroom-aid";

/// The demo admin's consent through the desktop's bearer token.
async fn desktop_consent(f: &Fixture, token: &str) -> ConsentState {
    let (status, body) = f
        .request(Some(token), Method::GET, "/v1/me/consent", None)
        .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

async fn desktop_change(f: &Fixture, token: &str, change: Value) -> (reqwest::StatusCode, String) {
    f.request(Some(token), Method::PUT, "/v1/me/consent", Some(change))
        .await
}

/// The catalogue is public, and every cookie any route sets is in it: the routes that
/// set cookies are exercised through a whole browser life (sign in, accept, remember
/// preferences, reject, sign out) and every `Set-Cookie` name is looked up.
pub async fn every_cookie_the_service_sets_is_in_the_catalogue(backend: Backend) {
    let f = Fixture::new(backend).await;
    let resp = f.http.get(f.url("/v1/cookies")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let catalogue: CookieCatalogue = resp.json().await.unwrap();
    let named: BTreeSet<String> = catalogue.items.iter().map(|i| i.name.clone()).collect();
    let cookie_items: BTreeSet<String> = catalogue
        .items
        .iter()
        .filter(|i| i.kind == strongroom_protocol::consent::StorageKind::Cookie)
        .map(|i| i.name.clone())
        .collect();
    for category in ["strictly_necessary", "functional", "analytics"] {
        assert!(
            catalogue
                .items
                .iter()
                .any(|i| serde_json::to_value(i.category).unwrap() == category),
            "{category}"
        );
    }
    assert!(
        catalogue.categories.iter().all(
            |c| c.locked == (serde_json::to_value(c.category).unwrap() == "strictly_necessary")
        )
    );
    for i in &catalogue.items {
        assert!(!i.purpose.is_empty() && !i.lifetime.is_empty(), "{i:?}");
    }

    let mut b = Browser::new();
    assert_eq!(
        b.sign_in(&f, seed::DEMO_EMAIL, seed::DEMO_PASSWORD)
            .await
            .status,
        200
    );
    b.consent(&f).await.consent();
    let prefs = json!({"theme": "dark", "density": "compact"});
    b.send(&f, Method::POST, "/v1/web/preferences", Some(prefs.clone()))
        .await;
    b.change(&f, json!({"action": "accept_all"}))
        .await
        .consent();
    b.consent(&f).await.consent();
    b.send(&f, Method::POST, "/v1/web/preferences", Some(prefs))
        .await;
    b.send(&f, Method::GET, "/v1/sessions", None).await;
    b.change(&f, json!({"action": "reject_all"}))
        .await
        .consent();
    b.send(&f, Method::DELETE, "/v1/web/session", None).await;
    let mut gpc = Browser::with_gpc();
    gpc.sign_in(&f, seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    gpc.consent(&f).await;

    let emitted: BTreeSet<String> = b
        .seen
        .iter()
        .chain(gpc.seen.iter())
        .map(|(_, c)| c.name.clone())
        .collect();
    for name in &emitted {
        assert!(
            named.contains(name),
            "{name} is set but not in the catalogue"
        );
    }
    // And the life above set every cookie the catalogue names.
    assert_eq!(emitted, cookie_items);
    f.server.stop().await;
}

/// Before any choice: the default record (everything but strictly necessary off), and
/// the browser gets the session cookie and nothing else, even when it asks to remember
/// its preferences.
pub async fn nothing_non_essential_is_set_before_consent(backend: Backend) {
    let f = Fixture::new(backend).await;
    let mut b = Browser::new();
    let signed = b.sign_in(&f, seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    assert_eq!(signed.status, 200, "{}", signed.body);
    assert_eq!(
        signed
            .cookies
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        vec![SESSION]
    );
    let answer = b.consent(&f).await;
    assert!(answer.cookies.is_empty(), "{:?}", answer.cookies);
    let state = answer.consent();
    assert_eq!(
        serde_json::to_value(state.current.source).unwrap(),
        "default"
    );
    assert!(state.current.id.is_none() && state.history.is_empty());
    assert!(state.choice_needed && !state.gpc);
    assert!(!state.effective.functional && !state.effective.analytics);
    assert!(state.effective.strictly_necessary && state.current.strictly_necessary);
    assert_eq!(
        state.effective.items,
        BTreeMap::from([
            (SESSION.to_owned(), true),
            (DISPLAY.to_owned(), false),
            (AID.to_owned(), false),
        ])
    );
    let saved = b
        .send(
            &f,
            Method::POST,
            "/v1/web/preferences",
            Some(json!({"theme": "light", "density": "comfortable"})),
        )
        .await;
    assert_eq!(saved.status, 200);
    assert_eq!(
        saved.body,
        json!({"remembered": false, "reason": "no_consent"})
    );
    assert!(saved.cookies.is_empty());
    assert_eq!(b.jar.keys().collect::<Vec<_>>(), vec![SESSION]);
    // Nothing was recorded by looking.
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    assert!(desktop_consent(&f, &token).await.history.is_empty());
    f.server.stop().await;
}

/// Accept all, reject all and a custom choice are one request each; each is a record,
/// newest first, with time, policy version, source and surface, and an audit entry; the
/// cookies follow: set with consent, expired (`Max-Age=0`) when it is withdrawn.
pub async fn accepting_and_rejecting_are_one_request_each_and_kept_as_history(backend: Backend) {
    let f = Fixture::new(backend).await;
    let mut b = Browser::new();
    b.sign_in(&f, seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;

    let accepted = b.change(&f, json!({"action": "accept_all"})).await;
    let aid = accepted
        .sets(AID)
        .expect("the analytics id, with consent")
        .clone();
    assert_eq!(aid.value.len(), 43, "{}", aid.raw);
    for attr in ["secure", "httponly", "path", "samesite", "max-age"] {
        assert!(aid.attrs.contains_key(attr), "{}", aid.raw);
    }
    let state = accepted.consent();
    assert!(state.effective.functional && state.effective.analytics && !state.choice_needed);
    let saved = b
        .send(
            &f,
            Method::POST,
            "/v1/web/preferences",
            Some(json!({"theme": "dark", "density": "compact"})),
        )
        .await;
    assert_eq!(saved.body["remembered"], json!(true));
    let display = saved.sets(DISPLAY).expect("the display cookie").clone();
    assert_eq!(display.value, "dark.compact");
    assert_eq!(display.attrs["samesite"], "Strict");
    assert!(display.attrs.contains_key("secure") && display.attrs["path"] == "/");
    // Asking again keeps the id it has.
    assert!(b.consent(&f).await.cookies.is_empty());

    let rejected = b.change(&f, json!({"action": "reject_all"})).await;
    assert!(
        rejected.expires(AID) && rejected.expires(DISPLAY),
        "{:?}",
        rejected.cookies
    );
    assert!(rejected.sets(AID).is_none() && rejected.sets(DISPLAY).is_none());
    let state = rejected.consent();
    assert!(!state.effective.functional && !state.effective.analytics);
    assert!(!b.has(AID) && !b.has(DISPLAY) && b.has(SESSION));

    // Custom: functional on, except the display cookie itself; analytics off.
    let custom = b
        .change(
            &f,
            json!({"action": "custom", "categories": {"functional": true},
                   "items": {DISPLAY: false}}),
        )
        .await
        .consent();
    assert!(custom.effective.functional);
    assert!(!custom.effective.items[DISPLAY]);
    let saved = b
        .send(
            &f,
            Method::POST,
            "/v1/web/preferences",
            Some(json!({"theme": "dark", "density": "compact"})),
        )
        .await;
    assert_eq!(saved.body["remembered"], json!(false));
    assert!(saved.sets(DISPLAY).is_none());

    let history = custom.history;
    assert_eq!(history.len(), 3);
    let sources: Vec<_> = history
        .iter()
        .map(|r| serde_json::to_value(r.source).unwrap())
        .collect();
    assert_eq!(sources, vec![json!("user"); 3]);
    assert!(history.iter().all(|r| r.surface
        == Some(strongroom_protocol::consent::ConsentSurface::Web)
        && r.policy_version == custom.policy_version
        && r.recorded_at.is_some()
        && r.id.is_some()));
    // Newest first: the custom choice, then reject all, then accept all.
    assert_eq!(history[0].choices.items.get(DISPLAY), Some(&false));
    assert!(!history[1].choices.functional && !history[1].choices.analytics);
    assert!(history[2].choices.functional && history[2].choices.analytics);
    assert_eq!(custom.current, history[0]);
    let audited: Vec<Value> = f
        .server
        .store
        .audit_entries(None, 0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "consent_changed")
        .map(|e| serde_json::from_str(&e.details).unwrap())
        .collect();
    assert_eq!(audited.len(), 3);
    assert_eq!(audited[0]["source"], "user");
    assert_eq!(audited[0]["surface"], "web");
    assert_eq!(audited[0]["analytics"], json!(true));
    assert_eq!(
        audited[2]["record"],
        json!(history[0].id.unwrap().to_string())
    );
    // A cookie brought back after withdrawal (an old copy) is expired again on any route.
    b.jar.insert(AID.into(), "stale".into());
    let any = b.send(&f, Method::GET, "/v1/sessions", None).await;
    assert_eq!(any.status, 200);
    assert!(any.expires(AID));
    f.server.stop().await;
}

/// Strictly necessary cannot be refused, as a category or item by item: 400
/// `strictly_necessary_locked`, and nothing is recorded. Malformed changes are 400 too.
pub async fn strictly_necessary_cannot_be_turned_off(backend: Backend) {
    let f = Fixture::new(backend).await;
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    for refused in [
        json!({"action": "custom", "categories": {"strictly_necessary": false}}),
        json!({"action": "custom", "items": {SESSION: false}}),
        json!({"action": "custom", "categories": {"analytics": true}, "items": {SESSION: false}}),
    ] {
        let (status, body) = desktop_change(&f, &token, refused.clone()).await;
        assert_eq!(status, 400, "{refused}: {body}");
        assert!(body.contains("strictly_necessary_locked"), "{body}");
    }
    for malformed in [
        json!({}),
        json!({"action": "accept_some"}),
        json!({"action": "custom", "items": {"_ga": true}}),
        json!({"action": "custom", "categories": {"marketing": true}}),
        json!({"action": "accept_all", "items": {AID: false}}),
        json!({"action": "reject_all", "categories": {"functional": true}}),
        json!({"action": "custom", "items": {DISPLAY: "yes"}}),
        // serde would take a struct from an array of its fields; the schema does not.
        json!({"action": "custom", "categories": [null, null]}),
        json!({"action": "custom", "categories": [true, false, true]}),
    ] {
        let (status, body) = desktop_change(&f, &token, malformed.clone()).await;
        assert_eq!(status, 400, "{malformed}: {body}");
    }
    assert!(desktop_consent(&f, &token).await.history.is_empty());
    // Saying yes to strictly necessary is allowed, and changes nothing about it.
    let (status, body) = desktop_change(
        &f,
        &token,
        json!({"action": "custom", "categories": {"strictly_necessary": true},
               "items": {SESSION: true}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let state: ConsentState = serde_json::from_str(&body).unwrap();
    assert!(state.current.choices.items.is_empty());
    assert_eq!(state.history.len(), 1);
    f.server.stop().await;
}

/// `Sec-GPC: 1` from a member with no choice writes one `gpc` record (once); the
/// analytics cookie is never set on a request that carries it, even after the member
/// accepts everything under it, and one brought along is expired. Without the signal the
/// member's own opt-in applies. A member who chose before gets no `gpc` record.
pub async fn global_privacy_control_refuses_analytics(backend: Backend) {
    let f = Fixture::new(backend).await;
    let mut b = Browser::with_gpc();
    let signed = b.sign_in(&f, seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    assert_eq!(signed.status, 200);
    assert!(signed.sets(AID).is_none());
    let state = b.consent(&f).await.consent();
    assert!(state.gpc);
    assert_eq!(state.history.len(), 1, "one gpc record, from the sign-in");
    let gpc = &state.history[0];
    assert_eq!(serde_json::to_value(gpc.source).unwrap(), "gpc");
    assert_eq!(serde_json::to_value(gpc.surface).unwrap(), "web");
    assert!(!gpc.choices.analytics && !gpc.choices.functional);
    assert!(
        state.choice_needed,
        "GPC's record is not the member's own choice"
    );
    // Asking again writes nothing more.
    assert_eq!(b.consent(&f).await.consent().history.len(), 1);

    // Accept all under GPC: kept as the member's choice, but analytics stays off here.
    let accepted = b.change(&f, json!({"action": "accept_all"})).await;
    assert!(accepted.sets(AID).is_none(), "{:?}", accepted.cookies);
    let state = accepted.consent();
    assert!(state.current.choices.analytics && !state.effective.analytics);
    assert!(state.effective.functional);
    assert!(!state.effective.items[AID]);
    assert_eq!(state.history.len(), 2);
    // An analytics id brought along under GPC is expired, whatever the route.
    b.jar.insert(AID.into(), "from-before".into());
    let answer = b.consent(&f).await;
    assert!(answer.expires(AID) && answer.sets(AID).is_none());
    b.jar.insert(AID.into(), "from-before".into());
    assert!(
        b.send(&f, Method::GET, "/v1/sessions", None)
            .await
            .expires(AID)
    );
    // The same session without the signal: the member's opt-in applies.
    b.gpc = false;
    let answer = b.consent(&f).await;
    assert!(answer.sets(AID).is_some());
    assert!(answer.consent().effective.analytics);
    b.gpc = true;
    assert!(b.consent(&f).await.expires(AID));

    // A member who chose before sending GPC keeps their record; no gpc one is added.
    let admin = f.demo_admin().await;
    let other = f
        .member(&admin, "chosen@harbourvine.example", Role::Lawyer)
        .await;
    let (status, _) = desktop_change(&f, &other.token, json!({"action": "reject_all"})).await;
    assert_eq!(status, 200);
    let mut later = Browser::with_gpc();
    assert_eq!(
        later
            .sign_in(&f, "chosen@harbourvine.example", super::access::PASSWORD)
            .await
            .status,
        200
    );
    let state = later.consent(&f).await.consent();
    assert_eq!(state.history.len(), 1);
    assert_eq!(serde_json::to_value(state.current.source).unwrap(), "user");
    // No request with the signal was ever answered with an analytics id; the one
    // answer without it was.
    let set = |seen: &[(bool, SetCookie)], under_gpc: bool| {
        seen.iter()
            .filter(|(g, c)| *g == under_gpc && c.name == AID && !c.expires_now())
            .count()
    };
    assert_eq!(
        set(&b.seen, true) + set(&later.seen, true),
        0,
        "{:?}",
        b.seen
    );
    assert_eq!(set(&b.seen, false), 1);
    f.server.stop().await;
}

/// `/.well-known/gpc.json` answers the GPC specification's resource, as JSON, to anyone.
pub async fn the_gpc_support_resource_is_served(backend: Backend) {
    let f = Fixture::new(backend).await;
    let resp = f
        .http
        .get(f.url("/.well-known/gpc.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["gpc"], json!(true));
    let date = body["lastUpdate"].as_str().unwrap();
    assert!(
        time::Date::parse(
            date,
            &time::macros::format_description!("[year]-[month]-[day]")
        )
        .is_ok(),
        "{date}"
    );
    assert_eq!(body.as_object().unwrap().len(), 2);
    f.server.stop().await;
}

/// The web sign-in sets `__Host-strongroom-session` with `HttpOnly; Secure;
/// SameSite=Strict; Path=/`, its token only in the cookie and stored only as a hash; the
/// session is listed as platform `web`; the cookie opens the member's routes, a web token
/// is no bearer token and a bearer token no cookie; signing out ends it and clears it.
/// Wrong passwords are refused and audited, and count toward the same back-off.
pub async fn the_web_session_cookie_is_host_only_http_only_and_stored_as_a_hash(backend: Backend) {
    let f = Fixture::new(backend).await;
    let mut b = Browser::new();
    let signed = b.sign_in(&f, seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    assert_eq!(signed.status, 200, "{}", signed.body);
    let c = signed.sets(SESSION).unwrap().clone();
    assert!(
        c.value.starts_with("web.") && c.value.len() > 40,
        "{}",
        c.raw
    );
    for (attr, want) in [
        ("httponly", ""),
        ("secure", ""),
        ("samesite", "Strict"),
        ("path", "/"),
    ] {
        assert_eq!(
            c.attrs.get(attr).map(String::as_str),
            Some(want),
            "{}",
            c.raw
        );
    }
    assert!(!c.attrs.contains_key("domain"), "{}", c.raw);
    let max_age: i64 = c.attrs["max-age"].parse().unwrap();
    assert!(max_age > 0 && max_age <= 30 * 24 * 3600);
    assert!(
        !signed.body.to_string().contains(&c.value),
        "no token in the body"
    );
    assert_eq!(signed.body["user"]["email"], seed::DEMO_EMAIL);
    let session_id = signed.body["session_id"].as_str().unwrap().to_owned();
    // Stored only as its hash.
    let hashes = f.texts("SELECT token_hash FROM sessions").await;
    assert!(hashes.contains(&auth::token_hash(&c.value)));
    assert!(!hashes.iter().any(|h| h.contains(&c.value)));

    // The cookie opens the member's routes; the session is listed as the web.
    let list = b.send(&f, Method::GET, "/v1/sessions", None).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let web = list.body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == session_id.as_str())
        .expect("the web session is listed")
        .clone();
    assert_eq!(web["platform"], "web");
    assert_eq!(web["current"], json!(true));
    // The page asks who it is signed in as (it cannot read its own cookie).
    let me = b.send(&f, Method::GET, "/v1/web/session", None).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["user"]["email"], seed::DEMO_EMAIL);
    assert_eq!(me.body["session_id"], session_id.as_str());
    assert_eq!(me.body["practice"]["id"], signed.body["practice"]["id"]);
    let stranger = Browser::new()
        .send(&f, Method::GET, "/v1/web/session", None)
        .await;
    assert_eq!(stranger.status, 401, "{}", stranger.body);
    // A web token is no bearer token, and a bearer token is no session cookie.
    let (status, _) = f
        .request(Some(&c.value), Method::GET, "/v1/sessions", None)
        .await;
    assert_eq!(status, 401);
    let bearer = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let mut forged = Browser::new();
    forged.jar.insert(SESSION.into(), bearer.clone());
    assert_eq!(
        forged
            .send(&f, Method::GET, "/v1/sessions", None)
            .await
            .status,
        401
    );
    let mut prefixed = Browser::new();
    prefixed.jar.insert(SESSION.into(), format!("web.{bearer}"));
    assert_eq!(
        prefixed
            .send(&f, Method::GET, "/v1/sessions", None)
            .await
            .status,
        401
    );

    // Sign out: ended at once (audited), cookie cleared.
    let out = b.send(&f, Method::DELETE, "/v1/web/session", None).await;
    assert_eq!(out.status, 204);
    assert!(out.expires(SESSION));
    let mut replay = Browser::new();
    replay.jar.insert(SESSION.into(), c.value.clone());
    let after = replay.send(&f, Method::GET, "/v1/sessions", None).await;
    assert_eq!(after.status, 401);
    let sign_outs = f
        .server
        .store
        .audit_entries(None, 0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "sign_out")
        .count();
    assert_eq!(sign_outs, 1);
    // Revoking it from the desktop's sessions list ends it too.
    let mut again = Browser::new();
    let signed = again
        .sign_in(&f, seed::DEMO_EMAIL, seed::DEMO_PASSWORD)
        .await;
    let id = signed.body["session_id"].as_str().unwrap().to_owned();
    let (status, _) = f
        .request(
            Some(&bearer),
            Method::DELETE,
            &format!("/v1/sessions/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        again
            .send(&f, Method::GET, "/v1/me/consent", None)
            .await
            .status,
        401
    );

    // Wrong passwords: refused, audited, and the same back-off as the desktop's.
    let mut wrong = Browser::new();
    for _ in 0..5 {
        let a = wrong
            .sign_in(&f, seed::DEMO_EMAIL, "not the password")
            .await;
        assert_eq!((a.status, a.code()), (401, "invalid_credentials"));
        assert!(a.cookies.is_empty());
    }
    let a = wrong
        .sign_in(&f, seed::DEMO_EMAIL, seed::DEMO_PASSWORD)
        .await;
    assert_eq!((a.status, a.code()), (429, "rate_limited"));
    assert!(a.cookies.is_empty());
    let failed = f
        .server
        .store
        .audit_entries(None, 0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "sign_in_failed")
        .count();
    assert_eq!(failed, 5);
    f.server.stop().await;
}

/// A cookie-authenticated change needs the service's own `Origin` and
/// `X-Strongroom-CSRF: 1` (and no cross-site `Sec-Fetch-Site`): otherwise 403
/// `csrf_refused` and nothing changes. Reads need neither; a bearer token needs neither
/// (no browser sends one by itself); the web sign-in needs the defence too.
pub async fn cookie_changes_without_the_csrf_defence_are_refused(backend: Backend) {
    let f = Fixture::new(backend).await;
    let origin = f.server.url().trim_end_matches('/').to_owned();
    let mut b = Browser::new();
    b.sign_in(&f, seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let accept = json!({"action": "accept_all"});
    for headers in [
        vec![],
        vec![("origin", origin.as_str())],
        vec![("x-strongroom-csrf", "1")],
        vec![
            ("origin", "https://evil.example"),
            ("x-strongroom-csrf", "1"),
        ],
        vec![("origin", "null"), ("x-strongroom-csrf", "1")],
        vec![("origin", origin.as_str()), ("x-strongroom-csrf", "yes")],
        vec![
            ("origin", origin.as_str()),
            ("x-strongroom-csrf", "1"),
            ("sec-fetch-site", "cross-site"),
        ],
    ] {
        for (method, path, body) in [
            (Method::PUT, "/v1/me/consent", Some(accept.clone())),
            (
                Method::POST,
                "/v1/web/preferences",
                Some(json!({"theme": "dark", "density": "compact"})),
            ),
            (Method::POST, "/v1/sessions/revoke-others", None),
            (Method::DELETE, "/v1/web/session", None),
        ] {
            let a = b.raw(&f, method.clone(), path, body, &headers).await;
            assert_eq!(
                (a.status, a.code()),
                (403, "csrf_refused"),
                "{method} {path} {headers:?}"
            );
            assert!(a.cookies.is_empty());
        }
        let a = b
            .raw(
                &f,
                Method::POST,
                "/v1/web/session",
                Some(json!({"email": seed::DEMO_EMAIL, "password": seed::DEMO_PASSWORD})),
                &headers,
            )
            .await;
        assert_eq!(
            (a.status, a.code()),
            (403, "csrf_refused"),
            "sign-in {headers:?}"
        );
    }
    // Still signed in, nothing recorded.
    let read = b.raw(&f, Method::GET, "/v1/me/consent", None, &[]).await;
    assert!(read.consent().history.is_empty());
    // With the defence it goes through.
    assert_eq!(b.change(&f, accept.clone()).await.status, 200);
    // A bearer token needs none of it.
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    assert_eq!(desktop_change(&f, &token, accept).await.0, 200);
    f.server.stop().await;
}

/// One record for both surfaces: a choice made in the desktop app (bearer) shows in the
/// browser (cookie) with its surface, and the other way round; the browser's cookies
/// follow a choice made on the desktop.
pub async fn a_choice_made_on_one_surface_shows_on_the_other(backend: Backend) {
    let f = Fixture::new(backend).await;
    let desktop = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let mut b = Browser::new();
    b.sign_in(&f, seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;

    let (status, body) = desktop_change(&f, &desktop, json!({"action": "accept_all"})).await;
    assert_eq!(status, 200, "{body}");
    let seen = b.consent(&f).await;
    assert!(
        seen.sets(AID).is_some(),
        "the desktop's yes reaches the browser"
    );
    let seen = seen.consent();
    assert!(seen.effective.analytics && seen.effective.functional);
    assert_eq!(
        serde_json::to_value(seen.current.surface).unwrap(),
        "desktop"
    );
    b.send(
        &f,
        Method::POST,
        "/v1/web/preferences",
        Some(json!({"theme": "system", "density": "comfortable"})),
    )
    .await;
    assert!(b.has(DISPLAY) && b.has(AID));

    let web = b
        .change(
            &f,
            json!({"action": "custom", "categories": {"analytics": false}}),
        )
        .await
        .consent();
    let there = desktop_consent(&f, &desktop).await;
    assert_eq!(there.current, web.current);
    assert_eq!(serde_json::to_value(there.current.surface).unwrap(), "web");
    assert!(there.effective.functional && !there.effective.analytics);
    assert_eq!(there.history, web.history);
    assert!(!b.has(AID) && b.has(DISPLAY));

    // Withdrawn on the desktop: the browser's next request, on any route, expires it.
    let (status, _) = desktop_change(&f, &desktop, json!({"action": "reject_all"})).await;
    assert_eq!(status, 200);
    let any = b.send(&f, Method::GET, "/v1/sessions", None).await;
    assert_eq!(any.status, 200);
    assert!(any.expires(DISPLAY));
    assert!(!b.has(DISPLAY));
    let history = desktop_consent(&f, &desktop).await.history;
    let surfaces: Vec<_> = history
        .iter()
        .map(|r| serde_json::to_value(r.surface).unwrap())
        .collect();
    assert_eq!(
        surfaces,
        vec![json!("desktop"), json!("web"), json!("desktop")]
    );
    f.server.stop().await;
}

/// A notification preferences change is recorded with the surface of the session that made
/// it, whatever its body says: the browser's cookie session is `web`, the desktop's bearer
/// token `user`.
pub async fn notification_changes_are_recorded_as_made_where_the_session_is(backend: Backend) {
    let f = Fixture::new(backend).await;
    let desktop = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let mut b = Browser::new();
    b.sign_in(&f, seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let answer = b
        .send(
            &f,
            Method::PATCH,
            "/v1/me/notifications/preferences",
            Some(json!({"source": "user", "changes": [
                {"category": "tips", "channel": "email", "enabled": true}
            ]})),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let tips = |body: &Value, channel: &str| {
        body["categories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["category"] == "tips")
            .unwrap()[channel]["source"]
            .clone()
    };
    assert_eq!(tips(&answer.body, "email"), "web");
    let (status, body) = f
        .request(
            Some(&desktop),
            Method::PATCH,
            "/v1/me/notifications/preferences",
            Some(json!({"source": "web", "changes": [
                {"category": "tips", "channel": "desktop", "enabled": true}
            ]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(tips(&body, "desktop"), "user");
    assert_eq!(tips(&body, "email"), "web");
    f.server.stop().await;
}

/// Consent is each member's own: another member of the practice, and a member of another
/// practice, neither see nor change it.
pub async fn consent_is_each_members_own(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin: Who = f.demo_admin().await;
    let colleague = f
        .member(&admin, "colleague@harbourvine.example", Role::Lawyer)
        .await;
    let store = &f.server.store;
    let elsewhere = store.create_practice("Elsewhere & Co").await.unwrap();
    let hash = auth::hash_password(super::access::PASSWORD).unwrap();
    store
        .create_user(
            elsewhere,
            "stranger@elsewhere.example",
            "Stranger",
            &hash,
            Role::Admin,
        )
        .await
        .unwrap();
    let stranger = f
        .token("stranger@elsewhere.example", super::access::PASSWORD)
        .await;

    let (status, _) = desktop_change(&f, &admin.token, json!({"action": "accept_all"})).await;
    assert_eq!(status, 200);
    let (status, _) = desktop_change(
        &f,
        &colleague.token,
        json!({"action": "custom", "categories": {"functional": true}}),
    )
    .await;
    assert_eq!(status, 200);
    let mine = desktop_consent(&f, &admin.token).await;
    let theirs = desktop_consent(&f, &colleague.token).await;
    let outsider = desktop_consent(&f, &stranger).await;
    assert!(mine.effective.analytics && mine.history.len() == 1);
    assert!(!theirs.effective.analytics && theirs.effective.functional);
    assert_eq!(theirs.history.len(), 1);
    assert_ne!(mine.current.id, theirs.current.id);
    assert!(outsider.history.is_empty());
    assert_eq!(
        serde_json::to_value(outsider.current.source).unwrap(),
        "default"
    );
    // The stranger's browser, with GPC, writes only the stranger's own record.
    let mut b = Browser::with_gpc();
    b.sign_in(&f, "stranger@elsewhere.example", super::access::PASSWORD)
        .await;
    assert_eq!(b.consent(&f).await.consent().history.len(), 1);
    assert_eq!(
        desktop_consent(&f, &admin.token).await.history,
        mine.history
    );
    assert_eq!(
        desktop_consent(&f, &colleague.token).await.history,
        theirs.history
    );
    f.server.stop().await;
}

/// The usage report's preview: weeks summed over at least five practices, counting only
/// members who allow analytics (not those who rejected it, nor a Global Privacy Control
/// record); with fewer practices the week is suppressed and no figure of it is shown.
/// Admins only.
pub async fn usage_aggregates_never_cover_fewer_than_five_practices(backend: Backend) {
    use strongroom_protocol::consent::UsageReport;
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let store = &f.server.store;
    let hash = auth::hash_password(super::access::PASSWORD).unwrap();
    let mut tokens = Vec::new();
    for i in 0..7 {
        let p = store
            .create_practice(&format!("Practice {i}"))
            .await
            .unwrap();
        let email = format!("admin{i}@practice{i}.example");
        store
            .create_user(p, &email, "Admin", &hash, Role::Admin)
            .await
            .unwrap();
        tokens.push((
            email.clone(),
            f.token(&email, super::access::PASSWORD).await,
        ));
    }
    let preview = |token: String| {
        let f = &f;
        async move {
            let (status, body) = f
                .request(
                    Some(&token),
                    Method::GET,
                    "/v1/practice/usage-report/preview",
                    None,
                )
                .await;
            assert_eq!(status, 200, "{body}");
            let report: UsageReport = serde_json::from_str(&body).unwrap();
            assert_eq!(report.min_group_practices, 5);
            for b in &report.buckets {
                assert!(b.practices >= 5, "{b:?}");
            }
            assert_eq!(report.buckets.len() + report.suppressed_weeks.len(), 4);
            report
        }
    };
    let accept = json!({"action": "accept_all"});
    for (_, t) in &tokens[..4] {
        assert_eq!(desktop_change(&f, t, accept.clone()).await.0, 200);
    }
    // Four practices: this week is suppressed.
    let report = preview(admin.token.clone()).await;
    assert!(report.buckets.is_empty(), "{report:?}");
    assert!(!report.this_practice_counted);
    // A fifth: the week is emitted, with exact sums.
    assert_eq!(
        desktop_change(&f, &tokens[4].1, accept.clone()).await.0,
        200
    );
    let report = preview(admin.token.clone()).await;
    assert_eq!(report.buckets.len(), 1, "{report:?}");
    let week = report.buckets[0].clone();
    assert_eq!(
        (week.practices, week.active_members, week.sign_ins),
        (5, 5, 5)
    );
    assert_eq!(report.suppressed_weeks.len(), 3);
    assert!(!report.suppressed_weeks.contains(&week.week_start));
    // Rejected analytics, and Global Privacy Control, count for nothing.
    assert_eq!(
        desktop_change(&f, &tokens[5].1, json!({"action": "reject_all"}))
            .await
            .0,
        200
    );
    let mut gpc = Browser::with_gpc();
    assert_eq!(
        gpc.sign_in(&f, &tokens[6].0, super::access::PASSWORD)
            .await
            .status,
        200
    );
    let report = preview(tokens[0].1.clone()).await;
    assert_eq!(report.buckets[0].practices, 5);
    assert!(report.this_practice_counted);
    let report = preview(tokens[6].1.clone()).await;
    assert!(!report.this_practice_counted);
    // Another sign-in of a counted member is one more sign-in, not one more member.
    f.token(&tokens[4].0, super::access::PASSWORD).await;
    let week = preview(admin.token.clone()).await.buckets[0].clone();
    assert_eq!(
        (week.practices, week.active_members, week.sign_ins),
        (5, 5, 6)
    );
    // One withdraws and this practice opts in: still five.
    let reject = json!({"action": "reject_all"});
    assert_eq!(
        desktop_change(&f, &tokens[0].1, reject.clone()).await.0,
        200
    );
    assert_eq!(desktop_change(&f, &admin.token, accept).await.0, 200);
    let report = preview(admin.token.clone()).await;
    assert!(report.this_practice_counted);
    assert_eq!(
        report.buckets.len(),
        1,
        "four others and this one: {report:?}"
    );
    assert_eq!(report.buckets[0].practices, 5);
    // Another withdraws: four practices left, the week is suppressed again.
    assert_eq!(desktop_change(&f, &tokens[1].1, reject).await.0, 200);
    let report = preview(admin.token.clone()).await;
    assert!(report.buckets.is_empty(), "{report:?}");
    assert_eq!(report.suppressed_weeks.len(), 4);
    // Admins only.
    let lawyer = f
        .member(&admin, "lawyer@harbourvine.example", Role::Lawyer)
        .await;
    let (status, _) = f
        .request(
            Some(&lawyer.token),
            Method::GET,
            "/v1/practice/usage-report/preview",
            None,
        )
        .await;
    assert_eq!(status, 403);
    f.server.stop().await;
}

/// A member with an authenticator signs in to the browser with its code, as on the
/// desktop: without one the answer is `mfa_required` and sets no cookie; a wrong one is
/// refused; the right one gets the session cookie.
pub async fn a_browser_signs_in_with_the_second_factor_when_the_member_has_one(backend: Backend) {
    let f = Fixture::new(backend).await;
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let (app, _, _) = enroll(&f, &token).await;
    let mut b = Browser::new();
    let bare = b.sign_in(&f, seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    assert_eq!((bare.status, bare.code()), (401, "mfa_required"));
    assert!(bare.cookies.is_empty());
    let wrong = b
        .send(
            &f,
            Method::POST,
            "/v1/web/session",
            Some(
                json!({"email": seed::DEMO_EMAIL, "password": seed::DEMO_PASSWORD,
                        "totp_code": wrong_code(&app)}),
            ),
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.cookies.is_empty());
    let right = b
        .send(
            &f,
            Method::POST,
            "/v1/web/session",
            Some(
                json!({"email": seed::DEMO_EMAIL, "password": seed::DEMO_PASSWORD,
                        "totp_code": code(&app, 1)}),
            ),
        )
        .await;
    assert_eq!(right.status, 200, "{}", right.body);
    assert!(right.sets(SESSION).is_some());
    assert_eq!(
        b.send(&f, Method::GET, "/v1/sessions", None).await.status,
        200
    );
    f.server.stop().await;
}
