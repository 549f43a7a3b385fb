//! Wire types of the privacy dashboard's service side: what a device reports holding
//! offline, revoking every other session, and the dormant-credential access review.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Invitation, Member};

/// What a device holds offline, as it reports after each sync
/// (`POST /v1/sessions/holdings`) and as its session lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeviceHoldings {
    /// Matters in its offline copy.
    #[cfg_attr(feature = "openapi", schema(maximum = 1_099_511_627_776_u64))]
    pub matters: u64,
    /// Records of every kind in its offline copy.
    #[cfg_attr(feature = "openapi", schema(maximum = 1_099_511_627_776_u64))]
    pub records: u64,
    /// When its last sync completed: RFC 3339, UTC.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub last_sync_at: String,
}

/// `POST /v1/sessions/revoke-others` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevokedSessions {
    /// How many sessions were ended.
    pub revoked: u32,
}

/// The longest dormancy an access review may ask about, in days.
pub const MAX_DORMANT_DAYS: u32 = 3650;
/// The dormancy an access review uses when none is given, in days.
pub const DEFAULT_DORMANT_DAYS: u32 = 60;

/// A member flagged by an access review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DormantMember {
    pub member: Member,
    /// Whole days since the last sign-in; none: never signed in.
    pub days_idle: Option<u32>,
}

/// A completed access review, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewRecord {
    pub id: Uuid,
    /// RFC 3339, UTC.
    pub completed_at: String,
    pub by: Uuid,
    pub by_name: String,
    pub dormant_days: u32,
    /// Members disabled by the review.
    pub disabled: Vec<Uuid>,
    /// Invitations withdrawn by the review.
    pub invitations_revoked: Vec<Uuid>,
}

/// `GET /v1/members/review?dormant_days=N`: who holds credentials they no longer use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessReview {
    pub dormant_days: u32,
    /// RFC 3339, UTC.
    pub generated_at: String,
    /// Enabled members with no sign-in within `dormant_days` (or never, when they joined
    /// longer ago than that).
    pub dormant: Vec<DormantMember>,
    /// Invitations never used: still pending after `dormant_days`, or expired unused.
    pub unused_invitations: Vec<Invitation>,
    /// The practice's last completed review.
    pub last_review: Option<ReviewRecord>,
}

/// `POST /v1/members/review`: completes a review. The named members are disabled (their
/// sessions end), the named invitations withdrawn, and the review is recorded even when
/// it changes nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompleteReview {
    /// 1 to 3650.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 3650))]
    pub dormant_days: u32,
    #[serde(default)]
    pub disable: Vec<Uuid>,
    #[serde(default)]
    pub revoke_invitations: Vec<Uuid>,
}
