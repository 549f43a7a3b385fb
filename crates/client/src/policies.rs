//! Policy updates (promises 11 and 12) as the desktop sees them: per document (the privacy
//! policy and the terms), the current version, the one the member last acknowledged and the
//! service's line diff between them; a version's whole text; and acknowledging the current
//! version.
//!
//! Like the dashboard's ([`crate::dashboard`]), reads go to the service and keep their
//! answer in the vault's meta (`cache:*`): the member's view opens offline with the last
//! answer and its age ([`Cached`]); a version's text, which never changes once published,
//! is kept per version and answered offline as it was fetched (its `current` as it was
//! then). Acknowledging needs the service and fails [`ClientError::Offline`] without it,
//! changing nothing; its answer replaces that document's entry in the kept view.
//!
//! Invariants:
//! - Only the current version can be acknowledged, and the service decides which that is:
//!   any other is [`ClientError::PolicyVersionNotCurrent`] with the service's words, and
//!   nothing is recorded or kept.
//! - The diff shown is the service's, as it sent it; nothing here computes another.
//! - A version label is checked before it is used in a request or a vault key (the
//!   service's rule: 1 to 40 letters, digits, `.`, `-` or `_`).

use strongroom_protocol::policies::{MemberPolicy, PolicyDocument, PolicyKind};

use crate::{Cached, ClientError, Core};

/// The longest version label the service publishes.
const MAX_VERSION_CHARS: usize = 40;

/// The vault keys of the kept reads.
mod cache {
    use strongroom_protocol::policies::PolicyKind;

    pub const POLICIES: &str = "cache:policies";

    /// One version's whole text (checked by [`super::version_label`] first).
    pub fn document(kind: PolicyKind, version: &str) -> String {
        format!("cache:policy:{}:{version}", kind.as_str())
    }
}

/// A version label as the service publishes them, trimmed; anything else is
/// [`ClientError::InvalidInput`], never sent.
fn version_label(version: &str) -> Result<&str, ClientError> {
    let v = version.trim();
    let ok = !v.is_empty()
        && v.chars().count() <= MAX_VERSION_CHARS
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(v)
    } else {
        Err(ClientError::InvalidInput(format!(
            "a policy version is 1 to {MAX_VERSION_CHARS} letters, digits, '.', '-' or '_' \
             (such as 2026-12)"
        )))
    }
}

impl Core {
    /// Per document, the current version, the one the member last acknowledged, whether
    /// they are up to date, and the service's line diff between the two (against an empty
    /// document when they acknowledged none).
    pub async fn policies(&mut self) -> Result<Cached<Vec<MemberPolicy>>, ClientError> {
        self.cached_fetch(cache::POLICIES, |server, token| async move {
            server.policies(&token).await
        })
        .await
    }

    /// A version of a document with its whole text (Markdown) and whether it is the
    /// current one. Offline: the copy kept when it was last fetched, or
    /// [`ClientError::Offline`] when none was.
    pub async fn policy_document(
        &mut self,
        kind: PolicyKind,
        version: &str,
    ) -> Result<PolicyDocument, ClientError> {
        let version = version_label(version)?.to_owned();
        let key = cache::document(kind, &version);
        let doc = self
            .cached_fetch(&key, |server, _| async move {
                server.policy_document(kind, &version).await
            })
            .await?;
        Ok(doc.value)
    }

    /// Records that the member has read `version` of the document, which must be the
    /// current one (else [`ClientError::PolicyVersionNotCurrent`], nothing recorded; again:
    /// changes nothing). Answers the member's view of that document, which also replaces
    /// it in the kept view.
    pub async fn acknowledge_policy(
        &mut self,
        kind: PolicyKind,
        version: &str,
    ) -> Result<MemberPolicy, ClientError> {
        let version = version_label(version)?.to_owned();
        let policy = self
            .act_with(|server, token| async move {
                server.acknowledge_policy(&token, kind, &version).await
            })
            .await?;
        self.keep_policy(&policy);
        Ok(policy)
    }

    /// Puts an action's answer into the kept view in place of its document's older entry,
    /// keeping the view's time: the other document is as old as it was. Best effort: the
    /// service has decided already, so a vault that cannot take it only leaves an older
    /// copy for offline.
    fn keep_policy(&self, policy: &MemberPolicy) {
        self.amend_kept(cache::POLICIES, |kept: &mut Vec<MemberPolicy>| {
            match kept.iter_mut().find(|p| p.kind == policy.kind) {
                Some(old) => *old = policy.clone(),
                None => {
                    kept.push(policy.clone());
                    kept.sort_by_key(|p| p.kind);
                }
            }
            true
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_labels_are_the_services() {
        for ok in ["2026-11-28", "2026-12", "v1.2_beta", " 2026-12 "] {
            assert!(version_label(ok).is_ok(), "{ok:?}");
        }
        assert_eq!(version_label(" 2026-12 ").unwrap(), "2026-12");
        let long = "1".repeat(MAX_VERSION_CHARS + 1);
        for bad in [
            "",
            "  ",
            "2026/12",
            "../me",
            "a b",
            "2026-12?x",
            "é",
            long.as_str(),
        ] {
            assert!(
                matches!(version_label(bad), Err(ClientError::InvalidInput(_))),
                "{bad:?}"
            );
        }
    }
}
