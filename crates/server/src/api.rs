//! The REST surface `/v1`: health, sign-in, the practice's change feed, the audit log's
//! verifier, and the OpenAPI document that describes them (`/v1/openapi.json`). Second
//! factors, re-authentication and the practice's settings are in [`crate::mfa`].
//! The caller's sessions (devices) are in [`crate::sessions`]; pushing a device's edits and
//! resolving conflicts in [`crate::push`]. Support staff and their grants are in
//! [`crate::support`]; third-party apps' tokens in [`crate::integrations`].
//!
//! The router is built from one table, [`routes`], and [`served_routes`] lists it; every
//! handler carries its OpenAPI description (`#[utoipa::path]`), gathered by [`openapi`].
//! A test checks that the document and the table name the same routes.
//!
//! Invariant: every handler that returns practice data to a member takes a [`Principal`]
//! from a live session (or, on the records routes, an integration token's practice) and
//! passes its practice id to the store; no member's handler takes a practice id from the
//! request. Support staff's routes take it from the path, and act on it only through an
//! active grant (see [`crate::support`]).
//! Invariant: errors are RFC 9457 problem details with a machine-readable code, and never
//! echo a password, a token or record content.
//! Invariant: every sign-in, and every refused one, is in the audit log before the answer
//! goes out; if it cannot be recorded the answer is an error, and no token is given.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, Query, State};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use strongroom_protocol::{
    ChangesPage, Health, MAX_PAGE_SIZE, MAX_PUSH_BYTES, PROTOCOL_HEADER, PROTOCOL_VERSION, Problem,
    ProblemCode, SignInRequest, SignInResponse, UserInfo,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use uuid::Uuid;

use crate::audit::{Actor, AuditKind, NewAuditEvent, Verdict, email_sha256};
use crate::auth;
use crate::mfa;
use crate::sessions::{self, SessionLifetimes, clean_label};
use crate::store::records::Viewer;
use crate::store::{NewSession, Principal, Store, StoreError};
use crate::{
    consent, events, incidents, integrations, members, notifications, policies, privacy, push,
    records, support, usage, web_session,
};

/// Session lifetimes by default ([`SessionLifetimes`] in [`AppState`] rules).
pub const SESSION_ABSOLUTE_SECS: i64 = 30 * 24 * 3600;
pub const SESSION_IDLE_SECS: i64 = 14 * 24 * 3600;

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Password checks under way at once, at most: each takes 19 MiB and a core's time,
    /// so a flood of sign-ins is turned away (429) instead of exhausting memory.
    pub password_checks: Arc<tokio::sync::Semaphore>,
    /// One audit verification at a time: each reads the whole log.
    pub audit_checks: Arc<tokio::sync::Semaphore>,
    /// Seals members' TOTP secrets at rest; without it authenticator codes are refused
    /// (503). See [`crate::mfa`].
    pub totp_key: Option<Arc<crate::mfa::TotpKey>>,
    /// How long sessions live.
    pub sessions: SessionLifetimes,
    /// Sends invitations by email, when an SMTP server is configured.
    pub mailer: Option<Arc<crate::mailer::Mailer>>,
    /// How often an open live stream re-checks its session.
    pub live_recheck: std::time::Duration,
    /// Notifies members, and checks unsubscribe links (see [`crate::notifications`]).
    pub notifier: Option<Arc<crate::notifications::Notifier>>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>) -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Self {
            store,
            password_checks: Arc::new(tokio::sync::Semaphore::new(cores * 2)),
            audit_checks: Arc::new(tokio::sync::Semaphore::new(1)),
            totp_key: None,
            sessions: SessionLifetimes::default(),
            mailer: None,
            live_recheck: std::time::Duration::from_secs(events::SESSION_CHECK_SECS),
            notifier: None,
        }
    }

    /// With the notifier (without one, unsubscribe links answer 503).
    pub fn with_notifier(mut self, notifier: Arc<crate::notifications::Notifier>) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// With live streams re-checking their session this often (none: the default).
    pub fn with_live_recheck(mut self, every: Option<std::time::Duration>) -> Self {
        if let Some(every) = every.filter(|d| !d.is_zero()) {
            self.live_recheck = every;
        }
        self
    }

    /// The same state sending email through `mailer`.
    pub fn with_mailer(mut self, mailer: Option<crate::mailer::Mailer>) -> Self {
        self.mailer = mailer.map(Arc::new);
        self
    }

    /// With the key that seals TOTP secrets.
    pub fn with_totp_key(mut self, key: crate::mfa::TotpKey) -> Self {
        self.totp_key = Some(Arc::new(key));
        self
    }

    /// The same state with these session lifetimes.
    pub fn with_sessions(mut self, sessions: SessionLifetimes) -> Self {
        self.sessions = sessions;
        self
    }
}

/// An HTTP method the API serves a route on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Verb {
    /// The method's name as OpenAPI keys it: lower case.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
            Verb::Put => "put",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
            Verb::Put => MethodFilter::PUT,
            Verb::Patch => MethodFilter::PATCH,
            Verb::Delete => MethodFilter::DELETE,
        }
    }
}

/// One route of the router: a method, a path, and the handler that answers it.
pub struct ApiRoute {
    pub verb: Verb,
    pub path: &'static str,
    handler: MethodRouter<AppState>,
}

fn at<H, T>(verb: Verb, path: &'static str, handler: H) -> ApiRoute
where
    H: Handler<T, AppState>,
    T: 'static,
{
    ApiRoute {
        verb,
        path,
        handler: axum::routing::on(verb.filter(), handler),
    }
}

/// Every route the router serves, and nothing else: [`router`] is built from this table.
/// Each handler here is described by its `#[utoipa::path]` and listed in [`ApiDoc`].
pub fn routes() -> Vec<ApiRoute> {
    vec![
        at(Verb::Get, "/v1/health", health),
        at(Verb::Post, "/v1/auth/sign-in", sign_in),
        at(Verb::Post, "/v1/auth/sign-out", sign_out),
        at(Verb::Get, "/v1/sync/changes", changes),
        at(Verb::Get, "/v1/sync/events", events::events),
        at(Verb::Post, "/v1/sync/push", push::push).with_body_limit(MAX_PUSH_BYTES),
        at(Verb::Get, "/v1/sync/conflicts", push::list_conflicts),
        at(
            Verb::Post,
            "/v1/sync/conflicts/{id}/resolve",
            push::resolve_conflict,
        ),
        at(Verb::Get, "/v1/audit/verify", verify_audit),
        at(Verb::Get, "/v1/sessions", sessions::list_sessions),
        at(Verb::Delete, "/v1/sessions/{id}", sessions::revoke_session),
        at(Verb::Post, "/v1/sessions/wiped", sessions::confirm_wiped),
        at(
            Verb::Post,
            "/v1/sessions/revoke-others",
            sessions::revoke_other_sessions,
        ),
        at(
            Verb::Post,
            "/v1/sessions/holdings",
            sessions::report_holdings,
        ),
        at(Verb::Get, "/v1/members/review", privacy::access_review),
        at(Verb::Post, "/v1/members/review", privacy::complete_review),
        at(Verb::Get, "/v1/audit/entries", privacy::audit_entries),
        at(Verb::Get, "/v1/export", privacy::export),
        at(Verb::Get, "/v1/openapi.json", openapi_json),
        at(Verb::Get, "/v1/records/{kind}", records::list),
        at(Verb::Get, "/v1/records/{kind}/{id}", records::get_one),
        at(Verb::Put, "/v1/records/{kind}/{id}", records::put)
            .with_body_limit(records::MAX_RECORD_BYTES),
        at(Verb::Delete, "/v1/records/{kind}/{id}", records::delete),
        at(Verb::Get, "/v1/members", members::list_members),
        at(Verb::Patch, "/v1/members/{id}", members::update_member),
        at(
            Verb::Delete,
            "/v1/members/{id}/credentials",
            members::remove_credentials,
        ),
        at(Verb::Get, "/v1/matters/{id}/access", members::matter_access),
        at(
            Verb::Put,
            "/v1/matters/{id}/access",
            members::set_matter_access,
        ),
        at(Verb::Post, "/v1/invitations", members::invite),
        at(Verb::Get, "/v1/invitations", members::list_invitations),
        at(
            Verb::Delete,
            "/v1/invitations/{id}",
            members::revoke_invitation,
        ),
        at(
            Verb::Post,
            "/v1/invitations/accept",
            members::accept_invitation,
        ),
        at(Verb::Post, "/v1/auth/mfa/totp/setup", mfa::totp_setup),
        at(Verb::Post, "/v1/auth/mfa/totp/confirm", mfa::totp_confirm),
        at(Verb::Post, "/v1/auth/mfa/totp/disable", mfa::totp_disable),
        at(
            Verb::Post,
            "/v1/auth/mfa/recovery-codes",
            mfa::regenerate_recovery_codes,
        ),
        at(Verb::Post, "/v1/auth/reauth", mfa::reauth),
        at(Verb::Get, "/v1/practice/settings", mfa::practice_settings),
        at(
            Verb::Put,
            "/v1/practice/settings",
            mfa::put_practice_settings,
        ),
        at(
            Verb::Post,
            "/v1/support/auth/sign-in",
            support::staff_sign_in,
        ),
        at(
            Verb::Post,
            "/v1/support/auth/sign-out",
            support::staff_sign_out,
        ),
        at(Verb::Post, "/v1/support/requests", support::request_access),
        at(Verb::Get, "/v1/support/my-grants", support::my_grants),
        at(Verb::Get, "/v1/support/grants", support::list_grants),
        at(
            Verb::Post,
            "/v1/support/grants/{id}/approve",
            support::approve_grant,
        ),
        at(
            Verb::Post,
            "/v1/support/grants/{id}/decline",
            support::decline_grant,
        ),
        at(
            Verb::Post,
            "/v1/support/grants/{id}/revoke",
            support::revoke_grant,
        ),
        at(Verb::Get, "/v1/support/access-log", support::access_log),
        at(
            Verb::Get,
            "/v1/support/practices/{practice_id}/records/{kind}",
            support::staff_list,
        ),
        at(
            Verb::Get,
            "/v1/support/practices/{practice_id}/records/{kind}/{id}",
            support::staff_get_one,
        ),
        at(
            Verb::Put,
            "/v1/support/practices/{practice_id}/records/{kind}/{id}",
            support::staff_put,
        )
        .with_body_limit(records::MAX_RECORD_BYTES),
        at(
            Verb::Post,
            "/v1/integrations",
            integrations::create_integration,
        ),
        at(
            Verb::Get,
            "/v1/integrations",
            integrations::list_integrations,
        ),
        at(
            Verb::Delete,
            "/v1/integrations/{id}",
            integrations::revoke_integration,
        ),
        at(
            Verb::Get,
            "/v1/me/notifications/preferences",
            notifications::get_preferences,
        ),
        at(
            Verb::Patch,
            "/v1/me/notifications/preferences",
            notifications::patch_preferences,
        ),
        at(Verb::Get, "/v1/me/notices", notifications::list_notices),
        at(
            Verb::Post,
            "/v1/me/notices/{id}/read",
            notifications::read_notice,
        ),
        at(
            Verb::Get,
            "/v1/unsubscribe/{token}",
            notifications::unsubscribe_page,
        ),
        at(
            Verb::Post,
            "/v1/unsubscribe/{token}",
            notifications::unsubscribe,
        ),
        at(Verb::Get, "/v1/cookies", consent::cookies),
        at(Verb::Get, "/v1/me/consent", consent::get_consent),
        at(Verb::Put, "/v1/me/consent", consent::put_consent),
        at(Verb::Get, "/.well-known/gpc.json", consent::gpc_json),
        at(Verb::Post, "/v1/web/session", web_session::web_sign_in),
        at(Verb::Get, "/v1/web/session", web_session::web_session_info),
        at(Verb::Delete, "/v1/web/session", web_session::web_sign_out),
        at(
            Verb::Post,
            "/v1/web/preferences",
            web_session::web_preferences,
        ),
        at(
            Verb::Get,
            "/v1/practice/usage-report/preview",
            usage::usage_report_preview,
        ),
        at(Verb::Get, "/v1/me/incidents", incidents::my_incidents),
        at(
            Verb::Post,
            "/v1/me/incidents/{id}/acknowledge",
            incidents::acknowledge,
        ),
        at(
            Verb::Get,
            "/v1/practice/incidents/{id}/acknowledgements",
            incidents::acknowledgements,
        ),
        at(Verb::Get, "/v1/policies", policies::current),
        at(
            Verb::Get,
            "/v1/policies/{kind}/{version}",
            policies::version,
        ),
        at(Verb::Get, "/v1/me/policies", policies::mine),
        at(
            Verb::Post,
            "/v1/me/policies/{kind}/acknowledge",
            policies::acknowledge,
        ),
    ]
}

impl ApiRoute {
    /// Lets this route take bodies up to `bytes` (the router's default is 64 KiB).
    fn with_body_limit(mut self, bytes: usize) -> Self {
        self.handler = self.handler.layer(DefaultBodyLimit::max(bytes));
        self
    }
}

/// The (method, path) of every route the router serves.
pub fn served_routes() -> Vec<(Verb, &'static str)> {
    routes().into_iter().map(|r| (r.verb, r.path)).collect()
}

/// The `/v1` router. Routes that share a path are merged into one method router.
pub fn router(state: AppState) -> Router {
    let mut by_path: Vec<(&'static str, MethodRouter<AppState>)> = Vec::new();
    for route in routes() {
        match by_path.iter_mut().find(|(p, _)| *p == route.path) {
            Some((_, handler)) => {
                *handler = std::mem::take(handler).merge(route.handler);
            }
            None => by_path.push((route.path, route.handler)),
        }
    }
    by_path
        .into_iter()
        .fold(Router::new(), |r, (path, handler)| r.route(path, handler))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                ProblemCode::NotFound,
                "no such route",
            )
        })
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            consent::expire_unconsented_cookies,
        ))
        .layer(compression())
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// Headers on every answer, unless the handler set its own: HTTPS only for a year (HSTS;
/// not for subdomains, which are not this service's to decide); no content sniffing, no
/// framing, no active content and no referrer, as befits an API that answers JSON; and
/// nothing kept in a cache, since most answers hold a practice's data.
pub const SECURITY_HEADERS: [(header::HeaderName, &str); 6] = [
    (header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'",
    ),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::CACHE_CONTROL, "no-store"),
];

async fn security_headers(mut resp: Response) -> Response {
    let headers = resp.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers
            .entry(name)
            .or_insert(header::HeaderValue::from_static(value));
    }
    resp
}

/// Answers of 1 KiB or more are gzipped when the client accepts it, at the fastest level:
/// a page of changes shrinks about fivefold at either level, and the fastest costs far
/// less CPU (see docs/PERFORMANCE.md, the pull benchmark). Smaller answers gain nothing:
/// `/v1/health`'s JSON gzipped is larger than itself.
/// An export archive is compressed already, and must keep its `Content-Length` for the
/// app's progress bar: it is sent as it is.
fn compression() -> tower_http::compression::CompressionLayer<
    tower_http::compression::predicate::And<
        tower_http::compression::predicate::And<
            tower_http::compression::DefaultPredicate,
            tower_http::compression::predicate::SizeAbove,
        >,
        tower_http::compression::predicate::NotForContentType,
    >,
> {
    use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
    use tower_http::compression::{CompressionLayer, CompressionLevel, DefaultPredicate};
    CompressionLayer::new()
        .quality(CompressionLevel::Fastest)
        .compress_when(
            DefaultPredicate::new()
                .and(SizeAbove::new(1024))
                .and(NotForContentType::const_new("application/zip")),
        )
}

/// The OpenAPI document of the routes in [`routes`].
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Strongroom hosted service",
        description = "Sign-in and the practice's change feed for the Strongroom desktop app. \
                       Errors are RFC 9457 problem details (`application/problem+json`) with a \
                       machine-readable `code`. A client may send its protocol version in the \
                       `strongroom-protocol` header."
    ),
    paths(
        health, sign_in, sign_out, changes, events::events, verify_audit, openapi_json,
        records::list, records::get_one, records::put, records::delete,
        members::list_members, members::update_member, members::remove_credentials,
        members::matter_access,
        members::set_matter_access, members::invite, members::list_invitations,
        members::revoke_invitation, members::accept_invitation,
        mfa::totp_setup, mfa::totp_confirm, mfa::totp_disable, mfa::regenerate_recovery_codes,
        mfa::reauth, mfa::practice_settings, mfa::put_practice_settings,
        sessions::list_sessions, sessions::revoke_session, sessions::confirm_wiped,
        sessions::revoke_other_sessions, sessions::report_holdings,
        privacy::access_review, privacy::complete_review, privacy::audit_entries,
        privacy::export,
        push::push, push::list_conflicts, push::resolve_conflict,
        support::staff_sign_in, support::staff_sign_out, support::request_access, support::my_grants,
        support::list_grants, support::approve_grant, support::decline_grant,
        support::revoke_grant, support::access_log, support::staff_list,
        support::staff_get_one, support::staff_put,
        integrations::create_integration, integrations::list_integrations,
        integrations::revoke_integration,
        notifications::get_preferences, notifications::patch_preferences,
        notifications::list_notices, notifications::read_notice,
        notifications::unsubscribe_page, notifications::unsubscribe,
        consent::cookies, consent::get_consent, consent::put_consent, consent::gpc_json,
        web_session::web_sign_in, web_session::web_session_info, web_session::web_sign_out, web_session::web_preferences,
        usage::usage_report_preview,
        incidents::my_incidents, incidents::acknowledge, incidents::acknowledgements,
        policies::current, policies::version, policies::mine, policies::acknowledge,
    ),
    modifiers(&SessionSecurity),
    tags(
        (name = "service", description = "The service itself"),
        (name = "auth", description = "Sign-in and sessions"),
        (name = "sync", description = "The practice's change feed, pushing a device's \
                                       edits, and the conflicts they make"),
        (name = "audit", description = "The audit log"),
        (name = "records", description = "The practice's records, of every kind"),
        (name = "members", description = "Members, invitations and matter access"),
        (name = "practice", description = "The practice's settings"),
        (name = "export", description = "Everything the practice holds, as an archive"),
        (name = "support", description = "Support staff: their own sign-in, requests for \
                                          access, the practice's decisions, reads under an \
                                          active grant, and the practice's view of them"),
        (name = "integrations", description = "Third-party apps' tokens and their ledger"),
        (name = "notifications", description = "Notification preferences, the in-app inbox \
                                                and one-click unsubscribe (RFC 8058)"),
        (name = "consent", description = "The cookie catalogue, members' consent records \
                                          and Global Privacy Control"),
        (name = "web", description = "The browser's cookie session and what it may remember"),
        (name = "incidents", description = "Breach notices: the incidents that affect the \
                                            member's practice, and their acknowledgement"),
        (name = "policies", description = "The privacy policy and the terms of use, in \
                                           versions, and members' acknowledgements"),
    )
)]
pub struct ApiDoc;

/// The name of the bearer-token security scheme in the document (the handlers' `security`
/// attributes spell it out: the macro takes only a literal).
pub const SESSION_SCHEME: &str = "session";

/// Adds the session's bearer-token scheme to the document's components.
struct SessionSecurity;

impl utoipa::Modify for SessionSecurity {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SESSION_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The opaque token from `POST /v1/auth/sign-in`, as \
                         `Authorization: Bearer TOKEN`. Support staff's routes take the \
                         token from `POST /v1/support/auth/sign-in` instead (and no other \
                         route does); an integration token from `POST /v1/integrations` \
                         works on the records routes only. A browser may instead \
                         send the `__Host-strongroom-session` cookie from `POST \
                         /v1/web/session`; its changes then need `Origin` and \
                         `X-Strongroom-CSRF: 1`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document of this service, built once.
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    DOC.get_or_init(<ApiDoc as utoipa::OpenApi>::openapi)
}

/// The OpenAPI document of this API.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "service",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document", body = Object,
         content_type = "application/json"),
    )
)]
async fn openapi_json() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(openapi())
}

/// An error answer, rendered as problem details.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: ProblemCode,
    detail: String,
    retry_after_secs: Option<u32>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: ProblemCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            retry_after_secs: None,
        }
    }

    pub(crate) fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ProblemCode::BadRequest, detail)
    }

    /// 429 `rate_limited`, to try again after `secs`.
    pub(crate) fn rate_limited(detail: impl Into<String>, secs: u32) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ProblemCode::RateLimited,
            detail,
        );
        e.retry_after_secs = Some(secs);
        e
    }

    pub(crate) fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ProblemCode::Unauthenticated,
            "a valid session is required",
        )
    }

    /// 401 `session_revoked`: told only to the holder of a revoked session's token, whose
    /// device then erases its offline copy.
    pub(crate) fn session_revoked() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ProblemCode::SessionRevoked,
            "this session was revoked; the device must erase its offline copy",
        )
    }

    /// 404 `not_found`, saying what was not found.
    pub(crate) fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ProblemCode::NotFound, detail)
    }

    /// The caller's role does not allow this.
    pub(crate) fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ProblemCode::Forbidden, detail)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found("not found"),
            // These messages are the service's own words, naming fields, never values.
            StoreError::VersionMismatch { current } => Self::new(
                StatusCode::PRECONDITION_FAILED,
                ProblemCode::VersionConflict,
                match current {
                    Some(v) => format!("the record is at version {v}"),
                    None => "the record does not exist".to_owned(),
                },
            ),
            StoreError::Invalid(detail) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemCode::InvalidRecord,
                detail,
            ),
            StoreError::InUse(detail) => {
                Self::new(StatusCode::CONFLICT, ProblemCode::Conflict, detail)
            }
            StoreError::Conflict(_) => Self::new(
                StatusCode::CONFLICT,
                ProblemCode::Conflict,
                "that exists already",
            ),
            StoreError::Database(message) => {
                // The store's message may quote a value; log it, answer generically.
                tracing::error!(error = %message, "store failure");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ProblemCode::Internal,
                    "the service could not complete the request; try again",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: format!(
                "https://strongroom.law/problems/{}",
                serde_json::to_value(self.code)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: Some(self.detail),
            code: self.code,
        };
        let mut resp = (self.status, Json(problem)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after_secs {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        resp
    }
}

/// The `strongroom-protocol` request header as the OpenAPI document describes it: a client
/// may leave it out, and when it sends it, it must be this service's [`PROTOCOL_VERSION`]
/// (any other value is answered 400 `incompatible_protocol` by [`check_protocol`]).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub(crate) struct ProtocolHeader {
    /// The protocol version the client speaks; only this service's own is accepted.
    #[param(rename = "strongroom-protocol", schema_with = protocol_version_schema)]
    _version: Option<u32>,
}

/// The one protocol version this service speaks, as a schema: `{"type": "integer", "enum": [N]}`.
fn protocol_version_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Integer)
        .enum_values(Some([PROTOCOL_VERSION]))
        .build()
}

pub(crate) fn check_protocol(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get(PROTOCOL_HEADER) {
        None => Ok(()),
        Some(v)
            if v.to_str().ok().and_then(|s| s.trim().parse::<u32>().ok())
                == Some(PROTOCOL_VERSION) =>
        {
            Ok(())
        }
        Some(_) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ProblemCode::IncompatibleProtocol,
            format!("this service speaks protocol version {PROTOCOL_VERSION}"),
        )),
    }
}

/// The principal of the request's live session, whether or not it must still enroll a
/// second factor (see [`mfa::Enrolling`]).
pub(crate) async fn session_principal(
    parts: &Parts,
    state: &AppState,
) -> Result<Principal, ApiError> {
    check_protocol(&parts.headers)?;
    // A bearer token, or a browser's web session cookie (CSRF-checked for writes).
    let token = crate::web_session::request_token(parts)?;
    let now = unix_now();
    let token_hash = auth::token_hash(token);
    // The address is for the sessions list; it is noted in the same statement.
    let ip = sessions::client_ip(parts.extensions.get::<ConnectInfo<SocketAddr>>());
    let found = state
        .store
        .session(&token_hash, now, state.sessions.idle_secs, ip.as_deref())
        .await?;
    if let Some(principal) = found {
        return Ok(principal);
    }
    // Only a revoked session is told so (its device wipes itself); an expired or unknown
    // token learns nothing more than that it is no session.
    Err(match state.store.revoked_session(&token_hash).await? {
        Some(_) => ApiError::session_revoked(),
        None => ApiError::unauthenticated(),
    })
}

/// A live session, refused (403 `mfa_enrollment_required`) while its practice requires a
/// second factor that its member has not set up.
impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = session_principal(parts, state).await?;
        if principal.mfa_enrollment_required {
            return Err(mfa::enrollment_required());
        }
        Ok(principal)
    }
}

/// The session token of an `Authorization: Bearer` header, if there is a plausible one.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 256)
}

/// Records what `principal` did in the audit log; the answer waits for it.
pub(crate) async fn audit(
    state: &AppState,
    principal: &Principal,
    kind: AuditKind,
    details: serde_json::Value,
) -> Result<(), ApiError> {
    state
        .store
        .append_audit(NewAuditEvent {
            practice: Some(principal.practice_id),
            actor: Some(Actor::User(principal.user_id)),
            kind,
            details,
        })
        .await?;
    Ok(())
}

pub(crate) fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Whether the service is up, and the protocol version it speaks.
#[utoipa::path(
    get,
    path = "/v1/health",
    tag = "service",
    responses(
        (status = 200, description = "The service is up", body = Health),
    )
)]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        protocol_version: PROTOCOL_VERSION,
    })
}

/// Signs in with email and password, and the second factor when the member has one;
/// answers a session's bearer token.
#[utoipa::path(
    post,
    path = "/v1/auth/sign-in",
    tag = "auth",
    params(ProtocolHeader),
    request_body(content = SignInRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in: the session's token, the user and the practice",
         body = SignInResponse),
        (status = 400, description = "A malformed request (`bad_request`), or a protocol \
         version this service does not speak (`incompatible_protocol`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The email, password or second factor is not right \
         (`invalid_credentials`), or the member has a second factor and none was given \
         (`mfa_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many sign-ins at once (`rate_limited`)",
         body = Problem, content_type = "application/problem+json",
         headers(("retry-after" = u32, description = "Seconds to wait"))),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn sign_in(
    State(state): State<AppState>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Result<Json<SignInRequest>, JsonRejection>,
) -> Result<Json<SignInResponse>, ApiError> {
    check_protocol(&headers)?;
    let Json(req) = body.map_err(|e| {
        ApiError::bad_request(format!(
            "the request body is not a sign-in request: {}",
            e.body_text()
        ))
    })?;
    let ip = connection.map(|Extension(ConnectInfo(addr))| addr.ip().to_string());
    Ok(Json(sign_in_session(&state, ip, req, "").await?.0))
}

/// Checks a sign-in (back-off, password, second factor; every outcome audited) and makes
/// a session whose token starts with `token_prefix` (a web session's, see
/// [`crate::web_session`]). Answers the sign-in and the session's public id.
pub(crate) async fn sign_in_session(
    state: &AppState,
    ip: Option<String>,
    req: SignInRequest,
    token_prefix: &str,
) -> Result<(SignInResponse, Uuid), ApiError> {
    let email = req.email.trim();
    if email.is_empty() || email.chars().count() > 254 || !email.contains('@') {
        return Err(ApiError::bad_request(
            "email must be an address of at most 254 characters",
        ));
    }
    if req.password.is_empty() || req.password.chars().count() > 1024 {
        return Err(ApiError::bad_request(
            "password must be 1 to 1024 characters",
        ));
    }
    let device_name = clean_label(&req.device_name);
    let platform = clean_label(req.platform.as_deref().unwrap_or_default());
    let app_version = clean_label(req.app_version.as_deref().unwrap_or_default());
    let second_factor = mfa::second_factor_input(req.totp_code, req.recovery_code)?;
    let invalid = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ProblemCode::InvalidCredentials,
            "the email or password is not right",
        )
    };
    let Ok(_permit) = state.password_checks.clone().try_acquire_owned() else {
        let mut busy = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ProblemCode::RateLimited,
            "too many sign-ins at once; try again in a moment",
        );
        busy.retry_after_secs = Some(1);
        return Err(busy);
    };
    // Back-off per account, kept in the database so every instance agrees. Checked before
    // the password, the same way for accounts that exist and those that do not.
    let account_key = email_sha256(email);
    let now = unix_now();
    if let Some((failures, last)) = state.store.sign_in_failures(&account_key).await?
        && let Some(wait) = backoff_remaining(failures, now - last)
    {
        let mut slow = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ProblemCode::RateLimited,
            "too many failed sign-ins for this account; wait before trying again",
        );
        slow.retry_after_secs = Some(u32::try_from(wait).unwrap_or(u32::MAX));
        return Err(slow);
    }
    let user = state.store.user_by_email(email).await?;
    let password = req.password;
    let Some(user) = user else {
        // Spend the same effort as a real check, so timing does not reveal who has an account.
        tokio::task::spawn_blocking(move || auth::verify_password(&password, auth::dummy_hash()))
            .await
            .ok();
        tracing::info!("sign-in failed: unknown account");
        state
            .store
            .record_sign_in_failure(&account_key, now, FAILURE_WINDOW_SECS)
            .await?;
        // No practice, and the email only as its hash.
        state
            .store
            .append_audit(NewAuditEvent {
                practice: None,
                actor: None,
                kind: AuditKind::SignInFailed,
                details: json!({
                    "reason": "unknown_account",
                    "email_sha256": email_sha256(email),
                    "device_name": device_name,
                    "ip": ip,
                }),
            })
            .await?;
        return Err(invalid());
    };
    let phc = user.password_hash.clone();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &phc))
        .await
        .unwrap_or(false);
    if !ok || user.disabled {
        tracing::info!(user = %user.id.0, "sign-in failed");
        state
            .store
            .record_sign_in_failure(&account_key, now, FAILURE_WINDOW_SECS)
            .await?;
        state
            .store
            .append_audit(NewAuditEvent {
                practice: Some(user.practice_id),
                actor: Some(Actor::User(user.id)),
                kind: AuditKind::SignInFailed,
                details: json!({
                    "reason": if ok { "account_disabled" } else { "wrong_password" },
                    "device_name": device_name,
                    "ip": ip,
                }),
            })
            .await?;
        return Err(invalid());
    }
    let factor = mfa::sign_in_second_factor(
        state,
        &user,
        second_factor.as_ref(),
        &account_key,
        &device_name,
        ip.as_deref(),
        now,
    )
    .await?;
    state.store.clear_sign_in_failures(&account_key).await?;
    let token = [
        token_prefix,
        &auth::new_token().map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ProblemCode::Internal,
                "no randomness available",
            )
        })?,
    ]
    .concat();
    let public_id = Uuid::new_v4();
    let device_name = if device_name.is_empty() {
        "unnamed device".to_owned()
    } else {
        device_name
    };
    state
        .store
        .create_session(NewSession {
            token_hash: auth::token_hash(&token),
            public_id,
            user_id: user.id,
            practice_id: user.practice_id,
            device_name: device_name.clone(),
            platform,
            app_version,
            ip: ip.clone(),
            created_at: now,
            expires_at: now.saturating_add(state.sessions.absolute_secs),
        })
        .await?;
    // Unrecorded, the sign-in does not happen: an error here means the token is never given.
    state
        .store
        .append_audit(NewAuditEvent {
            practice: Some(user.practice_id),
            actor: Some(Actor::User(user.id)),
            kind: AuditKind::SignIn,
            details: match factor {
                None => json!({ "device_name": device_name, "ip": ip }),
                Some(f) => {
                    json!({ "device_name": device_name, "ip": ip, "second_factor": f.as_str() })
                }
            },
        })
        .await?;
    let practice = state.store.practice(user.practice_id).await?;
    tracing::info!(user = %user.id.0, "signed in");
    let answer = SignInResponse {
        token,
        user: UserInfo {
            id: user.id.0,
            email: user.email,
            display_name: user.display_name,
            role: user.role,
        },
        practice,
    };
    Ok((answer, public_id))
}

/// Failed sign-ins allowed for an account before it must wait.
pub const FREE_FAILURES: i64 = 5;
/// A failure this long after the last one starts the count again.
pub const FAILURE_WINDOW_SECS: i64 = 3600;
/// The longest wait.
pub const MAX_BACKOFF_SECS: i64 = 15 * 60;

/// How long an account with `failures` recent failures, the last `since` seconds ago, must
/// still wait: nothing for the first [`FREE_FAILURES`], then 30 s doubling with each
/// further failure, at most [`MAX_BACKOFF_SECS`].
pub fn backoff_remaining(failures: i64, since: i64) -> Option<i64> {
    if failures < FREE_FAILURES || since > FAILURE_WINDOW_SECS {
        return None;
    }
    let steps = u32::try_from((failures - FREE_FAILURES).min(10)).unwrap_or(10);
    let wait = (30_i64 << steps).min(MAX_BACKOFF_SECS);
    let left = wait - since.max(0);
    (left > 0).then_some(left)
}

/// Ends the caller's session: its token fails on the very next request. Recorded in the
/// audit log.
#[utoipa::path(
    post,
    path = "/v1/auth/sign-out",
    tag = "auth",
    params(ProtocolHeader),
    security(("session" = [])),
    responses(
        (status = 204, description = "Signed out; the token no longer works"),
        (status = 400, description = "A protocol version this service does not speak \
         (`incompatible_protocol`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn sign_out(
    mfa::Enrolling(principal): mfa::Enrolling,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    // The extractor has checked the token; take it again to revoke exactly this session.
    let token = bearer_token(&headers).ok_or_else(ApiError::unauthenticated)?;
    if state.store.revoke_session(&auth::token_hash(token)).await? {
        state
            .store
            .append_audit(NewAuditEvent {
                practice: Some(principal.practice_id),
                actor: Some(Actor::User(principal.user_id)),
                kind: AuditKind::SignOut,
                details: json!({}),
            })
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The change feed's query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ChangesQuery {
    /// The cursor: changes with a greater `seq` are returned.
    #[serde(default)]
    #[param(minimum = 0, default = 0)]
    after: i64,
    /// The most changes to return (at most `MAX_PAGE_SIZE`, 5000).
    #[param(minimum = 1, maximum = 5000, default = 500)]
    limit: Option<u32>,
    /// Also say how many changes wait after `after` in all (`total`), for a progress bar.
    #[serde(default)]
    count: bool,
}

/// The practice's changes after a cursor, in `seq` order: a record's latest state, or a
/// tombstone.
#[utoipa::path(
    get,
    path = "/v1/sync/changes",
    tag = "sync",
    params(
        ChangesQuery,
        ProtocolHeader,
    ),
    security(("session" = [])),
    responses(
        (status = 200, description = "A page of changes", body = ChangesPage),
        (status = 400, description = "A malformed query (`bad_request`), or a protocol \
         version this service does not speak (`incompatible_protocol`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`), or a revoked \
         one (`session_revoked`: every route answers so; the device erases its copy)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn changes(
    principal: Principal,
    State(state): State<AppState>,
    query: Result<Query<ChangesQuery>, QueryRejection>,
) -> Result<Json<ChangesPage>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    if q.after < 0 {
        return Err(ApiError::bad_request("after must not be negative"));
    }
    let limit = q.limit.unwrap_or(500);
    if limit == 0 || limit > MAX_PAGE_SIZE {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {MAX_PAGE_SIZE}"
        )));
    }
    let page = state
        .store
        .changes_after(
            principal.practice_id,
            Viewer::Member(principal.user_id),
            q.after,
            limit,
        )
        .await?;
    let mut page = page;
    if q.count {
        page.total = Some(
            state
                .store
                .count_changes_after(
                    principal.practice_id,
                    Viewer::Member(principal.user_id),
                    q.after,
                )
                .await?,
        );
    }
    Ok(Json(page))
}

/// The verifier's answer on the wire.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
enum AuditVerification {
    Intact {
        entries: u64,
    },
    Broken {
        entry_id: i64,
        reason: &'static str,
        detail: &'static str,
    },
}

/// Checks the whole audit chain: `intact` with the number of entries, or `broken` at the
/// first entry that fails. Any member may ask until roles exist; the answer names no
/// entry's contents.
#[utoipa::path(
    get,
    path = "/v1/audit/verify",
    tag = "audit",
    params(ProtocolHeader),
    security(("session" = [])),
    responses(
        (status = 200, description = "The verdict: `intact`, or `broken` at an entry",
         body = AuditVerification),
        (status = 400, description = "A protocol version this service does not speak \
         (`incompatible_protocol`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "A verification is under way already (`rate_limited`)",
         body = Problem, content_type = "application/problem+json",
         headers(("retry-after" = u32, description = "Seconds to wait"))),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn verify_audit(
    _principal: Principal,
    State(state): State<AppState>,
) -> Result<Json<AuditVerification>, ApiError> {
    let Ok(_permit) = state.audit_checks.clone().try_acquire_owned() else {
        let mut busy = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ProblemCode::RateLimited,
            "the audit log is being verified already; try again in a moment",
        );
        busy.retry_after_secs = Some(5);
        return Err(busy);
    };
    let answer = match state.store.verify_audit().await? {
        Verdict::Intact { entries } => AuditVerification::Intact { entries },
        Verdict::Broken { entry_id, reason } => {
            tracing::error!(entry_id, %reason, "the audit log is broken");
            AuditVerification::Broken {
                entry_id,
                reason: reason.code(),
                detail: reason.describe(),
            }
        }
    };
    Ok(Json(answer))
}
