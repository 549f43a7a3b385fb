//! Breach notices (promise 10) as the desktop sees them: the incidents that affect the
//! member's own practice, with every statutory field the service sends (what happened, when
//! it happened and was found, the kinds of data, the steps taken, what to do, whom to
//! contact, whether a regulator was told), when the notice reached this member and when
//! they acknowledged it; acknowledging one; and, for administrators, who in the practice
//! has acknowledged it.
//!
//! Like the dashboard's ([`crate::dashboard`]) and the preferences' ([`crate::preferences`]),
//! reads go to the service and keep their answer in the vault's meta (`cache:*`), so the
//! page opens offline with the last answer and says how old it is ([`Cached`]); the action
//! needs the service and fails [`ClientError::Offline`] without it, changing nothing. Its
//! answer replaces that incident in the kept list (and fills in the member's own row of a
//! kept acknowledgement table), so offline the page shows what was last decided.
//!
//! Invariants:
//! - The service decides what a member may see: an incident of another practice, or none,
//!   is [`ClientError::NotFound`]; the acknowledgement table is for administrators, others
//!   get [`ClientError::Forbidden`]. Nothing here filters or second-guesses it.
//! - Acknowledging is idempotent on the service (the first time counts); asking again
//!   answers the same time.

use strongroom_protocol::incidents::{IncidentAcknowledgements, MemberIncident};
use uuid::Uuid;

use crate::{Cached, ClientError, Core};

/// The vault keys of the kept reads.
mod cache {
    pub const INCIDENTS: &str = "cache:incidents";

    /// One incident's acknowledgement table (administrators').
    pub fn acknowledgements(id: uuid::Uuid) -> String {
        format!("cache:incident_acknowledgements:{id}")
    }
}

impl Core {
    /// The breach notices that affect the member's practice, newest first, each with its
    /// statutory fields, when it reached the member (in-app and by email) and when they
    /// acknowledged it.
    pub async fn incidents(&mut self) -> Result<Cached<Vec<MemberIncident>>, ClientError> {
        self.cached_fetch(cache::INCIDENTS, |server, token| async move {
            server.incidents(&token).await
        })
        .await
    }

    /// Records that the member has read the notice (again: changes nothing). Answers the
    /// incident as the member now sees it, which also replaces it in the kept list.
    pub async fn acknowledge_incident(&mut self, id: Uuid) -> Result<MemberIncident, ClientError> {
        let incident = self
            .act_with(|server, token| async move { server.acknowledge_incident(&token, id).await })
            .await?;
        self.keep_incident(&incident);
        self.keep_own_acknowledgement(&incident);
        Ok(incident)
    }

    /// Every member of the practice and whether each was notified of the incident, when
    /// their email left and when they acknowledged it (administrators only).
    pub async fn incident_acknowledgements(
        &mut self,
        id: Uuid,
    ) -> Result<Cached<IncidentAcknowledgements>, ClientError> {
        self.cached_fetch(&cache::acknowledgements(id), |server, token| async move {
            server.incident_acknowledgements(&token, id).await
        })
        .await
    }

    /// Puts an action's answer into the kept list in place of the incident's older copy
    /// (or, not kept yet, where its recording time puts it), keeping the list's time: the
    /// other incidents are as old as they were. Best effort: the service has decided
    /// already, so a vault that cannot take it only leaves an older copy for offline.
    fn keep_incident(&self, incident: &MemberIncident) {
        self.amend_kept(cache::INCIDENTS, |kept: &mut Vec<MemberIncident>| {
            match kept.iter_mut().find(|i| i.id == incident.id) {
                Some(old) => *old = incident.clone(),
                None => {
                    // Newest first, as the service lists them.
                    let at = kept
                        .iter()
                        .position(|i| i.recorded_at < incident.recorded_at)
                        .unwrap_or(kept.len());
                    kept.insert(at, incident.clone());
                }
            }
            true
        });
    }

    /// An administrator who kept the incident's acknowledgement table sees their own
    /// acknowledgement in it offline too: their row (found by the address the service
    /// signed them in with) takes the answer's time, and the count follows. Best effort,
    /// as [`Core::keep_incident`]; the table keeps its own time.
    fn keep_own_acknowledgement(&self, incident: &MemberIncident) {
        let Some(at) = incident.acknowledged_at.clone() else {
            return;
        };
        let Some(me) = self
            .vault
            .as_ref()
            .and_then(|v| v.meta(crate::meta::USER_EMAIL).ok().flatten())
        else {
            return;
        };
        let key = cache::acknowledgements(incident.id);
        self.amend_kept(&key, |kept: &mut IncidentAcknowledgements| {
            let Some(row) = kept
                .members
                .iter_mut()
                .find(|m| m.email.eq_ignore_ascii_case(&me) && m.acknowledged_at.is_none())
            else {
                return false;
            };
            row.acknowledged_at = Some(at);
            kept.acknowledged = kept
                .members
                .iter()
                .filter(|m| m.acknowledged_at.is_some())
                .count()
                .try_into()
                .unwrap_or(u32::MAX);
            true
        });
    }
}
