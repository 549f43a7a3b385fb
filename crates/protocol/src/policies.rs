//! Wire types of policy updates (promises 11 and 12): the privacy policy and the terms,
//! each in versions (`GET /v1/policies`, `GET /v1/policies/{kind}/{version}`), and a
//! member's view of them (`GET /v1/me/policies`): the current version of each, the one
//! they last acknowledged, and what changed between the two as a line diff computed by
//! the service, to be shown as it is.
//!
//! Invariant: a member acknowledges only the current version of a kind; an older one is
//! refused ([`crate::ProblemCode::PolicyVersionNotCurrent`]).

use serde::{Deserialize, Serialize};

/// Which document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    /// The privacy policy.
    Privacy,
    /// The terms of use. Where the two disagree, the terms prevail.
    Terms,
}

impl PolicyKind {
    pub const ALL: [PolicyKind; 2] = [PolicyKind::Privacy, PolicyKind::Terms];

    /// The stored name, as in paths.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::Privacy => "privacy",
            PolicyKind::Terms => "terms",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// In words: "the privacy policy", "the terms of use".
    pub fn describe(self) -> &'static str {
        match self {
            PolicyKind::Privacy => "the privacy policy",
            PolicyKind::Terms => "the terms of use",
        }
    }
}

/// A version of a document, without its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PolicySummary {
    pub kind: PolicyKind,
    /// The version's label, unique per kind (e.g. `2026-12`).
    pub version: String,
    /// When it was published (RFC 3339, UTC).
    pub published_at: String,
    /// What changed in it, in a few words.
    pub summary: String,
}

/// `GET /v1/policies/{kind}/{version}`: a version with its full text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PolicyDocument {
    #[serde(flatten)]
    pub summary: PolicySummary,
    /// The full text, Markdown.
    pub text: String,
    /// Whether this is the current version of its kind.
    pub current: bool,
}

/// What a diff line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DiffTag {
    /// In both versions (context).
    Equal,
    /// Only in the newer version.
    Insert,
    /// Only in the older version.
    Delete,
}

/// One line of a hunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DiffLine {
    pub tag: DiffTag,
    /// Its number in the older version (from 1); none for an inserted line.
    #[serde(default)]
    pub old_line: Option<u32>,
    /// Its number in the newer version (from 1); none for a deleted line.
    #[serde(default)]
    pub new_line: Option<u32>,
    /// The line's text, without its line ending.
    pub text: String,
}

/// A run of changed lines with up to [`DIFF_CONTEXT`] unchanged lines either side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DiffHunk {
    /// Where the hunk starts in the older version (from 1) and how many of its lines it
    /// covers; in the newer version likewise (as a unified diff's `@@ -a,b +c,d @@`).
    pub old_start: u32,
    pub old_lines: u32,
    pub new_start: u32,
    pub new_lines: u32,
    pub lines: Vec<DiffLine>,
}

/// Unchanged lines shown either side of a change.
pub const DIFF_CONTEXT: usize = 3;

/// What changed from one version to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PolicyDiff {
    /// The older version; none: the member acknowledged no version yet, and the diff is
    /// against an empty document (every line inserted).
    #[serde(default)]
    pub from_version: Option<String>,
    pub to_version: String,
    /// Empty when the two are the same version.
    pub hunks: Vec<DiffHunk>,
    /// Lines inserted and deleted in all.
    pub inserted: u32,
    pub deleted: u32,
}

/// One kind in `GET /v1/me/policies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberPolicy {
    pub kind: PolicyKind,
    pub current: PolicySummary,
    /// The version the member last acknowledged; none: none yet.
    #[serde(default)]
    pub acknowledged_version: Option<String>,
    /// When they acknowledged it.
    #[serde(default)]
    pub acknowledged_at: Option<String>,
    /// Whether the member has acknowledged the current version.
    pub up_to_date: bool,
    /// From the acknowledged version (or nothing) to the current one.
    pub diff: PolicyDiff,
}

/// `POST /v1/me/policies/{kind}/acknowledge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct PolicyAcknowledgement {
    /// The version read: it must be the current one.
    pub version: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in PolicyKind::ALL {
            assert_eq!(PolicyKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::json!(k.as_str())
            );
        }
        assert_eq!(PolicyKind::parse("cookies"), None);
    }
}
