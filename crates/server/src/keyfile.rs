//! The service's secret key files in its data directory (`totp.key`, `unsubscribe.key`):
//! 32 random bytes as 64 hex digits, owner-only, made on first start.
//!
//! Invariant: two servers starting at once on one data directory agree on one key. The key
//! is written to a file of its own beside the target and hard-linked into place, which only
//! one of them can do; the other reads the winner's key.

use anyhow::Context;
use rand::TryRngCore;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The 32 bytes in `data_dir/name`, made there (owner-only) if there is none yet. `what`
/// names the key in errors ("the TOTP key").
pub fn load_or_create(data_dir: &Path, name: &str, what: &str) -> anyhow::Result<[u8; 32]> {
    let path = data_dir.join(name);
    if !path.exists() {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut bytes)
            .with_context(|| format!("no randomness for {what}"))?;
        let aside = data_dir.join(format!("{name}.{}", uuid::Uuid::new_v4()));
        {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&aside)
                .with_context(|| format!("creating {}", aside.display()))?;
            writeln!(f, "{}", hex::encode(bytes))?;
            f.sync_all()?;
        }
        let linked = std::fs::hard_link(&aside, &path);
        let _ = std::fs::remove_file(&aside);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
        }
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .with_context(|| format!("{} does not hold 64 hex digits", path.display()))
}
