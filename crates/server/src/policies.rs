//! Policy updates (promise 11: policy changes are communicated; promise 12: the terms
//! prevail, and both are versioned side by side): versions of the privacy policy and the
//! terms of use, each with a label unique per kind, when it was published, a summary of
//! what changed and its full text (Markdown).
//!
//! The first version of each ([`SEED`], the texts in `crates/server/policies/`) is stored
//! when the store is opened and the kind has none yet ([`seed`]); its label is the
//! consent records' policy version from before policies were versioned
//! ([`crate::consent::POLICY_VERSION`]), so records made then name a version that exists.
//! The operator publishes a new one with `strongroom-server policy publish --kind privacy
//! --version 2026-12 --summary "..." --file policy.md` ([`publish`]): in one store
//! transaction the version is stored and every enabled member of every practice is
//! notified (category `policy_changes`, essential: email and in-app).
//!
//! Routes: `GET /v1/policies` (the current version of each kind, no sign-in),
//! `GET /v1/policies/{kind}/{version}` (a version's text, no sign-in), `GET /v1/me/policies`
//! (per kind: the current version, the one the member last acknowledged, and the change
//! between them as a line diff computed here, [`diff`]), `POST /v1/me/policies/{kind}/acknowledge`
//! (`{"version": ...}`: the current version only, else 409 `policy_version_not_current`;
//! idempotent; the first time audited as `policy_acknowledged`).
//!
//! Invariant: a member acknowledges only the current version, checked in the transaction
//! that records it.
//! Invariant: the diff is computed by the service from the stored texts; the client shows
//! it as it is.

use anyhow::Context;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use similar::{ChangeTag, TextDiff};
use strongroom_protocol::notifications::Category;
use strongroom_protocol::policies::{
    DIFF_CONTEXT, DiffHunk, DiffLine, DiffTag, MemberPolicy, PolicyAcknowledgement, PolicyDiff,
    PolicyDocument, PolicyKind, PolicySummary,
};
use strongroom_protocol::{Problem, ProblemCode};

use crate::api::{ApiError, AppState, unix_now};
use crate::notifications::{Notification, essential_broadcast};
use crate::sessions::rfc3339;
use crate::store::policies::{PolicyAck, PolicyRow};
use crate::store::{Principal, Store, StoreError};

/// The longest version label, summary and text.
pub const MAX_VERSION_CHARS: usize = 40;
pub const MAX_SUMMARY_CHARS: usize = 1000;
pub const MAX_TEXT_BYTES: usize = 512 * 1024;

/// When the first versions were published (2026-11-28T00:00:00Z).
const SEED_PUBLISHED_AT: i64 = 1_795_824_000;

/// The first version of each kind: (kind, summary, text).
pub const SEED: [(PolicyKind, &str, &str); 2] = [
    (
        PolicyKind::Privacy,
        "The first published version of Strongroom's privacy policy.",
        include_str!("../policies/privacy-2026-11-28.md"),
    ),
    (
        PolicyKind::Terms,
        "The first published version of Strongroom's terms of use.",
        include_str!("../policies/terms-2026-11-28.md"),
    ),
];

/// Stores the first version of each kind that has none yet (see the module's
/// documentation). Run whenever a store is opened; it notifies nobody.
pub async fn seed(store: &dyn Store) -> anyhow::Result<()> {
    for (kind, summary, text) in SEED {
        store
            .seed_policy(PolicyRow {
                kind,
                version: crate::consent::POLICY_VERSION.to_owned(),
                published_at: SEED_PUBLISHED_AT,
                summary: summary.to_owned(),
                text: text.to_owned(),
            })
            .await
            .with_context(|| format!("storing the first version of {}", kind.describe()))?;
    }
    Ok(())
}

/// The current privacy policy's version label (what a consent record names), or the
/// first version's when the store holds none.
pub async fn current_privacy_version(store: &dyn Store) -> Result<String, StoreError> {
    Ok(store
        .current_policies()
        .await?
        .into_iter()
        .find(|p| p.kind == PolicyKind::Privacy)
        .map_or_else(|| crate::consent::POLICY_VERSION.to_owned(), |p| p.version))
}

/// Checks a version label: 1 to 40 characters of letters, digits, `.`, `-` and `_`.
pub fn check_version(version: &str) -> anyhow::Result<()> {
    let ok = !version.is_empty()
        && version.chars().count() <= MAX_VERSION_CHARS
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        // A label made only of dots could never be fetched as one path segment.
        && !version.chars().all(|c| c == '.');
    if !ok {
        anyhow::bail!(
            "--version must be 1 to {MAX_VERSION_CHARS} letters, digits, '.', '-' or '_', \
             not dots alone (such as 2026-12)"
        );
    }
    Ok(())
}

/// Checks what is to be published; answers the summary and the text, trimmed.
pub fn check_publication(
    version: &str,
    summary: &str,
    text: &[u8],
) -> anyhow::Result<(String, String)> {
    check_version(version)?;
    let summary = summary.trim();
    if summary.is_empty() || summary.chars().count() > MAX_SUMMARY_CHARS {
        anyhow::bail!("--summary must be 1 to {MAX_SUMMARY_CHARS} characters");
    }
    if summary.chars().any(|c| c.is_control() && c != '\n') {
        anyhow::bail!("--summary holds a control character");
    }
    if text.len() > MAX_TEXT_BYTES {
        anyhow::bail!(
            "the policy file is larger than {} KiB",
            MAX_TEXT_BYTES / 1024
        );
    }
    let text = std::str::from_utf8(text).map_err(|e| {
        anyhow::anyhow!(
            "the policy file is not UTF-8 text (bad byte at offset {})",
            e.valid_up_to()
        )
    })?;
    if text.trim().is_empty() {
        anyhow::bail!("the policy file is empty");
    }
    Ok((summary.to_owned(), text.trim_end().to_owned() + "\n"))
}

/// The notice of a new version.
pub fn notice_for(p: &PolicyRow) -> Notification {
    let what = match p.kind {
        PolicyKind::Privacy => "privacy policy",
        PolicyKind::Terms => "terms of use",
    };
    Notification {
        title: format!("Strongroom's {what} has changed (version {})", p.version),
        body: format!(
            "We have published version {} of Strongroom's {what}, on {}.\n\n\
             WHAT CHANGED\n{}\n\n\
             Read the new version, with every change since the version you last \
             acknowledged marked, in Strongroom (Privacy & access, Policies), and \
             acknowledge it there.",
            p.version,
            rfc3339(p.published_at),
            p.summary
        ),
    }
}

/// Publishes a version and notifies every enabled member of every practice (see the
/// module's documentation); answers how many were notified. A label the kind has already
/// is refused, and nothing is written.
pub async fn publish(
    store: &dyn Store,
    kind: PolicyKind,
    version: &str,
    summary: &str,
    text: &[u8],
) -> anyhow::Result<u64> {
    let (summary, text) = check_publication(version, summary, text)?;
    let policy = PolicyRow {
        kind,
        version: version.to_owned(),
        published_at: unix_now(),
        summary,
        text,
    };
    let message = essential_broadcast(Category::PolicyChanges, &notice_for(&policy))
        .map_err(|e| anyhow::anyhow!("the notice cannot be sent: {e}"))?;
    match store.publish_policy(policy, message).await {
        Ok(n) => Ok(n),
        Err(StoreError::Conflict(_)) => Err(anyhow::anyhow!(
            "{} has a version {version} already; publish under a new version",
            kind.describe()
        )),
        Err(e) => Err(e).context("publishing the version"),
    }
}

fn line_number(i: Option<usize>) -> Option<u32> {
    i.and_then(|i| u32::try_from(i + 1).ok())
}

/// The line diff from `old` (none: an empty document) to `new`: hunks of changed lines
/// with [`DIFF_CONTEXT`] unchanged lines either side, numbered as a unified diff numbers
/// them.
pub fn diff(from_version: Option<&str>, old: &str, to_version: &str, new: &str) -> PolicyDiff {
    let d = TextDiff::from_lines(old, new);
    let (mut inserted, mut deleted) = (0u32, 0u32);
    let mut hunks = Vec::new();
    for group in d.grouped_ops(DIFF_CONTEXT) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        let mut lines = Vec::new();
        for op in &group {
            for change in d.iter_changes(op) {
                let tag = match change.tag() {
                    ChangeTag::Equal => DiffTag::Equal,
                    ChangeTag::Insert => {
                        inserted += 1;
                        DiffTag::Insert
                    }
                    ChangeTag::Delete => {
                        deleted += 1;
                        DiffTag::Delete
                    }
                };
                lines.push(DiffLine {
                    tag,
                    old_line: line_number(change.old_index()),
                    new_line: line_number(change.new_index()),
                    text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
                });
            }
        }
        let count = |r: &std::ops::Range<usize>| u32::try_from(r.len()).unwrap_or(u32::MAX);
        // As a unified diff: an empty side starts at the line before it.
        let start = |r: &std::ops::Range<usize>| {
            u32::try_from(if r.is_empty() { r.start } else { r.start + 1 }).unwrap_or(u32::MAX)
        };
        hunks.push(DiffHunk {
            old_start: start(&old_range),
            old_lines: count(&old_range),
            new_start: start(&new_range),
            new_lines: count(&new_range),
            lines,
        });
    }
    PolicyDiff {
        from_version: from_version.map(str::to_owned),
        to_version: to_version.to_owned(),
        hunks,
        inserted,
        deleted,
    }
}

fn summary_wire(p: &PolicyRow) -> PolicySummary {
    PolicySummary {
        kind: p.kind,
        version: p.version.clone(),
        published_at: rfc3339(p.published_at),
        summary: p.summary.clone(),
    }
}

/// The current version of each document (without its text). No sign-in needed.
#[utoipa::path(
    get,
    path = "/v1/policies",
    tag = "policies",
    responses(
        (status = 200, description = "The current version of each kind", body = [PolicySummary]),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn current(State(state): State<AppState>) -> Result<Json<Vec<PolicySummary>>, ApiError> {
    let rows = state.store.current_policies().await?;
    Ok(Json(rows.iter().map(summary_wire).collect()))
}

fn no_such_version() -> ApiError {
    ApiError::not_found("no such policy version")
}

/// A version of a document with its full text (Markdown). No sign-in needed.
#[utoipa::path(
    get,
    path = "/v1/policies/{kind}/{version}",
    tag = "policies",
    params(
        ("kind" = PolicyKind, Path, description = "`privacy` or `terms`"),
        ("version" = String, Path, description = "The version's label"),
    ),
    responses(
        (status = 200, description = "The version", body = PolicyDocument),
        (status = 400, description = "No such kind: `privacy` or `terms` (`bad_request`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version (`not_found`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn version(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<PolicyDocument>, ApiError> {
    let Path((kind, version)) = path.map_err(|_| no_such_version())?;
    let kind = PolicyKind::parse(&kind)
        .ok_or_else(|| ApiError::bad_request("there are two policies: privacy and terms"))?;
    if check_version(&version).is_err() {
        return Err(no_such_version());
    }
    let (row, current) = state
        .store
        .policy_version(kind, &version)
        .await?
        .ok_or_else(no_such_version)?;
    Ok(Json(PolicyDocument {
        summary: summary_wire(&row),
        text: row.text,
        current,
    }))
}

/// The member's view of each document: the current version, the version they last
/// acknowledged (none: none yet), and the change between the two as a line diff (against
/// an empty document when they acknowledged none).
#[utoipa::path(
    get,
    path = "/v1/me/policies",
    tag = "policies",
    security(("session" = [])),
    responses(
        (status = 200, description = "Each kind, for the member", body = [MemberPolicy]),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn mine(
    principal: Principal,
    State(state): State<AppState>,
) -> Result<Json<Vec<MemberPolicy>>, ApiError> {
    let current = state.store.current_policies().await?;
    let acked = state.store.acknowledged_policies(principal.user_id).await?;
    let out = current
        .iter()
        .map(|c| {
            let mine = acked.iter().find(|a| a.policy.kind == c.kind);
            let (from, old) = match mine {
                Some(a) => (Some(a.policy.version.as_str()), a.policy.text.as_str()),
                None => (None, ""),
            };
            MemberPolicy {
                kind: c.kind,
                current: summary_wire(c),
                acknowledged_version: mine.map(|a| a.policy.version.clone()),
                acknowledged_at: mine.map(|a| rfc3339(a.acknowledged_at)),
                up_to_date: mine.is_some_and(|a| a.policy.version == c.version),
                diff: diff(from, old, &c.version, &c.text),
            }
        })
        .collect();
    Ok(Json(out))
}

/// Records that the member read the current version of a document (the first time is
/// audited as `policy_acknowledged`; again changes nothing). Any other version is refused
/// with 409 `policy_version_not_current`. Answers the member's view of that kind.
#[utoipa::path(
    post,
    path = "/v1/me/policies/{kind}/acknowledge",
    tag = "policies",
    params(("kind" = PolicyKind, Path, description = "`privacy` or `terms`")),
    request_body(content = PolicyAcknowledgement, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 200, description = "Acknowledged: the member's view of the kind",
         body = MemberPolicy),
        (status = 400, description = "A malformed body (`bad_request`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 404, description = "No such kind (`not_found`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 409, description = "Not the current version \
         (`policy_version_not_current`); nothing was recorded", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn acknowledge(
    principal: Principal,
    State(state): State<AppState>,
    kind: Result<Path<String>, PathRejection>,
    body: Result<Json<PolicyAcknowledgement>, JsonRejection>,
) -> Result<Json<MemberPolicy>, ApiError> {
    let kind = kind
        .ok()
        .and_then(|Path(k)| PolicyKind::parse(&k))
        .ok_or_else(|| ApiError::not_found("no such policy: privacy or terms"))?;
    let Json(ack) = body.map_err(|e| {
        ApiError::bad_request(format!("the body is not understood: {}", e.body_text()))
    })?;
    let version = ack.version.trim();
    let outcome = state
        .store
        .acknowledge_policy(
            principal.practice_id,
            principal.user_id,
            kind,
            version,
            unix_now(),
        )
        .await?;
    if let PolicyAck::NotCurrent { current } = outcome {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ProblemCode::PolicyVersionNotCurrent,
            match current {
                Some(c) => format!(
                    "that is not the current version of {}: the current one is {c}",
                    kind.describe()
                ),
                None => format!("{} has no version yet", kind.describe()),
            },
        ));
    }
    let Json(all) = mine(principal, State(state)).await?;
    all.into_iter()
        .find(|p| p.kind == kind)
        .map(Json)
        .ok_or_else(|| ApiError::not_found("no such policy"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_labels_are_one_path_segment() {
        for good in ["2026-12", "v2", "2026.12.01", "terms_3"] {
            assert!(check_version(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "...",
            "2026/12",
            "a b",
            "ü",
            &"9".repeat(MAX_VERSION_CHARS + 1),
        ] {
            assert!(check_version(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_diff_has_hunks_with_context_and_numbers() {
        let old: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        let new = old
            .replace("line 5\n", "line five\n")
            .replace("line 18\n", "")
            + "line 21\n";
        let d = diff(Some("1"), &old, "2", &new);
        assert_eq!((d.inserted, d.deleted), (2, 2));
        assert_eq!(d.hunks.len(), 2, "{d:#?}");
        let h = &d.hunks[0];
        assert_eq!(
            (h.old_start, h.old_lines, h.new_start, h.new_lines),
            (2, 7, 2, 7)
        );
        assert_eq!(h.lines.len(), 8);
        let del = h.lines.iter().find(|l| l.tag == DiffTag::Delete).unwrap();
        assert_eq!(
            (del.text.as_str(), del.old_line, del.new_line),
            ("line 5", Some(5), None)
        );
        let ins = h.lines.iter().find(|l| l.tag == DiffTag::Insert).unwrap();
        assert_eq!(
            (ins.text.as_str(), ins.old_line, ins.new_line),
            ("line five", None, Some(5))
        );
        assert!(h.lines.iter().filter(|l| l.tag == DiffTag::Equal).count() == 6);
        // Nothing acknowledged: every line is inserted.
        let d = diff(None, "", "2", &new);
        assert_eq!(d.deleted, 0);
        assert_eq!(d.inserted as usize, new.lines().count());
        assert_eq!(d.hunks.len(), 1);
        assert_eq!(d.hunks[0].old_start, 0);
        // The same version: no hunks.
        assert!(diff(Some("2"), &new, "2", &new).hunks.is_empty());
    }

    #[test]
    fn publications_are_checked() {
        assert!(check_publication("2026-12", "Clearer words", b"# Text\n").is_ok());
        for (v, s, t, want) in [
            ("", "s", &b"t"[..], "--version"),
            ("2026 12", "s", b"t", "--version"),
            ("2026-12", " ", b"t", "--summary"),
            ("2026-12", "s", b"  \n", "empty"),
            ("2026-12", "s", b"\xff", "not UTF-8"),
        ] {
            let e = check_publication(v, s, t).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
        for (kind, _, text) in SEED {
            assert!(
                check_publication("2026-11-28", "s", text.as_bytes()).is_ok(),
                "{kind:?}"
            );
        }
    }
}
