//! Wire types of the Strongroom sync protocol, shared by the desktop client and the hosted
//! service. Everything that crosses the network is defined here, once, with serde.
//!
//! The protocol is versioned by [`PROTOCOL_VERSION`]; a client sends it in the
//! [`PROTOCOL_HEADER`] header and the server refuses a version it cannot speak with
//! [`ProblemCode::IncompatibleProtocol`].

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// Header carrying the client's protocol version on every request.
pub const PROTOCOL_HEADER: &str = "strongroom-protocol";

/// The largest page of changes a client may ask for in one pull.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// `GET /v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub protocol_version: u32,
}

/// `POST /v1/auth/sign-in` request body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignInRequest {
    pub email: String,
    pub password: String,
    /// A human name of the device, shown in the sessions list.
    pub device_name: String,
}

/// `POST /v1/auth/sign-in` answer: an opaque bearer token and who it belongs to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignInResponse {
    pub token: String,
    pub user: UserInfo,
    pub practice: PracticeInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeInfo {
    pub id: Uuid,
    pub name: String,
}

/// The status of a matter, as practice tools keep it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatterStatus {
    Open,
    OnHold,
    Closed,
}

impl MatterStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MatterStatus::Open => "open",
            MatterStatus::OnHold => "on_hold",
            MatterStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(MatterStatus::Open),
            "on_hold" => Some(MatterStatus::OnHold),
            "closed" => Some(MatterStatus::Closed),
            _ => None,
        }
    }
}

/// A matter as the wire carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matter {
    pub id: Uuid,
    /// The practice's own reference, e.g. `HV-2026-0142`.
    pub number: String,
    pub title: String,
    pub matter_type: String,
    pub status: MatterStatus,
    pub client_name: String,
    pub responsible: String,
    /// Calendar date the matter was opened, ISO 8601 (`YYYY-MM-DD`).
    pub opened_on: String,
}

/// One change in the practice's feed: the record as of server sequence `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The practice's sequence number, assigned by the server in the write's transaction.
    pub seq: i64,
    /// The record's version, incremented on every write.
    pub version: i64,
    #[serde(flatten)]
    pub record: ChangeRecord,
}

/// The record a change carries, by kind. A deletion carries only the id (a tombstone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeRecord {
    Matter { matter: Matter },
    MatterDeleted { id: Uuid },
}

/// `GET /v1/sync/changes?after=N&limit=M` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangesPage {
    pub changes: Vec<Change>,
    /// The cursor to ask after next time: the `seq` of the last change in this page, or
    /// the request's `after` when the page is empty.
    pub cursor: i64,
    /// Whether more changes wait after `cursor`.
    pub has_more: bool,
}

/// Machine-readable codes carried in problem details (RFC 9457) answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    BadRequest,
    InvalidCredentials,
    Unauthenticated,
    NotFound,
    IncompatibleProtocol,
    RateLimited,
    Internal,
}

/// An RFC 9457 problem details body (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub code: ProblemCode,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_wire_shape_is_flat_and_tagged() {
        let id = Uuid::nil();
        let c = Change {
            seq: 7,
            version: 2,
            record: ChangeRecord::MatterDeleted { id },
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["kind"], "matter_deleted");
        assert_eq!(v["seq"], 7);
        let back: Change = serde_json::from_value(v).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn unknown_kind_is_an_error_not_a_panic() {
        let bad = r#"{"seq":1,"version":1,"kind":"spaceship","id":"00000000-0000-0000-0000-000000000000"}"#;
        assert!(serde_json::from_str::<Change>(bad).is_err());
    }

    #[test]
    fn status_round_trips() {
        for s in [
            MatterStatus::Open,
            MatterStatus::OnHold,
            MatterStatus::Closed,
        ] {
            assert_eq!(MatterStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(MatterStatus::parse("nope"), None);
    }
}
