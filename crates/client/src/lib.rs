//! The desktop's use cases, in plain Rust: start, sign in, sync, list matters, status.
//!
//! The Tauri shell is a thin layer of commands over [`Core`]; tests drive `Core` directly,
//! without a window. `Core` glues the keyring ([`strongroom_keystore`]), the encrypted
//! vault ([`strongroom_vault`]) and the server client ([`strongroom_sync`]).
//!
//! Invariants:
//! - No vault is created until the server has accepted the credentials.
//! - The vault key and the session token live only in the OS keyring and in memory.
//! - A network failure never touches the vault: pages are decoded whole, then applied
//!   one transaction per page.
//! - Every error reaching the UI carries an [`ErrorCode`]; the UI maps codes to words.

mod error;
mod status;

pub use error::{ClientError, ErrorCode, ErrorDto};
pub use status::{AppStatus, Connection, MatterSummary, SyncReport};

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use strongroom_keystore::{Keystore, SecretKind};
use strongroom_protocol::SignInRequest;
use strongroom_sync::{ServerClient, SyncError, TlsOptions};
use strongroom_vault::{Vault, VaultKey};
use zeroize::Zeroizing;

/// The keyring service name the desktop app uses.
pub const KEYRING_SERVICE: &str = "law.strongroom.desktop";

/// The vault's file name inside the data directory.
pub const VAULT_FILE: &str = "vault.db";

/// Changes asked for per page.
const PAGE_SIZE: u32 = 500;

/// How the core is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the vault lives.
    pub data_dir: PathBuf,
    /// The keyring service name; tests use their own.
    pub keyring_service: String,
    /// Server address to suggest on the sign-in screen.
    pub default_server_url: Option<String>,
    /// A practice CA (PEM) to trust in addition to the OS roots, for sign-in. After sign-in
    /// the vault keeps it.
    pub practice_ca_pem: Option<String>,
    /// Leave the OS roots out (tests only).
    pub without_os_roots: bool,
    /// How this device names itself to the server.
    pub device_name: String,
}

impl Config {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            keyring_service: KEYRING_SERVICE.into(),
            default_server_url: None,
            practice_ca_pem: None,
            without_os_roots: false,
            device_name: format!("Strongroom desktop ({})", std::env::consts::OS),
        }
    }

    /// The vault file's path.
    pub fn vault_path(&self) -> PathBuf {
        self.data_dir.join(VAULT_FILE)
    }
}

/// The keyring profile of a data directory: keyring entries are per vault, so two data
/// directories never share a key.
pub fn profile_for(data_dir: &Path) -> String {
    let canonical = data_dir
        .canonicalize()
        .unwrap_or_else(|_| data_dir.to_owned());
    hex::encode(&Sha256::digest(canonical.as_os_str().as_encoded_bytes())[..12])
}

mod meta {
    pub const SERVER_URL: &str = "server_url";
    pub const PRACTICE_CA: &str = "practice_ca_pem";
    pub const USER_EMAIL: &str = "user_email";
    pub const USER_NAME: &str = "user_name";
    pub const PRACTICE_NAME: &str = "practice_name";
}

/// The desktop core.
pub struct Core {
    cfg: Config,
    keystore: Keystore,
    profile: String,
    vault: Option<Vault>,
    connection: Connection,
    last_error: Option<ErrorDto>,
}

impl Core {
    /// A core over `cfg`. Nothing is touched until [`Core::start`].
    pub fn new(cfg: Config) -> Self {
        let keystore = Keystore::native(cfg.keyring_service.clone());
        Self {
            profile: String::new(),
            keystore,
            cfg,
            vault: None,
            connection: Connection::Unknown,
            last_error: None,
        }
    }

    /// Checks the keyring with a round trip and opens the vault if there is one.
    pub fn start(&mut self) -> Result<AppStatus, ClientError> {
        self.keystore.round_trip_check()?;
        create_private_dir(&self.cfg.data_dir)?;
        self.profile = profile_for(&self.cfg.data_dir);
        let path = self.cfg.vault_path();
        if self.vault.is_none() && path.exists() {
            let key = self
                .keystore
                .get(SecretKind::VaultKey, &self.profile)?
                .ok_or(ClientError::VaultKeyMissing)?;
            let key = VaultKey::from_slice(&key).ok_or(ClientError::VaultKeyMissing)?;
            self.vault = Some(Vault::open(&path, &key)?);
        }
        self.status()
    }

    /// Where things stand, for the status line.
    pub fn status(&self) -> Result<AppStatus, ClientError> {
        let mut s = AppStatus {
            signed_in: self.vault.is_some(),
            default_server_url: self.cfg.default_server_url.clone(),
            connection: self.connection,
            last_error: self.last_error.clone(),
            ..AppStatus::default()
        };
        if let Some(v) = &self.vault {
            s.server_url = v.meta(meta::SERVER_URL)?;
            s.user_email = v.meta(meta::USER_EMAIL)?;
            s.user_name = v.meta(meta::USER_NAME)?;
            s.practice_name = v.meta(meta::PRACTICE_NAME)?;
            s.last_sync_at = v.sync_state()?.last_sync_at;
            s.matter_count = v.matter_count()?;
        }
        Ok(s)
    }

    fn tls_options(&self, ca: Option<String>) -> TlsOptions {
        TlsOptions {
            extra_ca_pem: ca,
            without_os_roots: self.cfg.without_os_roots,
        }
    }

    /// Signs in, creates the vault and runs the first sync. Wrong credentials, an
    /// unreachable or untrusted server: an error, and no vault is created.
    pub async fn sign_in(
        &mut self,
        server_url: &str,
        email: &str,
        password: &str,
    ) -> Result<AppStatus, ClientError> {
        if self.vault.is_some() || self.cfg.vault_path().exists() {
            return Err(ClientError::AlreadySignedIn);
        }
        if self.profile.is_empty() {
            self.start()?;
        }
        let ca = self.cfg.practice_ca_pem.clone();
        let server = ServerClient::new(server_url, &self.tls_options(ca.clone()))?;
        server.health().await?;
        let answer = server
            .sign_in(&SignInRequest {
                email: email.trim().to_owned(),
                password: password.to_owned(),
                device_name: self.cfg.device_name.clone(),
            })
            .await?;
        let token = Zeroizing::new(answer.token);

        let key = VaultKey::generate().map_err(|e| ClientError::Internal(e.to_string()))?;
        let created = (|| -> Result<Vault, ClientError> {
            self.keystore
                .set(SecretKind::VaultKey, &self.profile, key.as_bytes())?;
            let vault = Vault::create(&self.cfg.vault_path(), &key)?;
            vault.set_meta(meta::SERVER_URL, server.address())?;
            if let Some(ca) = &ca {
                vault.set_meta(meta::PRACTICE_CA, ca)?;
            }
            vault.set_meta(meta::USER_EMAIL, &answer.user.email)?;
            vault.set_meta(meta::USER_NAME, &answer.user.display_name)?;
            vault.set_meta(meta::PRACTICE_NAME, &answer.practice.name)?;
            self.keystore
                .set(SecretKind::SessionToken, &self.profile, token.as_bytes())?;
            Ok(vault)
        })();
        match created {
            Ok(vault) => self.vault = Some(vault),
            Err(e) => {
                // Leave nothing half made behind.
                let _ = Vault::wipe_files(&self.cfg.vault_path());
                let _ = self.keystore.delete(SecretKind::VaultKey, &self.profile);
                let _ = self
                    .keystore
                    .delete(SecretKind::SessionToken, &self.profile);
                return Err(e);
            }
        }
        self.connection = Connection::Online;
        // The first sync's failure leaves a signed-in, empty vault that syncs later.
        let _ = self.sync().await;
        self.status()
    }

    /// Pulls every change after the vault's cursor, one transaction per page.
    pub async fn sync(&mut self) -> Result<SyncReport, ClientError> {
        let result = self.sync_inner().await;
        match &result {
            Ok(_) => {
                self.connection = Connection::Online;
                self.last_error = None;
            }
            Err(e) => {
                if e.is_offline() {
                    self.connection = Connection::Offline;
                }
                self.last_error = Some(e.to_dto());
            }
        }
        result
    }

    async fn sync_inner(&mut self) -> Result<SyncReport, ClientError> {
        let vault = self.vault.as_ref().ok_or(ClientError::NotSignedIn)?;
        let url = vault
            .meta(meta::SERVER_URL)?
            .ok_or(ClientError::NotSignedIn)?;
        let ca = vault
            .meta(meta::PRACTICE_CA)?
            .or_else(|| self.cfg.practice_ca_pem.clone());
        let token = self
            .keystore
            .get(SecretKind::SessionToken, &self.profile)?
            .ok_or(ClientError::SessionExpired)?;
        let token = Zeroizing::new(
            String::from_utf8(token.to_vec()).map_err(|_| ClientError::SessionExpired)?,
        );
        let server = ServerClient::new(&url, &self.tls_options(ca))?;
        let mut report = SyncReport::default();
        loop {
            let cursor = self
                .vault
                .as_ref()
                .ok_or(ClientError::NotSignedIn)?
                .sync_state()?
                .cursor;
            let page = server.changes(&token, cursor, PAGE_SIZE).await?;
            let vault = self.vault.as_mut().ok_or(ClientError::NotSignedIn)?;
            report.applied += vault.apply_page(&page, &now_rfc3339())?;
            report.pages += 1;
            if !page.has_more {
                break;
            }
        }
        if let Some(v) = &self.vault {
            v.mark_synced(&now_rfc3339())?;
        }
        Ok(report)
    }

    /// The matters held offline, most recently opened first.
    pub fn matters(&self) -> Result<Vec<MatterSummary>, ClientError> {
        let vault = self.vault.as_ref().ok_or(ClientError::NotSignedIn)?;
        Ok(vault
            .matters()?
            .into_iter()
            .map(MatterSummary::from)
            .collect())
    }

    /// Closes the vault, checkpointing it (used on exit).
    pub fn close(&mut self) -> Result<(), ClientError> {
        if let Some(v) = self.vault.take() {
            v.close()?;
        }
        Ok(())
    }
}

fn create_private_dir(dir: &Path) -> Result<(), ClientError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| ClientError::Internal(format!("cannot create {}: {e}", dir.display())))
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl From<SyncError> for ClientError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::InvalidAddress(m) => ClientError::InvalidAddress(m),
            SyncError::Unreachable(m) => ClientError::Unreachable(m),
            SyncError::Certificate(m) => ClientError::CertificateRefused(m),
            SyncError::BadCaFile(m) => ClientError::BadCaFile(m),
            SyncError::InvalidCredentials => ClientError::InvalidCredentials,
            SyncError::Unauthenticated => ClientError::SessionExpired,
            SyncError::IncompatibleProtocol { server, client } => {
                ClientError::IncompatibleServer { server, client }
            }
            SyncError::Malformed(m) => ClientError::MalformedResponse(m),
            SyncError::Server { status, detail } if status >= 500 => {
                ClientError::Unreachable(format!("the server answered {status}: {detail}"))
            }
            SyncError::Server { status, detail } => {
                ClientError::Server(format!("{status}: {detail}"))
            }
        }
    }
}
