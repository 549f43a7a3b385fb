//! What the core reports to the UI: status, matters, sync results.

use serde::{Deserialize, Serialize};
use strongroom_vault::{HitSource, MatterRow, SearchHit};
use ts_rs::TS;

use crate::ErrorDto;

/// Whether the server answered the last time it was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    #[default]
    Unknown,
    Online,
    Offline,
}

/// Where the vault key comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum KeyMode {
    /// 32 random bytes in the OS keyring: unlocks silently.
    Keyring,
    /// Derived from a passphrase (Argon2id) where no keyring can be had.
    Passphrase,
}

/// The state shown in the status line and used to pick a screen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct AppStatus {
    /// This device holds a vault.
    pub signed_in: bool,
    /// The vault is closed; unlock to use it.
    pub locked: bool,
    pub key_mode: Option<KeyMode>,
    /// Whether the OS keyring answered at start.
    pub keyring_available: bool,
    /// A vault that could not be read was renamed to this path; sign in for a fresh copy.
    pub set_aside: Option<String>,
    pub pending_edits: i64,
    /// Conflicts waiting for this member's decision (one per clash, not per field).
    pub open_conflicts: i64,
    /// Edits the service refused, not yet dismissed.
    pub rejected_edits: i64,
    /// How far the service's clock is ahead of this device's, in seconds, as of the last
    /// answer. Ordering never depends on it; over two minutes either way, the app warns.
    pub clock_skew_secs: Option<i64>,
    pub default_server_url: Option<String>,
    pub server_url: Option<String>,
    pub user_email: Option<String>,
    pub user_name: Option<String>,
    pub practice_name: Option<String>,
    pub connection: Connection,
    pub last_sync_at: Option<String>,
    pub matter_count: i64,
    pub last_error: Option<ErrorDto>,
    /// A sync under way: how far it has come.
    pub sync_progress: Option<SyncProgress>,
}

/// How far a sync under way has come: changes stored of those the service said were
/// waiting when it began, and the size of the answers so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
pub struct SyncProgress {
    /// Changes pulled and stored so far.
    pub done: u64,
    /// Changes waiting when the sync began (unknown until the first answer).
    pub total: Option<u64>,
    /// Bytes of the answers so far, as decoded.
    pub bytes: u64,
}

/// A matter as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct MatterSummary {
    pub id: String,
    pub number: String,
    pub title: String,
    pub matter_type: String,
    #[ts(type = "\"open\" | \"on_hold\" | \"closed\"")]
    pub status: &'static str,
    pub client_name: String,
    pub responsible: String,
    pub opened_on: String,
}

impl From<MatterRow> for MatterSummary {
    fn from(r: MatterRow) -> Self {
        let m = r.matter;
        Self {
            id: m.id.to_string(),
            number: m.number,
            title: m.title,
            matter_type: m.matter_type,
            status: m.status.as_str(),
            client_name: m.client_name,
            responsible: m.responsible,
            opened_on: m.opened_on,
        }
    }
}

/// What one sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
pub struct SyncReport {
    /// Pages of changes pulled, and the changes in them.
    pub pages: usize,
    pub applied: usize,
    /// This device's edits the service took, merged or not.
    pub pushed: usize,
    /// Edits that clashed with someone else's and wait for a decision.
    pub conflicts: usize,
    /// Edits the service refused (no access any more, a broken rule), undone here.
    pub rejected: usize,
    /// Bytes of the pulled pages, as decoded.
    pub bytes: u64,
}

/// A search as the UI asks for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
pub struct SearchRequest {
    pub text: String,
    #[serde(default)]
    #[ts(optional, type = "\"open\" | \"on_hold\" | \"closed\" | null")]
    pub status: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub matter_type: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub responsible: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub limit: Option<usize>,
}

/// One search result for the UI.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(rename = "SearchHit")]
pub struct SearchHitDto {
    pub matter_id: String,
    pub number: String,
    pub title: String,
    pub client_name: String,
    /// `matter` or `file_note`.
    #[ts(type = "\"matter\" | \"file_note\"")]
    pub found_in: &'static str,
    pub note_id: Option<String>,
    pub matter_type: String,
    #[ts(type = "\"open\" | \"on_hold\" | \"closed\"")]
    pub status: &'static str,
    pub responsible: String,
    pub opened_on: String,
}

impl SearchHitDto {
    /// A hit, with the other columns of its matter for the list's row.
    pub fn new(h: SearchHit, m: &strongroom_protocol::Matter) -> Self {
        let (found_in, note_id) = match h.source {
            HitSource::Matter => ("matter", None),
            HitSource::FileNote { note_id } => ("file_note", Some(note_id.to_string())),
        };
        Self {
            matter_id: h.matter_id.to_string(),
            number: h.number,
            title: h.title,
            client_name: h.client_name,
            found_in,
            note_id,
            matter_type: m.matter_type.clone(),
            status: m.status.as_str(),
            responsible: m.responsible.clone(),
            opened_on: m.opened_on.clone(),
        }
    }
}
