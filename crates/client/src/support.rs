//! Support access and connected apps, as the practice's admins manage them: support
//! staff's requests and grants (approve after re-authenticating, decline, revoke), the
//! access-transparency view of every request staff made, and the ledger of integration
//! tokens (create, shown once; revoke).
//!
//! Reads are kept in the vault like the rest of the dashboard ([`crate::dashboard`]), so
//! the pages open offline with their age; decisions need the service.

use serde::{Deserialize, Serialize};
use strongroom_protocol::support::{
    Integration as WireIntegration, IntegrationCreated as WireCreated, IntegrationScope,
    NewIntegration, SupportAccess, SupportAccessEntry as WireEntry, SupportAccessLog,
    SupportGrant as WireGrant, SupportGrantScope, SupportGrantStatus,
};
use strongroom_sync::Method;
use ts_rs::TS;

use crate::dashboard::Cached;
use crate::{ClientError, Core, rfc3339_of};

/// A matter a grant names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct GrantMatter {
    pub id: String,
    /// Empty when the matter is gone or no longer open to the whole practice.
    pub number: String,
    pub title: String,
}

/// What a grant reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GrantScope {
    Practice,
    Matters { matters: Vec<GrantMatter> },
}

/// A support request or grant, as the practice sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SupportGrantView {
    pub id: String,
    pub staff_name: String,
    pub staff_email: String,
    pub reason: String,
    pub ticket: String,
    pub scope: GrantScope,
    pub access: SupportAccess,
    pub duration_hours: u32,
    pub status: SupportGrantStatus,
    pub requested_at: String,
    pub decided_at: Option<String>,
    pub decided_by_name: Option<String>,
    /// Set when approved: approval time + duration.
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl From<WireGrant> for SupportGrantView {
    fn from(g: WireGrant) -> Self {
        Self {
            id: g.id.to_string(),
            staff_name: g.staff.display_name,
            staff_email: g.staff.email,
            reason: g.reason,
            ticket: g.ticket,
            scope: match g.scope {
                SupportGrantScope::Practice => GrantScope::Practice,
                SupportGrantScope::Matters { matters } => GrantScope::Matters {
                    matters: matters
                        .into_iter()
                        .map(|m| GrantMatter {
                            id: m.id.to_string(),
                            number: m.number.unwrap_or_default(),
                            title: m.title.unwrap_or_default(),
                        })
                        .collect(),
                },
            },
            access: g.access,
            duration_hours: g.duration_hours,
            status: g.status,
            requested_at: rfc3339_of(g.requested_at),
            decided_at: g.decided_at.map(rfc3339_of),
            decided_by_name: g.decided_by.map(|m| m.display_name),
            expires_at: g.expires_at.map(rfc3339_of),
            revoked_at: g.revoked_at.map(rfc3339_of),
        }
    }
}

/// One request support staff made (or were refused), for the access-transparency view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SupportAccessView {
    pub id: i64,
    pub at: String,
    pub staff_name: String,
    /// The grant it was made under; empty for a refusal without any grant.
    pub grant_id: String,
    /// e.g. `GET /v1/support/practices/…/records/matter`
    pub request: String,
    /// What was read or written, in words.
    pub what: String,
    pub records: u64,
    /// false: refused.
    pub allowed: bool,
}

fn kind_words(kind: &str, n: u64) -> String {
    let one = match kind {
        "matter" => "matter",
        "contact" => "contact",
        "participant" => "participant",
        "file_note" => "file note",
        "task" => "task",
        "time_entry" => "time entry",
        "document" => "document record",
        other => other,
    };
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

impl From<WireEntry> for SupportAccessView {
    fn from(e: WireEntry) -> Self {
        let verb = if e.method == "PUT" { "Wrote" } else { "Read" };
        let what = match (&e.refusal, e.allowed) {
            (_, true) => format!("{verb} {}", kind_words(&e.record_kind, e.count)),
            (Some(why), false) => format!(
                "Refused ({}): {}",
                why.replace('_', " "),
                kind_words(&e.record_kind, e.count.max(1)).trim_start_matches("1 ")
            ),
            (None, false) => "Refused".into(),
        };
        Self {
            id: e.id,
            at: e.at,
            staff_name: e.staff.display_name,
            grant_id: e.grant_id.map(|g| g.to_string()).unwrap_or_default(),
            request: format!("{} {}", e.method, e.path),
            what,
            records: e.count,
            allowed: e.allowed,
        }
    }
}

/// An app's token in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct IntegrationView {
    pub id: String,
    pub app_name: String,
    pub scopes: Vec<IntegrationScope>,
    pub created_by_name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub records_read: u64,
    pub revoked_at: Option<String>,
}

impl From<WireIntegration> for IntegrationView {
    fn from(i: WireIntegration) -> Self {
        Self {
            id: i.id.to_string(),
            app_name: i.app_name,
            scopes: i.scopes,
            created_by_name: i.created_by.display_name,
            created_at: rfc3339_of(i.created_at),
            last_used_at: i.last_used_at.map(rfc3339_of),
            records_read: u64::try_from(i.records_read).unwrap_or(0),
            revoked_at: i.revoked_at.map(rfc3339_of),
        }
    }
}

/// A new app's token, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct IntegrationCreatedView {
    pub integration: IntegrationView,
    pub token: String,
}

mod cache {
    pub const GRANTS: &str = "cache:support_grants";
    pub const ACCESS_LOG: &str = "cache:support_access_log";
    pub const INTEGRATIONS: &str = "cache:integrations";
}

impl Core {
    /// The practice's support requests and grants, newest first (admins only).
    pub async fn support_grants(&mut self) -> Result<Cached<Vec<SupportGrantView>>, ClientError> {
        self.cached_read(cache::GRANTS, "v1/support/grants", |l: Vec<WireGrant>| {
            l.into_iter().map(SupportGrantView::from).collect()
        })
        .await
    }

    /// Approves a request: staff may act within it until it expires or is revoked. Needs a
    /// recent re-authentication (`reauth_required` otherwise).
    pub async fn approve_grant(&mut self, id: uuid::Uuid) -> Result<SupportGrantView, ClientError> {
        self.grant_decision(id, "approve").await
    }

    pub async fn decline_grant(&mut self, id: uuid::Uuid) -> Result<SupportGrantView, ClientError> {
        self.grant_decision(id, "decline").await
    }

    /// Ends an active grant at once: staff's next request is refused.
    pub async fn revoke_grant(&mut self, id: uuid::Uuid) -> Result<SupportGrantView, ClientError> {
        self.grant_decision(id, "revoke").await
    }

    async fn grant_decision(
        &mut self,
        id: uuid::Uuid,
        what: &str,
    ) -> Result<SupportGrantView, ClientError> {
        let g: WireGrant = self
            .act(
                Method::POST,
                &format!("v1/support/grants/{id}/{what}"),
                &serde_json::json!({}),
            )
            .await?;
        Ok(g.into())
    }

    /// Every request support staff made under a grant, or were refused, newest first
    /// (admins only); with `grant`, only that grant's.
    pub async fn support_access_log(
        &mut self,
        grant: Option<uuid::Uuid>,
    ) -> Result<Cached<Vec<SupportAccessView>>, ClientError> {
        let (key, path) = match grant {
            Some(g) => (
                format!("{}:{g}", cache::ACCESS_LOG),
                format!("v1/support/access-log?grant={g}&limit=500"),
            ),
            None => (
                cache::ACCESS_LOG.to_owned(),
                "v1/support/access-log?limit=500".to_owned(),
            ),
        };
        self.cached_read(&key, &path, |l: SupportAccessLog| {
            l.entries.into_iter().map(SupportAccessView::from).collect()
        })
        .await
    }

    /// The ledger of apps holding the practice's tokens.
    pub async fn integrations(&mut self) -> Result<Cached<Vec<IntegrationView>>, ClientError> {
        self.cached_read(
            cache::INTEGRATIONS,
            "v1/integrations",
            |l: Vec<WireIntegration>| l.into_iter().map(IntegrationView::from).collect(),
        )
        .await
    }

    /// Lets an app in with these scopes; its token is in the answer, once.
    pub async fn create_integration(
        &mut self,
        app_name: &str,
        scopes: &[IntegrationScope],
    ) -> Result<IntegrationCreatedView, ClientError> {
        let made: WireCreated = self
            .act(
                Method::POST,
                "v1/integrations",
                &NewIntegration {
                    app_name: app_name.trim().to_owned(),
                    scopes: scopes.to_vec(),
                },
            )
            .await?;
        Ok(IntegrationCreatedView {
            integration: made.integration.into(),
            token: made.token,
        })
    }

    /// Revokes an app's token: its next request fails.
    pub async fn revoke_integration(
        &mut self,
        id: uuid::Uuid,
    ) -> Result<IntegrationView, ClientError> {
        let (server, token) = self.dashboard_client()?;
        if let Err(e) = server
            .call::<()>(
                &token,
                Method::DELETE,
                &format!("v1/integrations/{id}"),
                None,
            )
            .await
        {
            return Err(self.dashboard_error(e, &server, &token).await);
        }
        let list = self.integrations().await?;
        list.value
            .into_iter()
            .find(|i| i.id == id.to_string())
            .ok_or_else(|| ClientError::NotFound("that app is no longer listed".into()))
    }
}
