//! Push: a device sends its queued edits (`POST /v1/sync/push`), and its member sees and
//! resolves the conflicts they made (`GET /v1/sync/conflicts`,
//! `POST /v1/sync/conflicts/{id}/resolve`).
//!
//! Each mutation carries the device's id and its own mutation sequence, the record, the
//! version the edit was made against, and the fields it changed. The service applies each
//! mutation once, in its own transaction with its result (see [`crate::store::push`]), in
//! the request's order: a retried request, even one cut off half-way, is answered exactly
//! as the first time. Edits to different fields of one record merge; the same field
//! changed elsewhere since the base, an edit against a delete or a delete against an edit
//! becomes a conflict that holds both sides until the member resolves it (keep mine, keep
//! theirs, or edit). A resolution is an ordinary write: it reaches every device through
//! the change feed.
//!
//! Invariant: nothing is silently overwritten; a refused mutation is answered `rejected`
//! with a code and words that name the field, never echo a value, and is never retried
//! into effect (its answer is kept like any other).
//! Invariant: the logs name members, devices, records and outcomes, never record content.
//! Invariant: a member sees and resolves their own conflicts only, on records they may
//! still open; anyone else's are answered as not found.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection};
use axum::extract::{Path, State};
use strongroom_protocol::{
    AppliedAt, ConflictResolution, MAX_PUSH_BYTES, MAX_PUSH_MUTATIONS, MutationOp, MutationOutcome,
    Problem, ProblemCode, PushRequest, PushResponse, SyncConflict,
};
use uuid::Uuid;

use crate::api::{ApiError, AppState, ProtocolHeader, unix_now};
use crate::store::Principal;
use crate::store::push::Pusher;

/// Why a body is not a push request, in words that never quote it: serde's own message
/// may hold a value, so only a missing field is named.
fn body_error(e: &serde_json::Error) -> ApiError {
    let message = e.to_string();
    let what = match message.split(" at line ").next() {
        Some(m) if m.starts_with("missing field `") => m.to_owned(),
        _ => match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "not well-formed JSON".to_owned()
            }
            _ => "a field has a value of the wrong type or form (an unknown kind or op, \
                  or fields that are not an object?)"
                .to_owned(),
        },
    };
    ApiError::bad_request(format!(
        "the body is not a push request: {what} (line {}, column {})",
        e.line(),
        e.column()
    ))
}

/// The checks a request passes before any of it is applied.
fn check(request: &PushRequest) -> Result<(), ApiError> {
    if request.device_id.is_nil() {
        return Err(ApiError::bad_request("device_id: must not be the nil UUID"));
    }
    if request.mutations.len() > MAX_PUSH_MUTATIONS {
        return Err(ApiError::bad_request(format!(
            "mutations: at most {MAX_PUSH_MUTATIONS} in one push"
        )));
    }
    let mut last = 0;
    for m in &request.mutations {
        if m.mutation_seq <= last {
            return Err(ApiError::bad_request(
                "mutations: mutation_seq must start at 1 and grow strictly within a push",
            ));
        }
        last = m.mutation_seq;
        if m.base_version.is_some_and(|v| v < 0) {
            return Err(ApiError::bad_request(
                "mutations: base_version must not be negative",
            ));
        }
    }
    Ok(())
}

fn outcome_name(outcome: &MutationOutcome) -> &'static str {
    match outcome {
        MutationOutcome::Applied { .. } => "applied",
        MutationOutcome::Conflict { .. } => "conflict",
        MutationOutcome::Rejected { .. } => "rejected",
    }
}

/// Applies a device's mutations, each once, in order, each in its own transaction;
/// answers one result per mutation. A mutation the service has seen from this device is
/// answered as it was the first time and changes nothing.
#[utoipa::path(
    post,
    path = "/v1/sync/push",
    tag = "sync",
    params(ProtocolHeader),
    request_body(content = PushRequest, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 200, description = "One result per mutation, in the request's order: \
         `applied`, `conflict` (what did not clash is applied) or `rejected`",
         body = PushResponse),
        (status = 400, description = "Not a push request, more than 500 mutations, or \
         mutation sequences that do not grow (`bad_request`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 4 MiB: push fewer mutations \
         at a time", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`); the mutations applied before it keep their results: push again",
         body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn push(
    principal: Principal,
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<PushResponse>, ApiError> {
    let body = body.map_err(|e| {
        ApiError::new(
            e.status(),
            ProblemCode::BadRequest,
            format!(
                "the body could not be read (at most {} MiB): {}",
                MAX_PUSH_BYTES / (1024 * 1024),
                e.body_text()
            ),
        )
    })?;
    let request: PushRequest = serde_json::from_slice(&body).map_err(|e| body_error(&e))?;
    check(&request)?;
    let pusher = Pusher {
        practice: principal.practice_id,
        user: principal.user_id,
        may_write: principal.role.may_write(),
        device: request.device_id,
        now: unix_now(),
    };
    let mut results = Vec::with_capacity(request.mutations.len());
    for m in &request.mutations {
        let result = state.store.apply_mutation(&pusher, m).await?;
        tracing::info!(
            user = %principal.user_id.0,
            device = %request.device_id,
            mutation_seq = m.mutation_seq,
            kind = m.kind.as_str(),
            record = %m.record_id,
            op = match m.op { MutationOp::Upsert { .. } => "upsert", MutationOp::Delete => "delete" },
            outcome = outcome_name(&result.outcome),
            "mutation"
        );
        results.push(result);
    }
    Ok(Json(PushResponse { results }))
}

/// The caller's open conflicts, oldest first: each with both sides of every field in
/// question. Only the member whose device made a conflict sees it.
#[utoipa::path(
    get,
    path = "/v1/sync/conflicts",
    tag = "sync",
    security(("session" = [])),
    responses(
        (status = 200, description = "The caller's open conflicts", body = [SyncConflict]),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_conflicts(
    principal: Principal,
    State(state): State<AppState>,
) -> Result<Json<Vec<SyncConflict>>, ApiError> {
    Ok(Json(
        state
            .store
            .open_conflicts(principal.practice_id, principal.user_id)
            .await?,
    ))
}

/// Resolves one of the caller's conflicts: `keep_mine` writes this device's values (for
/// an edit against a delete, brings the record back if they are all of it; for a delete
/// against an edit, deletes it), `keep_theirs` writes nothing, `edit` writes the values
/// given. A write goes on top of the record's current version and reaches everyone
/// through the change feed. Answers where the record now stands.
#[utoipa::path(
    post,
    path = "/v1/sync/conflicts/{id}/resolve",
    tag = "sync",
    params(("id" = Uuid, Path, description = "The conflict's id")),
    request_body(content = ConflictResolution, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 200, description = "Resolved: the record's sequence number and version \
         now", body = AppliedAt),
        (status = 400, description = "Not a resolution (`bad_request`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "A read-only member cannot write a side (`forbidden`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such conflict of the caller's (`not_found`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Resolved already, or a contact still on a matter \
         (`conflict`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The values break a rule, or a deleted record needs \
         an `edit` with all of its fields to come back (`invalid_record`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn resolve_conflict(
    principal: Principal,
    State(state): State<AppState>,
    id: Result<Path<Uuid>, PathRejection>,
    body: Result<Json<ConflictResolution>, JsonRejection>,
) -> Result<Json<AppliedAt>, ApiError> {
    let Path(id) = id.map_err(|_| ApiError::not_found("no such conflict"))?;
    let Json(resolution) = body.map_err(|e| {
        ApiError::bad_request(match e {
            JsonRejection::JsonSyntaxError(_) => "the body is not well-formed JSON",
            JsonRejection::MissingJsonContentType(_) => "the body must be application/json",
            _ => {
                "the body is not a resolution: `resolution` is keep_mine, keep_theirs, or \
                 edit with `fields`, an object"
            }
        })
    })?;
    if !principal.role.may_write() && resolution != ConflictResolution::KeepTheirs {
        return Err(ApiError::forbidden(
            "a read-only member cannot change records; keep_theirs only",
        ));
    }
    let at = state
        .store
        .resolve_conflict(
            principal.practice_id,
            principal.user_id,
            id,
            &resolution,
            unix_now(),
        )
        .await?;
    tracing::info!(
        user = %principal.user_id.0,
        conflict = %id,
        resolution = crate::store::push::resolution_str(&resolution),
        seq = at.seq,
        version = at.version,
        "conflict resolved"
    );
    Ok(Json(at))
}
