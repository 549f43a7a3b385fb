//! A member's sessions, one per signed-in device: `GET /v1/sessions` lists the caller's own
//! live sessions with what each device said it is and where it was seen from, and
//! `DELETE /v1/sessions/{id}` revokes one of them by its public id. A revoked session's
//! token is answered `session_revoked` everywhere; its device erases its offline copy and
//! confirms with `POST /v1/sessions/wiped`, the one route that token still opens.
//!
//! Invariant: a member reaches only their own sessions. Another member's session id, a
//! revoked or expired one, and an id that never existed all get the same 404.
//! Invariant: no answer carries a session's token or its hash; a session is named by its
//! public id only.
//! Invariant: every revocation is in the audit log before the answer goes out.
//! Invariant: a wipe is confirmed only with a revoked session's own token, and recorded
//! once (`wiped_at` and its `device_wiped` audit entry in one transaction).

use std::net::SocketAddr;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use strongroom_protocol::privacy::{DeviceHoldings, RevokedSessions};
use strongroom_protocol::{Problem, ProblemCode, SessionInfo, SessionList};
use uuid::Uuid;

use crate::api::{
    ApiError, AppState, ProtocolHeader, SESSION_ABSOLUTE_SECS, SESSION_IDLE_SECS, bearer_token,
    check_protocol, unix_now,
};
use crate::auth;
use crate::store::Principal;
use crate::store::sessions::{SessionRecord, WipeConfirmation, revoked_event};

/// How long a session lives: it ends `idle_secs` after its latest request, and
/// `absolute_secs` after sign-in however much it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifetimes {
    pub idle_secs: i64,
    pub absolute_secs: i64,
}

impl Default for SessionLifetimes {
    /// 14 days idle, 30 days in all.
    fn default() -> Self {
        Self {
            idle_secs: SESSION_IDLE_SECS,
            absolute_secs: SESSION_ABSOLUTE_SECS,
        }
    }
}

/// The most characters a device's name, platform or version keeps.
pub const MAX_LABEL_CHARS: usize = 100;

/// Whether a character is dropped from a device's labels: control characters, line and
/// paragraph separators, and the bidirectional controls that can make a list lie about
/// what it shows.
fn is_unwanted(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200E}' | '\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// A label a device gave (its name, platform or version) as it is stored: without control
/// characters, trimmed, at most [`MAX_LABEL_CHARS`] characters.
pub fn clean_label(raw: &str) -> String {
    let kept: String = raw.chars().filter(|c| !is_unwanted(*c)).collect();
    let cut: String = kept.trim().chars().take(MAX_LABEL_CHARS).collect();
    cut.trim_end().to_owned()
}

/// The address a request came from, if the server knows it.
pub(crate) fn client_ip(connection: Option<&ConnectInfo<SocketAddr>>) -> Option<String> {
    connection.map(|ConnectInfo(addr)| addr.ip().to_string())
}

/// Unix seconds as RFC 3339 in UTC.
pub(crate) fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// A stored session as the list shows it to `principal`.
fn session_info(
    r: SessionRecord,
    principal: &Principal,
    lifetimes: SessionLifetimes,
) -> SessionInfo {
    let current = Uuid::parse_str(&r.public_id).ok() == Some(principal.session_id);
    SessionInfo {
        current,
        created_at: rfc3339(r.created_at),
        last_seen_at: rfc3339(r.last_seen_at),
        idle_expires_at: rfc3339(r.last_seen_at.saturating_add(lifetimes.idle_secs)),
        expires_at: rfc3339(r.expires_at),
        id: r.public_id,
        device_name: r.device_name,
        platform: r.platform,
        app_version: r.app_version,
        first_ip: r.ip,
        last_ip: r.last_ip,
        holdings: r.holdings,
    }
}

/// The caller's live sessions, one per signed-in device, the most recently used first;
/// `current` marks the one this request came with.
#[utoipa::path(
    get,
    path = "/v1/sessions",
    tag = "auth",
    params(ProtocolHeader),
    security(("session" = [])),
    responses(
        (status = 200, description = "The caller's live sessions", body = SessionList),
        (status = 400, description = "A protocol version this service does not speak \
         (`incompatible_protocol`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_sessions(
    principal: Principal,
    State(state): State<AppState>,
) -> Result<Json<SessionList>, ApiError> {
    let lifetimes = state.sessions;
    let records = state
        .store
        .live_sessions(
            principal.practice_id,
            principal.user_id,
            unix_now(),
            lifetimes.idle_secs,
        )
        .await?;
    Ok(Json(SessionList {
        sessions: records
            .into_iter()
            .map(|r| session_info(r, &principal, lifetimes))
            .collect(),
    }))
}

/// The longest public id looked up; anything longer is no session's.
const MAX_ID_CHARS: usize = 64;

/// Revokes one of the caller's own sessions by its public id: its token fails on the very
/// next request. The calling session may revoke itself. Recorded in the audit log.
#[utoipa::path(
    delete,
    path = "/v1/sessions/{id}",
    tag = "auth",
    params(
        ("id" = String, Path, description = "The session's public id, from `GET /v1/sessions`"),
        ProtocolHeader,
    ),
    security(("session" = [])),
    responses(
        (status = 204, description = "Revoked; that session's token no longer works"),
        (status = 400, description = "A protocol version this service does not speak \
         (`incompatible_protocol`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The caller has no live session of that id \
         (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn revoke_session(
    principal: Principal,
    State(state): State<AppState>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let not_found = || ApiError::not_found("you have no live session of that id");
    let Ok(Path(id)) = id else {
        return Err(not_found());
    };
    // Public ids are UUIDs (or, from before, plain hex): nothing else is looked up.
    if id.is_empty()
        || id.len() > MAX_ID_CHARS
        || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(not_found());
    }
    let Some(revoked) = state
        .store
        .revoke_own_session(
            principal.practice_id,
            principal.user_id,
            &id,
            unix_now(),
            state.sessions.idle_secs,
        )
        .await?
    else {
        return Err(not_found());
    };
    let current = Uuid::parse_str(&revoked.public_id).ok() == Some(principal.session_id);
    let ip = client_ip(connection.as_ref().map(|Extension(c)| c));
    state
        .store
        .append_audit(revoked_event(
            principal.practice_id,
            principal.user_id,
            &revoked,
            current,
            ip.as_deref(),
        ))
        .await?;
    tracing::info!(user = %principal.user_id.0, session = %revoked.public_id, "session revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes every live session of the caller's but the one this request came with: each
/// token fails on its very next request, and each device, told so, wipes its offline copy.
/// Every revocation is in the audit log, written in the same transaction.
#[utoipa::path(
    post,
    path = "/v1/sessions/revoke-others",
    tag = "auth",
    params(ProtocolHeader),
    security(("session" = [])),
    responses(
        (status = 200, description = "How many sessions were ended", body = RevokedSessions),
        (status = 400, description = "A protocol version this service does not speak \
         (`incompatible_protocol`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn revoke_other_sessions(
    principal: Principal,
    State(state): State<AppState>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Result<Json<RevokedSessions>, ApiError> {
    let ip = client_ip(connection.as_ref().map(|Extension(c)| c));
    let revoked = state
        .store
        .revoke_other_sessions(
            principal.practice_id,
            principal.user_id,
            principal.session_id,
            unix_now(),
            state.sessions.idle_secs,
            ip.as_deref(),
        )
        .await?;
    tracing::info!(user = %principal.user_id.0, count = revoked.len(), "other sessions revoked");
    Ok(Json(RevokedSessions {
        revoked: u32::try_from(revoked.len()).unwrap_or(u32::MAX),
    }))
}

/// The most matters or records a device may say it holds: more than any practice has.
const MAX_HOLDINGS: u64 = 1 << 40;

/// The device of this session reports what it holds offline after a sync; its entry in
/// the sessions list shows it to the member.
#[utoipa::path(
    post,
    path = "/v1/sessions/holdings",
    tag = "auth",
    params(ProtocolHeader),
    request_body(content = DeviceHoldings, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 204, description = "Recorded"),
        (status = 400, description = "A malformed report (`bad_request`), or a protocol \
         version this service does not speak (`incompatible_protocol`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn report_holdings(
    principal: Principal,
    State(state): State<AppState>,
    body: Result<Json<DeviceHoldings>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(holdings) = body.map_err(crate::members::json_error)?;
    let when = time::OffsetDateTime::parse(
        &holdings.last_sync_at,
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|_| ApiError::bad_request("last_sync_at is not an RFC 3339 time"))?;
    if holdings.matters > MAX_HOLDINGS || holdings.records > MAX_HOLDINGS {
        return Err(ApiError::bad_request("the counts are out of range"));
    }
    // Stored in the service's own form (UTC), never as the device wrote it.
    let holdings = DeviceHoldings {
        last_sync_at: rfc3339(when.unix_timestamp()),
        ..holdings
    };
    state
        .store
        .report_holdings(
            principal.practice_id,
            principal.user_id,
            principal.session_id,
            &holdings,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The device of a revoked session confirms, with that session's own token, that it erased
/// its offline copy and its key. Recorded in the audit log once (`device_wiped`, after the
/// revocation); a repeated confirmation is answered the same and records nothing.
#[utoipa::path(
    post,
    path = "/v1/sessions/wiped",
    tag = "auth",
    params(ProtocolHeader),
    security(("session" = [])),
    responses(
        (status = 204, description = "The wipe is recorded"),
        (status = 400, description = "A protocol version this service does not speak \
         (`incompatible_protocol`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The token is no revoked session's: unknown or expired \
         (`unauthenticated`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The session is live: there is nothing to confirm \
         (`conflict`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn confirm_wiped(
    State(state): State<AppState>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    check_protocol(&headers)?;
    let token = bearer_token(&headers).ok_or_else(ApiError::unauthenticated)?;
    let token_hash = auth::token_hash(token);
    let ip = client_ip(connection.as_ref().map(|Extension(c)| c));
    let now = unix_now();
    match state
        .store
        .confirm_wipe(&token_hash, now, ip.as_deref())
        .await?
    {
        WipeConfirmation::Recorded(s) => {
            tracing::info!(user = %s.user.0, session = %s.public_id, "device wiped");
            Ok(StatusCode::NO_CONTENT)
        }
        WipeConfirmation::AlreadyRecorded => Ok(StatusCode::NO_CONTENT),
        WipeConfirmation::NotRevoked => {
            let live = state
                .store
                .session(&token_hash, now, state.sessions.idle_secs, ip.as_deref())
                .await?;
            Err(match live {
                Some(_) => ApiError::new(
                    StatusCode::CONFLICT,
                    ProblemCode::Conflict,
                    "this session is live; only a revoked session's device confirms a wipe",
                ),
                None => ApiError::unauthenticated(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_cleaned_trimmed_and_cut() {
        let long = "x".repeat(150);
        let hundred = "x".repeat(100);
        let cases: &[(&str, &str)] = &[
            ("", ""),
            ("  Priya's laptop  ", "Priya's laptop"),
            ("linux\u{0}\tx86_64\r\n", "linuxx86_64"),
            ("evil\u{202E}gpj.exe", "evilgpj.exe"),
            ("a\u{2028}b\u{2066}c\u{200F}", "abc"),
            ("\u{1b}[31mred\u{1b}[0m", "[31mred[0m"),
            ("Ōtautahi 💻 desk", "Ōtautahi 💻 desk"),
            ("👩\u{200D}💻", "👩\u{200D}💻"),
            (&long, &hundred),
            // Cut, then trimmed again: no trailing space survives the cut.
            (&format!("{} y", "x".repeat(99)), &"x".repeat(99)),
        ];
        for (raw, want) in cases {
            assert_eq!(clean_label(raw), *want, "{raw:?}");
        }
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_900_000_000), "2030-03-17T17:46:40Z");
        assert_eq!(rfc3339(i64::MAX), "");
    }
}
