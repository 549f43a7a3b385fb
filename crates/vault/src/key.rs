//! The vault key: 32 random bytes, applied to SQLCipher as a raw key (no KDF on open).
//!
//! Invariant: the key's bytes are wiped from memory when dropped, are never printed by
//! `Debug`, and leave this module only as the raw-key pragma handed to SQLCipher.

use rand::TryRngCore;
use rusqlite::Connection;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A 32-byte SQLCipher raw key.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct VaultKey([u8; 32]);

impl VaultKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<Self, rand::rand_core::OsError> {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.try_fill_bytes(&mut k)?;
        let key = VaultKey(k);
        k.zeroize();
        Ok(key)
    }

    /// A key from exactly 32 bytes; `None` for any other length.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(VaultKey(arr))
    }

    /// The key's bytes, for storing in the keyring.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub(crate) fn apply(&self, conn: &Connection) -> rusqlite::Result<()> {
        // SQLCipher's raw-key syntax: a blob literal inside a double-quoted string.
        let mut pragma = Zeroizing::new(String::with_capacity(80));
        pragma.push_str("PRAGMA key = \"x'");
        let hex = Zeroizing::new(hex::encode(self.0));
        pragma.push_str(&hex);
        pragma.push_str("'\";");
        conn.execute_batch(&pragma)
    }
}

impl std::fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultKey(<redacted>)")
    }
}
