//! Secrets in the operating system's keyring, through a native backend only.
//!
//! Strongroom keeps two kinds of secret outside any file: the 32-byte vault key and the
//! session token. Both live here, under one service name, keyed by a *profile* (one per
//! vault on disk).
//!
//! Invariant: entries are always built from the Secret Service credential builder, never
//! from `keyring`'s process-wide default, so the crate's in-memory mock can never be used,
//! whatever features another crate turns on.

use rand::TryRngCore;
use zeroize::Zeroizing;

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What can go wrong with the keyring.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    /// No keyring service could be reached or it refused access (locked, no D-Bus session).
    #[error("the system keyring is not available: {0}")]
    Unavailable(String),
    /// A value read back differs from what was written: the keyring cannot be trusted.
    #[error("the system keyring did not return what was stored in it")]
    RoundTripMismatch,
    /// Any other failure reported by the keyring.
    #[error("the system keyring failed: {0}")]
    Failed(String),
}

impl From<keyring::Error> for KeystoreError {
    fn from(e: keyring::Error) -> Self {
        match e {
            keyring::Error::NoStorageAccess(inner) => KeystoreError::Unavailable(inner.to_string()),
            keyring::Error::PlatformFailure(inner) => KeystoreError::Unavailable(inner.to_string()),
            other => KeystoreError::Failed(other.to_string()),
        }
    }
}

/// The kinds of secret Strongroom keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    VaultKey,
    /// The next vault key, held while a key rotation is under way.
    PendingVaultKey,
    SessionToken,
}

impl SecretKind {
    fn prefix(self) -> &'static str {
        match self {
            SecretKind::VaultKey => "vault-key",
            SecretKind::PendingVaultKey => "vault-key-pending",
            SecretKind::SessionToken => "session-token",
        }
    }
}

/// A handle on the keyring for one service name.
#[derive(Debug, Clone)]
pub struct Keystore {
    service: String,
}

impl Keystore {
    /// A keystore over the native Secret Service backend for `service`.
    pub fn native(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, KeystoreError> {
        let builder = keyring::secret_service::default_credential_builder();
        let cred = builder.build(None, &self.service, account)?;
        Ok(keyring::Entry::new_with_credential(cred))
    }

    fn account(kind: SecretKind, profile: &str) -> String {
        format!("{}:{profile}", kind.prefix())
    }

    /// Writes a random probe, reads it back, compares and deletes it. Run at start-up so
    /// that a broken keyring is found before any secret is entrusted to it.
    pub fn round_trip_check(&self) -> Result<(), KeystoreError> {
        let mut probe = Zeroizing::new([0u8; 16]);
        rand::rngs::OsRng
            .try_fill_bytes(probe.as_mut())
            .map_err(|e| KeystoreError::Failed(e.to_string()))?;
        // A probe of its own, so that two processes starting together never meet.
        let account = format!(
            "round-trip-probe:{}:{}",
            std::process::id(),
            hex_of(&probe[..4])
        );
        let entry = self.entry(&account)?;
        entry.set_secret(probe.as_ref())?;
        let back = entry.get_secret().map(Zeroizing::new);
        let _ = entry.delete_credential();
        let back = back?;
        if back.as_slice() != probe.as_ref() {
            return Err(KeystoreError::RoundTripMismatch);
        }
        Ok(())
    }

    /// Stores a secret, replacing any earlier one.
    pub fn set(&self, kind: SecretKind, profile: &str, secret: &[u8]) -> Result<(), KeystoreError> {
        self.entry(&Self::account(kind, profile))?
            .set_secret(secret)?;
        Ok(())
    }

    /// Reads a secret; `None` when there is none.
    pub fn get(
        &self,
        kind: SecretKind,
        profile: &str,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, KeystoreError> {
        match self.entry(&Self::account(kind, profile))?.get_secret() {
            Ok(v) => Ok(Some(Zeroizing::new(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a secret; deleting one that is not there is not an error.
    pub fn delete(&self, kind: SecretKind, profile: &str) -> Result<(), KeystoreError> {
        match self
            .entry(&Self::account(kind, profile))?
            .delete_credential()
        {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
