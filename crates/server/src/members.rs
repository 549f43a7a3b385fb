//! Who is in the practice and what they may open: members and their roles
//! (`/v1/members`), invitations by email (`/v1/invitations`), and matters restricted to
//! named members (`/v1/matters/{id}/access`).
//!
//! Invariant: only admins list or change members, invitations and matter access; each
//! change is in the audit log before the answer goes out, and needs a recent sign-in or
//! re-authentication (`Principal::require_recent_auth`).
//! Invariant: an invitation's token is shown once, to the admin who made it, to send to
//! the invitee; the service keeps its SHA-256 only.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::{Extension, extract::FromRequestParts};
use serde_json::json;
use strongroom_protocol::{
    AcceptInvitation, Invitation, InvitationCreated, MatterAccess, Member, MemberUpdate,
    NewInvitation, Problem, ProblemCode, SignInResponse, UserInfo,
};
use uuid::Uuid;

use crate::api::{ApiError, AppState, audit, unix_now};
use crate::audit::{Actor, AuditKind, NewAuditEvent};
use crate::auth;
use crate::mailer::InvitationMail;
use crate::store::members::{Acceptance, NewInvitationRow};
use crate::store::{NewSession, Principal, StoreError, UserId};

/// How long an invitation may be accepted: a week.
pub const INVITATION_SECS: i64 = 7 * 24 * 3600;

/// A principal who is an admin of their practice.
pub struct Admin(pub Principal);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        if principal.role.is_admin() {
            Ok(Admin(principal))
        } else {
            Err(ApiError::forbidden(
                "only an admin of the practice may do this",
            ))
        }
    }
}

fn path_not_found(_: PathRejection) -> ApiError {
    ApiError::not_found("not found")
}

/// A body that does not parse, as a 400 naming what is wrong.
pub(crate) fn json_error(e: JsonRejection) -> ApiError {
    ApiError::bad_request(format!("the request body is not right: {}", e.body_text()))
}

/// The practice's members, with their roles, second factors, latest sign-in and
/// signed-in devices.
#[utoipa::path(
    get,
    path = "/v1/members",
    tag = "members",
    security(("session" = [])),
    responses(
        (status = 200, description = "The members", body = [Member]),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`forbidden`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_members(
    Admin(principal): Admin,
    State(state): State<AppState>,
) -> Result<Json<Vec<Member>>, ApiError> {
    Ok(Json(
        crate::privacy::members_with_activity(&state, principal.practice_id).await?,
    ))
}

/// Changes a member's role, or disables (or enables) them. Disabling ends every session
/// of theirs at once. The practice always keeps one enabled admin.
#[utoipa::path(
    patch,
    path = "/v1/members/{id}",
    tag = "members",
    params(("id" = Uuid, Path, description = "The member's id")),
    request_body(content = MemberUpdate, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 200, description = "The member as changed", body = Member),
        (status = 400, description = "A malformed request (`bad_request`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`forbidden`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 404, description = "No such member (`not_found`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 409, description = "It would leave no enabled admin (`conflict`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_member(
    Admin(principal): Admin,
    State(state): State<AppState>,
    id: Result<Path<Uuid>, PathRejection>,
    body: Result<Json<MemberUpdate>, JsonRejection>,
) -> Result<Json<Member>, ApiError> {
    principal.require_recent_auth(unix_now())?;
    let Path(id) = id.map_err(path_not_found)?;
    let Json(update) = body.map_err(json_error)?;
    if update.role.is_none() && update.disabled.is_none() {
        return Err(ApiError::bad_request(
            "nothing to change: give role or disabled",
        ));
    }
    let member = state
        .store
        .update_member(
            principal.practice_id,
            UserId(id),
            update.role,
            update.disabled,
        )
        .await?;
    if let Some(role) = update.role {
        audit(
            &state,
            &principal,
            AuditKind::MemberRoleChanged,
            json!({ "member": id, "role": role.as_str() }),
        )
        .await?;
    }
    if let Some(disabled) = update.disabled {
        audit(
            &state,
            &principal,
            if disabled {
                AuditKind::MemberDisabled
            } else {
                AuditKind::MemberEnabled
            },
            json!({ "member": id }),
        )
        .await?;
    }
    Ok(Json(member))
}

/// Removes a member's credentials: every session of theirs ends (each device wipes itself
/// when next it asks), their password, second factor and recovery codes are deleted, and
/// their email address is freed so that they can be invited again. Their name stays in the
/// audit log. An admin cannot remove their own.
#[utoipa::path(
    delete,
    path = "/v1/members/{id}/credentials",
    tag = "members",
    params(("id" = Uuid, Path, description = "The member's id")),
    security(("session" = [])),
    responses(
        (status = 204, description = "Removed; the member's sessions have ended"),
        (status = 400, description = "The admin's own credentials (`bad_request`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`forbidden`), or no recent sign-in \
         (`reauth_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member, or removed already (`not_found`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It would leave no enabled admin (`conflict`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn remove_credentials(
    Admin(principal): Admin,
    State(state): State<AppState>,
    id: Result<Path<Uuid>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(id) = id.map_err(path_not_found)?;
    let now = unix_now();
    principal.require_recent_auth(now)?;
    if id == principal.user_id.0 {
        return Err(ApiError::bad_request(
            "you cannot remove your own credentials; another admin can",
        ));
    }
    state
        .store
        .remove_credentials(principal.practice_id, UserId(id), now)
        .await?;
    audit(
        &state,
        &principal,
        AuditKind::MemberCredentialsRemoved,
        json!({ "member": id }),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who may open a matter.
#[utoipa::path(
    get,
    path = "/v1/matters/{id}/access",
    tag = "members",
    params(("id" = Uuid, Path, description = "The matter's id")),
    security(("session" = [])),
    responses(
        (status = 200, description = "Open to the practice, or restricted to members",
         body = MatterAccess),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`forbidden`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 404, description = "No such matter (`not_found`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn matter_access(
    Admin(principal): Admin,
    State(state): State<AppState>,
    id: Result<Path<Uuid>, PathRejection>,
) -> Result<Json<MatterAccess>, ApiError> {
    let Path(id) = id.map_err(path_not_found)?;
    let (restricted, members) = state.store.matter_access(principal.practice_id, id).await?;
    Ok(Json(MatterAccess {
        restricted,
        members: members.into_iter().map(|u| u.0).collect(),
    }))
}

/// Opens a matter to the whole practice, or restricts it to the named members (an
/// admin not named loses sight of it too).
#[utoipa::path(
    put,
    path = "/v1/matters/{id}/access",
    tag = "members",
    params(("id" = Uuid, Path, description = "The matter's id")),
    request_body(content = MatterAccess, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 200, description = "Access as set", body = MatterAccess),
        (status = 400, description = "A malformed request (`bad_request`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`forbidden`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 404, description = "No such matter (`not_found`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 422, description = "A named member is not of this practice \
         (`invalid_record`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn set_matter_access(
    Admin(principal): Admin,
    State(state): State<AppState>,
    id: Result<Path<Uuid>, PathRejection>,
    body: Result<Json<MatterAccess>, JsonRejection>,
) -> Result<Json<MatterAccess>, ApiError> {
    principal.require_recent_auth(unix_now())?;
    let Path(id) = id.map_err(path_not_found)?;
    let Json(mut access) = body.map_err(json_error)?;
    if access.members.len() > 1000 {
        return Err(ApiError::bad_request("at most 1000 members"));
    }
    if !access.restricted {
        access.members.clear();
    }
    access.members.sort();
    access.members.dedup();
    let members: Vec<UserId> = access.members.iter().copied().map(UserId).collect();
    state
        .store
        .set_matter_access(principal.practice_id, id, access.restricted, &members)
        .await?;
    audit(
        &state,
        &principal,
        AuditKind::MatterAccessChanged,
        json!({ "matter": id, "restricted": access.restricted, "members": access.members }),
    )
    .await?;
    Ok(Json(access))
}

/// Invites someone by email to join the practice with a role. With a mail server, the
/// service emails them the one-time token (503 and nothing pending if it cannot); the
/// answer carries it too, for the admin to pass on otherwise. It can be accepted for a
/// week.
#[utoipa::path(
    post,
    path = "/v1/invitations",
    tag = "members",
    request_body(content = NewInvitation, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 201, description = "Invited", body = InvitationCreated),
        (status = 400, description = "A malformed request (`bad_request`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`forbidden`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 409, description = "The email is a member already (`conflict`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn invite(
    Admin(principal): Admin,
    State(state): State<AppState>,
    body: Result<Json<NewInvitation>, JsonRejection>,
) -> Result<(StatusCode, Json<InvitationCreated>), ApiError> {
    principal.require_recent_auth(unix_now())?;
    let Json(req) = body.map_err(json_error)?;
    let email = req.email.trim().to_owned();
    strongroom_protocol::validate::email_address(&email)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    if state.store.user_by_email(&email).await?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ProblemCode::Conflict,
            "that email belongs to a member already",
        ));
    }
    let token = auth::new_token().map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ProblemCode::Internal,
            "no randomness available",
        )
    })?;
    let now = unix_now();
    let invitation = Invitation {
        id: Uuid::new_v4(),
        email: email.clone(),
        role: req.role,
        invited_by: principal.user_id.0,
        created_at: now,
        expires_at: now + INVITATION_SECS,
        status: strongroom_protocol::InvitationStatus::Pending,
    };
    state
        .store
        .create_invitation(NewInvitationRow {
            id: invitation.id,
            practice_id: principal.practice_id,
            email,
            role: req.role,
            token_hash: auth::token_hash(&token),
            invited_by: principal.user_id,
            created_at: now,
            expires_at: invitation.expires_at,
        })
        .await?;
    let emailed = match &state.mailer {
        None => false,
        Some(mailer) => {
            let practice = state.store.practice(principal.practice_id).await?;
            let inviter = state
                .store
                .members(principal.practice_id)
                .await?
                .into_iter()
                .find(|m| m.id == principal.user_id.0)
                .map(|m| m.display_name)
                .unwrap_or_else(|| "An admin of your practice".to_owned());
            let sent = mailer
                .send_invitation(&InvitationMail {
                    to: &invitation.email,
                    practice: &practice.name,
                    invited_by: &inviter,
                    role: req.role,
                    token: &token,
                    expires_at: invitation.expires_at,
                })
                .await;
            if let Err(e) = sent {
                // Not sent: withdraw it, so no code is left pending that nobody received.
                tracing::warn!(error = %e, invitation = %invitation.id, "invitation email not sent");
                state
                    .store
                    .revoke_invitation(principal.practice_id, invitation.id)
                    .await?;
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ProblemCode::Internal,
                    "the invitation email could not be sent, so the invitation was \
                     withdrawn: try again later",
                ));
            }
            true
        }
    };
    audit(
        &state,
        &principal,
        AuditKind::MemberInvited,
        json!({
            "invitation": invitation.id,
            "email_sha256": crate::audit::email_sha256(&invitation.email),
            "role": req.role.as_str(),
            "emailed": emailed,
        }),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(InvitationCreated {
            invitation,
            token,
            emailed,
        }),
    ))
}

/// The practice's invitations, newest first.
#[utoipa::path(
    get,
    path = "/v1/invitations",
    tag = "members",
    security(("session" = [])),
    responses(
        (status = 200, description = "The invitations", body = [Invitation]),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`forbidden`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_invitations(
    Admin(principal): Admin,
    State(state): State<AppState>,
) -> Result<Json<Vec<Invitation>>, ApiError> {
    Ok(Json(
        state
            .store
            .invitations(principal.practice_id, unix_now())
            .await?,
    ))
}

/// Withdraws a pending invitation: its token stops working.
#[utoipa::path(
    delete,
    path = "/v1/invitations/{id}",
    tag = "members",
    params(("id" = Uuid, Path, description = "The invitation's id")),
    security(("session" = [])),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`forbidden`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 404, description = "No pending invitation of that id (`not_found`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke_invitation(
    Admin(principal): Admin,
    State(state): State<AppState>,
    id: Result<Path<Uuid>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(id) = id.map_err(path_not_found)?;
    state
        .store
        .revoke_invitation(principal.practice_id, id)
        .await?;
    audit(
        &state,
        &principal,
        AuditKind::InvitationRevoked,
        json!({ "invitation": id }),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accepts an invitation: becomes a member with the invited role, with a password of
/// one's own, and is signed in.
#[utoipa::path(
    post,
    path = "/v1/invitations/accept",
    tag = "members",
    request_body(content = AcceptInvitation, content_type = "application/json"),
    responses(
        (status = 200, description = "A member now, and signed in", body = SignInResponse),
        (status = 400, description = "A malformed request, or a password that is too \
         short, too common or too like the account (`bad_request`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 404, description = "The invitation is unknown, used, withdrawn or \
         expired (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email is a member already (`conflict`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many password checks at once (`rate_limited`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn accept_invitation(
    State(state): State<AppState>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Result<Json<AcceptInvitation>, JsonRejection>,
) -> Result<Json<SignInResponse>, ApiError> {
    let Json(req) = body.map_err(json_error)?;
    let gone = || {
        ApiError::not_found(
            "the invitation is not valid: it may have been used, withdrawn or have expired",
        )
    };
    let token = req.token.trim();
    if token.is_empty() || token.chars().count() > 256 {
        return Err(gone());
    }
    let display_name = req.display_name.trim().to_owned();
    if display_name.is_empty()
        || display_name.chars().count() > 200
        || display_name.chars().any(char::is_control)
    {
        return Err(ApiError::bad_request(
            "display_name must be 1 to 200 characters, without control characters",
        ));
    }
    if req.password.chars().count() < crate::password_policy::MIN_CHARS
        || req.password.chars().count() > 1024
    {
        return Err(ApiError::bad_request(format!(
            "password must be {} to 1024 characters",
            crate::password_policy::MIN_CHARS
        )));
    }
    let token_hash = auth::token_hash(token);
    let now = unix_now();
    // The invitation's email and practice, to judge the password against them, come
    // from the accepted row; check the password's strength against the name first.
    crate::password_policy::check(&req.password, &[display_name.as_str()])
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let Ok(_permit) = state.password_checks.clone().try_acquire_owned() else {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ProblemCode::RateLimited,
            "too many password checks at once; try again in a moment",
        ));
    };
    let password = req.password;
    let password_hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ProblemCode::Internal,
                "the password could not be hashed",
            )
        })?
        .map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ProblemCode::Internal,
                "the password could not be hashed",
            )
        })?;
    let user = match state
        .store
        .accept_invitation(Acceptance {
            token_hash,
            now,
            display_name,
            password_hash,
        })
        .await
    {
        Ok(user) => user,
        Err(StoreError::NotFound) => return Err(gone()),
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                ProblemCode::Conflict,
                "that email belongs to a member already",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let ip = connection.map(|Extension(ConnectInfo(addr))| addr.ip().to_string());
    let device_name: String = req.device_name.trim().chars().take(100).collect();
    let device_name = if device_name.is_empty() {
        "unnamed device".to_owned()
    } else {
        device_name
    };
    let session_token = auth::new_token().map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ProblemCode::Internal,
            "no randomness available",
        )
    })?;
    state
        .store
        .create_session(NewSession {
            token_hash: auth::token_hash(&session_token),
            public_id: Uuid::new_v4(),
            user_id: user.id,
            practice_id: user.practice_id,
            device_name: device_name.clone(),
            platform: String::new(),
            app_version: String::new(),
            ip: ip.clone(),
            created_at: now,
            expires_at: now + crate::api::SESSION_ABSOLUTE_SECS,
        })
        .await?;
    state
        .store
        .append_audit(NewAuditEvent {
            practice: Some(user.practice_id),
            actor: Some(Actor::User(user.id)),
            kind: AuditKind::InvitationAccepted,
            details: json!({ "role": user.role.as_str(), "device_name": device_name, "ip": ip }),
        })
        .await?;
    let practice = state.store.practice(user.practice_id).await?;
    Ok(Json(SignInResponse {
        token: session_token,
        user: UserInfo {
            id: user.id.0,
            email: user.email,
            display_name: user.display_name,
            role: user.role,
        },
        practice,
    }))
}
