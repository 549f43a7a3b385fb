//! The aggregated usage report (promise 12's usage data): per week, over every practice
//! that takes part, how many members signed in and how many sign-ins there were. An
//! admin sees exactly what would leave at `GET /v1/practice/usage-report/preview`; the
//! service sends nothing else.
//!
//! Only the usage of members whose latest consent record allows analytics is counted: a
//! member who rejected analytics, or whose record came from Global Privacy Control, is not,
//! and a practice with no such member takes no part.
//!
//! Invariant: no aggregate covers fewer than [`MIN_GROUP_PRACTICES`] practices: a week with
//! fewer is suppressed (named, with no figure), never emitted. Test:
//! `usage_aggregates_never_cover_fewer_than_five_practices`, and this module's tests.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::State;
use strongroom_protocol::Problem;
use strongroom_protocol::consent::{MIN_GROUP_PRACTICES, UsageBucket, UsageReport};

use crate::api::{ApiError, AppState, ProtocolHeader, unix_now};
use crate::members::Admin;
use crate::sessions::rfc3339;
use crate::store::PracticeId;
use crate::store::consent::UsageEvent;

/// How many weeks the report covers, the current one included.
pub const REPORT_WEEKS: i64 = 4;

const WEEK_SECS: i64 = 7 * 24 * 3600;
/// 1970-01-05, the first Monday after the Unix epoch.
const FIRST_MONDAY: i64 = 4 * 24 * 3600;

/// The unix time the week holding `t` starts (Monday 00:00 UTC).
pub fn week_start(t: i64) -> i64 {
    FIRST_MONDAY + (t - FIRST_MONDAY).div_euclid(WEEK_SECS) * WEEK_SECS
}

fn date(t: i64) -> String {
    rfc3339(t).chars().take(10).collect()
}

/// The report over `events`: per week, sums over the practices with any event in it,
/// emitted only when they are at least [`MIN_GROUP_PRACTICES`]. `this` is the practice
/// that asks.
pub fn aggregate(events: &[UsageEvent], now: i64, this: PracticeId) -> UsageReport {
    let first = week_start(now) - (REPORT_WEEKS - 1) * WEEK_SECS;
    let mut weeks: BTreeMap<i64, Vec<&UsageEvent>> = (0..REPORT_WEEKS)
        .map(|i| (first + i * WEEK_SECS, Vec::new()))
        .collect();
    for e in events {
        if let Some(week) = weeks.get_mut(&week_start(e.at)) {
            week.push(e);
        }
    }
    let mut buckets = Vec::new();
    let mut suppressed_weeks = Vec::new();
    for (start, in_week) in &weeks {
        let practices: BTreeSet<_> = in_week.iter().map(|e| e.practice.0).collect();
        let Ok(count) = u32::try_from(practices.len()) else {
            continue;
        };
        if count < MIN_GROUP_PRACTICES {
            suppressed_weeks.push(date(*start));
            continue;
        }
        let members: BTreeSet<_> = in_week.iter().map(|e| (e.practice.0, e.user.0)).collect();
        buckets.push(UsageBucket {
            week_start: date(*start),
            practices: count,
            active_members: members.len() as u64,
            sign_ins: in_week.len() as u64,
        });
    }
    UsageReport {
        generated_at: rfc3339(now),
        min_group_practices: MIN_GROUP_PRACTICES,
        buckets,
        suppressed_weeks,
        this_practice_counted: events.iter().any(|e| e.practice == this && e.at >= first),
    }
}

/// Exactly what the aggregated usage report would send: weeks summed over at least five
/// practices (fewer: suppressed), counting only members who allow analytics. Admins only.
#[utoipa::path(
    get,
    path = "/v1/practice/usage-report/preview",
    tag = "consent",
    params(ProtocolHeader),
    security(("session" = [])),
    responses(
        (status = 200, description = "The report as it would leave", body = UsageReport),
        (status = 400, description = "A protocol version this service does not speak \
         (`incompatible_protocol`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin of the practice (`forbidden`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn usage_report_preview(
    Admin(principal): Admin,
    State(state): State<AppState>,
) -> Result<Json<UsageReport>, ApiError> {
    let now = unix_now();
    let since = week_start(now) - (REPORT_WEEKS - 1) * WEEK_SECS;
    let events = state.store.usage_events(since).await?;
    Ok(Json(aggregate(&events, now, principal.practice_id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::UserId;
    use uuid::Uuid;

    #[test]
    fn weeks_start_on_monday() {
        // 2026-11-28 is a Saturday; its week began on Monday 2026-11-23.
        let sat = 1_795_867_200; // 2026-11-28T12:00:00Z
        assert_eq!(date(week_start(sat)), "2026-11-23");
        assert_eq!(week_start(week_start(sat)), week_start(sat));
        assert_eq!(date(week_start(FIRST_MONDAY - 1)), "1969-12-29");
    }

    /// Random groups of practices: no emitted bucket covers fewer than five, and every
    /// week with five or more is emitted with exact sums.
    #[test]
    fn no_bucket_covers_fewer_than_five_practices() {
        let now = 1_795_867_200;
        let practices: Vec<PracticeId> = (0..9).map(|_| PracticeId(Uuid::new_v4())).collect();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..200 {
            let mut events = Vec::new();
            for p in &practices {
                let users: Vec<UserId> = (0..1 + next() % 3)
                    .map(|_| UserId(Uuid::new_v4()))
                    .collect();
                for _ in 0..next() % 4 {
                    let back = (next() % (5 * 7 * 24 * 3600)) as i64;
                    let u = users[(next() % users.len() as u64) as usize];
                    events.push(UsageEvent {
                        practice: *p,
                        user: u,
                        at: now - back,
                    });
                }
            }
            let report = aggregate(&events, now, practices[0]);
            let mut seen_weeks = BTreeSet::new();
            for b in &report.buckets {
                assert!(b.practices >= MIN_GROUP_PRACTICES, "{b:?}");
                let in_week: Vec<_> = events
                    .iter()
                    .filter(|e| date(week_start(e.at)) == b.week_start)
                    .collect();
                assert_eq!(b.sign_ins, in_week.len() as u64);
                let ps: BTreeSet<_> = in_week.iter().map(|e| e.practice.0).collect();
                assert_eq!(b.practices as usize, ps.len());
                seen_weeks.insert(b.week_start.clone());
            }
            for w in &report.suppressed_weeks {
                assert!(!seen_weeks.contains(w));
            }
            assert_eq!(
                report.buckets.len() + report.suppressed_weeks.len(),
                REPORT_WEEKS as usize
            );
        }
    }
}
