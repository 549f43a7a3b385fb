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

    /// SQLCipher's raw-key text, `x'<64 hex digits>'`. Wipe it after use.
    pub(crate) fn raw_key_text(&self) -> String {
        let hex = Zeroizing::new(hex::encode(self.0));
        let mut text = String::with_capacity(67);
        text.push_str("x'");
        text.push_str(&hex);
        text.push('\'');
        text
    }

    pub(crate) fn apply(&self, conn: &Connection) -> rusqlite::Result<()> {
        // The raw-key syntax: the key text inside a double-quoted string. Built by hand (no
        // `format!`) into a buffer that is wiped afterwards.
        let key_text = Zeroizing::new(self.raw_key_text());
        let mut pragma = Zeroizing::new(String::with_capacity(80));
        pragma.push_str("PRAGMA key = \"");
        pragma.push_str(&key_text);
        pragma.push_str("\";");
        conn.execute_batch(&pragma)
    }
}

impl std::fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultKey(<redacted>)")
    }
}
