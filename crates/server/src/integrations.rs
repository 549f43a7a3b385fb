//! Third-party apps (promise 9): integration tokens and their ledger.
//!
//! An admin makes a token for an app with scopes (`records:read`, `records:write`) at
//! `POST /v1/integrations`; the token is shown once (`sri_` and 32 random bytes, base64url)
//! and only its SHA-256 is kept. Every member may read the ledger (`GET /v1/integrations`:
//! which apps hold which scopes, who let them in, their last use, how many records each
//! has read), so that everyone in the practice can see which apps reach its data; only an
//! admin makes or revokes one (`DELETE /v1/integrations/{id}`), and both are audited.
//!
//! A token authenticates only on the records routes ([`RecordsCaller`]): `GET
//! /v1/records/{kind}[/{id}]` need `records:read`, `PUT` and `DELETE` need
//! `records:write` (else 403 `insufficient_scope`). There it reads and writes as
//! [`Viewer::Outsider`]: only matters open to the whole practice, never a restricted one.
//! Every other route takes a member's session ([`Principal`]) and so refuses it (401).
//!
//! Invariant: a revoked token fails on its very next request: the token is looked up on
//! every request, and only a live integration is found.
//! Invariant: each use of a token records its time as the integration's last use, and each
//! read adds the number of records it returned to `records_read`.
//! Invariant: no handler takes a practice id from the request: an integration acts on the
//! practice that made it, an admin on their own.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde_json::json;
use strongroom_protocol::{
    Integration, IntegrationCreated, IntegrationScope, MemberRef, NewIntegration, Problem,
    ProblemCode,
};
use uuid::Uuid;

use crate::api::{ApiError, AppState, audit, bearer_token, check_protocol, unix_now};
use crate::audit::AuditKind;
use crate::auth;
use crate::members::Admin;
use crate::store::integrations::{IntegrationAuth, IntegrationRow, NewIntegrationRow};
use crate::store::records::Viewer;
use crate::store::{PracticeId, Principal};

/// What an integration token starts with.
pub const INTEGRATION_TOKEN_PREFIX: &str = "sri_";
/// The longest app name, in characters.
pub const MAX_APP_NAME_CHARS: usize = 100;

/// Who calls a records route: a member's session, or an integration token.
#[derive(Debug, Clone)]
pub enum RecordsCaller {
    Member(Principal),
    Integration(IntegrationAuth),
}

impl FromRequestParts<AppState> for RecordsCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match bearer_token(&parts.headers) {
            Some(token) if token.starts_with(INTEGRATION_TOKEN_PREFIX) => {
                check_protocol(&parts.headers)?;
                state
                    .store
                    .integration_by_token(&auth::token_hash(token), unix_now())
                    .await?
                    .map(RecordsCaller::Integration)
                    .ok_or_else(ApiError::unauthenticated)
            }
            _ => Ok(RecordsCaller::Member(
                Principal::from_request_parts(parts, state).await?,
            )),
        }
    }
}

fn insufficient_scope(scope: IntegrationScope) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        ProblemCode::InsufficientScope,
        format!("the integration token does not hold {}", scope.as_str()),
    )
}

impl RecordsCaller {
    pub fn practice_id(&self) -> PracticeId {
        match self {
            RecordsCaller::Member(p) => p.practice_id,
            RecordsCaller::Integration(i) => i.practice,
        }
    }

    /// Whose eyes the store reads and writes for.
    pub fn viewer(&self) -> Viewer {
        match self {
            RecordsCaller::Member(p) => Viewer::Member(p.user_id),
            RecordsCaller::Integration(_) => Viewer::Outsider,
        }
    }

    /// Members may all read; an integration needs `records:read`.
    pub fn require_reader(&self) -> Result<(), ApiError> {
        match self {
            RecordsCaller::Member(_) => Ok(()),
            RecordsCaller::Integration(i) if i.scopes.contains(&IntegrationScope::RecordsRead) => {
                Ok(())
            }
            RecordsCaller::Integration(_) => Err(insufficient_scope(IntegrationScope::RecordsRead)),
        }
    }

    /// Read-only members write nothing; an integration needs `records:write`.
    pub fn require_writer(&self) -> Result<(), ApiError> {
        match self {
            RecordsCaller::Member(p) if p.role.may_write() => Ok(()),
            RecordsCaller::Member(_) => Err(ApiError::forbidden(
                "a read-only member cannot change records",
            )),
            RecordsCaller::Integration(i) if i.scopes.contains(&IntegrationScope::RecordsWrite) => {
                Ok(())
            }
            RecordsCaller::Integration(_) => {
                Err(insufficient_scope(IntegrationScope::RecordsWrite))
            }
        }
    }

    /// Adds `count` records read to an integration's ledger row (members are not counted).
    pub async fn count_reads(&self, state: &AppState, count: usize) -> Result<(), ApiError> {
        if let RecordsCaller::Integration(i) = self {
            let count = i64::try_from(count).unwrap_or(i64::MAX);
            state.store.count_integration_reads(i.id, count).await?;
        }
        Ok(())
    }
}

fn ledger_row(r: IntegrationRow) -> Integration {
    Integration {
        id: r.id,
        app_name: r.app_name,
        scopes: r.scopes,
        created_by: MemberRef {
            id: r.created_by.0,
            display_name: r.created_by.1,
        },
        created_at: r.created_at,
        last_used_at: r.last_used_at,
        records_read: r.records_read,
        revoked_at: r.revoked_at,
    }
}

/// Gives a third-party app a token with the scopes named. The token is in this answer
/// only. Admins only; audited.
#[utoipa::path(
    post,
    path = "/v1/integrations",
    tag = "integrations",
    request_body(content = NewIntegration, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 201, description = "Created: the ledger row and the token, shown once",
         body = IntegrationCreated),
        (status = 400, description = "A bad name or no scope (`bad_request`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`forbidden`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_integration(
    Admin(principal): Admin,
    State(state): State<AppState>,
    body: Result<Json<NewIntegration>, JsonRejection>,
) -> Result<(StatusCode, Json<IntegrationCreated>), ApiError> {
    let Json(req) = body.map_err(|e| {
        ApiError::bad_request(format!("the body is not understood: {}", e.body_text()))
    })?;
    let app_name = req.app_name.trim().to_owned();
    if app_name.is_empty()
        || app_name.chars().count() > MAX_APP_NAME_CHARS
        || app_name.chars().any(char::is_control)
    {
        return Err(ApiError::bad_request(format!(
            "app_name: must be 1 to {MAX_APP_NAME_CHARS} characters, without control characters"
        )));
    }
    let mut scopes: Vec<IntegrationScope> = Vec::new();
    for s in req.scopes {
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    if scopes.is_empty() {
        return Err(ApiError::bad_request(
            "scopes: name at least one of records:read, records:write",
        ));
    }
    let token = auth::new_token()
        .map(|t| [INTEGRATION_TOKEN_PREFIX, &t].concat())
        .map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ProblemCode::Internal,
                "no randomness available",
            )
        })?;
    let id = Uuid::new_v4();
    let now = unix_now();
    state
        .store
        .create_integration(NewIntegrationRow {
            id,
            practice: principal.practice_id,
            token_hash: auth::token_hash(&token),
            app_name: app_name.clone(),
            scopes: scopes.clone(),
            created_by: principal.user_id,
            created_at: now,
        })
        .await?;
    audit(
        &state,
        &principal,
        AuditKind::IntegrationCreated,
        json!({"integration": id, "app_name": app_name, "scopes": scopes}),
    )
    .await?;
    let row = state
        .store
        .integrations(principal.practice_id)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| ApiError::not_found("no such integration"))?;
    Ok((
        StatusCode::CREATED,
        Json(IntegrationCreated {
            integration: ledger_row(row),
            token,
        }),
    ))
}

/// The practice's integration ledger, newest first, revoked ones included. Any member may
/// read it.
#[utoipa::path(
    get,
    path = "/v1/integrations",
    tag = "integrations",
    security(("session" = [])),
    responses(
        (status = 200, description = "The ledger", body = [Integration]),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_integrations(
    principal: Principal,
    State(state): State<AppState>,
) -> Result<Json<Vec<Integration>>, ApiError> {
    let rows = state.store.integrations(principal.practice_id).await?;
    Ok(Json(rows.into_iter().map(ledger_row).collect()))
}

/// Revokes an integration: its token fails on its very next request. Admins only; audited.
#[utoipa::path(
    delete,
    path = "/v1/integrations/{id}",
    tag = "integrations",
    params(("id" = Uuid, Path, description = "The integration's id")),
    security(("session" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`forbidden`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 404, description = "No live integration of that id in the practice \
         (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke_integration(
    Admin(principal): Admin,
    State(state): State<AppState>,
    id: Result<Path<Uuid>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(id) = id.map_err(|_| ApiError::not_found("no such integration"))?;
    let revoked = state
        .store
        .revoke_integration(principal.practice_id, id, principal.user_id, unix_now())
        .await?
        .ok_or_else(|| ApiError::not_found("no such integration"))?;
    audit(
        &state,
        &principal,
        AuditKind::IntegrationRevoked,
        json!({"integration": id, "app_name": revoked.app_name}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
