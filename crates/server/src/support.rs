//! Support access (promise 3): support staff sign in to a realm of their own, ask a
//! practice for access, and act on its records only through a grant its admins approved.
//!
//! Staff routes (`/v1/support/auth/sign-in`, `.../sign-out`, `/v1/support/requests`,
//! `/v1/support/my-grants`, `/v1/support/practices/{practice_id}/records/...`) take a
//! [`Staff`] session; the practice's routes (`/v1/support/grants[...]`,
//! `/v1/support/access-log`) take a member's session ([`Admin`]). Neither token works on the
//! other's routes: staff sessions live in `support_sessions`, apart from members' sessions,
//! so a staff token is no [`crate::store::Principal`] and a member's token no [`Staff`].
//!
//! Scope. A practice-wide grant reaches every record open to the whole practice; a
//! matter-scoped grant reaches the named matters and the records on them. Contacts belong
//! to no matter, so only a practice-wide grant reaches them. Restricted matters (open only
//! to named members) are never reached by staff, whatever the grant: staff read and write
//! as [`Viewer::Outsider`]. A matter-scoped grant lists one matter at a time
//! (`?matter=`). A write (`read_write` grants only) must leave the record, and find it,
//! within the scope (a new matter needs a practice-wide grant); nothing is ever deleted by
//! staff. A write refused by the records store (a version conflict, a broken rule) is not
//! in the access log; a read of a record that is not there under a practice-wide grant is,
//! with nothing read.
//!
//! Invariant: staff routes take the practice id from the path, and act on it only through
//! a grant of that practice to that staff member that is active at the moment of the
//! request (approved, not past `expires_at`, not revoked), read from the store on every
//! request: a revocation or an expiry holds from the very next request.
//! Invariant: every staff request for records is in the practice's audit log before its
//! answer goes out: `support_data_accessed` (grant, method, path, kind, record ids, count)
//! when allowed, `support_access_refused` when not; the practice reads them at
//! `GET /v1/support/access-log`.
//! Invariant: no handler for members takes a practice id from the request: the practice's
//! routes here act on the admin's own practice.
//! Invariant: approving needs an admin who signed in or re-authenticated within five
//! minutes; only a waiting request is approved or declined, only an active grant revoked.

use std::net::SocketAddr;

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use strongroom_protocol::{
    Change, ChangeRecord, ChangesPage, MAX_SUPPORT_HOURS, MAX_SUPPORT_MATTERS,
    MAX_SUPPORT_REASON_CHARS, MAX_SUPPORT_TICKET_CHARS, MemberRef, Problem, ProblemCode,
    RecordKind, ScopedMatter, StaffGrant, SupportAccess, SupportAccessEntry, SupportAccessLog,
    SupportAccessRequest, SupportGrant, SupportGrantScope, SupportScope, SupportSignInRequest,
    SupportSignInResponse, SupportStaffInfo,
};
use uuid::Uuid;

use crate::api::{
    ApiError, AppState, FAILURE_WINDOW_SECS, audit, backoff_remaining, bearer_token,
    check_protocol, unix_now,
};
use crate::audit::{Actor, AuditKind, NewAuditEvent, email_sha256};
use crate::auth;
use crate::members::Admin;
use crate::records;
use crate::store::PracticeId;
use crate::store::records::{RecordWrite, Viewer};
use crate::store::support::{GrantRow, NewGrant};

/// A staff session ends this long after sign-in, whatever happens.
pub const STAFF_SESSION_ABSOLUTE_SECS: i64 = 12 * 3600;
/// A staff session unused this long ends.
pub const STAFF_SESSION_IDLE_SECS: i64 = 3600;
/// What a staff token starts with (members' tokens have no prefix).
pub const STAFF_TOKEN_PREFIX: &str = "srs_";
/// The most entries one page of the access log holds.
pub const MAX_ACCESS_LOG_PAGE: u32 = 500;

/// The audit kinds the access log shows.
const ACCESS_KINDS: [&str; 2] = ["support_data_accessed", "support_access_refused"];

/// A live staff session: who is asking. Member and integration tokens are refused (401).
#[derive(Debug, Clone)]
pub struct Staff(pub SupportStaffInfo);

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        check_protocol(&parts.headers)?;
        let token = bearer_token(&parts.headers)
            .filter(|t| t.starts_with(STAFF_TOKEN_PREFIX))
            .ok_or_else(staff_unauthenticated)?;
        state
            .store
            .staff_session(
                &auth::token_hash(token),
                unix_now(),
                STAFF_SESSION_IDLE_SECS,
            )
            .await?
            .map(Staff)
            .ok_or_else(staff_unauthenticated)
    }
}

fn staff_unauthenticated() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        ProblemCode::Unauthenticated,
        "a valid support staff session is required",
    )
}

fn no_grant(detail: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, ProblemCode::NoSupportGrant, detail)
}

fn json_error(e: JsonRejection) -> ApiError {
    ApiError::bad_request(format!("the body is not understood: {}", e.body_text()))
}

fn grant_path_error(_: PathRejection) -> ApiError {
    ApiError::not_found("no such request")
}

/// Signs a support staff member in; answers a staff session's token (never a member's).
/// Recorded in the audit log (no practice), refusals too.
#[utoipa::path(
    post,
    path = "/v1/support/auth/sign-in",
    tag = "support",
    request_body(content = SupportSignInRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in", body = SupportSignInResponse),
        (status = 400, description = "A malformed request (`bad_request`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 401, description = "Wrong email or password, or a disabled account \
         (`invalid_credentials`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many sign-ins (`rate_limited`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn staff_sign_in(
    State(state): State<AppState>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Result<Json<SupportSignInRequest>, JsonRejection>,
) -> Result<Json<SupportSignInResponse>, ApiError> {
    check_protocol(&headers)?;
    let Json(req) = body.map_err(json_error)?;
    let email = req.email.trim().to_owned();
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
    let Ok(_permit) = state.password_checks.clone().try_acquire_owned() else {
        return Err(ApiError::rate_limited(
            "too many sign-ins at once; try again in a moment",
            1,
        ));
    };
    let ip = connection.map(|Extension(ConnectInfo(addr))| addr.ip().to_string());
    // Staff failures are counted apart from members' (another key for the same address).
    let account_key = ["support:", &email_sha256(&email)].concat();
    let now = unix_now();
    if let Some((failures, last)) = state.store.sign_in_failures(&account_key).await?
        && let Some(wait) = backoff_remaining(failures, now - last)
    {
        return Err(ApiError::rate_limited(
            "too many failed sign-ins for this account; wait before trying again",
            u32::try_from(wait).unwrap_or(u32::MAX),
        ));
    }
    let invalid = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ProblemCode::InvalidCredentials,
            "the email or password is not right",
        )
    };
    let staff = state.store.staff_by_email(&email).await?;
    let password = req.password;
    let (ok, staff) = match staff {
        None => {
            tokio::task::spawn_blocking(move || {
                auth::verify_password(&password, auth::dummy_hash())
            })
            .await
            .ok();
            (false, None)
        }
        Some(s) => {
            let phc = s.password_hash.clone();
            let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &phc))
                .await
                .unwrap_or(false);
            (ok, Some(s))
        }
    };
    if !ok || staff.as_ref().is_none_or(|s| s.disabled) {
        state
            .store
            .record_sign_in_failure(&account_key, now, FAILURE_WINDOW_SECS)
            .await?;
        let (actor, details) = match &staff {
            None => (
                None,
                json!({"reason": "unknown_account", "email_sha256": email_sha256(&email), "ip": ip}),
            ),
            Some(s) => (
                Some(Actor::Staff(s.id)),
                json!({"reason": if ok { "account_disabled" } else { "wrong_password" }, "ip": ip}),
            ),
        };
        state
            .store
            .append_audit(NewAuditEvent {
                practice: None,
                actor,
                kind: AuditKind::SupportSignInFailed,
                details,
            })
            .await?;
        return Err(invalid());
    }
    let Some(staff) = staff else {
        return Err(invalid());
    };
    state.store.clear_sign_in_failures(&account_key).await?;
    let token = auth::new_token()
        .map(|t| [STAFF_TOKEN_PREFIX, &t].concat())
        .map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ProblemCode::Internal,
                "no randomness available",
            )
        })?;
    let expires_at = now.saturating_add(STAFF_SESSION_ABSOLUTE_SECS);
    state
        .store
        .create_staff_session(&auth::token_hash(&token), staff.id, now, expires_at)
        .await?;
    state
        .store
        .append_audit(NewAuditEvent {
            practice: None,
            actor: Some(Actor::Staff(staff.id)),
            kind: AuditKind::SupportSignIn,
            details: json!({ "ip": ip }),
        })
        .await?;
    tracing::info!(staff = %staff.id, "support staff signed in");
    Ok(Json(SupportSignInResponse {
        token,
        staff: staff.info(),
        expires_at,
    }))
}

/// Ends the staff member's session: its token fails on the very next request. Audited.
#[utoipa::path(
    post,
    path = "/v1/support/auth/sign-out",
    tag = "support",
    security(("session" = [])),
    responses(
        (status = 204, description = "Signed out; the token no longer works"),
        (status = 401, description = "No staff session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn staff_sign_out(
    Staff(staff): Staff,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    // The extractor has checked the token; take it again to end exactly this session.
    let token = bearer_token(&headers).ok_or_else(staff_unauthenticated)?;
    if state
        .store
        .revoke_staff_session(&auth::token_hash(token))
        .await?
    {
        state
            .store
            .append_audit(NewAuditEvent {
                practice: None,
                actor: Some(Actor::Staff(staff.id)),
                kind: AuditKind::SupportSignOut,
                details: json!({}),
            })
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A request's text field: trimmed, 1 to `max` characters.
fn checked_text(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "{field}: must be 1 to {max} characters, without control characters"
        )));
    }
    Ok(v.to_owned())
}

/// Whether a live matter of this id is open to the whole practice.
async fn open_matter(
    state: &AppState,
    practice: PracticeId,
    id: Uuid,
) -> Result<Option<Change>, ApiError> {
    Ok(state
        .store
        .record(practice, Viewer::Outsider, RecordKind::Matter, id)
        .await?)
}

fn staff_view(g: &GrantRow, now: i64) -> StaffGrant {
    StaffGrant {
        id: g.id,
        practice_id: g.practice.0,
        reason: g.reason.clone(),
        ticket: g.ticket.clone(),
        scope: g.scope.clone(),
        access: g.access,
        duration_hours: g.duration_hours,
        status: g.status(now),
        requested_at: g.requested_at,
        decided_at: g.decided_at,
        expires_at: g.expires_at,
        revoked_at: g.revoked_at,
    }
}

/// Asks a practice for access. The practice and each named matter must exist (a matter
/// restricted to named members counts as none); the request waits for an admin. Recorded
/// in the practice's audit log.
#[utoipa::path(
    post,
    path = "/v1/support/requests",
    tag = "support",
    request_body(content = SupportAccessRequest, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 201, description = "Requested", body = StaffGrant),
        (status = 400, description = "A field out of bounds, or an unknown matter \
         (`bad_request`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No staff session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 404, description = "No such practice (`not_found`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn request_access(
    Staff(staff): Staff,
    State(state): State<AppState>,
    body: Result<Json<SupportAccessRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<StaffGrant>), ApiError> {
    let Json(req) = body.map_err(json_error)?;
    let reason = checked_text("reason", &req.reason, MAX_SUPPORT_REASON_CHARS)?;
    let ticket = checked_text("ticket", &req.ticket, MAX_SUPPORT_TICKET_CHARS)?;
    if req.duration_hours == 0 || req.duration_hours > MAX_SUPPORT_HOURS {
        return Err(ApiError::bad_request(format!(
            "duration_hours: must be 1 to {MAX_SUPPORT_HOURS} (seven days)"
        )));
    }
    let practice = PracticeId(req.practice_id);
    match state.store.practice(practice).await {
        Ok(_) => {}
        Err(crate::store::StoreError::NotFound) => {
            return Err(ApiError::not_found("no such practice"));
        }
        Err(e) => return Err(e.into()),
    }
    let scope = match req.scope {
        SupportScope::Practice => SupportScope::Practice,
        SupportScope::Matters { matters } => {
            let mut unique: Vec<Uuid> = Vec::with_capacity(matters.len());
            for m in matters {
                if !unique.contains(&m) {
                    unique.push(m);
                }
            }
            if unique.is_empty() || unique.len() > MAX_SUPPORT_MATTERS {
                return Err(ApiError::bad_request(format!(
                    "scope.matters: must name 1 to {MAX_SUPPORT_MATTERS} matters"
                )));
            }
            for m in &unique {
                if open_matter(&state, practice, *m).await?.is_none() {
                    return Err(ApiError::bad_request(format!(
                        "scope.matters: there is no matter {m} in the practice"
                    )));
                }
            }
            SupportScope::Matters { matters: unique }
        }
    };
    let now = unix_now();
    let grant = NewGrant {
        id: Uuid::new_v4(),
        practice,
        staff: staff.id,
        reason,
        ticket,
        scope,
        access: req.access,
        duration_hours: req.duration_hours,
        requested_at: now,
    };
    state.store.create_grant(grant.clone()).await?;
    state
        .store
        .append_audit(NewAuditEvent {
            practice: Some(practice),
            actor: Some(Actor::Staff(staff.id)),
            kind: AuditKind::SupportAccessRequested,
            details: json!({
                "grant_id": grant.id,
                "reason": grant.reason,
                "ticket": grant.ticket,
                "scope": grant.scope,
                "access": grant.access,
                "duration_hours": grant.duration_hours,
            }),
        })
        .await?;
    let row = GrantRow {
        id: grant.id,
        practice,
        staff: staff.clone(),
        reason: grant.reason,
        ticket: grant.ticket,
        scope: grant.scope,
        access: grant.access,
        duration_hours: grant.duration_hours,
        requested_at: now,
        approved: None,
        decided_at: None,
        decided_by: None,
        expires_at: None,
        revoked_at: None,
        revoked_by: None,
    };
    Ok((StatusCode::CREATED, Json(staff_view(&row, now))))
}

/// The staff member's own requests and where each stands, newest first.
#[utoipa::path(
    get,
    path = "/v1/support/my-grants",
    tag = "support",
    security(("session" = [])),
    responses(
        (status = 200, description = "The requests", body = [StaffGrant]),
        (status = 401, description = "No staff session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn my_grants(
    Staff(staff): Staff,
    State(state): State<AppState>,
) -> Result<Json<Vec<StaffGrant>>, ApiError> {
    let now = unix_now();
    let rows = state.store.staff_grants(staff.id).await?;
    Ok(Json(rows.iter().map(|g| staff_view(g, now)).collect()))
}

fn member_ref(m: &Option<(Uuid, String)>) -> Option<MemberRef> {
    m.as_ref().map(|(id, name)| MemberRef {
        id: *id,
        display_name: name.clone(),
    })
}

/// A grant as the practice sees it, with each scoped matter's number and title.
async fn practice_view(state: &AppState, g: &GrantRow, now: i64) -> Result<SupportGrant, ApiError> {
    let scope = match &g.scope {
        SupportScope::Practice => SupportGrantScope::Practice,
        SupportScope::Matters { matters } => {
            let mut named = Vec::with_capacity(matters.len());
            for m in matters {
                let found = open_matter(state, g.practice, *m).await?;
                let (number, title) = match found.map(|c| c.record) {
                    Some(ChangeRecord::Matter { matter }) => {
                        (Some(matter.number), Some(matter.title))
                    }
                    _ => (None, None),
                };
                named.push(ScopedMatter {
                    id: *m,
                    number,
                    title,
                });
            }
            SupportGrantScope::Matters { matters: named }
        }
    };
    Ok(SupportGrant {
        id: g.id,
        practice_id: g.practice.0,
        staff: g.staff.clone(),
        reason: g.reason.clone(),
        ticket: g.ticket.clone(),
        scope,
        access: g.access,
        duration_hours: g.duration_hours,
        status: g.status(now),
        requested_at: g.requested_at,
        decided_at: g.decided_at,
        decided_by: member_ref(&g.decided_by),
        expires_at: g.expires_at,
        revoked_at: g.revoked_at,
        revoked_by: member_ref(&g.revoked_by),
    })
}

/// Every support request made to the admin's practice, whatever became of it, newest
/// first; the status is computed at this moment.
#[utoipa::path(
    get,
    path = "/v1/support/grants",
    tag = "support",
    security(("session" = [])),
    responses(
        (status = 200, description = "The requests and grants", body = [SupportGrant]),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`forbidden`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_grants(
    Admin(principal): Admin,
    State(state): State<AppState>,
) -> Result<Json<Vec<SupportGrant>>, ApiError> {
    let now = unix_now();
    let rows = state.store.practice_grants(principal.practice_id).await?;
    let mut out = Vec::with_capacity(rows.len());
    for g in &rows {
        out.push(practice_view(&state, g, now).await?);
    }
    Ok(Json(out))
}

/// What an admin does to a request.
#[derive(Debug, Clone, Copy)]
enum Decision {
    Approve,
    Decline,
    Revoke,
}

async fn decide(
    state: &AppState,
    principal: &crate::store::Principal,
    id: Uuid,
    decision: Decision,
) -> Result<Json<SupportGrant>, ApiError> {
    let practice = principal.practice_id;
    let now = unix_now();
    let done = match decision {
        Decision::Approve => {
            state
                .store
                .decide_grant(practice, id, principal.user_id, true, now)
                .await?
        }
        Decision::Decline => {
            state
                .store
                .decide_grant(practice, id, principal.user_id, false, now)
                .await?
        }
        Decision::Revoke => {
            state
                .store
                .revoke_grant(practice, id, principal.user_id, now)
                .await?
        }
    };
    let grant = state
        .store
        .practice_grant(practice, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such request"))?;
    if !done {
        return Err(match decision {
            Decision::Revoke => ApiError::new(
                StatusCode::CONFLICT,
                ProblemCode::GrantNotActive,
                "only an active grant can be revoked",
            ),
            _ => ApiError::new(
                StatusCode::CONFLICT,
                ProblemCode::GrantNotPending,
                "only a request still waiting for a decision can be approved or declined",
            ),
        });
    }
    let (kind, details) = match decision {
        Decision::Approve => (
            AuditKind::SupportAccessApproved,
            json!({"grant_id": id, "expires_at": grant.expires_at}),
        ),
        Decision::Decline => (AuditKind::SupportAccessDeclined, json!({"grant_id": id})),
        Decision::Revoke => (AuditKind::SupportAccessRevoked, json!({"grant_id": id})),
    };
    audit(state, principal, kind, details).await?;
    Ok(Json(practice_view(state, &grant, now).await?))
}

/// Approves a waiting request: the grant is active from now for its duration. Needs an
/// admin who signed in or re-authenticated within five minutes.
#[utoipa::path(
    post,
    path = "/v1/support/grants/{id}/approve",
    tag = "support",
    params(("id" = Uuid, Path, description = "The request's id")),
    security(("session" = [])),
    responses(
        (status = 200, description = "Approved", body = SupportGrant),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`forbidden`), or no recent \
         re-authentication (`reauth_required`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 404, description = "No such request in the practice (`not_found`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not waiting for a decision (`grant_not_pending`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn approve_grant(
    Admin(principal): Admin,
    State(state): State<AppState>,
    id: Result<Path<Uuid>, PathRejection>,
) -> Result<Json<SupportGrant>, ApiError> {
    let Path(id) = id.map_err(grant_path_error)?;
    principal.require_recent_auth(unix_now())?;
    decide(&state, &principal, id, Decision::Approve).await
}

/// Declines a waiting request.
#[utoipa::path(
    post,
    path = "/v1/support/grants/{id}/decline",
    tag = "support",
    params(("id" = Uuid, Path, description = "The request's id")),
    security(("session" = [])),
    responses(
        (status = 200, description = "Declined", body = SupportGrant),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`forbidden`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 404, description = "No such request in the practice (`not_found`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not waiting for a decision (`grant_not_pending`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn decline_grant(
    Admin(principal): Admin,
    State(state): State<AppState>,
    id: Result<Path<Uuid>, PathRejection>,
) -> Result<Json<SupportGrant>, ApiError> {
    let Path(id) = id.map_err(grant_path_error)?;
    decide(&state, &principal, id, Decision::Decline).await
}

/// Ends an active grant at once: the staff member's next request under it is refused.
#[utoipa::path(
    post,
    path = "/v1/support/grants/{id}/revoke",
    tag = "support",
    params(("id" = Uuid, Path, description = "The grant's id")),
    security(("session" = [])),
    responses(
        (status = 200, description = "Revoked", body = SupportGrant),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`forbidden`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 404, description = "No such grant in the practice (`not_found`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not active (`grant_not_active`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke_grant(
    Admin(principal): Admin,
    State(state): State<AppState>,
    id: Result<Path<Uuid>, PathRejection>,
) -> Result<Json<SupportGrant>, ApiError> {
    let Path(id) = id.map_err(grant_path_error)?;
    decide(&state, &principal, id, Decision::Revoke).await
}

/// The access log's query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccessLogParams {
    /// Only what was done under this grant.
    grant: Option<Uuid>,
    /// Entries older than this cursor (the previous page's `next`).
    before: Option<i64>,
    /// The most entries (1 to 500).
    #[param(minimum = 1, maximum = 500, default = 100)]
    limit: Option<u32>,
}

/// Every staff request for the practice's records, allowed or refused, newest first: who,
/// when, what, under which grant.
#[utoipa::path(
    get,
    path = "/v1/support/access-log",
    tag = "support",
    params(AccessLogParams),
    security(("session" = [])),
    responses(
        (status = 200, description = "A page of the log", body = SupportAccessLog),
        (status = 400, description = "A malformed query (`bad_request`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`forbidden`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn access_log(
    Admin(principal): Admin,
    State(state): State<AppState>,
    query: Result<Query<AccessLogParams>, QueryRejection>,
) -> Result<Json<SupportAccessLog>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_ACCESS_LOG_PAGE {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {MAX_ACCESS_LOG_PAGE}"
        )));
    }
    let rows = state
        .store
        .support_access_log(
            principal.practice_id,
            &ACCESS_KINDS,
            q.grant,
            q.before,
            limit,
        )
        .await?;
    let next = (rows.len() == limit as usize)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let entries = rows
        .into_iter()
        .map(|r| {
            let d: serde_json::Value = serde_json::from_str(&r.details).unwrap_or_default();
            let text = |k: &str| {
                d.get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            let record_ids: Vec<Uuid> = d
                .get("record_ids")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            SupportAccessEntry {
                id: r.id,
                at: r.occurred_at,
                staff: r.staff.unwrap_or(SupportStaffInfo {
                    id: Uuid::nil(),
                    email: String::new(),
                    display_name: "(unknown staff member)".to_owned(),
                }),
                grant_id: d
                    .get("grant_id")
                    .and_then(|v| v.as_str())
                    .and_then(|s| s.parse().ok()),
                allowed: r.kind == "support_data_accessed",
                refusal: d.get("reason").and_then(|v| v.as_str()).map(str::to_owned),
                method: text("method"),
                path: text("path"),
                record_kind: text("record_kind"),
                count: d
                    .get("count")
                    .and_then(|v| v.as_u64())
                    .unwrap_or(record_ids.len() as u64),
                record_ids,
            }
        })
        .collect();
    Ok(Json(SupportAccessLog { entries, next }))
}

/// One staff request for records, for the audit log.
struct Access<'a> {
    staff: &'a SupportStaffInfo,
    practice: PracticeId,
    method: &'static str,
    path: String,
    kind: RecordKind,
}

impl Access<'_> {
    /// Records a refusal, then answers it.
    async fn refuse(&self, state: &AppState, reason: &str, detail: &str) -> ApiError {
        let logged = state
            .store
            .append_audit(NewAuditEvent {
                practice: Some(self.practice),
                actor: Some(Actor::Staff(self.staff.id)),
                kind: AuditKind::SupportAccessRefused,
                details: json!({
                    "grant_id": null,
                    "method": self.method,
                    "path": self.path,
                    "record_kind": self.kind.as_str(),
                    "reason": reason,
                }),
            })
            .await;
        match logged {
            Ok(_) => no_grant(detail),
            Err(e) => e.into(),
        }
    }

    /// Records what was done under `grant`; the answer waits for it.
    async fn record(&self, state: &AppState, grant: Uuid, ids: &[Uuid]) -> Result<(), ApiError> {
        state
            .store
            .append_audit(NewAuditEvent {
                practice: Some(self.practice),
                actor: Some(Actor::Staff(self.staff.id)),
                kind: AuditKind::SupportDataAccessed,
                details: json!({
                    "grant_id": grant,
                    "method": self.method,
                    "path": self.path,
                    "record_kind": self.kind.as_str(),
                    "record_ids": ids,
                    "count": ids.len(),
                }),
            })
            .await?;
        Ok(())
    }

    /// The staff member's grants of this practice active now; refused when there is none.
    async fn active(&self, state: &AppState) -> Result<Vec<GrantRow>, ApiError> {
        let grants = state
            .store
            .active_grants(self.practice, self.staff.id, unix_now())
            .await?;
        if grants.is_empty() {
            return Err(self
                .refuse(
                    state,
                    "no_active_grant",
                    "no active support grant of this practice: ask it for access",
                )
                .await);
        }
        Ok(grants)
    }
}

/// The path's practice and kind, any malformed part naming nothing.
fn staff_path_error(_: PathRejection) -> ApiError {
    ApiError::not_found("no such practice or record")
}

/// The records of a kind that an active grant reaches, in the order they were last
/// written (see [`records::list`]). Under a matter-scoped grant, name one of its matters
/// with `?matter=`. Recorded in the practice's audit log, refusals too.
#[utoipa::path(
    get,
    path = "/v1/support/practices/{practice_id}/records/{kind}",
    tag = "support",
    params(
        ("practice_id" = Uuid, Path, description = "The practice"),
        ("kind" = RecordKind, Path, description = "The kind of record"),
        records::ListParams,
    ),
    security(("session" = [])),
    responses(
        (status = 200, description = "A page of records", body = ChangesPage),
        (status = 400, description = "A malformed query (`bad_request`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 401, description = "No staff session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "No active grant covering this (`no_support_grant`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such kind (`not_found`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn staff_list(
    Staff(staff): Staff,
    State(state): State<AppState>,
    path: Result<Path<(Uuid, RecordKind)>, PathRejection>,
    query: Result<Query<records::ListParams>, QueryRejection>,
) -> Result<Json<ChangesPage>, ApiError> {
    let Path((practice, kind)) = path.map_err(staff_path_error)?;
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let list = q.checked(kind)?;
    let access = Access {
        staff: &staff,
        practice: PracticeId(practice),
        method: "GET",
        path: format!("/v1/support/practices/{practice}/records/{}", kind.as_str()),
        kind,
    };
    let grants = access.active(&state).await?;
    let grant = grants
        .iter()
        .find(|g| matches!(g.scope, SupportScope::Practice))
        .or_else(|| {
            grants.iter().find(|g| {
                kind != RecordKind::Contact && list.matter.is_some() && g.covers(list.matter)
            })
        });
    let Some(grant) = grant else {
        return Err(access
            .refuse(
                &state,
                "out_of_scope",
                "the grant names matters: list one of them at a time with ?matter= \
                 (contacts are reached only by a practice-wide grant)",
            )
            .await);
    };
    let page = state
        .store
        .list_records(access.practice, Viewer::Outsider, list)
        .await?;
    let ids: Vec<Uuid> = page.changes.iter().map(|c| c.record.key().1).collect();
    access.record(&state, grant.id, &ids).await?;
    Ok(Json(page))
}

/// One record that an active grant reaches, with its version as the `ETag`. Recorded in
/// the practice's audit log, refusals too.
#[utoipa::path(
    get,
    path = "/v1/support/practices/{practice_id}/records/{kind}/{id}",
    tag = "support",
    params(
        ("practice_id" = Uuid, Path, description = "The practice"),
        ("kind" = RecordKind, Path, description = "The kind of record"),
        ("id" = Uuid, Path, description = "The record's id"),
    ),
    security(("session" = [])),
    responses(
        (status = 200, description = "The record", body = Change,
         headers(("etag" = String, description = "The record's version, quoted"))),
        (status = 401, description = "No staff session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "No active grant covering this record \
         (`no_support_grant`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record under a practice-wide grant \
         (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn staff_get_one(
    Staff(staff): Staff,
    State(state): State<AppState>,
    path: Result<Path<(Uuid, RecordKind, Uuid)>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path((practice, kind, id)) = path.map_err(staff_path_error)?;
    let access = Access {
        staff: &staff,
        practice: PracticeId(practice),
        method: "GET",
        path: format!(
            "/v1/support/practices/{practice}/records/{}/{id}",
            kind.as_str()
        ),
        kind,
    };
    let grants = access.active(&state).await?;
    let found = state
        .store
        .record(access.practice, Viewer::Outsider, kind, id)
        .await?;
    let Some(change) = found else {
        // Under matter-scoped grants alone, a record that is not there is answered like
        // one outside the scope, so the scope's edges say nothing of what lies beyond.
        // Under a practice-wide grant the practice still sees the attempt (nothing read).
        if let Some(g) = grants
            .iter()
            .find(|g| matches!(g.scope, SupportScope::Practice))
        {
            access.record(&state, g.id, &[]).await?;
            return Err(ApiError::not_found("no such record"));
        }
        return Err(access
            .refuse(&state, "out_of_scope", "the record is not within the grant")
            .await);
    };
    let Some(grant) = grants.iter().find(|g| g.covers(change.record.matter_id())) else {
        return Err(access
            .refuse(&state, "out_of_scope", "the record is not within the grant")
            .await);
    };
    access.record(&state, grant.id, &[id]).await?;
    Ok(records::change_response(StatusCode::OK, change))
}

/// Creates or replaces a record under an active `read_write` grant that reaches it, both
/// as it is and as it will be (see [`records::put`]). Recorded in the practice's audit
/// log, refusals too.
#[utoipa::path(
    put,
    path = "/v1/support/practices/{practice_id}/records/{kind}/{id}",
    tag = "support",
    params(
        ("practice_id" = Uuid, Path, description = "The practice"),
        ("kind" = RecordKind, Path, description = "The kind of record"),
        ("id" = Uuid, Path, description = "The record's id"),
        records::IfMatchHeader,
        records::IfNoneMatchHeader,
    ),
    request_body(content = Object, content_type = "application/json",
                 description = "The record, by `kind`"),
    security(("session" = [])),
    responses(
        (status = 200, description = "Replaced", body = Change),
        (status = 201, description = "Created", body = Change),
        (status = 400, description = "Not a record of this kind (`bad_request`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No staff session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "No active read-write grant covering this record \
         (`no_support_grant`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such practice or record, or a malformed path \
         (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Not the version expected (`version_conflict`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem,
         content_type = "application/problem+json"),
        (status = 422, description = "A rule is broken (`invalid_record`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn staff_put(
    Staff(staff): Staff,
    State(state): State<AppState>,
    path: Result<Path<(Uuid, RecordKind, Uuid)>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Path((practice, kind, id)) = path.map_err(staff_path_error)?;
    let access = Access {
        staff: &staff,
        practice: PracticeId(practice),
        method: "PUT",
        path: format!(
            "/v1/support/practices/{practice}/records/{}/{id}",
            kind.as_str()
        ),
        kind,
    };
    let grants = access.active(&state).await?;
    let writable: Vec<&GrantRow> = grants
        .iter()
        .filter(|g| g.access == SupportAccess::ReadWrite)
        .collect();
    if writable.is_empty() {
        return Err(access
            .refuse(
                &state,
                "read_only_grant",
                "the grant lets support read, not write",
            )
            .await);
    }
    let (record, expect) = records::record_from_request(kind, id, &headers, body)?;
    let stored = state
        .store
        .record(access.practice, Viewer::Outsider, kind, id)
        .await?;
    let before = stored.as_ref().map(|c| c.record.matter_id());
    let after = record.matter_id();
    // A new matter (or one deleted since) is within no matter-scoped grant, even one that
    // named its id.
    let new_matter = kind == RecordKind::Matter && stored.is_none();
    let Some(grant) = writable.iter().find(|g| {
        g.covers(after)
            && before.is_none_or(|b| g.covers(b))
            && (!new_matter || matches!(g.scope, SupportScope::Practice))
    }) else {
        return Err(access
            .refuse(&state, "out_of_scope", "the record is not within the grant")
            .await);
    };
    let written = state
        .store
        .write_records(
            access.practice,
            Viewer::Outsider,
            &[RecordWrite {
                record: record.clone(),
                expect,
            }],
        )
        .await?;
    let w = written
        .first()
        .copied()
        .ok_or_else(|| ApiError::not_found("no such record"))?;
    access.record(&state, grant.id, &[id]).await?;
    let status = if w.version == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(records::change_response(
        status,
        Change {
            seq: w.seq,
            version: w.version,
            record,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use strongroom_protocol::SupportGrantStatus;

    fn grant(scope: SupportScope) -> GrantRow {
        GrantRow {
            id: Uuid::nil(),
            practice: PracticeId(Uuid::nil()),
            staff: SupportStaffInfo {
                id: Uuid::nil(),
                email: "s@support.example".into(),
                display_name: "S".into(),
            },
            reason: "r".into(),
            ticket: "t".into(),
            scope,
            access: SupportAccess::Read,
            duration_hours: 1,
            requested_at: 0,
            approved: Some(true),
            decided_at: Some(100),
            decided_by: None,
            expires_at: Some(3700),
            revoked_at: None,
            revoked_by: None,
        }
    }

    #[test]
    fn status_comes_from_the_times() {
        let mut g = grant(SupportScope::Practice);
        assert_eq!(g.status(3699), SupportGrantStatus::Active);
        assert_eq!(g.status(3700), SupportGrantStatus::Expired);
        g.revoked_at = Some(200);
        assert_eq!(g.status(300), SupportGrantStatus::Revoked);
        g.approved = Some(false);
        assert_eq!(g.status(300), SupportGrantStatus::Declined);
        g.approved = None;
        assert_eq!(g.status(300), SupportGrantStatus::Requested);
    }

    #[test]
    fn matter_scopes_reach_their_matters_and_no_contact() {
        let m = Uuid::from_u128(1);
        let g = grant(SupportScope::Matters { matters: vec![m] });
        assert!(g.covers(Some(m)));
        assert!(!g.covers(Some(Uuid::from_u128(2))));
        assert!(!g.covers(None));
        assert!(grant(SupportScope::Practice).covers(None));
    }
}
