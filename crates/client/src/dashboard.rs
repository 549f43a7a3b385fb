//! The privacy dashboard's use cases: sessions and devices, members and the access review,
//! the audit log (checked on this device), and exports.
//!
//! Reads go to the service and keep their answer in the vault (its `meta` table, under
//! `cache:`), so a page opens offline with the last answer and says how old it is
//! ([`Cached`]). Actions need the service: offline they fail with
//! [`ClientError::Offline`] and change nothing.
//!
//! Invariants:
//! - The audit log shown is checked here, by this device, with the same definition of the
//!   chain the service writes it with ([`strongroom_protocol::audit`]); the device keeps
//!   the chain it has checked, and a later answer that does not continue it is reported
//!   as broken, never shown as verified.
//! - An export is reported complete only after the archive was checked against its own
//!   manifest ([`strongroom_export::check_archive`]); a file that fails is deleted.
//! - A `session_revoked` answer here erases the device as everywhere else.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use strongroom_export::{ArchiveMeta, ArchiveWriter, Source, check_archive};
use strongroom_protocol::audit::{
    AuditEntryWire, AuditPage, ChainBreak, ChainVerdict, GENESIS_HASH, PracticeChainVerifier,
};
use strongroom_protocol::privacy::{
    AccessReview as WireReview, CompleteReview, DeviceHoldings, ReviewRecord as WireRecord,
    RevokedSessions,
};
use strongroom_protocol::{
    Invitation, InvitationCreated, InvitationStatus, Member, MemberUpdate, NewInvitation,
    ReauthRequest, RecordKind, Role, SessionInfo, SessionList,
};
use strongroom_sync::{Method, ServerClient, SyncError};
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::{ClientError, Core, now_rfc3339};

/// A read the vault keeps for offline use, and how fresh it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Cached<T> {
    pub value: T,
    /// When the service gave this answer (RFC 3339, UTC).
    pub fetched_at: String,
    /// The service could not be reached just now: this is the vault's copy.
    pub offline: bool,
}

/// One signed-in device of the member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DeviceSession {
    pub id: String,
    pub device_name: String,
    pub platform: String,
    pub app_version: String,
    pub first_ip: Option<String>,
    pub last_ip: Option<String>,
    pub created_at: String,
    pub last_seen_at: String,
    pub idle_expires_at: String,
    pub expires_at: String,
    /// The session of this app.
    pub current: bool,
    /// What the device reported holding offline at its last sync.
    pub holdings: Option<DeviceHoldings>,
}

impl From<SessionInfo> for DeviceSession {
    fn from(s: SessionInfo) -> Self {
        Self {
            id: s.id,
            device_name: s.device_name,
            platform: s.platform,
            app_version: s.app_version,
            first_ip: s.first_ip,
            last_ip: s.last_ip,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            idle_expires_at: s.idle_expires_at,
            expires_at: s.expires_at,
            current: s.current,
            holdings: s.holdings,
        }
    }
}

/// A member, as the members page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MemberView {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub mfa_enabled: bool,
    pub last_sign_in_at: Option<String>,
    /// Live sessions (signed-in devices).
    pub session_count: u32,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        Self {
            id: m.id.to_string(),
            email: m.email,
            display_name: m.display_name,
            role: m.role,
            disabled: m.disabled,
            mfa_enabled: m.mfa_enabled,
            last_sign_in_at: m.last_sign_in_at,
            session_count: m.session_count,
        }
    }
}

/// An invitation, as the members page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct InvitationView {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub invited_by_name: String,
    pub created_at: String,
    pub expires_at: String,
    pub status: InvitationStatus,
}

/// A new invitation and its one-time code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct InvitationSent {
    pub invitation: InvitationView,
    /// The one-time acceptance code, shown once.
    pub token: String,
    pub emailed: bool,
}

/// A member the access review flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct DormantMember {
    pub member: MemberView,
    /// Whole days since the last sign-in; none: never signed in.
    pub days_idle: Option<u32>,
}

/// A completed access review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ReviewRecord {
    pub completed_at: String,
    pub by_name: String,
    pub dormant_days: u32,
    /// Members disabled by it.
    pub disabled: u32,
    /// Invitations withdrawn by it.
    pub invitations_revoked: u32,
}

impl From<WireRecord> for ReviewRecord {
    fn from(r: WireRecord) -> Self {
        Self {
            completed_at: r.completed_at,
            by_name: r.by_name,
            dormant_days: r.dormant_days,
            disabled: u32::try_from(r.disabled.len()).unwrap_or(u32::MAX),
            invitations_revoked: u32::try_from(r.invitations_revoked.len()).unwrap_or(u32::MAX),
        }
    }
}

/// The dormant-credential review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AccessReview {
    pub dormant_days: u32,
    pub generated_at: String,
    pub dormant: Vec<DormantMember>,
    pub unused_invitations: Vec<InvitationView>,
    pub last_review: Option<ReviewRecord>,
}

/// What to change of a member; absent fields stay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
pub struct MemberChange {
    #[ts(optional)]
    pub role: Option<Role>,
    #[ts(optional)]
    pub disabled: Option<bool>,
}

/// One entry of the audit log, as the viewer shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AuditRow {
    /// Its number in the practice's chain, from 1.
    pub seq: i64,
    pub occurred_at: String,
    /// As entries carry it (`user:<uuid>`, `staff:<uuid>`); none: the service itself.
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub kind: String,
    /// One line in words.
    pub summary: String,
    /// The entry's details, compact JSON.
    pub details: String,
}

/// Which entries the viewer shows. Dates are `YYYY-MM-DD`, inclusive, in UTC.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
pub struct AuditFilter {
    #[ts(optional = nullable)]
    #[serde(default)]
    pub actor_id: Option<String>,
    #[ts(optional = nullable)]
    #[serde(default)]
    pub kind: Option<String>,
    #[ts(optional = nullable)]
    #[serde(default)]
    pub from: Option<String>,
    #[ts(optional = nullable)]
    #[serde(default)]
    pub to: Option<String>,
}

/// This device's check of the practice's audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ChainCheck {
    Verified {
        entries: i64,
    },
    /// The first entry that does not check out, and why, in words.
    Broken {
        seq: i64,
        reason: String,
    },
}

/// Someone who appears in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AuditActorView {
    pub id: String,
    pub name: String,
}

/// The audit log viewer's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AuditLogView {
    /// The entries that match the filter, newest first.
    pub rows: Vec<AuditRow>,
    pub total: u32,
    pub check: ChainCheck,
    pub actors: Vec<AuditActorView>,
    pub kinds: Vec<String>,
    pub fetched_at: String,
    pub offline: bool,
}

/// How far an export has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportStage {
    Preparing,
    Downloading,
    Checking,
    Done,
}

/// An export's progress, for its bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub struct ExportProgress {
    pub stage: ExportStage,
    pub done_bytes: u64,
    /// None while unknown.
    pub total_bytes: Option<u64>,
}

/// A finished export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ExportResult {
    /// Where the archive was saved.
    pub path: String,
    pub bytes: u64,
    /// Files in the archive, the manifest left out.
    pub files: u32,
    pub records: u64,
    /// SHA-256 of the archive, hex.
    pub sha256: String,
    /// Every file matched the manifest's SHA-256 and count.
    pub verified: bool,
}

/// The vault keys of the cached reads.
mod cache {
    pub const SESSIONS: &str = "cache:sessions";
    pub const MEMBERS: &str = "cache:members";
    pub const INVITATIONS: &str = "cache:invitations";
    /// The checked audit chain: [`super::AuditCache`].
    pub const AUDIT: &str = "cache:audit";
}

/// The audit chain as this device keeps it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct AuditCache {
    practice_id: Option<String>,
    entries: Vec<AuditEntryWire>,
    head_seq: i64,
    head_link: String,
    names: BTreeMap<String, String>,
    fetched_at: String,
}

/// How often a device tells the service what it holds even when nothing changed: its
/// "last sync" in the sessions list stays current.
pub(crate) const HOLDINGS_EVERY: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// After a sync: tells the service what this device holds, when due. Best effort: a
/// failure only means the sessions list shows an older report.
pub(crate) async fn tell_holdings(
    due: Option<(ServerClient, Zeroizing<String>, DeviceHoldings)>,
) -> Option<DeviceHoldings> {
    let (server, token, h) = due?;
    match server
        .call(&token, Method::POST, "v1/sessions/holdings", Some(&h))
        .await
    {
        Ok(()) => Some(h),
        Err(e) => {
            tracing::debug!(error = %e, "holdings not reported");
            None
        }
    }
}

/// The largest export archive downloaded: far more than any practice holds.
const MAX_EXPORT_BYTES: u64 = 8 << 30;

impl Core {
    /// The service and the session's token, for a dashboard call.
    pub(crate) fn dashboard_client(
        &mut self,
    ) -> Result<(ServerClient, Zeroizing<String>), ClientError> {
        let server = self.server_of_vault()?;
        let token = self.session_token()?;
        self.touch();
        Ok((server, token))
    }

    /// What a failed dashboard call means here: a revoked session erases the device (and
    /// tells the service, best effort); a service out of reach is [`ClientError::Offline`].
    pub(crate) async fn dashboard_error(
        &mut self,
        e: SyncError,
        server: &ServerClient,
        token: &str,
    ) -> ClientError {
        match e {
            SyncError::SessionRevoked => {
                let gone = self.erase_revoked();
                if matches!(gone, ClientError::DeviceRemoved) {
                    let _ = server.confirm_wiped(token).await;
                }
                gone
            }
            SyncError::Unreachable(m) => {
                self.connection = crate::Connection::Offline;
                ClientError::Offline(m)
            }
            other => other.into(),
        }
    }

    pub(crate) fn cache_put<T: Serialize>(
        &self,
        key: &str,
        value: &T,
        fetched_at: &str,
    ) -> Result<(), ClientError> {
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        let text = serde_json::to_string(&serde_json::json!({
            "fetched_at": fetched_at,
            "value": value,
        }))
        .map_err(|e| ClientError::Internal(e.to_string()))?;
        vault.set_meta(key, &text)?;
        Ok(())
    }

    /// Changes the kept copy under `key` in place after an action the service has decided,
    /// keeping its time (the rest of it is as old as it was): `change` answers whether it
    /// changed anything. Best effort: nothing kept yet, or a vault that cannot take it,
    /// only leaves an older copy for offline.
    pub(crate) fn amend_kept<T: Serialize + DeserializeOwned>(
        &self,
        key: &str,
        change: impl FnOnce(&mut T) -> bool,
    ) {
        let Ok(Some((mut kept, fetched_at))) = self.cache_get::<T>(key) else {
            return;
        };
        if change(&mut kept)
            && let Err(e) = self.cache_put(key, &kept, &fetched_at)
        {
            tracing::debug!(error = %e, key, "a kept copy was not updated");
        }
    }

    pub(crate) fn cache_get<T: DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<(T, String)>, ClientError> {
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        #[derive(Deserialize)]
        struct Stored<T> {
            fetched_at: String,
            value: T,
        }
        Ok(vault
            .meta(key)?
            .and_then(|text| serde_json::from_str::<Stored<T>>(&text).ok())
            .map(|s| (s.value, s.fetched_at)))
    }

    /// A read through `fetch` (given the service and the session's token): the answer is
    /// kept in the vault under `key`; with the service out of reach, the vault's copy with
    /// its time and `offline: true`, or [`ClientError::Offline`] when none was kept.
    pub(crate) async fn cached_fetch<W, F, Fut>(
        &mut self,
        key: &str,
        fetch: F,
    ) -> Result<Cached<W>, ClientError>
    where
        W: DeserializeOwned + Serialize,
        F: FnOnce(ServerClient, Zeroizing<String>) -> Fut,
        Fut: Future<Output = Result<W, SyncError>>,
    {
        let (server, token) = self.dashboard_client()?;
        match fetch(server.clone(), token.clone()).await {
            Ok(answer) => {
                let now = now_rfc3339();
                self.cache_put(key, &answer, &now)?;
                self.connection = crate::Connection::Online;
                Ok(Cached {
                    value: answer,
                    fetched_at: now,
                    offline: false,
                })
            }
            Err(e) => match self.dashboard_error(e, &server, &token).await {
                ClientError::Offline(m) => match self.cache_get::<W>(key)? {
                    Some((kept, fetched_at)) => Ok(Cached {
                        value: kept,
                        fetched_at,
                        offline: true,
                    }),
                    None => Err(ClientError::Offline(m)),
                },
                other => Err(other),
            },
        }
    }

    /// A read: from the service (kept in the vault), or offline the vault's copy.
    pub(crate) async fn cached_read<W: DeserializeOwned + Serialize, T>(
        &mut self,
        key: &str,
        path: &str,
        view: impl Fn(W) -> T,
    ) -> Result<Cached<T>, ClientError> {
        let path = path.to_owned();
        let raw = self
            .cached_fetch(key, |server, token| async move {
                server.get_json::<W>(&token, &path).await
            })
            .await?;
        Ok(Cached {
            value: view(raw.value),
            fetched_at: raw.fetched_at,
            offline: raw.offline,
        })
    }

    /// An action through `call` (given the service and the session's token); its answer.
    /// Offline it fails with [`ClientError::Offline`].
    pub(crate) async fn act_with<T, F, Fut>(&mut self, call: F) -> Result<T, ClientError>
    where
        F: FnOnce(ServerClient, Zeroizing<String>) -> Fut,
        Fut: Future<Output = Result<T, SyncError>>,
    {
        let (server, token) = self.dashboard_client()?;
        match call(server.clone(), token.clone()).await {
            Ok(v) => Ok(v),
            Err(e) => Err(self.dashboard_error(e, &server, &token).await),
        }
    }

    /// A call that changes something on the service; answers its decoded answer.
    pub(crate) async fn act<B: Serialize + ?Sized, T: DeserializeOwned>(
        &mut self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let (server, token) = self.dashboard_client()?;
        match server.send_json(&token, method, path, body).await {
            Ok(v) => Ok(v),
            Err(e) => Err(self.dashboard_error(e, &server, &token).await),
        }
    }

    /// A call that changes something and answers nothing but success.
    pub(crate) async fn act_empty<B: Serialize + ?Sized>(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<(), ClientError> {
        let (server, token) = self.dashboard_client()?;
        match server.call(&token, method, path, body).await {
            Ok(()) => Ok(()),
            Err(e) => Err(self.dashboard_error(e, &server, &token).await),
        }
    }

    /// The member's signed-in devices.
    pub async fn sessions(&mut self) -> Result<Cached<Vec<DeviceSession>>, ClientError> {
        self.cached_read(cache::SESSIONS, "v1/sessions", |l: SessionList| {
            l.sessions.into_iter().map(DeviceSession::from).collect()
        })
        .await
    }

    /// Ends one of the member's sessions; that device wipes itself when next it asks.
    /// Revoking this device's own session is signing out: use [`Core::sign_out`].
    pub async fn revoke_session(&mut self, id: &str) -> Result<(), ClientError> {
        if id.is_empty()
            || id.len() > 64
            || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(ClientError::InvalidInput("that is not a session id".into()));
        }
        self.act_empty::<()>(Method::DELETE, &format!("v1/sessions/{id}"), None)
            .await
    }

    /// Ends every session of the member's but this device's; answers how many.
    pub async fn revoke_other_sessions(&mut self) -> Result<u32, ClientError> {
        let r: RevokedSessions = self
            .act(
                Method::POST,
                "v1/sessions/revoke-others",
                &serde_json::json!({}),
            )
            .await?;
        Ok(r.revoked)
    }

    /// What this device holds offline.
    fn holdings(&self) -> Result<DeviceHoldings, ClientError> {
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        let c = vault.counts()?;
        let records = c.matters
            + c.contacts
            + c.participants
            + c.file_notes
            + c.tasks
            + c.time_entries
            + c.documents;
        Ok(DeviceHoldings {
            matters: u64::try_from(c.matters).unwrap_or(0),
            records: u64::try_from(records).unwrap_or(0),
            last_sync_at: vault.sync_state()?.last_sync_at.unwrap_or_else(now_rfc3339),
        })
    }

    /// After a sync: what to tell the service this device holds, when it changed since
    /// last told or [`HOLDINGS_EVERY`] has passed; with the client to tell it by.
    pub(crate) fn holdings_due(
        &mut self,
    ) -> Option<(ServerClient, Zeroizing<String>, DeviceHoldings)> {
        let h = self.holdings().ok()?;
        let fresh = self.holdings_sent.as_ref().is_some_and(|(m, r, at)| {
            *m == h.matters && *r == h.records && at.elapsed() < HOLDINGS_EVERY
        });
        if fresh {
            return None;
        }
        let server = self.server_of_vault().ok()?;
        let token = self.session_token().ok()?;
        Some((server, token, h))
    }

    pub(crate) fn holdings_told(&mut self, h: &DeviceHoldings) {
        self.holdings_sent = Some((h.matters, h.records, std::time::Instant::now()));
    }

    /// The practice's members (admins only).
    pub async fn members(&mut self) -> Result<Cached<Vec<MemberView>>, ClientError> {
        self.cached_read(cache::MEMBERS, "v1/members", |l: Vec<Member>| {
            l.into_iter().map(MemberView::from).collect()
        })
        .await
    }

    fn member_names(&self) -> HashMap<String, String> {
        self.cache_get::<Vec<Member>>(cache::MEMBERS)
            .ok()
            .flatten()
            .map(|(l, _)| {
                l.into_iter()
                    .map(|m| (m.id.to_string(), m.display_name))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn invitation_view(&self, i: Invitation, names: &HashMap<String, String>) -> InvitationView {
        InvitationView {
            id: i.id.to_string(),
            email: i.email,
            role: i.role,
            invited_by_name: names
                .get(&i.invited_by.to_string())
                .cloned()
                .unwrap_or_else(|| "An admin".into()),
            created_at: crate::rfc3339_of(i.created_at),
            expires_at: crate::rfc3339_of(i.expires_at),
            status: i.status,
        }
    }

    /// The practice's invitations (admins only).
    pub async fn invitations(&mut self) -> Result<Cached<Vec<InvitationView>>, ClientError> {
        let names = self.member_names();
        let raw = self
            .cached_read(cache::INVITATIONS, "v1/invitations", |l: Vec<Invitation>| l)
            .await?;
        Ok(Cached {
            value: raw
                .value
                .into_iter()
                .map(|i| self.invitation_view(i, &names))
                .collect(),
            fetched_at: raw.fetched_at,
            offline: raw.offline,
        })
    }

    /// Invites someone by email (admins only); the answer holds the one-time code.
    pub async fn invite(&mut self, email: &str, role: Role) -> Result<InvitationSent, ClientError> {
        let email = email.trim();
        if email.is_empty() || !email.contains('@') || email.len() > 254 {
            return Err(ClientError::InvalidInput(
                "enter the person's email address".into(),
            ));
        }
        let made: InvitationCreated = self
            .act(
                Method::POST,
                "v1/invitations",
                &NewInvitation {
                    email: email.to_owned(),
                    role,
                },
            )
            .await?;
        let names = self.member_names();
        Ok(InvitationSent {
            invitation: self.invitation_view(made.invitation, &names),
            token: made.token,
            emailed: made.emailed,
        })
    }

    /// Withdraws an invitation (admins only).
    pub async fn revoke_invitation(&mut self, id: uuid::Uuid) -> Result<(), ClientError> {
        self.act_empty::<()>(Method::DELETE, &format!("v1/invitations/{id}"), None)
            .await
    }

    /// Changes a member's role, or disables or enables them (admins only; disabling ends
    /// every session of theirs).
    pub async fn update_member(
        &mut self,
        id: uuid::Uuid,
        change: MemberChange,
    ) -> Result<MemberView, ClientError> {
        let m: Member = self
            .act(
                Method::PATCH,
                &format!("v1/members/{id}"),
                &MemberUpdate {
                    role: change.role,
                    disabled: change.disabled,
                },
            )
            .await?;
        Ok(m.into())
    }

    /// Removes a member's credentials (admins only): their sessions end (each device wipes
    /// itself), their password and second factor are deleted and their email freed for a
    /// new invitation.
    pub async fn remove_credentials(&mut self, id: uuid::Uuid) -> Result<(), ClientError> {
        self.act_empty::<()>(
            Method::DELETE,
            &format!("v1/members/{id}/credentials"),
            None,
        )
        .await
    }

    /// The dormant-credential review (admins only).
    pub async fn access_review(&mut self, dormant_days: u32) -> Result<AccessReview, ClientError> {
        let (server, token) = self.dashboard_client()?;
        let names = self.member_names();
        let r: WireReview = match server
            .get_json(
                &token,
                &format!("v1/members/review?dormant_days={dormant_days}"),
            )
            .await
        {
            Ok(r) => r,
            Err(e) => return Err(self.dashboard_error(e, &server, &token).await),
        };
        Ok(AccessReview {
            dormant_days: r.dormant_days,
            generated_at: r.generated_at,
            dormant: r
                .dormant
                .into_iter()
                .map(|d| DormantMember {
                    member: d.member.into(),
                    days_idle: d.days_idle,
                })
                .collect(),
            unused_invitations: r
                .unused_invitations
                .into_iter()
                .map(|i| self.invitation_view(i, &names))
                .collect(),
            last_review: r.last_review.map(ReviewRecord::from),
        })
    }

    /// Completes a review: disables the chosen members, withdraws the chosen invitations,
    /// and records it (admins only).
    pub async fn complete_access_review(
        &mut self,
        dormant_days: u32,
        disable: &[uuid::Uuid],
        revoke_invitations: &[uuid::Uuid],
    ) -> Result<ReviewRecord, ClientError> {
        let r: WireRecord = self
            .act(
                Method::POST,
                "v1/members/review",
                &CompleteReview {
                    dormant_days,
                    disable: disable.to_vec(),
                    revoke_invitations: revoke_invitations.to_vec(),
                },
            )
            .await?;
        Ok(r.into())
    }

    /// Proves who the member is again: the password, and the authenticator's six digits
    /// or a recovery code when they have a second factor. Actions that answered
    /// `reauth_required` then succeed for a few minutes.
    pub async fn reauthenticate(
        &mut self,
        password: &str,
        one_time_code: Option<&str>,
    ) -> Result<(), ClientError> {
        let code = one_time_code.map(str::trim).filter(|c| !c.is_empty());
        let totp = code.filter(|c| c.len() == 6 && c.chars().all(|d| d.is_ascii_digit()));
        let body = ReauthRequest {
            password: password.to_owned(),
            totp_code: totp.map(str::to_owned),
            recovery_code: code.filter(|_| totp.is_none()).map(str::to_owned),
        };
        match self
            .act_empty(Method::POST, "v1/auth/reauth", Some(&body))
            .await
        {
            Err(ClientError::InvalidCredentials) if code.is_none() => {
                Err(ClientError::WrongPassword)
            }
            Err(ClientError::InvalidCredentials) => Err(ClientError::WrongCode),
            other => other,
        }
    }

    /// The practice's audit log: new entries fetched after those this device holds, the
    /// whole chain checked here, then filtered. Offline: the kept chain, checked again.
    pub async fn audit_log(&mut self, filter: &AuditFilter) -> Result<AuditLogView, ClientError> {
        let (mut kept, offline) = self.refresh_audit().await?;
        let check = check_chain(&kept);
        let names = std::mem::take(&mut kept.names);
        let mut actors: BTreeMap<String, String> = BTreeMap::new();
        let mut kinds = BTreeSet::new();
        for e in &kept.entries {
            kinds.insert(e.kind.clone());
            if let Some(a) = &e.actor {
                actors.insert(a.clone(), actor_name(a, &names));
            }
        }
        let rows: Vec<AuditRow> = kept
            .entries
            .iter()
            .rev()
            .filter(|e| matches_filter(e, filter))
            .map(|e| audit_row(e, &names))
            .collect();
        Ok(AuditLogView {
            total: u32::try_from(rows.len()).unwrap_or(u32::MAX),
            rows,
            check,
            actors: actors
                .into_iter()
                .map(|(id, name)| AuditActorView { id, name })
                .collect(),
            kinds: kinds.into_iter().collect(),
            fetched_at: kept.fetched_at,
            offline,
        })
    }

    /// Brings the kept chain up to date: answers it and whether the service was out of
    /// reach (then it is as kept).
    async fn refresh_audit(&mut self) -> Result<(AuditCache, bool), ClientError> {
        let mut kept: AuditCache = self
            .cache_get::<AuditCache>(cache::AUDIT)?
            .map(|(c, _)| c)
            .unwrap_or_else(|| AuditCache {
                head_link: GENESIS_HASH.into(),
                ..Default::default()
            });
        let (server, token) = self.dashboard_client()?;
        loop {
            let after = kept.entries.last().map_or(0, |e| e.seq);
            let page: AuditPage = match server
                .get_json(
                    &token,
                    &format!("v1/audit/entries?after_seq={after}&limit=1000"),
                )
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    return match self.dashboard_error(e, &server, &token).await {
                        ClientError::Offline(m) if kept.fetched_at.is_empty() => {
                            Err(ClientError::Offline(m))
                        }
                        ClientError::Offline(_) => Ok((kept, true)),
                        other => Err(other),
                    };
                }
            };
            for a in page.actors {
                kept.names.insert(a.actor, a.name);
            }
            let more = !page.entries.is_empty()
                && page.entries.last().map(|e| e.seq) < Some(page.head_seq);
            if kept.practice_id.is_none() {
                kept.practice_id = page.entries.first().and_then(|e| e.practice_id.clone());
            }
            kept.entries.extend(page.entries);
            kept.head_seq = page.head_seq;
            kept.head_link = page.head_link;
            if !more {
                break;
            }
        }
        kept.fetched_at = now_rfc3339();
        self.connection = crate::Connection::Online;
        self.cache_put(cache::AUDIT, &kept, &kept.fetched_at)?;
        Ok((kept, false))
    }

    /// Saves the filtered log as CSV or JSON in the export folder; answers the path.
    pub async fn export_audit_log(
        &mut self,
        filter: &AuditFilter,
        format: &str,
    ) -> Result<String, ClientError> {
        let view = self.audit_log(filter).await?;
        let stamp = now_rfc3339().replace(':', "-");
        let dir = self.export_dir()?;
        let (name, bytes) = match format {
            "json" => (
                format!("strongroom-audit-{stamp}.json"),
                serde_json::to_vec_pretty(&serde_json::json!({
                    "exported_at": now_rfc3339(),
                    "check": view.check,
                    "entries": view.rows,
                }))
                .map_err(|e| ClientError::Internal(e.to_string()))?,
            ),
            "csv" => {
                let rows: Vec<serde_json::Value> = view
                    .rows
                    .iter()
                    .map(|r| serde_json::to_value(r).unwrap_or_default())
                    .collect();
                (
                    format!("strongroom-audit-{stamp}.csv"),
                    strongroom_export::to_csv(&rows)
                        .map_err(|e| ClientError::Internal(e.to_string()))?,
                )
            }
            other => {
                return Err(ClientError::InvalidInput(format!(
                    "{other:?} is not an export format: csv or json"
                )));
            }
        };
        let path = dir.join(name);
        write_private(&path, &bytes)?;
        Ok(path.display().to_string())
    }

    /// Where exports are saved: the configured folder, else the user's Downloads.
    pub fn export_dir(&self) -> Result<PathBuf, ClientError> {
        let dir = match &self.cfg.export_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("XDG_DOWNLOAD_DIR")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join("Downloads")))
                .ok_or_else(|| ClientError::Internal("no folder to save exports in".into()))?,
        };
        std::fs::create_dir_all(&dir)
            .map_err(|e| ClientError::Internal(format!("cannot prepare {}: {e}", dir.display())))?;
        Ok(dir)
    }

    /// What an export of the whole practice needs: the service, the token and where to
    /// save. The download itself runs without the core ([`export_practice`]).
    pub fn export_session(&mut self) -> Result<ExportSession, ClientError> {
        let (server, token) = self.dashboard_client()?;
        Ok(ExportSession {
            server,
            token,
            dir: self.export_dir()?,
        })
    }

    /// Writes what this device's vault holds as an archive in the export folder, and
    /// checks it against its manifest. Needs no network.
    pub fn export_vault(
        &mut self,
        progress: &mut (dyn FnMut(ExportProgress) + Send),
    ) -> Result<ExportResult, ClientError> {
        let dir = self.export_dir()?;
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        let practice_name = vault.meta(crate::meta::PRACTICE_NAME)?.unwrap_or_default();
        let by = vault.meta(crate::meta::USER_NAME)?.unwrap_or_default();
        let mut sets = Vec::new();
        let total: u64 = RecordKind::ALL
            .iter()
            .map(|k| vault.record_ids(*k).map(|v| v.len() as u64))
            .sum::<Result<u64, _>>()?;
        let mut done = 0u64;
        for kind in RecordKind::ALL {
            let mut records = Vec::new();
            for id in vault.record_ids(kind)? {
                if let Some((record, _, _)) = vault.record(kind, id)?
                    && let Some(body) = record.body_json()
                {
                    records.push(
                        serde_json::from_str::<serde_json::Value>(&body)
                            .map_err(|e| ClientError::Internal(e.to_string()))?,
                    );
                }
                done += 1;
                if done.is_multiple_of(1000) {
                    progress(ExportProgress {
                        stage: ExportStage::Preparing,
                        done_bytes: done,
                        total_bytes: Some(total),
                    });
                }
            }
            sets.push((kind, records));
        }
        let meta = ArchiveMeta {
            practice_id: String::new(),
            practice_name,
            exported_at: now_rfc3339(),
            source: Source::Device,
            exported_by: by,
        };
        let path = dir.join(format!(
            "strongroom-device-export-{}.zip",
            now_rfc3339().replace(':', "-")
        ));
        let file = create_private(&path)?;
        let written = (|| {
            let mut w = ArchiveWriter::new(std::io::BufWriter::new(file), meta);
            for (kind, records) in &sets {
                w.add_kind(*kind, records)?;
            }
            let (_, mut out) = w.finish()?;
            out.flush()?;
            Ok::<_, strongroom_export::ExportError>(())
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&path);
            return Err(ClientError::Internal(format!(
                "the export could not be written: {e}"
            )));
        }
        progress(ExportProgress {
            stage: ExportStage::Checking,
            done_bytes: total,
            total_bytes: Some(total),
        });
        let result = check_saved(&path)?;
        progress(ExportProgress {
            stage: ExportStage::Done,
            done_bytes: total,
            total_bytes: Some(total),
        });
        Ok(result)
    }
}

/// What [`export_practice`] needs, taken from the core.
pub struct ExportSession {
    server: ServerClient,
    token: Zeroizing<String>,
    dir: PathBuf,
}

/// Downloads the whole practice's archive into the export folder, reporting progress,
/// then checks it against its manifest. A download that fails or does not check out
/// leaves no file behind.
pub async fn export_practice(
    session: ExportSession,
    progress: &mut (dyn FnMut(ExportProgress) + Send),
) -> Result<ExportResult, ClientError> {
    let path = session.dir.join(format!(
        "strongroom-export-{}.zip",
        now_rfc3339().replace(':', "-")
    ));
    progress(ExportProgress {
        stage: ExportStage::Preparing,
        done_bytes: 0,
        total_bytes: None,
    });
    let mut file = std::io::BufWriter::new(create_private(&path)?);
    let downloaded = session
        .server
        .download(
            &session.token,
            "v1/export",
            &mut file,
            MAX_EXPORT_BYTES,
            &mut |done, total| {
                progress(ExportProgress {
                    stage: ExportStage::Downloading,
                    done_bytes: done,
                    total_bytes: total,
                })
            },
        )
        .await;
    let flushed = file.flush();
    drop(file);
    let bytes = match (downloaded, flushed) {
        (Ok(n), Ok(())) => n,
        (Err(e), _) => {
            let _ = std::fs::remove_file(&path);
            return Err(match e {
                SyncError::Unreachable(m) => ClientError::Offline(m),
                other => other.into(),
            });
        }
        (_, Err(e)) => {
            let _ = std::fs::remove_file(&path);
            return Err(ClientError::Internal(format!(
                "the export could not be saved: {e}"
            )));
        }
    };
    progress(ExportProgress {
        stage: ExportStage::Checking,
        done_bytes: bytes,
        total_bytes: Some(bytes),
    });
    let result = check_saved(&path)?;
    progress(ExportProgress {
        stage: ExportStage::Done,
        done_bytes: bytes,
        total_bytes: Some(bytes),
    });
    Ok(result)
}

/// Checks a saved archive against its manifest; deletes it if it does not check out.
fn check_saved(path: &Path) -> Result<ExportResult, ClientError> {
    let bytes = std::fs::read(path)
        .map_err(|e| ClientError::Internal(format!("cannot read {}: {e}", path.display())))?;
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    match check_archive(std::io::Cursor::new(&bytes)) {
        Ok(checked) => Ok(ExportResult {
            path: path.display().to_string(),
            bytes: bytes.len() as u64,
            files: u32::try_from(checked.manifest.files.len()).unwrap_or(u32::MAX),
            records: checked.manifest.records(),
            sha256,
            verified: true,
        }),
        Err(e) => {
            let _ = std::fs::remove_file(path);
            Err(ClientError::MalformedResponse(format!(
                "the export does not match its manifest, so it was deleted: {e}"
            )))
        }
    }
}

/// Creates a file readable by its owner only.
fn create_private(path: &Path) -> Result<std::fs::File, ClientError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| ClientError::Internal(format!("cannot create {}: {e}", path.display())))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ClientError> {
    let mut f = create_private(path)?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| ClientError::Internal(format!("cannot write {}: {e}", path.display())))
}

/// Checks the kept chain, and that it is what the service last announced.
fn check_chain(kept: &AuditCache) -> ChainCheck {
    let last = kept.entries.last().map_or(0, |e| e.seq);
    if kept.head_seq < last {
        return ChainCheck::Broken {
            seq: kept.head_seq + 1,
            reason: ChainBreak::HistoryRewritten.describe().into(),
        };
    }
    let practice = kept.practice_id.clone().unwrap_or_default();
    let mut v = PracticeChainVerifier::new(&practice);
    for e in &kept.entries {
        v.push(e);
        if v.is_broken() {
            break;
        }
    }
    match v.finish(kept.head_seq, &kept.head_link) {
        ChainVerdict::Verified { entries } => ChainCheck::Verified { entries },
        ChainVerdict::Broken { seq, reason } => ChainCheck::Broken {
            seq,
            reason: reason.describe().into(),
        },
    }
}

fn actor_name(actor: &str, names: &BTreeMap<String, String>) -> String {
    names
        .get(actor)
        .cloned()
        .unwrap_or_else(|| match actor.split_once(':') {
            Some(("staff", _)) => "Support staff".into(),
            _ => "A former member".into(),
        })
}

fn matches_filter(e: &AuditEntryWire, f: &AuditFilter) -> bool {
    let day = e.occurred_at.get(..10).unwrap_or("");
    f.actor_id
        .as_deref()
        .filter(|a| !a.is_empty())
        .is_none_or(|a| e.actor.as_deref() == Some(a))
        && f.kind
            .as_deref()
            .filter(|k| !k.is_empty())
            .is_none_or(|k| e.kind == k)
        && f.from
            .as_deref()
            .filter(|d| !d.is_empty())
            .is_none_or(|d| day >= d)
        && f.to
            .as_deref()
            .filter(|d| !d.is_empty())
            .is_none_or(|d| day <= d)
}

fn audit_row(e: &AuditEntryWire, names: &BTreeMap<String, String>) -> AuditRow {
    let details: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
    AuditRow {
        seq: e.seq,
        occurred_at: e.occurred_at.clone(),
        actor_id: e.actor.clone(),
        actor_name: e.actor.as_deref().map(|a| actor_name(a, names)),
        kind: e.kind.clone(),
        summary: summary(&e.kind, &details, names),
        details: e.details.clone(),
    }
}

/// A policy document's kind in words.
fn policy_words(kind: &str) -> &'static str {
    if kind == "terms" {
        "terms of use"
    } else {
        "privacy policy"
    }
}

/// An entry in words.
pub fn summary(kind: &str, d: &serde_json::Value, names: &BTreeMap<String, String>) -> String {
    let s = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
    let device = s("device_name");
    let from = match d.get("ip").and_then(|v| v.as_str()) {
        Some(ip) => format!(" from {ip}"),
        None => String::new(),
    };
    let member = |k: &str| {
        let id = s(k);
        names
            .get(&format!("user:{id}"))
            .cloned()
            .unwrap_or_else(|| "a member".into())
    };
    match kind {
        "sign_in" => format!("Signed in on {device}{from}"),
        "sign_in_failed" => format!("Sign-in refused ({}){from}", s("reason").replace('_', " ")),
        "sign_out" => "Signed out".into(),
        "member_role_changed" => {
            format!("Made {} {}", member("member"), s("role").replace('_', " "))
        }
        "member_disabled" => format!("Disabled {}", member("member")),
        "member_enabled" => format!("Enabled {}", member("member")),
        "member_credentials_removed" => {
            format!("Removed the credentials of {}", member("member"))
        }
        "matter_access_changed" => "Changed who may open a matter".into(),
        "member_invited" => format!("Invited someone as {}", s("role").replace('_', " ")),
        "invitation_revoked" => "Withdrew an invitation".into(),
        "invitation_accepted" => format!(
            "Accepted an invitation and joined as {}",
            s("role").replace('_', " ")
        ),
        "mfa_enabled" => "Turned on an authenticator app".into(),
        "mfa_disabled" => "Turned off the second factor".into(),
        "recovery_codes_regenerated" => "Made new recovery codes".into(),
        "recovery_code_used" => "Used a recovery code".into(),
        "reauthenticated" => format!("Confirmed their password{from}"),
        "reauth_failed" => format!("Password confirmation refused{from}"),
        "practice_settings_changed" => "Changed the practice's settings".into(),
        "session_revoked" => format!("Signed out {device} remotely"),
        "device_wiped" => format!("{device} erased its offline copy"),
        "access_review_completed" => format!(
            "Completed an access review ({} disabled, {} invitations withdrawn)",
            d.get("disabled")
                .and_then(|v| v.as_array())
                .map_or(0, Vec::len),
            d.get("invitations_revoked")
                .and_then(|v| v.as_array())
                .map_or(0, Vec::len),
        ),
        "practice_exported" => format!(
            "Exported the practice ({} records)",
            d.get("records").and_then(|v| v.as_u64()).unwrap_or(0)
        ),
        "support_access_requested" => format!(
            "Asked for {} access ({}): {}",
            s("access").replace('_', "-"),
            s("ticket"),
            s("reason")
        ),
        "support_access_approved" => "Approved support access".into(),
        "support_access_declined" => "Declined support access".into(),
        "support_access_revoked" => "Ended support access".into(),
        "support_data_accessed" => format!(
            "Support {} {} {} record(s) under a grant",
            if s("method") == "PUT" {
                "wrote"
            } else {
                "read"
            },
            d.get("count").and_then(|v| v.as_u64()).unwrap_or(0),
            s("record_kind").replace('_', " ")
        ),
        "support_access_refused" => format!(
            "Support was refused {} records ({})",
            s("record_kind").replace('_', " "),
            s("reason").replace('_', " ")
        ),
        "integration_created" => format!("Connected the app {}", s("app_name")),
        "integration_revoked" => format!("Disconnected the app {}", s("app_name")),
        "consent_changed" => {
            let on = |k: &str| d.get(k).and_then(|v| v.as_bool()).unwrap_or(false);
            let allowed = match (on("functional"), on("analytics")) {
                (true, true) => "functional and analytics allowed",
                (true, false) => "functional allowed, analytics off",
                (false, true) => "analytics allowed, functional off",
                (false, false) => "only strictly necessary",
            };
            let by = match s("source").as_str() {
                "gpc" => " by Global Privacy Control",
                _ => "",
            };
            let surface = if s("surface") == "web" {
                "in a browser"
            } else {
                "in the desktop app"
            };
            format!("Changed cookie choices {surface}{by}: {allowed}")
        }
        "notification_preferences_changed" => format!(
            "Changed notification preferences ({} change(s))",
            d.get("changes")
                .and_then(|v| v.as_array())
                .map_or(0, Vec::len)
        ),
        "incident_recorded" => format!("A security incident was recorded: {}", s("title")),
        "incident_acknowledged" => "Acknowledged a security incident notice".into(),
        "policy_published" => format!(
            "A new version of the {} was published ({})",
            policy_words(&s("kind")),
            s("version")
        ),
        "policy_acknowledged" => format!(
            "Acknowledged the {}, version {}",
            policy_words(&s("kind")),
            s("version")
        ),
        other => other.replace('_', " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cases the browser's `auditSummary` is held to as well (ui/src/lib/web-backend.test.ts).
    #[test]
    fn audit_entries_read_as_the_shared_cases_say() {
        let cases: serde_json::Value =
            serde_json::from_str(include_str!("../tests/data/audit-words.json")).unwrap();
        let names: BTreeMap<String, String> =
            serde_json::from_value(cases["names"].clone()).unwrap();
        let cases = cases["cases"].as_array().unwrap();
        assert!(cases.len() >= 10);
        for case in cases {
            let kind = case["kind"].as_str().unwrap();
            assert_eq!(
                summary(kind, &case["details"], &names),
                case["words"].as_str().unwrap(),
                "{kind}"
            );
        }
    }
}
