//! Passphrase unlock, for machines without a keyring: the vault key is derived from the
//! passphrase with Argon2id, whose parameters (never the key) are kept beside the vault in
//! `<vault>.keyparams.json`.
//!
//! Invariant: the parameters file is replaced atomically (write, fsync, rename, fsync the
//! folder), and during a passphrase change it holds both the current and the pending
//! parameters, so that after a crash at any point one of them opens the vault.

use std::io::Write;
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use rand::TryRngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{Result, VaultError, VaultKey};

/// Argon2id parameters for one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    pub algorithm: String,
    pub version: u32,
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
    pub salt_hex: String,
}

/// What the parameters file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyParamsFile {
    pub current: KdfParams,
    /// Set only while a passphrase change is under way.
    #[serde(default)]
    pub pending: Option<KdfParams>,
}

/// The shortest passphrase accepted.
pub const MIN_PASSPHRASE_CHARS: usize = 10;

impl KdfParams {
    /// Fresh parameters with a random salt: 64 MiB, 3 passes (unlocking happens once a
    /// session, so it can afford to be slow for an attacker).
    pub fn generate() -> Result<Self> {
        Self::with_cost(64 * 1024, 3)
    }

    /// Fresh parameters with a random salt and the given cost.
    pub fn with_cost(m_cost_kib: u32, t_cost: u32) -> Result<Self> {
        let mut salt = [0u8; 16];
        rand::rngs::OsRng
            .try_fill_bytes(&mut salt)
            .map_err(|e| VaultError::Io(std::io::Error::other(e.to_string())))?;
        Ok(Self {
            algorithm: "argon2id".into(),
            version: 0x13,
            m_cost_kib,
            t_cost,
            p_cost: 1,
            salt_hex: hex::encode(salt),
        })
    }

    /// Derives the vault key from a passphrase.
    pub fn derive(&self, passphrase: &str) -> Result<VaultKey> {
        if self.algorithm != "argon2id" || self.version != 0x13 {
            return Err(VaultError::BadKeyParams(format!(
                "unsupported algorithm {} v{}",
                self.algorithm, self.version
            )));
        }
        let salt = hex::decode(&self.salt_hex)
            .map_err(|e| VaultError::BadKeyParams(format!("salt: {e}")))?;
        let params = Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32))
            .map_err(|e| VaultError::BadKeyParams(e.to_string()))?;
        let mut out = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase.as_bytes(), &salt, out.as_mut())
            .map_err(|e| VaultError::BadKeyParams(e.to_string()))?;
        VaultKey::from_slice(out.as_ref())
            .ok_or_else(|| VaultError::BadKeyParams("derived key length".into()))
    }
}

/// Where the parameters of the vault at `vault` live.
pub fn params_path(vault: &Path) -> PathBuf {
    let mut p = vault.as_os_str().to_owned();
    p.push(".keyparams.json");
    PathBuf::from(p)
}

/// Reads the parameters file, if there is one.
pub fn read_params(vault: &Path) -> Result<Option<KeyParamsFile>> {
    match std::fs::read(params_path(vault)) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| VaultError::BadKeyParams(e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Replaces the parameters file atomically.
pub fn write_params(vault: &Path, file: &KeyParamsFile) -> Result<()> {
    let path = params_path(vault);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let bytes =
        serde_json::to_vec_pretty(file).map_err(|e| VaultError::BadKeyParams(e.to_string()))?;
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    crate::sync_dir(&path)?;
    Ok(())
}
