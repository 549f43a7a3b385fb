//! Breach notices (promise 10: breaches are notified as soon as possible), with the
//! content GDPR articles 33 and 34, Australia's Notifiable Data Breaches scheme and New
//! Zealand's Privacy Act 2020 (part 6) ask a notification to carry: what happened, when it
//! happened (if known) and when it was found, the kinds of information involved, what has
//! been done, what the people affected should do, who to contact, and whether a regulator
//! was told.
//!
//! The operator records an incident with `strongroom-server incident record --file
//! incident.json` ([`record`]): the file is checked field by field ([`check_incident_file`],
//! every refusal a sentence naming the field), and then, in one store transaction, the
//! incident is written and every enabled member of each affected practice is notified in
//! the category `breach_notices`, which is essential: an email through the durable outbox
//! (the running server's outbox worker sends it; it polls the outbox every few seconds, so
//! mail written by the operator's process goes within [`crate::outbox::OutboxSettings`]'s
//! poll), and a notice in the member's inbox, which the desktop app also raises as a
//! desktop notification. `strongroom-server incident status ID` ([`status`]) shows, per
//! recipient, when the notice was made, when the email left, the time from recording to
//! delivery, and the acknowledgement; and the median and longest time to delivery.
//!
//! The incident file (JSON, at most 1 MiB, unknown fields refused):
//! ```json
//! {
//!   "title": "Unauthorised access to a support mailbox",
//!   "description": "What happened, in plain words.",
//!   "occurred_at": "2026-11-26T22:10:00Z",
//!   "detected_at": "2026-11-27T08:30:00Z",
//!   "data_kinds": ["names", "email addresses"],
//!   "practices": ["6f1c...-uuid"],
//!   "steps_taken": "What the service has done.",
//!   "recommendations": "What members should do.",
//!   "contact": "privacy@strongroom.example, +61 2 5550 0100",
//!   "regulator_notified": true,
//!   "regulator": "Office of the Australian Information Commissioner",
//!   "regulator_notified_at": "2026-11-27T12:00:00Z",
//!   "recorded_by": "Operator's name"
//! }
//! ```
//! `occurred_at` may be `null` (not known yet); `regulator` and `regulator_notified_at`
//! only when `regulator_notified` is true (then `regulator` is required).
//!
//! Routes (members): `GET /v1/me/incidents` (the incidents that affect the member's own
//! practice, every field, with their own notice, email delivery and acknowledgement),
//! `POST /v1/me/incidents/{id}/acknowledge` (idempotent; the first time is audited,
//! `incident_acknowledged`); admins: `GET /v1/practice/incidents/{id}/acknowledgements`
//! (every member of the practice: notified, delivered, acknowledged).
//!
//! Invariant: an incident reaches a member only through their own practice: another
//! practice's incident and an id that names none are the same 404.
//! Invariant: a member's view names no other practice.
//! Invariant: every enabled member of an affected practice is notified, whatever their
//! preferences (essential), in the transaction that records the incident.

use std::time::Duration;

use anyhow::Context;
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde::Deserialize;
use strongroom_protocol::incidents::{
    IncidentAcknowledgement, IncidentAcknowledgements, MemberIncident, RegulatorReport,
};
use strongroom_protocol::notifications::Category;
use strongroom_protocol::{Problem, ProblemCode};
use uuid::Uuid;

use crate::api::{ApiError, AppState};
use crate::members::Admin;
use crate::notifications::{Notification, essential_broadcast};
use crate::sessions::rfc3339;
use crate::store::incidents::{
    IncidentRow, MemberIncidentRow, NewIncident, RecipientRow, Recorded,
};
use crate::store::{PracticeId, Principal, Store, StoreError};

/// The largest incident file read.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// How far ahead of the service's clock a time in the file may be (clocks differ).
pub const CLOCK_SKEW_SECS: i64 = 300;
/// The most practices one incident names.
pub const MAX_PRACTICES: usize = 10_000;
/// The most kinds of data one incident names.
pub const MAX_DATA_KINDS: usize = 30;

/// The operator's incident file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IncidentFile {
    title: String,
    description: String,
    #[serde(default)]
    occurred_at: Option<String>,
    detected_at: String,
    data_kinds: Vec<String>,
    practices: Vec<String>,
    steps_taken: String,
    recommendations: String,
    contact: String,
    regulator_notified: bool,
    #[serde(default)]
    regulator: Option<String>,
    #[serde(default)]
    regulator_notified_at: Option<String>,
    recorded_by: String,
}

/// A text field: trimmed, `min..=max` characters, and no control characters but line
/// breaks and tabs where `multiline`.
fn text(field: &str, value: &str, max: usize, multiline: bool) -> anyhow::Result<String> {
    let v = value.trim();
    if v.is_empty() {
        anyhow::bail!("`{field}` must not be empty");
    }
    let n = v.chars().count();
    if n > max {
        anyhow::bail!("`{field}` is {n} characters long; at most {max} are allowed");
    }
    let bad = |c: char| c.is_control() && !(multiline && (c == '\n' || c == '\t' || c == '\r'));
    if v.chars().any(bad) {
        anyhow::bail!(
            "`{field}` holds a control character{}",
            if multiline {
                ""
            } else {
                " (it must be one line)"
            }
        );
    }
    Ok(v.to_owned())
}

/// An RFC 3339 time as unix seconds, not later than `latest`.
fn time_field(field: &str, value: &str, latest: i64) -> anyhow::Result<i64> {
    let t =
        time::OffsetDateTime::parse(value.trim(), &time::format_description::well_known::Rfc3339)
            .map_err(|_| {
                anyhow::anyhow!(
                    "`{field}` is not an RFC 3339 time such as 2026-11-27T08:30:00Z: {value:?}"
                )
            })?
            .unix_timestamp();
    if t > latest {
        anyhow::bail!("`{field}` ({value}) is in the future");
    }
    Ok(t)
}

/// Checks an incident file's bytes, field by field, at `now_ms`; answers the incident to
/// record (with a new id). Every refusal names the field and what is wrong with it.
pub fn check_incident_file(bytes: &[u8], now_ms: i64) -> anyhow::Result<NewIncident> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        anyhow::bail!("the incident file is larger than 1 MiB");
    }
    let raw = std::str::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "the incident file is not UTF-8 text (bad byte at offset {})",
            e.valid_up_to()
        )
    })?;
    if raw.trim().is_empty() {
        anyhow::bail!("the incident file is empty");
    }
    let f: IncidentFile = serde_json::from_str(raw)
        .map_err(|e| anyhow::anyhow!("the incident file is not a valid incident: {e}"))?;
    let latest = now_ms.div_euclid(1000) + CLOCK_SKEW_SECS;
    let title = text("title", &f.title, 150, false)?;
    let description = text("description", &f.description, 5000, true)?;
    let detected_at = time_field("detected_at", &f.detected_at, latest)?;
    let occurred_at = match f.occurred_at.as_deref() {
        None => None,
        Some(v) => {
            let t = time_field("occurred_at", v, latest)?;
            if t > detected_at {
                anyhow::bail!(
                    "`occurred_at` ({v}) is after `detected_at` ({})",
                    f.detected_at
                );
            }
            Some(t)
        }
    };
    if f.data_kinds.is_empty() {
        anyhow::bail!("`data_kinds` must name at least one kind of information involved");
    }
    if f.data_kinds.len() > MAX_DATA_KINDS {
        anyhow::bail!(
            "`data_kinds` names {} kinds; at most {MAX_DATA_KINDS}",
            f.data_kinds.len()
        );
    }
    let mut data_kinds: Vec<String> = Vec::with_capacity(f.data_kinds.len());
    for (i, k) in f.data_kinds.iter().enumerate() {
        let k = text(&format!("data_kinds[{i}]"), k, 100, false)?;
        if data_kinds
            .iter()
            .any(|d| d.to_lowercase() == k.to_lowercase())
        {
            anyhow::bail!("`data_kinds` names {k:?} twice");
        }
        data_kinds.push(k);
    }
    if f.practices.is_empty() {
        anyhow::bail!("`practices` must name at least one affected practice");
    }
    if f.practices.len() > MAX_PRACTICES {
        anyhow::bail!(
            "`practices` names {} practices; at most {MAX_PRACTICES}",
            f.practices.len()
        );
    }
    let mut practices: Vec<PracticeId> = Vec::with_capacity(f.practices.len());
    for (i, p) in f.practices.iter().enumerate() {
        let id: Uuid = p.trim().parse().map_err(|_| {
            anyhow::anyhow!("`practices[{i}]` is not a practice id (a UUID): {p:?}")
        })?;
        if practices.contains(&PracticeId(id)) {
            anyhow::bail!("`practices` names {id} twice");
        }
        practices.push(PracticeId(id));
    }
    let steps_taken = text("steps_taken", &f.steps_taken, 4000, true)?;
    let recommendations = text("recommendations", &f.recommendations, 4000, true)?;
    let contact = text("contact", &f.contact, 500, true)?;
    let (regulator, regulator_notified_at) = if f.regulator_notified {
        let name = f.regulator.as_deref().ok_or_else(|| {
            anyhow::anyhow!(
                "`regulator` must name the regulator, since `regulator_notified` is true"
            )
        })?;
        let name = text("regulator", name, 200, false)?;
        let at = f
            .regulator_notified_at
            .as_deref()
            .map(|v| time_field("regulator_notified_at", v, latest))
            .transpose()?;
        (Some(name), at)
    } else {
        if f.regulator.is_some() || f.regulator_notified_at.is_some() {
            anyhow::bail!(
                "`regulator` and `regulator_notified_at` are only for a regulator that was \
                 notified, and `regulator_notified` is false"
            );
        }
        (None, None)
    };
    let recorded_by = text("recorded_by", &f.recorded_by, 200, false)?;
    Ok(NewIncident {
        incident: IncidentRow {
            id: Uuid::new_v4(),
            title,
            description,
            occurred_at,
            detected_at,
            data_kinds,
            steps_taken,
            recommendations,
            contact,
            regulator_notified: f.regulator_notified,
            regulator,
            regulator_notified_at,
            recorded_by,
            recorded_at_ms: now_ms,
        },
        practices,
    })
}

/// The notice's words: every statutory field, for the email and the inbox alike.
pub fn notice_for(i: &IncidentRow) -> Notification {
    let occurred = i
        .occurred_at
        .map_or_else(|| "not known yet".to_owned(), rfc3339);
    let regulator = match (&i.regulator, i.regulator_notified_at) {
        (Some(r), Some(at)) => format!("We notified {r} on {}.", rfc3339(at)),
        (Some(r), None) => format!("We have notified {r}."),
        _ => "We have not notified a regulator.".to_owned(),
    };
    let body = format!(
        "Strongroom is notifying you of a personal-data breach that affects your practice.\n\
         \n\
         WHAT HAPPENED\n{}\n\
         \n\
         When it happened: {occurred}\n\
         When we became aware of it: {}\n\
         \n\
         INFORMATION INVOLVED\n{}\n\
         \n\
         WHAT WE HAVE DONE\n{}\n\
         \n\
         WHAT YOU SHOULD DO\n{}\n\
         \n\
         REGULATOR\n{regulator}\n\
         \n\
         CONTACT\n{}\n\
         \n\
         Recorded by {} at {}. Reference: {}.\n\
         Please acknowledge this notice in Strongroom (Privacy & access, Breach notices), so \
         your practice's administrators know you have read it.",
        i.description,
        rfc3339(i.detected_at),
        i.data_kinds
            .iter()
            .map(|k| ["- ", k].concat())
            .collect::<Vec<_>>()
            .join("\n"),
        i.steps_taken,
        i.recommendations,
        i.contact,
        i.recorded_by,
        rfc3339(i.recorded_at_ms.div_euclid(1000)),
        i.id,
    );
    Notification {
        title: ["Data breach notice: ", &i.title].concat(),
        body,
    }
}

fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}

/// Checks the incident file's bytes and records the incident, notifying every enabled
/// member of each affected practice (see the module's documentation). Answers its id and
/// how many members were notified. Nothing is written when anything is refused.
pub async fn record(store: &dyn Store, bytes: &[u8]) -> anyhow::Result<(Uuid, Recorded)> {
    let new = check_incident_file(bytes, now_ms())?;
    let message = essential_broadcast(Category::BreachNotices, &notice_for(&new.incident))
        .map_err(|e| anyhow::anyhow!("the notice cannot be sent: {e}"))?;
    let id = new.incident.id;
    match store.record_incident(new, message).await {
        Ok(recorded) => Ok((id, recorded)),
        Err(StoreError::Invalid(why)) => Err(anyhow::anyhow!("`practices`: {why}")),
        Err(e) => Err(e).context("recording the incident"),
    }
}

/// Reads an incident file (at most [`MAX_FILE_BYTES`]) and [`record`]s it.
pub async fn record_file(
    store: &dyn Store,
    path: &std::path::Path,
) -> anyhow::Result<(Uuid, Recorded)> {
    use std::io::Read;
    let file = std::fs::File::open(path)
        .with_context(|| format!("opening the incident file {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading the incident file {}", path.display()))?;
    record(store, &bytes).await
}

/// Delivery figures over an incident's recipients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliverySummary {
    /// Members notified when it was recorded.
    pub recipients: usize,
    /// Of those, whose email has left the service.
    pub delivered: usize,
    /// Time from recording to the email leaving, over the delivered.
    pub median: Option<Duration>,
    pub max: Option<Duration>,
    /// Members who acknowledged it (late joiners too).
    pub acknowledged: usize,
}

/// What `incident status` shows.
#[derive(Debug, Clone)]
pub struct IncidentStatus {
    pub incident: IncidentRow,
    pub practices: Vec<PracticeId>,
    pub recipients: Vec<RecipientRow>,
    pub summary: DeliverySummary,
}

/// The time from recording to delivery of a recipient's email, if it left.
pub fn time_to_delivery(i: &IncidentRow, r: &RecipientRow) -> Option<Duration> {
    r.mail_sent_at_ms
        .map(|sent| Duration::from_millis(u64::try_from(sent - i.recorded_at_ms).unwrap_or(0)))
}

/// The summary of `recipients`' delivery.
pub fn summarise(i: &IncidentRow, recipients: &[RecipientRow]) -> DeliverySummary {
    let notified: Vec<&RecipientRow> = recipients.iter().filter(|r| r.notified).collect();
    let mut times: Vec<Duration> = notified
        .iter()
        .filter_map(|r| time_to_delivery(i, r))
        .collect();
    times.sort();
    let median = match times.len() {
        0 => None,
        n if n % 2 == 1 => Some(times[n / 2]),
        n => Some((times[n / 2 - 1] + times[n / 2]) / 2),
    };
    DeliverySummary {
        recipients: notified.len(),
        delivered: times.len(),
        median,
        max: times.last().copied(),
        acknowledged: recipients
            .iter()
            .filter(|r| r.acknowledged_at_ms.is_some())
            .count(),
    }
}

/// The incident's delivery and acknowledgement status. An unknown id is an error.
pub async fn status(store: &dyn Store, id: Uuid) -> anyhow::Result<IncidentStatus> {
    let incident = store
        .incident(id)
        .await
        .context("reading the incident")?
        .ok_or_else(|| anyhow::anyhow!("there is no incident {id}"))?;
    let practices = store.incident_practices(id).await?;
    let recipients = store.incident_recipients(id).await?;
    let summary = summarise(&incident, &recipients);
    Ok(IncidentStatus {
        incident,
        practices,
        recipients,
        summary,
    })
}

fn ms_time(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn seconds(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// The status as the operator reads it: the incident, one line per recipient, and the
/// summary.
pub fn render_status(s: &IncidentStatus) -> String {
    let i = &s.incident;
    let mut out = format!(
        "incident {}: {}\nrecorded {} by {}; affects {} practice(s)\n\n",
        i.id,
        i.title,
        ms_time(i.recorded_at_ms),
        i.recorded_by,
        s.practices.len()
    );
    out.push_str(
        "recipient\tpractice\tnotice created\temail sent\ttime to delivery\tacknowledged\n",
    );
    for r in &s.recipients {
        let notice = r.notice_created_at.map_or_else(|| "-".to_owned(), rfc3339);
        let sent = match (r.mail_sent_at_ms, r.mail_id) {
            (Some(ms), _) => ms_time(ms),
            (None, Some(_)) => match &r.mail_error {
                Some(e) => format!("pending ({} attempts; last: {e})", r.mail_attempts),
                None => "pending".to_owned(),
            },
            (None, None) if r.notified => "no email".to_owned(),
            (None, None) => "not notified (joined later)".to_owned(),
        };
        let delivery = time_to_delivery(i, r).map_or_else(|| "-".to_owned(), seconds);
        let ack = r.acknowledged_at_ms.map_or_else(|| "-".to_owned(), ms_time);
        out.push_str(&format!(
            "{} ({})\t{}\t{notice}\t{sent}\t{delivery}\t{ack}\n",
            r.email, r.display_name, r.practice.0
        ));
    }
    let sum = &s.summary;
    out.push_str(&format!(
        "\nrecipients: {}, delivered: {}, median time to delivery: {}, max: {}, \
         acknowledged: {}\n",
        sum.recipients,
        sum.delivered,
        sum.median.map_or_else(|| "-".to_owned(), seconds),
        sum.max.map_or_else(|| "-".to_owned(), seconds),
        sum.acknowledged
    ));
    out
}

fn wire(row: MemberIncidentRow) -> MemberIncident {
    let i = row.incident;
    MemberIncident {
        id: i.id,
        title: i.title,
        description: i.description,
        occurred_at: i.occurred_at.map(rfc3339),
        detected_at: rfc3339(i.detected_at),
        data_kinds: i.data_kinds,
        steps_taken: i.steps_taken,
        recommendations: i.recommendations,
        contact: i.contact,
        regulator: RegulatorReport {
            notified: i.regulator_notified,
            regulator: i.regulator,
            notified_at: i.regulator_notified_at.map(rfc3339),
        },
        recorded_by: i.recorded_by,
        recorded_at: ms_time(i.recorded_at_ms),
        notice_created_at: row.notice_created_at.map(rfc3339),
        email_delivered_at: row.mail_sent_at_ms.map(ms_time),
        acknowledged_at: row.acknowledged_at_ms.map(ms_time),
    }
}

/// The incidents that affect the member's own practice, newest first, with every
/// statutory field and the member's own notice, email delivery and acknowledgement.
#[utoipa::path(
    get,
    path = "/v1/me/incidents",
    tag = "incidents",
    security(("session" = [])),
    responses(
        (status = 200, description = "The incidents that affect the member's practice",
         body = [MemberIncident]),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn my_incidents(
    principal: Principal,
    State(state): State<AppState>,
) -> Result<Json<Vec<MemberIncident>>, ApiError> {
    let rows = state
        .store
        .member_incidents(principal.practice_id, principal.user_id)
        .await?;
    Ok(Json(rows.into_iter().map(wire).collect()))
}

fn incident_id(id: Result<Path<String>, PathRejection>) -> Result<Uuid, ApiError> {
    id.ok()
        .and_then(|Path(id)| id.parse().ok())
        .ok_or_else(no_such_incident)
}

fn no_such_incident() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        ProblemCode::NotFound,
        "no such incident affects your practice",
    )
}

/// Records that the member read the breach notice (the first time counts, and is audited
/// as `incident_acknowledged`; again changes nothing). Answers the incident as the member
/// now sees it.
#[utoipa::path(
    post,
    path = "/v1/me/incidents/{id}/acknowledge",
    tag = "incidents",
    params(("id" = Uuid, Path, description = "The incident's id")),
    security(("session" = [])),
    responses(
        (status = 200, description = "Acknowledged", body = MemberIncident),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 404, description = "No such incident affects the member's practice \
         (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn acknowledge(
    principal: Principal,
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<MemberIncident>, ApiError> {
    let id = incident_id(id)?;
    match state
        .store
        .acknowledge_incident(principal.practice_id, principal.user_id, id, now_ms())
        .await
    {
        Ok(_) => {}
        Err(StoreError::NotFound) => return Err(no_such_incident()),
        Err(e) => return Err(e.into()),
    }
    state
        .store
        .member_incidents(principal.practice_id, principal.user_id)
        .await?
        .into_iter()
        .find(|r| r.incident.id == id)
        .map(|r| Json(wire(r)))
        .ok_or_else(no_such_incident)
}

/// Every member of the practice and the incident's notice to them: whether they were
/// notified, when their email left, when they acknowledged it. Admins only.
#[utoipa::path(
    get,
    path = "/v1/practice/incidents/{id}/acknowledgements",
    tag = "incidents",
    params(("id" = Uuid, Path, description = "The incident's id")),
    security(("session" = [])),
    responses(
        (status = 200, description = "Each member's delivery and acknowledgement",
         body = IncidentAcknowledgements),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "Not an admin of the practice (`forbidden`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident affects the practice (`not_found`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn acknowledgements(
    Admin(principal): Admin,
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<IncidentAcknowledgements>, ApiError> {
    let id = incident_id(id)?;
    let rows = match state
        .store
        .practice_incident_recipients(principal.practice_id, id)
        .await
    {
        Ok(rows) => rows,
        Err(StoreError::NotFound) => return Err(no_such_incident()),
        Err(e) => return Err(e.into()),
    };
    let members: Vec<IncidentAcknowledgement> = rows
        .into_iter()
        .map(|r| IncidentAcknowledgement {
            member_id: r.user.0,
            display_name: r.display_name,
            email: r.email,
            notified: r.notified,
            email_delivered_at: r.mail_sent_at_ms.map(ms_time),
            acknowledged_at: r.acknowledged_at_ms.map(ms_time),
        })
        .collect();
    let acknowledged = members
        .iter()
        .filter(|m| m.acknowledged_at.is_some())
        .count();
    Ok(Json(IncidentAcknowledgements {
        incident_id: id,
        acknowledged: u32::try_from(acknowledged).unwrap_or(u32::MAX),
        members,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW_MS: i64 = 1_795_900_000_000;

    fn file() -> serde_json::Value {
        serde_json::json!({
            "title": "Support mailbox accessed",
            "description": "Someone signed in to a support mailbox with a stolen password.",
            "occurred_at": "2026-11-20T22:10:00Z",
            "detected_at": "2026-11-21T08:30:00Z",
            "data_kinds": ["names", "email addresses"],
            "practices": [Uuid::new_v4()],
            "steps_taken": "The password was changed and the sessions ended.",
            "recommendations": "Watch for emails that ask for payment details.",
            "contact": "privacy@strongroom.example",
            "regulator_notified": true,
            "regulator": "Office of the Australian Information Commissioner",
            "regulator_notified_at": "2026-11-21T12:00:00Z",
            "recorded_by": "Operations"
        })
    }

    fn refused(v: &serde_json::Value) -> String {
        let bytes = serde_json::to_vec(v).unwrap();
        format!("{:#}", check_incident_file(&bytes, NOW_MS).unwrap_err())
    }

    #[test]
    fn a_good_file_passes_and_each_bad_field_is_named() {
        let ok = check_incident_file(&serde_json::to_vec(&file()).unwrap(), NOW_MS).unwrap();
        assert_eq!(ok.incident.data_kinds, ["names", "email addresses"]);
        assert_eq!(ok.practices.len(), 1);
        let cases: Vec<(&str, serde_json::Value, &str)> = vec![
            (
                "title",
                serde_json::json!("  "),
                "`title` must not be empty",
            ),
            (
                "title",
                serde_json::json!("a\nb"),
                "`title` holds a control character",
            ),
            (
                "detected_at",
                serde_json::json!("yesterday"),
                "`detected_at` is not an RFC 3339",
            ),
            (
                "detected_at",
                serde_json::json!("2099-01-01T00:00:00Z"),
                "in the future",
            ),
            (
                "occurred_at",
                serde_json::json!("2026-11-22T00:00:00Z"),
                "is after `detected_at`",
            ),
            (
                "data_kinds",
                serde_json::json!([]),
                "`data_kinds` must name at least one",
            ),
            (
                "data_kinds",
                serde_json::json!(["a", "A"]),
                "names \"A\" twice",
            ),
            (
                "practices",
                serde_json::json!([]),
                "`practices` must name at least one",
            ),
            (
                "practices",
                serde_json::json!(["nope"]),
                "`practices[0]` is not a practice id",
            ),
            (
                "contact",
                serde_json::json!(""),
                "`contact` must not be empty",
            ),
            (
                "regulator",
                serde_json::Value::Null,
                "`regulator` must name the regulator",
            ),
        ];
        for (field, value, want) in cases {
            let mut f = file();
            f[field] = value;
            let got = refused(&f);
            assert!(got.contains(want), "{field}: {got}");
        }
        let mut f = file();
        f["regulator_notified"] = serde_json::json!(false);
        assert!(refused(&f).contains("only for a regulator that was notified"));
        let mut f = file();
        f["extra"] = serde_json::json!(1);
        assert!(refused(&f).contains("unknown field `extra`"));
        let mut f = file();
        f.as_object_mut().unwrap().remove("contact");
        assert!(refused(&f).contains("missing field `contact`"));
        for (bytes, want) in [
            (&b""[..], "is empty"),
            (&b"\xff\xfe"[..], "not UTF-8"),
            (&b"{\"title\": "[..], "not a valid incident"),
            (&b"[1, 2]"[..], "not a valid incident"),
        ] {
            let got = format!("{:#}", check_incident_file(bytes, NOW_MS).unwrap_err());
            assert!(got.contains(want), "{got}");
        }
        let big = vec![b' '; (MAX_FILE_BYTES + 1) as usize];
        assert!(format!("{}", check_incident_file(&big, NOW_MS).unwrap_err()).contains("1 MiB"));
    }

    #[test]
    fn the_notice_carries_every_statutory_field() {
        let new = check_incident_file(&serde_json::to_vec(&file()).unwrap(), NOW_MS).unwrap();
        let n = notice_for(&new.incident);
        assert_eq!(n.title, "Data breach notice: Support mailbox accessed");
        for want in [
            "stolen password",
            "2026-11-20T22:10:00Z",
            "2026-11-21T08:30:00Z",
            "- names",
            "- email addresses",
            "sessions ended",
            "payment details",
            "privacy@strongroom.example",
            "We notified Office of the Australian Information Commissioner on 2026-11-21T12:00:00Z",
            "Recorded by Operations",
        ] {
            assert!(n.body.contains(want), "{want} not in {}", n.body);
        }
        assert!(essential_broadcast(Category::BreachNotices, &n).is_ok());
    }

    #[test]
    fn the_median_and_max_are_over_delivered_emails() {
        let new = check_incident_file(&serde_json::to_vec(&file()).unwrap(), NOW_MS).unwrap();
        let r = |sent: Option<i64>, notified: bool, ack: Option<i64>| RecipientRow {
            user: crate::store::UserId(Uuid::new_v4()),
            practice: new.practices[0],
            display_name: "M".into(),
            email: "m@x.example".into(),
            inactive: false,
            notified,
            notice_created_at: Some(0),
            mail_id: Some(1),
            mail_sent_at_ms: sent.map(|s| NOW_MS + s),
            mail_attempts: 1,
            mail_error: None,
            acknowledged_at_ms: ack,
        };
        let rows = [
            r(Some(1000), true, None),
            r(Some(3000), true, Some(5)),
            r(None, true, None),
            r(Some(2000), true, None),
            r(None, false, Some(9)),
        ];
        let s = summarise(&new.incident, &rows);
        assert_eq!((s.recipients, s.delivered, s.acknowledged), (4, 3, 2));
        assert_eq!(s.median, Some(Duration::from_secs(2)));
        assert_eq!(s.max, Some(Duration::from_secs(3)));
    }
}
