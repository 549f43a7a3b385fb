//! The browser's session: `POST /v1/web/session` signs in (email, password, and the second
//! factor when the member has one, through the same checks, back-off and audit entries as
//! the desktop's sign-in) and sets the session cookie; `DELETE /v1/web/session` signs out
//! and clears it. `POST /v1/web/preferences` remembers display preferences in the
//! functional cookie, only with consent (see [`crate::consent`]).
//!
//! The cookie is `__Host-strongroom-session`, `HttpOnly; Secure; SameSite=Strict; Path=/`,
//! holding an opaque token that is stored only as its SHA-256, like a bearer token. The
//! session is an ordinary row of `sessions` (platform `web`), so it is listed, revoked and
//! ended with the member like any device's.
//!
//! Invariant: a web session's token (it starts with [`WEB_TOKEN_PREFIX`], which a bearer
//! token never does) is accepted only from the cookie, and a bearer token only from the
//! `Authorization` header; the token is never in a body the page's script can read.
//! Invariant: a state-changing request (anything but GET, HEAD and OPTIONS) that
//! authenticates with the cookie, and the web sign-in itself, must carry the CSRF defence:
//! an `Origin` equal to the service's own origin (`https://` and the host the request was
//! sent to), `X-Strongroom-CSRF: 1` (a header no cross-site form can set, and no
//! cross-site script can send without a CORS preflight this service never grants), and,
//! when the browser sends it, `Sec-Fetch-Site: same-origin`. Otherwise it is refused with
//! 403 `csrf_refused` before anything else is looked at.

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;
use strongroom_protocol::consent::{
    DisplayPreferences, PreferencesSaved, WebSession, WebSignInRequest,
};
use strongroom_protocol::{Problem, ProblemCode, SignInRequest};

use crate::api::{ApiError, AppState, ProtocolHeader, bearer_token, check_protocol, unix_now};
use crate::audit::{Actor, AuditKind, NewAuditEvent};
use crate::consent::{self, Caller, DISPLAY_COOKIE};
use crate::{auth, sessions};

/// The session cookie's name. `__Host-`: the browser keeps it only if it is `Secure`, has
/// `Path=/` and no `Domain`, so no subdomain can set or shadow it.
pub const SESSION_COOKIE: &str = "__Host-strongroom-session";

/// What every web session's token starts with: `.` is outside base64url, so no bearer
/// token (or integration token) can start so.
pub const WEB_TOKEN_PREFIX: &str = "web.";

/// The header a browser's state-changing request must carry, with the value `1`.
pub const CSRF_HEADER: &str = "x-strongroom-csrf";

/// What a web session calls itself in the sessions list.
pub const WEB_PLATFORM: &str = "web";
pub const WEB_DEVICE_NAME: &str = "Web browser";

/// The value of the request's cookie `name`, if it sent one (the first, if several).
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim())
}

/// The request's web session token, if it sent a plausible one.
fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, SESSION_COOKIE).filter(|t| t.starts_with(WEB_TOKEN_PREFIX) && t.len() <= 256)
}

/// Whether the request authenticates with the web session cookie (no bearer token, and a
/// session cookie): the surface its consent choices are made on.
pub(crate) fn is_web(headers: &HeaderMap) -> bool {
    headers.get(header::AUTHORIZATION).is_none() && cookie(headers, SESSION_COOKIE).is_some()
}

/// The session token of a request: its bearer token, or else its web session cookie, for
/// which a state-changing request must pass [`check_csrf`]. A web token sent as a bearer
/// token, or a bearer token sent as the cookie, is no session.
pub(crate) fn request_token(parts: &Parts) -> Result<&str, ApiError> {
    if parts.headers.get(header::AUTHORIZATION).is_some() {
        return bearer_token(&parts.headers)
            .filter(|t| !t.starts_with(WEB_TOKEN_PREFIX))
            .ok_or_else(ApiError::unauthenticated);
    }
    if cookie(&parts.headers, SESSION_COOKIE).is_none() {
        return Err(ApiError::unauthenticated());
    }
    check_csrf(&parts.method, &parts.uri, &parts.headers)?;
    session_cookie(&parts.headers).ok_or_else(ApiError::unauthenticated)
}

fn csrf_refused(detail: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, ProblemCode::CsrfRefused, detail)
}

/// The CSRF defence of a browser's request (see the module's invariant). Safe methods
/// pass; they change nothing.
pub(crate) fn check_csrf(method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let header_ok = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "1");
    if !header_ok {
        return Err(csrf_refused(
            "a browser's change needs the X-Strongroom-CSRF: 1 header",
        ));
    }
    // HTTP/1.1 names the host in `Host`; HTTP/2 in the URI's authority.
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let same_origin = matches!(
        (host, origin),
        (Some(host), Some(origin))
            if origin.strip_prefix("https://").is_some_and(|o| o.eq_ignore_ascii_case(host))
    );
    if !same_origin {
        return Err(csrf_refused(
            "a browser's change must come from the service's own origin",
        ));
    }
    if let Some(site) = headers.get("sec-fetch-site")
        && site.as_bytes() != b"same-origin"
    {
        return Err(csrf_refused(
            "a browser's change must come from the service's own pages",
        ));
    }
    Ok(())
}

/// A `Set-Cookie` value: `name=value` with the attributes every cookie of this service
/// has (`__Host-` needs `Secure` and `Path=/`, and no `Domain`).
pub(crate) fn set_cookie(name: &str, value: &str, max_age: i64, http_only: bool) -> HeaderValue {
    let text = [
        name,
        "=",
        value,
        "; Path=/; Secure; SameSite=Strict; Max-Age=",
        &max_age.to_string(),
        if http_only { "; HttpOnly" } else { "" },
    ]
    .concat();
    // Names and values are the service's own: base64url, digits and `.`.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A `Set-Cookie` value that makes the browser forget `name` at once.
pub(crate) fn expire_cookie(name: &str) -> HeaderValue {
    set_cookie(name, "", 0, true)
}

/// Signs a browser in: the same checks, back-off and audit as `POST /v1/auth/sign-in`,
/// and a session whose token goes only into the `HttpOnly` cookie. With the member's
/// analytics consent (and no Global Privacy Control) the answer also sets the analytics id.
#[utoipa::path(
    post,
    path = "/v1/web/session",
    tag = "web",
    params(ProtocolHeader),
    request_body(content = WebSignInRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in: who, and the session's public id; the \
         token is only in the `__Host-strongroom-session` cookie (`HttpOnly; Secure; \
         SameSite=Strict; Path=/`)", body = WebSession,
         headers(("set-cookie" = String, description = "The session cookie"))),
        (status = 400, description = "A malformed request (`bad_request`), or a protocol \
         version this service does not speak (`incompatible_protocol`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The email, password or second factor is not right \
         (`invalid_credentials`), or the member has a second factor and none was given \
         (`mfa_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No CSRF defence: the service's own `Origin` and \
         `X-Strongroom-CSRF: 1` are required (`csrf_refused`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many sign-ins at once, or for this account \
         (`rate_limited`)", body = Problem, content_type = "application/problem+json",
         headers(("retry-after" = u32, description = "Seconds to wait"))),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn web_sign_in(
    State(state): State<AppState>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Json<WebSignInRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    check_protocol(&headers)?;
    // A forged sign-in would put the victim's browser in the attacker's account.
    check_csrf(&method, &uri, &headers)?;
    let Json(req) = body.map_err(|e| {
        ApiError::bad_request(format!(
            "the request body is not a sign-in request: {}",
            e.body_text()
        ))
    })?;
    let ip = sessions::client_ip(connection.as_ref().map(|Extension(c)| c));
    let (signed, session_id) = crate::api::sign_in_session(
        &state,
        ip.clone(),
        SignInRequest {
            email: req.email,
            password: req.password,
            device_name: WEB_DEVICE_NAME.into(),
            totp_code: req.totp_code,
            recovery_code: req.recovery_code,
            platform: Some(WEB_PLATFORM.into()),
            app_version: None,
        },
        WEB_TOKEN_PREFIX,
    )
    .await?;
    let principal = crate::store::Principal {
        user_id: crate::store::UserId(signed.user.id),
        practice_id: crate::store::PracticeId(signed.practice.id),
        role: signed.user.role,
        session_id,
        reauth_at: None,
        mfa_enrollment_required: false,
    };
    let caller = Caller {
        principal,
        surface: strongroom_protocol::consent::ConsentSurface::Web,
    };
    let (_, consent_cookies) = consent::consent_state(&state, &caller, &headers, ip).await?;
    let mut resp = Json(WebSession {
        session_id,
        user: signed.user,
        practice: signed.practice,
    })
    .into_response();
    let cookies = resp.headers_mut();
    cookies.append(
        header::SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            &signed.token,
            state.sessions.absolute_secs,
            true,
        ),
    );
    for c in consent_cookies {
        cookies.append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

/// Who this session is: the page asks on load (its cookie is `HttpOnly`, so it cannot
/// tell by itself whether it is signed in, or as whom). Answers for a desktop's bearer
/// session too.
#[utoipa::path(
    get,
    path = "/v1/web/session",
    tag = "web",
    params(ProtocolHeader),
    security(("session" = [])),
    responses(
        (status = 200, description = "The signed-in member, their practice and the \
         session's public id", body = WebSession),
        (status = 400, description = "A protocol version this service does not speak \
         (`incompatible_protocol`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn web_session_info(
    principal: crate::store::Principal,
    State(state): State<AppState>,
) -> Result<Json<WebSession>, ApiError> {
    let practice = state.store.practice(principal.practice_id).await?;
    let me = state
        .store
        .members(principal.practice_id)
        .await?
        .into_iter()
        .find(|m| m.id == principal.user_id.0)
        .ok_or_else(ApiError::unauthenticated)?;
    Ok(Json(WebSession {
        session_id: principal.session_id,
        user: strongroom_protocol::UserInfo {
            id: me.id,
            email: me.email,
            display_name: me.display_name,
            role: me.role,
        },
        practice,
    }))
}

/// Signs the browser out: its session ends at once (audited) and the cookie is cleared.
/// Without a session cookie, or with one that is no longer valid, it only clears it.
#[utoipa::path(
    delete,
    path = "/v1/web/session",
    tag = "web",
    params(ProtocolHeader),
    responses(
        (status = 204, description = "Signed out; the session cookie is cleared",
         headers(("set-cookie" = String, description = "The session cookie, expired"))),
        (status = 400, description = "A protocol version this service does not speak \
         (`incompatible_protocol`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A session cookie without the CSRF defence \
         (`csrf_refused`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn web_sign_out(
    State(state): State<AppState>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_protocol(&headers)?;
    if cookie(&headers, SESSION_COOKIE).is_some() {
        check_csrf(&method, &uri, &headers)?;
    }
    if let Some(token) = session_cookie(&headers) {
        let hash = auth::token_hash(token);
        let ip = sessions::client_ip(connection.as_ref().map(|Extension(c)| c));
        let live = state
            .store
            .session(&hash, unix_now(), state.sessions.idle_secs, ip.as_deref())
            .await?;
        if let Some(principal) = live
            && state.store.revoke_session(&hash).await?
        {
            state
                .store
                .append_audit(NewAuditEvent {
                    practice: Some(principal.practice_id),
                    actor: Some(Actor::User(principal.user_id)),
                    kind: AuditKind::SignOut,
                    details: json!({ "session_id": principal.session_id, "surface": "web" }),
                })
                .await?;
        }
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, expire_cookie(SESSION_COOKIE));
    Ok(resp)
}

/// Remembers the web pages' display preferences in the functional cookie
/// `__Host-strongroom-display`, only for a browser's session and only when the member's
/// consent allows that cookie; otherwise answers why not and sets nothing.
#[utoipa::path(
    post,
    path = "/v1/web/preferences",
    tag = "web",
    params(ProtocolHeader),
    security(("session" = [])),
    request_body(content = DisplayPreferences, content_type = "application/json"),
    responses(
        (status = 200, description = "Whether the browser was asked to remember them",
         body = PreferencesSaved,
         headers(("set-cookie" = String, description = "The display cookie, with consent"))),
        (status = 400, description = "A malformed request (`bad_request`), or a protocol \
         version this service does not speak (`incompatible_protocol`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A session cookie without the CSRF defence \
         (`csrf_refused`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn web_preferences(
    caller: Caller,
    State(state): State<AppState>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Result<Json<DisplayPreferences>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(prefs) = body.map_err(|e| {
        ApiError::bad_request(format!(
            "the request body is not display preferences: {}",
            e.body_text()
        ))
    })?;
    if !is_web(&headers) {
        return Ok(Json(PreferencesSaved {
            remembered: false,
            reason: Some("not_a_browser".into()),
        })
        .into_response());
    }
    let ip = sessions::client_ip(connection.as_ref().map(|Extension(c)| c));
    let (state_now, mut cookies) = consent::consent_state(&state, &caller, &headers, ip).await?;
    let allowed = state_now
        .effective
        .items
        .get(DISPLAY_COOKIE)
        .copied()
        .unwrap_or(false);
    if allowed {
        cookies.push(set_cookie(
            DISPLAY_COOKIE,
            &consent::display_cookie_value(&prefs),
            consent::DISPLAY_COOKIE_MAX_AGE,
            false,
        ));
    }
    let mut resp = Json(PreferencesSaved {
        remembered: allowed,
        reason: (!allowed).then(|| "no_consent".to_owned()),
    })
    .into_response();
    for c in cookies {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let h = headers(&[
            ("cookie", "a=1; __Host-strongroom-session=web.abc"),
            ("cookie", "b=2"),
        ]);
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("web.abc"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "strongroom-session"), None);
        assert_eq!(session_cookie(&h), Some("web.abc"));
        let h = headers(&[("cookie", "__Host-strongroom-session=bearer-like")]);
        assert_eq!(session_cookie(&h), None);
    }

    #[test]
    fn csrf_needs_the_header_the_origin_and_a_same_origin_fetch() {
        let uri: Uri = "/v1/me/consent".parse().unwrap();
        let good = [
            ("host", "strongroom.example:8443"),
            ("origin", "https://strongroom.example:8443"),
            (CSRF_HEADER, "1"),
        ];
        assert!(check_csrf(&Method::PUT, &uri, &headers(&good)).is_ok());
        assert!(check_csrf(&Method::GET, &uri, &headers(&[])).is_ok());
        for bad in [
            vec![good[0], good[1]],
            vec![good[0], good[2]],
            vec![good[0], ("origin", "https://evil.example"), good[2]],
            vec![
                good[0],
                ("origin", "http://strongroom.example:8443"),
                good[2],
            ],
            vec![good[0], ("origin", "null"), good[2]],
            vec![good[0], good[1], (CSRF_HEADER, "0")],
            vec![good[1], good[2]],
            vec![good[0], good[1], good[2], ("sec-fetch-site", "cross-site")],
            vec![good[0], good[1], good[2], ("sec-fetch-site", "same-site")],
        ] {
            let e = check_csrf(&Method::POST, &uri, &headers(&bad)).unwrap_err();
            assert!(format!("{e:?}").contains("CsrfRefused"), "{bad:?}");
        }
        let mut same = good.to_vec();
        same.push(("sec-fetch-site", "same-origin"));
        assert!(check_csrf(&Method::DELETE, &uri, &headers(&same)).is_ok());
    }

    #[test]
    fn cookies_carry_the_host_prefix_attributes() {
        let v = set_cookie(SESSION_COOKIE, "web.x", 60, true);
        assert_eq!(
            v.to_str().unwrap(),
            "__Host-strongroom-session=web.x; Path=/; Secure; SameSite=Strict; Max-Age=60; HttpOnly"
        );
        assert!(expire_cookie("n").to_str().unwrap().contains("Max-Age=0"));
    }
}
