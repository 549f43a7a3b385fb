//! The records API: create, read, update and delete every kind of record of a practice
//! (`/v1/records/{kind}` and `/v1/records/{kind}/{id}`).
//!
//! A record's id is chosen by the client (a UUID made offline), so a create is a `PUT` of
//! a new id. Versions travel as entity tags: a `GET` or `PUT` answers `ETag: "N"`; a write
//! with `If-Match: "N"` succeeds only on version N (else `412 version_conflict`), and one
//! with `If-None-Match: *` only when no live record has that id.
//!
//! Callers are members (a session) or third-party apps (an integration token, see
//! [`crate::integrations`]): an app needs `records:read` to read and `records:write` to
//! write, sees only the matters open to the whole practice, and each read adds the records
//! it returned to the app's count in the ledger.
//!
//! Invariant: members with the `read_only` role write nothing (403 before any store call).
//! Invariant: every record is checked by `strongroom_protocol::validate` before it is
//! stored; a refusal names the field, never echoes its value.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use strongroom_protocol::{Change, ChangeRecord, ChangesPage, MAX_PAGE_SIZE, Problem, RecordKind};
use uuid::Uuid;

use crate::api::{ApiError, AppState};
use crate::integrations::RecordsCaller;
use crate::store::records::{Expect, ListQuery, RecordWrite};

/// The largest record body a `PUT` takes: a file note of 200,000 characters and room.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

fn not_found() -> ApiError {
    ApiError::not_found("no such record")
}

fn path_error(_: PathRejection) -> ApiError {
    // An unknown kind or a malformed id names no record.
    not_found()
}

/// Why a body is not a record of `kind`, in words that never quote the body: serde's own
/// message may hold a value, so only a missing field is named.
fn body_error(kind: RecordKind, e: &serde_json::Error) -> ApiError {
    let message = e.to_string();
    let what = match message.split(" at line ").next() {
        Some(m) if m.starts_with("missing field `") => m.to_owned(),
        _ => match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "not well-formed JSON".to_owned()
            }
            _ => "a field has a value of the wrong type or form".to_owned(),
        },
    };
    ApiError::bad_request(format!(
        "the body is not a {}: {what} (line {}, column {})",
        kind.as_str(),
        e.line(),
        e.column()
    ))
}

fn etag(version: i64) -> HeaderValue {
    // Digits and quotes are always a valid header value.
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// `If-Match` as the OpenAPI document describes it (see [`expectation`]).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub(crate) struct IfMatchHeader {
    /// Only if the record is at this version: a version tag such as `"3"` (`*`: any).
    #[param(
        rename = "if-match",
        nullable = false,
        pattern = r#"^[ \t]*(\*|(W/)?"*\+?0*[1-9][0-9]{0,17}"*)[ \t]*$"#
    )]
    _tag: Option<String>,
}

/// `If-None-Match` as the OpenAPI document describes it (see [`expectation`]).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub(crate) struct IfNoneMatchHeader {
    /// `*`: create only, never replace.
    #[param(rename = "if-none-match", schema_with = any_version_schema)]
    _any: Option<String>,
}

/// `{"type": "string", "enum": ["*"]}`: the one `If-None-Match` understood.
fn any_version_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["*"]))
        .build()
}

/// The expectation a request's `If-Match` / `If-None-Match` headers state.
fn expectation(headers: &HeaderMap) -> Result<Expect, ApiError> {
    if let Some(v) = headers.get(header::IF_NONE_MATCH) {
        return match v.to_str().map(str::trim) {
            Ok("*") => Ok(Expect::Absent),
            _ => Err(ApiError::bad_request(
                "If-None-Match: only `*` (create, never replace) is understood",
            )),
        };
    }
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(Expect::Any);
    };
    let text = v.to_str().map(str::trim).unwrap_or("");
    if text == "*" {
        return Ok(Expect::Any);
    }
    text.strip_prefix("W/")
        .unwrap_or(text)
        .trim_matches('"')
        .parse::<i64>()
        .ok()
        .filter(|v| *v >= 1)
        .map(Expect::Version)
        .ok_or_else(|| ApiError::bad_request("If-Match must be a version tag, e.g. \"3\""))
}

pub(crate) fn change_response(status: StatusCode, change: Change) -> Response {
    let tag = etag(change.version);
    let mut resp = (status, Json(change)).into_response();
    resp.headers_mut().insert(header::ETAG, tag);
    resp
}

/// A list's query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only records on this matter.
    matter: Option<Uuid>,
    /// The cursor: records last written after this sequence number.
    #[serde(default)]
    #[param(minimum = 0, default = 0)]
    after: i64,
    /// The most records to return (at most 5000).
    #[param(minimum = 1, maximum = 5000, default = 500)]
    limit: Option<u32>,
}

impl ListParams {
    /// The store's query for `kind`, or why these parameters are refused.
    pub(crate) fn checked(&self, kind: RecordKind) -> Result<ListQuery, ApiError> {
        if self.after < 0 {
            return Err(ApiError::bad_request("after must not be negative"));
        }
        let limit = self.limit.unwrap_or(500);
        if limit == 0 || limit > MAX_PAGE_SIZE {
            return Err(ApiError::bad_request(format!(
                "limit must be 1 to {MAX_PAGE_SIZE}"
            )));
        }
        Ok(ListQuery {
            kind,
            matter: self.matter,
            after: self.after,
            limit,
        })
    }
}

/// The live records of a kind that the caller may see, in the order they were last
/// written; page with `after` = the answer's `cursor`.
#[utoipa::path(
    get,
    path = "/v1/records/{kind}",
    tag = "records",
    params(
        ("kind" = RecordKind, Path, description = "The kind of record"),
        ListParams,
    ),
    security(("session" = [])),
    responses(
        (status = 200, description = "A page of records", body = ChangesPage),
        (status = 400, description = "A malformed query (`bad_request`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 404, description = "No such kind (`not_found`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    caller: RecordsCaller,
    State(state): State<AppState>,
    kind: Result<Path<RecordKind>, PathRejection>,
    query: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<ChangesPage>, ApiError> {
    caller.require_reader()?;
    let Path(kind) = kind.map_err(path_error)?;
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let list = q.checked(kind)?;
    let page = state
        .store
        .list_records(caller.practice_id(), caller.viewer(), list)
        .await?;
    caller.count_reads(&state, page.changes.len()).await?;
    Ok(Json(page))
}

/// One live record, with its version as the `ETag`.
#[utoipa::path(
    get,
    path = "/v1/records/{kind}/{id}",
    tag = "records",
    params(
        ("kind" = RecordKind, Path, description = "The kind of record"),
        ("id" = Uuid, Path, description = "The record's id"),
    ),
    security(("session" = [])),
    responses(
        (status = 200, description = "The record", body = Change,
         headers(("etag" = String, description = "The record's version, quoted"))),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 404, description = "No such record the caller may see (`not_found`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_one(
    caller: RecordsCaller,
    State(state): State<AppState>,
    path: Result<Path<(RecordKind, Uuid)>, PathRejection>,
) -> Result<Response, ApiError> {
    caller.require_reader()?;
    let Path((kind, id)) = path.map_err(path_error)?;
    let change = state
        .store
        .record(caller.practice_id(), caller.viewer(), kind, id)
        .await?
        .ok_or_else(not_found)?;
    caller.count_reads(&state, 1).await?;
    Ok(change_response(StatusCode::OK, change))
}

/// Creates or replaces a record. The body is the record itself (a `Matter`, a `Contact`,
/// ...), its `id` the one in the path. `201` when it was created, `200` when replaced.
#[utoipa::path(
    put,
    path = "/v1/records/{kind}/{id}",
    tag = "records",
    params(
        ("kind" = RecordKind, Path, description = "The kind of record"),
        ("id" = Uuid, Path, description = "The record's id, chosen by the client"),
        IfMatchHeader,
        IfNoneMatchHeader,
    ),
    request_body(content = Object, content_type = "application/json",
                 description = "The record: a Matter, Contact, Participant, FileNote, Task, \
                                TimeEntry or Document, by `kind`"),
    security(("session" = [])),
    responses(
        (status = 200, description = "Replaced", body = Change,
         headers(("etag" = String, description = "The record's new version, quoted"))),
        (status = 201, description = "Created", body = Change,
         headers(("etag" = String, description = "The record's version, quoted"))),
        (status = 400, description = "Not a record of this kind (`bad_request`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "A read-only member (`forbidden`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 404, description = "On a matter the caller may not open (`not_found`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Not the version expected (`version_conflict`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem,
         content_type = "application/problem+json"),
        (status = 422, description = "A rule is broken, or the matter or contact it names \
         does not exist (`invalid_record`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put(
    caller: RecordsCaller,
    State(state): State<AppState>,
    path: Result<Path<(RecordKind, Uuid)>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Path((kind, id)) = path.map_err(path_error)?;
    caller.require_writer()?;
    let (record, expect) = record_from_request(kind, id, &headers, body)?;
    let written = state
        .store
        .write_records(
            caller.practice_id(),
            caller.viewer(),
            &[RecordWrite {
                record: record.clone(),
                expect,
            }],
        )
        .await?;
    let w = written.first().copied().ok_or_else(not_found)?;
    let status = if w.version == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(change_response(
        status,
        Change {
            seq: w.seq,
            version: w.version,
            record,
        },
    ))
}

/// A `PUT`'s record and expectation, checked: the body is a record of `kind` whose id is
/// `id`, valid by `strongroom_protocol::validate`.
pub(crate) fn record_from_request(
    kind: RecordKind,
    id: Uuid,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(ChangeRecord, Expect), ApiError> {
    let body = body.map_err(|e| {
        ApiError::new(
            e.status(),
            strongroom_protocol::ProblemCode::BadRequest,
            format!(
                "the body could not be read (at most {} KiB): {}",
                MAX_RECORD_BYTES / 1024,
                e.body_text()
            ),
        )
    })?;
    let expect = expectation(headers)?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("the body must be UTF-8 JSON"))?;
    let record = ChangeRecord::from_body(kind, text).map_err(|e| body_error(kind, &e))?;
    if record.key().1 != id {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            strongroom_protocol::ProblemCode::InvalidRecord,
            "id: must be the id in the path",
        ));
    }
    strongroom_protocol::validate::record(&record).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            strongroom_protocol::ProblemCode::InvalidRecord,
            e.to_string(),
        )
    })?;
    Ok((record, expect))
}

/// Deletes a record, leaving a tombstone in the change feed. Deleting a matter deletes
/// every record on it; a contact still on a matter cannot be deleted.
#[utoipa::path(
    delete,
    path = "/v1/records/{kind}/{id}",
    tag = "records",
    params(
        ("kind" = RecordKind, Path, description = "The kind of record"),
        ("id" = Uuid, Path, description = "The record's id"),
        IfMatchHeader,
    ),
    security(("session" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "A malformed `If-Match` (`bad_request`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "A read-only member (`forbidden`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 404, description = "No such record the caller may see (`not_found`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A contact still on a matter (`conflict`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Not the version expected (`version_conflict`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete(
    caller: RecordsCaller,
    State(state): State<AppState>,
    path: Result<Path<(RecordKind, Uuid)>, PathRejection>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let Path((kind, id)) = path.map_err(path_error)?;
    caller.require_writer()?;
    let expect = match expectation(&headers)? {
        Expect::Absent => {
            return Err(ApiError::bad_request(
                "If-None-Match makes no sense on a delete",
            ));
        }
        e => e,
    };
    state
        .store
        .write_records(
            caller.practice_id(),
            caller.viewer(),
            &[RecordWrite {
                record: ChangeRecord::Deleted {
                    record_kind: kind,
                    id,
                },
                expect,
            }],
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
