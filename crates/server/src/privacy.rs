//! The privacy dashboard's service side: the members list's activity (last sign-in,
//! signed-in devices), the dormant-credential access review (`/v1/members/review`), the
//! practice's own audit chain for the app to check (`/v1/audit/entries`), and the export
//! of everything the practice holds (`/v1/export`).
//!
//! Invariant: everything here is for the practice's admins only, scoped to the caller's
//! practice by its session; nothing takes a practice id from the request.
//! Invariant: completing a review and exporting are in the audit log before the answer
//! goes out; exporting needs a recent sign-in or re-authentication.
//! Invariant: an export holds every live record of the practice, restricted matters
//! included (the practice owns them all), and its manifest names the SHA-256 of every file.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;
use strongroom_export::{ArchiveMeta, ArchiveWriter, Source};
use strongroom_protocol::audit::{AuditActor, AuditPage};
use strongroom_protocol::privacy::{
    AccessReview, CompleteReview, DEFAULT_DORMANT_DAYS, DormantMember, MAX_DORMANT_DAYS,
    ReviewRecord,
};
use strongroom_protocol::{InvitationStatus, Member, Problem, RecordKind};
use uuid::Uuid;

use crate::api::{ApiError, AppState, audit, unix_now};
use crate::audit::AuditKind;
use crate::members::Admin;
use crate::sessions::{client_ip, rfc3339};
use crate::store::members::ReviewRow;
use crate::store::records::{ListQuery, Viewer};
use crate::store::{PracticeId, StoreError, UserId};

const DAY_SECS: i64 = 24 * 3600;

/// The practice's members, each with their latest sign-in and live sessions.
pub(crate) async fn members_with_activity(
    state: &AppState,
    practice: PracticeId,
) -> Result<Vec<Member>, ApiError> {
    let mut members = state.store.members(practice).await?;
    let activity: HashMap<Uuid, _> = state
        .store
        .member_activity(practice, unix_now(), state.sessions.idle_secs)
        .await?
        .into_iter()
        .map(|a| (a.user.0, a))
        .collect();
    for m in &mut members {
        if let Some(a) = activity.get(&m.id) {
            m.last_sign_in_at = a.last_sign_in.map(rfc3339);
            m.session_count = a.live_sessions;
            m.joined_at = a.joined_at.map(rfc3339);
        }
    }
    Ok(members)
}

/// `?dormant_days=N`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewQuery {
    /// No sign-in for this many days makes a member dormant (default 60, at most 3650).
    #[param(minimum = 1, maximum = 3650, default = 60)]
    pub dormant_days: Option<u32>,
}

fn check_days(days: u32) -> Result<u32, ApiError> {
    if (1..=MAX_DORMANT_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(ApiError::bad_request(format!(
            "dormant_days must be from 1 to {MAX_DORMANT_DAYS}"
        )))
    }
}

fn unix_of(rfc: &str) -> Option<i64> {
    time::OffsetDateTime::parse(rfc, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// Who holds credentials they do not use: enabled members with no sign-in for
/// `dormant_days` (or none at all, having joined longer ago than that), and invitations
/// never used (pending that long, or expired unaccepted), with the last review recorded.
#[utoipa::path(
    get,
    path = "/v1/members/review",
    tag = "members",
    params(ReviewQuery),
    security(("session" = [])),
    responses(
        (status = 200, description = "The review", body = AccessReview),
        (status = 400, description = "dormant_days out of range (`bad_request`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`forbidden`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn access_review(
    Admin(principal): Admin,
    State(state): State<AppState>,
    query: Result<Query<ReviewQuery>, QueryRejection>,
) -> Result<Json<AccessReview>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let days = check_days(query.dormant_days.unwrap_or(DEFAULT_DORMANT_DAYS))?;
    let now = unix_now();
    let cutoff = now - i64::from(days) * DAY_SECS;
    let dormant = members_with_activity(&state, principal.practice_id)
        .await?
        .into_iter()
        .filter(|m| !m.disabled)
        .filter_map(|m| {
            let last = m.last_sign_in_at.as_deref().and_then(unix_of);
            let joined = m.joined_at.as_deref().and_then(unix_of);
            let dormant = match last {
                Some(at) => at < cutoff,
                None => joined.is_none_or(|j| j < cutoff),
            };
            dormant.then(|| DormantMember {
                days_idle: last.map(|at| u32::try_from((now - at) / DAY_SECS).unwrap_or(u32::MAX)),
                member: m,
            })
        })
        .collect();
    let unused_invitations = state
        .store
        .invitations(principal.practice_id, now)
        .await?
        .into_iter()
        .filter(|i| match i.status {
            InvitationStatus::Expired => true,
            InvitationStatus::Pending => i.created_at < cutoff,
            InvitationStatus::Accepted | InvitationStatus::Revoked => false,
        })
        .collect();
    Ok(Json(AccessReview {
        dormant_days: days,
        generated_at: rfc3339(now),
        dormant,
        unused_invitations,
        last_review: state
            .store
            .last_access_review(principal.practice_id)
            .await?,
    }))
}

/// Completes an access review: disables the named members (ending their sessions),
/// withdraws the named invitations, and records the review, each step in the audit log.
/// Every id must be the practice's, or nothing changes.
#[utoipa::path(
    post,
    path = "/v1/members/review",
    tag = "members",
    request_body(content = CompleteReview, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 200, description = "The review as recorded", body = ReviewRecord),
        (status = 400, description = "A malformed request (`bad_request`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`forbidden`), or no recent sign-in \
         (`reauth_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "An id that is not the practice's member or \
         withdrawable invitation (`not_found`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 409, description = "It would leave no enabled admin (`conflict`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn complete_review(
    Admin(principal): Admin,
    State(state): State<AppState>,
    body: Result<Json<CompleteReview>, JsonRejection>,
) -> Result<Json<ReviewRecord>, ApiError> {
    let Json(req) = body.map_err(crate::members::json_error)?;
    let days = check_days(req.dormant_days)?;
    let now = unix_now();
    principal.require_recent_auth(now)?;
    let disable: Vec<Uuid> = req
        .disable
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let withdraw: Vec<Uuid> = req
        .revoke_invitations
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if disable.contains(&principal.user_id.0) {
        return Err(ApiError::bad_request(
            "a review cannot disable the admin doing it",
        ));
    }
    // Every id first, so a wrong one changes nothing.
    let members: BTreeSet<Uuid> = state
        .store
        .members(principal.practice_id)
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect();
    let open: BTreeSet<Uuid> = state
        .store
        .invitations(principal.practice_id, now)
        .await?
        .into_iter()
        .filter(|i| {
            matches!(
                i.status,
                InvitationStatus::Pending | InvitationStatus::Expired
            )
        })
        .map(|i| i.id)
        .collect();
    if let Some(id) = disable.iter().find(|id| !members.contains(id)) {
        return Err(ApiError::not_found(format!(
            "{id} is not a member of the practice"
        )));
    }
    if let Some(id) = withdraw.iter().find(|id| !open.contains(id)) {
        return Err(ApiError::not_found(format!(
            "{id} is not an invitation of the practice that can be withdrawn"
        )));
    }
    for id in &disable {
        state
            .store
            .update_member(principal.practice_id, UserId(*id), None, Some(true))
            .await?;
        audit(
            &state,
            &principal,
            AuditKind::MemberDisabled,
            json!({ "member": id, "review": true }),
        )
        .await?;
    }
    for id in &withdraw {
        state
            .store
            .revoke_invitation(principal.practice_id, *id)
            .await?;
        audit(
            &state,
            &principal,
            AuditKind::InvitationRevoked,
            json!({ "invitation": id, "review": true }),
        )
        .await?;
    }
    let row = ReviewRow {
        id: Uuid::new_v4(),
        by: principal.user_id,
        completed_at: now,
        dormant_days: days,
        disabled: disable,
        invitations_revoked: withdraw,
    };
    state
        .store
        .record_access_review(principal.practice_id, &row)
        .await?;
    audit(
        &state,
        &principal,
        AuditKind::AccessReviewCompleted,
        json!({
            "review": row.id,
            "dormant_days": days,
            "disabled": row.disabled,
            "invitations_revoked": row.invitations_revoked,
        }),
    )
    .await?;
    state
        .store
        .last_access_review(principal.practice_id)
        .await?
        .map(Json)
        .ok_or(ApiError::from(StoreError::NotFound))
}

/// The most entries one page of `/v1/audit/entries` carries.
pub const MAX_AUDIT_PAGE: u32 = 1000;

/// `?after_seq=N&limit=M`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries numbered after this one in the practice's chain (default 0: from the first).
    #[param(minimum = 0, default = 0)]
    pub after_seq: Option<i64>,
    /// At most this many (default and maximum 1000).
    #[param(minimum = 1, maximum = 1000, default = 1000)]
    pub limit: Option<u32>,
}

/// The practice's own audit chain, a page at a time: every field its hashes cover, so the
/// app checks the chain itself (`strongroom_protocol::audit`), and the names of the
/// people who appear in the page.
#[utoipa::path(
    get,
    path = "/v1/audit/entries",
    tag = "audit",
    params(AuditQuery),
    security(("session" = [])),
    responses(
        (status = 200, description = "A page of the practice's chain and its head",
         body = AuditPage),
        (status = 400, description = "A malformed query, or after_seq or limit out of range (`bad_request`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`forbidden`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn audit_entries(
    Admin(principal): Admin,
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let after = query.after_seq.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::bad_request("after_seq must not be negative"));
    }
    let limit = query.limit.unwrap_or(MAX_AUDIT_PAGE);
    if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {MAX_AUDIT_PAGE}"
        )));
    }
    let page = state
        .store
        .practice_audit(principal.practice_id, after, limit)
        .await?;
    // Everyone who is or was a member: a removed member's entries keep their name.
    let mut names: HashMap<String, String> = state
        .store
        .member_names(principal.practice_id)
        .await?
        .into_iter()
        .map(|(id, name)| (format!("user:{id}"), name))
        .collect();
    // Support staff appear by the name they asked this practice for access under.
    for g in state.store.practice_grants(principal.practice_id).await? {
        names.insert(format!("staff:{}", g.staff.id), g.staff.display_name);
    }
    let actors: BTreeMap<String, String> = page
        .entries
        .iter()
        .filter_map(|e| e.actor.as_ref())
        .filter_map(|a| names.get(a).map(|n| (a.clone(), n.clone())))
        .collect();
    Ok(Json(AuditPage {
        entries: page.entries,
        head_seq: page.head_seq,
        head_link: page.head_link,
        actors: actors
            .into_iter()
            .map(|(actor, name)| AuditActor { actor, name })
            .collect(),
    }))
}

/// Records read from the store at a time for an export.
const EXPORT_PAGE: u32 = 1000;

/// Everything the practice holds, as an archive (`strongroom-export/1`): for each record
/// kind a JSON and a CSV file, and a manifest with the SHA-256 of every file. Its size is
/// known before it is sent (`Content-Length`), so the app shows its progress.
#[utoipa::path(
    get,
    path = "/v1/export",
    tag = "export",
    security(("session" = [])),
    responses(
        (status = 200, description = "The archive", content_type = "application/zip"),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`forbidden`), or no recent sign-in \
         (`reauth_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn export(
    Admin(principal): Admin,
    State(state): State<AppState>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Result<Response, ApiError> {
    let now = unix_now();
    principal.require_recent_auth(now)?;
    let practice = state.store.practice(principal.practice_id).await?;
    let by = state
        .store
        .members(principal.practice_id)
        .await?
        .into_iter()
        .find(|m| m.id == principal.user_id.0)
        .map(|m| m.display_name)
        .unwrap_or_default();
    let mut sets = Vec::new();
    for kind in RecordKind::ALL {
        let mut records = Vec::new();
        let mut after = 0;
        loop {
            let page = state
                .store
                .list_records(
                    principal.practice_id,
                    Viewer::Service,
                    ListQuery {
                        kind,
                        matter: None,
                        after,
                        limit: EXPORT_PAGE,
                    },
                )
                .await?;
            for c in &page.changes {
                if let Some(body) = c.record.body_json() {
                    records.push(serde_json::from_str::<serde_json::Value>(&body).map_err(
                        |e| StoreError::Database(format!("a stored record does not parse: {e}")),
                    )?);
                }
            }
            after = page.cursor;
            if !page.has_more {
                break;
            }
        }
        sets.push((kind, records));
    }
    let meta = ArchiveMeta {
        practice_id: practice.id.to_string(),
        practice_name: practice.name.clone(),
        exported_at: rfc3339(now),
        source: Source::Service,
        exported_by: by,
    };
    let (manifest, bytes) = tokio::task::spawn_blocking(move || {
        let mut w = ArchiveWriter::new(std::io::Cursor::new(Vec::new()), meta);
        for (kind, records) in &sets {
            w.add_kind(*kind, records)?;
        }
        w.finish().map(|(m, out)| (m, out.into_inner()))
    })
    .await
    .map_err(|e| StoreError::Database(e.to_string()))?
    .map_err(|e| StoreError::Database(e.to_string()))?;
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    let ip = client_ip(connection.as_ref().map(|Extension(c)| c));
    audit(
        &state,
        &principal,
        AuditKind::PracticeExported,
        json!({
            "files": manifest.files.len(),
            "records": manifest.records(),
            "bytes": bytes.len(),
            "sha256": sha256,
            "ip": ip,
        }),
    )
    .await?;
    let filename = format!(
        "attachment; filename=\"strongroom-export-{}.zip\"",
        &rfc3339(now)[..10]
    );
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    if let Ok(v) = HeaderValue::from_str(&filename) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
