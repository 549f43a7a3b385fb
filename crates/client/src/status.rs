//! What the core reports to the UI: status, matters, sync results.

use serde::Serialize;
use strongroom_vault::MatterRow;

use crate::ErrorDto;

/// Whether the server answered the last time it was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    #[default]
    Unknown,
    Online,
    Offline,
}

/// The state shown in the status line and used to pick a screen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AppStatus {
    pub signed_in: bool,
    pub default_server_url: Option<String>,
    pub server_url: Option<String>,
    pub user_email: Option<String>,
    pub user_name: Option<String>,
    pub practice_name: Option<String>,
    pub connection: Connection,
    pub last_sync_at: Option<String>,
    pub matter_count: i64,
    pub last_error: Option<ErrorDto>,
}

/// A matter as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatterSummary {
    pub id: String,
    pub number: String,
    pub title: String,
    pub matter_type: String,
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub pages: usize,
    pub applied: usize,
}
