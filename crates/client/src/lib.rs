//! The desktop's use cases, in plain Rust: start, sign in, unlock, sync, list and search
//! matters, lock, rotate keys, wipe.
//!
//! The Tauri shell is a thin layer of commands over [`Core`]; tests drive `Core` directly,
//! without a window. `Core` glues the keyring ([`strongroom_keystore`]), the encrypted
//! vault ([`strongroom_vault`]) and the server client ([`strongroom_sync`]).
//!
//! Invariants:
//! - No vault is created until the server has accepted the credentials.
//! - The vault key lives only in the OS keyring (or, without one, is derived from a
//!   passphrase and never stored) and in memory while the vault is open.
//! - The session token lives in the OS keyring, or without one inside the encrypted vault;
//!   read from the keyring once, it is kept in memory until the vault locks.
//! - A network failure never touches the vault: pages are decoded whole, then applied
//!   one transaction per page.
//! - Only the server's explicit `session_revoked` erases the vault and its keyring entries
//!   ([`ClientError::DeviceRemoved`]), then the wipe is confirmed with the revoked token,
//!   best effort; a 5xx, a timeout, a lost connection or an expired session never wipes.
//! - A vault that cannot be read is set aside (renamed), never deleted, and the user is
//!   offered a fresh sync.
//! - Every error reaching the UI carries an [`ErrorCode`]; the UI maps codes to words.

mod dashboard;
mod desktop_notices;
mod error;
mod incidents;
mod live;
mod policies;
mod preferences;
mod screens;
mod status;
mod support;

pub use dashboard::{
    AccessReview, AuditActorView, AuditFilter, AuditLogView, AuditRow, Cached, ChainCheck,
    DeviceSession, DormantMember, ExportProgress, ExportResult, ExportSession, ExportStage,
    InvitationSent, InvitationView, MemberChange, MemberView, ReviewRecord, export_practice,
};
pub use error::{ClientError, ErrorCode, ErrorDto};
pub use live::{Backoff, LiveControl, LiveOptions, LiveUpdate, run_live};
pub use screens::{
    ConflictChoice, ConflictField, ConflictView, MatterDetail, MatterFilterOptions,
    MatterListQuery, MatterPage, MatterSort, ParticipantView, RejectedEditView, TimerState,
};
pub use status::{
    AppStatus, Connection, KeyMode, MatterSummary, SearchHitDto, SearchRequest, SyncProgress,
    SyncReport,
};
pub use strongroom_protocol::consent::{ConsentChange, ConsentState, CookieCatalogue, UsageReport};
pub use strongroom_protocol::incidents::{IncidentAcknowledgements, MemberIncident};
pub use strongroom_protocol::notifications::{Notice, NotificationPreferences, PreferencesUpdate};
pub use strongroom_protocol::policies::{MemberPolicy, PolicyDocument, PolicyKind};
pub use strongroom_protocol::support::IntegrationScope;
pub use strongroom_protocol::{Contact, RecordKind, Role};
pub use strongroom_sync::Timeouts;
pub use strongroom_vault::{EditOp, LocalConflict, RejectedEdit};
pub use support::{
    GrantMatter, GrantScope, IntegrationCreatedView, IntegrationView, SupportAccessView,
    SupportGrantView,
};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use strongroom_keystore::{Keystore, SecretKind};
use strongroom_protocol::{
    MAX_PUSH_MUTATIONS, MatterStatus, Mutation, MutationOp, MutationOutcome, PushRequest,
    PushResponse, SignInRequest,
};
use strongroom_sync::{ServerClient, SpkiPin, SyncError, TlsOptions};
use strongroom_vault::passphrase::{self, KdfParams, KeyParamsFile, MIN_PASSPHRASE_CHARS};
use strongroom_vault::{SearchQuery, Vault, VaultError, VaultKey};
use zeroize::Zeroizing;

/// What this device runs, as the sessions list shows it: `linux x86_64`, `macos aarch64`.
pub fn device_platform() -> String {
    [std::env::consts::OS, std::env::consts::ARCH].join(" ")
}

/// The keyring service name the desktop app uses.
pub const KEYRING_SERVICE: &str = "law.strongroom.desktop";

/// The vault's folder inside the data directory (kept apart from the webview's files).
pub const VAULT_DIR: &str = "vault";

/// The vault's file name inside [`VAULT_DIR`].
pub const VAULT_FILE: &str = "vault.db";

/// A file in [`VAULT_DIR`] that says a wipe began and has not finished.
const WIPE_MARKER: &str = "wipe-pending";

/// Changes asked for per page.
const PAGE_SIZE: u32 = strongroom_protocol::MAX_PAGE_SIZE;

/// How the core is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// The app's data directory; the vault lives in its `vault/` folder.
    pub data_dir: PathBuf,
    /// The keyring service name; tests use their own.
    pub keyring_service: String,
    /// Server address to suggest on the sign-in screen.
    pub default_server_url: Option<String>,
    /// A practice CA (PEM) to trust in addition to the OS roots, for sign-in. After sign-in
    /// the vault keeps it.
    pub practice_ca_pem: Option<String>,
    /// Public-key pins (`sha256/<base64>` of the server's SubjectPublicKeyInfo) the server
    /// must match, for sign-in; after sign-in the vault keeps them. Empty: none.
    pub server_pins: Vec<String>,
    /// Leave the OS roots out (tests only).
    pub without_os_roots: bool,
    /// How this device names itself to the server.
    pub device_name: String,
    /// Lock after this long without use.
    pub idle_lock: Duration,
    /// Argon2id cost for passphrase keys: memory in KiB and passes.
    pub passphrase_cost: (u32, u32),
    /// How many changes a first sync stores per transaction (default
    /// [`strongroom_vault::BULK_BATCH_CHANGES`]): fewer hold less in memory and lose less
    /// to an interruption, more load faster.
    pub bulk_batch_changes: usize,
    /// Where exports are saved; none: the user's Downloads folder.
    pub export_dir: Option<PathBuf>,
    /// How long to wait on the network before calling the service unreachable: making a
    /// connection, a request, and the live stream's silence.
    pub timeouts: Timeouts,
}

impl Config {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            keyring_service: KEYRING_SERVICE.into(),
            default_server_url: None,
            practice_ca_pem: None,
            server_pins: Vec::new(),
            without_os_roots: false,
            device_name: format!("Strongroom desktop ({})", std::env::consts::OS),
            idle_lock: Duration::from_secs(15 * 60),
            passphrase_cost: (64 * 1024, 3),
            bulk_batch_changes: strongroom_vault::BULK_BATCH_CHANGES,
            export_dir: None,
            timeouts: Timeouts::default(),
        }
    }

    /// The vault file's path.
    pub fn vault_path(&self) -> PathBuf {
        self.data_dir.join(VAULT_DIR).join(VAULT_FILE)
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
    /// The server's public-key pins, comma-separated, when sign-in had any.
    pub const SERVER_PINS: &str = "server_pins";
    pub const USER_EMAIL: &str = "user_email";
    pub const USER_NAME: &str = "user_name";
    pub const PRACTICE_NAME: &str = "practice_name";
    /// The session token, only where no keyring can hold it.
    pub const SESSION_TOKEN: &str = "session_token";
    /// This install's id towards the service: with the member, it names the sequence of
    /// this vault's pushed edits.
    pub const DEVICE_ID: &str = "device_id";
}

/// What a server client is made from: the address, the practice CA and the pins.
type ServerKey = (String, Option<String>, String);

/// The desktop core.
pub struct Core {
    cfg: Config,
    keystore: Keystore,
    profile: String,
    keyring_ok: bool,
    vault: Option<Vault>,
    connection: Connection,
    last_error: Option<ErrorDto>,
    clock_skew: Option<i64>,
    last_activity: Instant,
    set_aside: Option<PathBuf>,
    sync_running: bool,
    live: std::sync::Arc<LiveControl>,
    /// The last server client made, by what it was made from.
    server_cache: Option<(ServerKey, ServerClient)>,
    /// The sync under way, how far it has come.
    progress: Option<SyncProgress>,
    /// What this device last told the service it holds (matters, records), and when.
    holdings_sent: Option<(u64, u64, Instant)>,
    /// The session token as read from the keyring, while the vault is open: each sync,
    /// poke and report needs it, and every keyring read is a D-Bus connection of its own
    /// (GNOME Keyring has been seen to abort under a stream of them).
    token: Option<Zeroizing<String>>,
}

impl Core {
    /// A core over `cfg`. Nothing is touched until [`Core::start`].
    pub fn new(cfg: Config) -> Self {
        let keystore = Keystore::native(cfg.keyring_service.clone());
        Self {
            profile: profile_for(&cfg.data_dir),
            keystore,
            cfg,
            keyring_ok: false,
            vault: None,
            connection: Connection::Unknown,
            last_error: None,
            clock_skew: None,
            last_activity: Instant::now(),
            set_aside: None,
            sync_running: false,
            live: Default::default(),
            server_cache: None,
            progress: None,
            holdings_sent: None,
            token: None,
        }
    }

    fn key_mode(&self) -> Result<Option<KeyMode>, ClientError> {
        let path = self.cfg.vault_path();
        if !path.exists() {
            return Ok(None);
        }
        Ok(Some(if passphrase::read_params(&path)?.is_some() {
            KeyMode::Passphrase
        } else {
            KeyMode::Keyring
        }))
    }

    /// Checks the keyring with a round trip and opens the vault if there is one and its key
    /// is in the keyring. A vault with a passphrase waits for [`Core::unlock`]. A vault that
    /// cannot be read is set aside and the status offers a fresh sign-in.
    pub fn start(&mut self) -> Result<AppStatus, ClientError> {
        create_private_dir(&self.cfg.data_dir)?;
        create_private_dir(&self.cfg.data_dir.join(VAULT_DIR))?;
        self.profile = profile_for(&self.cfg.data_dir);
        let keyring = self.keystore.round_trip_check();
        self.keyring_ok = keyring.is_ok();
        if self.wipe_marker().exists() {
            // A wipe was cut short: finish it before anything else is read.
            self.wipe()?;
        }
        if self.vault.is_none() && self.key_mode()? == Some(KeyMode::Keyring) {
            keyring?;
            self.open_from_keyring()?;
        }
        self.status()
    }

    fn open_from_keyring(&mut self) -> Result<(), ClientError> {
        let path = self.cfg.vault_path();
        let current = self.keystore.get(SecretKind::VaultKey, &self.profile)?;
        let pending = self
            .keystore
            .get(SecretKind::PendingVaultKey, &self.profile)?;
        let keys: Vec<VaultKey> = [current.as_ref(), pending.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|k| VaultKey::from_slice(k))
            .collect();
        if keys.is_empty() {
            self.set_aside_unreadable(None)?;
            return Ok(());
        }
        let refs: Vec<&VaultKey> = keys.iter().collect();
        match Vault::open_with_any(&path, &refs) {
            Ok((vault, which)) => {
                if pending.is_some() {
                    // A rotation was under way: finish it, whichever key opened the vault.
                    self.keystore.set(
                        SecretKind::VaultKey,
                        &self.profile,
                        refs[which].as_bytes(),
                    )?;
                    self.keystore
                        .delete(SecretKind::PendingVaultKey, &self.profile)?;
                }
                self.vault = Some(vault);
                self.live.poke();
                self.touch();
                Ok(())
            }
            Err(VaultError::SetAside(to)) => {
                self.keep_key_of_set_aside(&to, refs[0])?;
                self.set_aside = Some(to);
                Ok(())
            }
            Err(VaultError::WrongKeyOrNotAVault) => self.set_aside_unreadable(Some(refs[0])),
            Err(e) => Err(e.into()),
        }
    }

    /// Renames a vault that cannot be read out of the way, keeping its key beside it.
    fn set_aside_unreadable(&mut self, key: Option<&VaultKey>) -> Result<(), ClientError> {
        let to = Vault::set_aside(&self.cfg.vault_path())?;
        if let Some(key) = key {
            self.keep_key_of_set_aside(&to, key)?;
        }
        self.keystore.delete(SecretKind::VaultKey, &self.profile)?;
        self.keystore
            .delete(SecretKind::PendingVaultKey, &self.profile)?;
        self.set_aside = Some(to);
        Ok(())
    }

    fn keep_key_of_set_aside(&self, to: &Path, key: &VaultKey) -> Result<(), ClientError> {
        let name = to
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.keystore.set(
            SecretKind::VaultKey,
            &format!("{}:{name}", self.profile),
            key.as_bytes(),
        )?;
        Ok(())
    }

    /// Where things stand, for the status line and to pick a screen.
    pub fn status(&self) -> Result<AppStatus, ClientError> {
        let key_mode = self.key_mode()?;
        let mut s = AppStatus {
            signed_in: key_mode.is_some(),
            locked: key_mode.is_some() && self.vault.is_none(),
            key_mode,
            keyring_available: self.keyring_ok,
            default_server_url: self.cfg.default_server_url.clone(),
            connection: self.connection,
            last_error: self.last_error.clone(),
            set_aside: self.set_aside.as_ref().map(|p| p.display().to_string()),
            sync_progress: self.progress,
            ..AppStatus::default()
        };
        if let Some(v) = &self.vault {
            s.server_url = v.meta(meta::SERVER_URL)?;
            s.user_email = v.meta(meta::USER_EMAIL)?;
            s.user_name = v.meta(meta::USER_NAME)?;
            s.practice_name = v.meta(meta::PRACTICE_NAME)?;
            s.last_sync_at = v.sync_state()?.last_sync_at;
            s.matter_count = v.matter_count()?;
            s.pending_edits = v.outbox_len()?;
            let conflicts = v.open_conflicts()?;
            let mut ids: Vec<&str> = conflicts.iter().map(|c| c.server_id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            s.open_conflicts = ids.len() as i64;
            s.rejected_edits = v.rejected_edits()?.len() as i64;
        }
        s.clock_skew_secs = self.clock_skew;
        Ok(s)
    }

    fn touch(&mut self) {
        self.last_activity = Instant::now();
    }

    fn tls_options(&self, ca: Option<String>, pins: &str) -> Result<TlsOptions, ClientError> {
        Ok(TlsOptions {
            extra_ca_pem: ca,
            without_os_roots: self.cfg.without_os_roots,
            pins: SpkiPin::parse_list(pins)?,
        })
    }

    /// The configured pins, as one comma-separated setting.
    fn configured_pins(&self) -> String {
        self.cfg.server_pins.join(",")
    }

    /// The server's address, and the practice CA and pins to trust it by: the vault's
    /// (kept at sign-in), else the configuration's.
    ///
    /// The client is kept and reused while these stay the same, so its connections (and
    /// their TLS sessions) carry over from one sync to the next.
    fn server_of_vault(&mut self) -> Result<ServerClient, ClientError> {
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        let url = vault
            .meta(meta::SERVER_URL)?
            .ok_or(ClientError::NotSignedIn)?;
        let ca = vault
            .meta(meta::PRACTICE_CA)?
            .or_else(|| self.cfg.practice_ca_pem.clone());
        let pins = vault
            .meta(meta::SERVER_PINS)?
            .unwrap_or_else(|| self.configured_pins());
        let key = (url, ca, pins);
        if let Some((k, client)) = &self.server_cache
            && *k == key
        {
            return Ok(client.clone());
        }
        let client = ServerClient::with_timeouts(
            &key.0,
            &self.tls_options(key.1.clone(), &key.2)?,
            self.cfg.timeouts,
        )?;
        self.server_cache = Some((key, client.clone()));
        Ok(client)
    }

    /// Signs in, creates the vault and runs the first sync. With no keyring, a passphrase
    /// (at least [`MIN_PASSPHRASE_CHARS`] characters) is required and the vault key is
    /// derived from it. Wrong credentials, an unreachable or untrusted server: an error,
    /// and no vault is created.
    pub async fn sign_in(
        &mut self,
        server_url: &str,
        email: &str,
        password: &str,
        vault_passphrase: Option<&str>,
    ) -> Result<AppStatus, ClientError> {
        self.sign_in_without_sync(server_url, email, password, vault_passphrase)
            .await?;
        // The first sync's failure leaves a signed-in vault that syncs later.
        let _ = self.sync().await;
        self.status()
    }

    /// [`Core::sign_in`] without the first sync, which the next [`Core::sync`] (or the
    /// live loop) then runs, resumable and with its progress shown.
    pub async fn sign_in_without_sync(
        &mut self,
        server_url: &str,
        email: &str,
        password: &str,
        vault_passphrase: Option<&str>,
    ) -> Result<AppStatus, ClientError> {
        self.sign_in_with_code(server_url, email, password, vault_passphrase, None)
            .await
    }

    /// [`Core::sign_in_without_sync`] with a second factor: `one_time_code` is the
    /// authenticator's six digits, or one of the member's recovery codes. Without one, a
    /// member with a second factor gets [`ClientError::MfaRequired`] and nothing is made.
    pub async fn sign_in_with_code(
        &mut self,
        server_url: &str,
        email: &str,
        password: &str,
        vault_passphrase: Option<&str>,
        one_time_code: Option<&str>,
    ) -> Result<AppStatus, ClientError> {
        if self.profile.is_empty() || !self.cfg.data_dir.join(VAULT_DIR).exists() {
            let _ = self.start();
        }
        if self.vault.is_some() || self.cfg.vault_path().exists() {
            return Err(ClientError::AlreadySignedIn);
        }
        let passphrase = match (self.keyring_ok, vault_passphrase) {
            (true, _) => None,
            (false, None) => return Err(ClientError::PassphraseRequired),
            (false, Some(p)) if p.chars().count() < MIN_PASSPHRASE_CHARS => {
                return Err(ClientError::PassphraseTooShort(MIN_PASSPHRASE_CHARS));
            }
            (false, Some(p)) => Some(p),
        };
        let ca = self.cfg.practice_ca_pem.clone();
        let tls = self.tls_options(ca.clone(), &self.configured_pins())?;
        let pins: Vec<String> = tls.pins.iter().map(ToString::to_string).collect();
        let server = ServerClient::with_timeouts(server_url, &tls, self.cfg.timeouts)?;
        server.health().await?;
        // Six digits are the authenticator's code; anything else is a recovery code.
        let code = one_time_code
            .map(|c| c.split_whitespace().collect::<String>())
            .filter(|c| !c.is_empty());
        let has_code = code.is_some();
        let (totp_code, recovery_code) = match code {
            Some(c) if c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()) => (Some(c), None),
            Some(c) => (None, Some(c)),
            None => (None, None),
        };
        let answer = server
            .sign_in(&SignInRequest {
                email: email.trim().to_owned(),
                password: password.to_owned(),
                device_name: self.cfg.device_name.clone(),
                totp_code: totp_code.clone(),
                recovery_code: recovery_code.clone(),
                platform: Some(device_platform()),
                app_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
            })
            .await
            .map_err(|e| match e {
                // The service answers a wrong second factor as it does a wrong password.
                SyncError::InvalidCredentials if has_code => ClientError::WrongCode,
                e => e.into(),
            })?;
        self.note_clock_skew(server.clock_skew());
        let token = Zeroizing::new(answer.token.clone());
        let path = self.cfg.vault_path();

        let created = (|| -> Result<Vault, ClientError> {
            let key = match passphrase {
                None => {
                    let key =
                        VaultKey::generate().map_err(|e| ClientError::Internal(e.to_string()))?;
                    self.keystore
                        .set(SecretKind::VaultKey, &self.profile, key.as_bytes())?;
                    key
                }
                Some(p) => {
                    let (m, t) = self.cfg.passphrase_cost;
                    let params = KdfParams::with_cost(m, t)?;
                    let key = params.derive(p)?;
                    passphrase::write_params(
                        &path,
                        &KeyParamsFile {
                            current: params,
                            pending: None,
                        },
                    )?;
                    key
                }
            };
            let vault = Vault::create(&path, &key)?;
            vault.set_meta(meta::SERVER_URL, server.address())?;
            if let Some(ca) = &ca {
                vault.set_meta(meta::PRACTICE_CA, ca)?;
            }
            if !pins.is_empty() {
                vault.set_meta(meta::SERVER_PINS, &pins.join(","))?;
            }
            vault.set_meta(meta::USER_EMAIL, &answer.user.email)?;
            vault.set_meta(meta::USER_NAME, &answer.user.display_name)?;
            vault.set_meta(meta::PRACTICE_NAME, &answer.practice.name)?;
            if passphrase.is_none() {
                self.keystore
                    .set(SecretKind::SessionToken, &self.profile, token.as_bytes())?;
            } else {
                vault.set_meta(meta::SESSION_TOKEN, &token)?;
            }
            Ok(vault)
        })();
        match created {
            Ok(vault) => {
                self.vault = Some(vault);
                self.live.poke();
            }
            Err(e) => {
                // Leave nothing half made behind.
                let _ = Vault::wipe_files(&path);
                let _ = self.keystore.delete(SecretKind::VaultKey, &self.profile);
                let _ = self
                    .keystore
                    .delete(SecretKind::SessionToken, &self.profile);
                return Err(e);
            }
        }
        self.set_aside = None;
        self.connection = Connection::Online;
        self.touch();
        self.status()
    }

    /// Opens a locked vault: from the keyring (no passphrase), or with its passphrase.
    pub fn unlock(&mut self, vault_passphrase: Option<&str>) -> Result<AppStatus, ClientError> {
        if self.vault.is_some() {
            return self.status();
        }
        match self.key_mode()? {
            None => return Err(ClientError::NotSignedIn),
            Some(KeyMode::Keyring) => {
                self.keystore.round_trip_check()?;
                self.keyring_ok = true;
                self.open_from_keyring()?;
            }
            Some(KeyMode::Passphrase) => {
                let p = vault_passphrase.ok_or(ClientError::PassphraseRequired)?;
                let path = self.cfg.vault_path();
                let params = passphrase::read_params(&path)?.ok_or(ClientError::NotSignedIn)?;
                let mut keys = vec![params.current.derive(p)?];
                if let Some(pending) = &params.pending {
                    keys.push(pending.derive(p)?);
                }
                let refs: Vec<&VaultKey> = keys.iter().collect();
                let (vault, which) = match Vault::open_with_any(&path, &refs) {
                    Ok(found) => found,
                    Err(VaultError::WrongKeyOrNotAVault) => {
                        return Err(ClientError::WrongPassphrase);
                    }
                    Err(e) => return Err(e.into()),
                };
                if let Some(pending) = params.pending {
                    let current = if which == 1 { pending } else { params.current };
                    passphrase::write_params(
                        &path,
                        &KeyParamsFile {
                            current,
                            pending: None,
                        },
                    )?;
                }
                self.vault = Some(vault);
                self.live.poke();
                self.touch();
            }
        }
        self.status()
    }

    /// Closes the vault; its key leaves memory with it. Unlock to use it again.
    pub fn lock(&mut self) -> Result<AppStatus, ClientError> {
        self.token = None;
        if let Some(v) = self.vault.take() {
            v.close()?;
        }
        self.status()
    }

    /// Locks if nothing was done for the configured idle time. Returns whether it locked.
    pub fn lock_if_idle(&mut self, now: Instant) -> Result<bool, ClientError> {
        if self.vault.is_some()
            && now.saturating_duration_since(self.last_activity) >= self.cfg.idle_lock
        {
            self.lock()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Re-encrypts the vault under a fresh key from the keyring. Survives a crash at any
    /// point: the new key is recorded as pending before the swap and promoted after it.
    pub fn rotate_key(&mut self) -> Result<(), ClientError> {
        if self.key_mode()? != Some(KeyMode::Keyring) {
            return Err(ClientError::Internal(
                "this vault is keyed by a passphrase; change the passphrase instead".into(),
            ));
        }
        let vault = self.vault.take().ok_or(ClientError::VaultLocked)?;
        let new = VaultKey::generate().map_err(|e| ClientError::Internal(e.to_string()))?;
        self.keystore
            .set(SecretKind::PendingVaultKey, &self.profile, new.as_bytes())?;
        let vault = vault.rekey(&new, || Ok(()))?;
        self.keystore
            .set(SecretKind::VaultKey, &self.profile, new.as_bytes())?;
        self.keystore
            .delete(SecretKind::PendingVaultKey, &self.profile)?;
        self.vault = Some(vault);
        self.touch();
        Ok(())
    }

    /// Changes the vault's passphrase (and so its key). Survives a crash at any point: the
    /// parameters file names both keys until the swap is done.
    pub fn change_passphrase(&mut self, current: &str, new: &str) -> Result<(), ClientError> {
        if self.key_mode()? != Some(KeyMode::Passphrase) {
            return Err(ClientError::Internal(
                "this vault's key is in the keyring; rotate the key instead".into(),
            ));
        }
        if new.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(ClientError::PassphraseTooShort(MIN_PASSPHRASE_CHARS));
        }
        let path = self.cfg.vault_path();
        let params = passphrase::read_params(&path)?.ok_or(ClientError::NotSignedIn)?;
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        if !vault.key_matches(&params.current.derive(current)?)? {
            return Err(ClientError::WrongPassphrase);
        }
        let (m, t) = self.cfg.passphrase_cost;
        let next = KdfParams::with_cost(m, t)?;
        let new_key = next.derive(new)?;
        passphrase::write_params(
            &path,
            &KeyParamsFile {
                current: params.current.clone(),
                pending: Some(next.clone()),
            },
        )?;
        let vault = self.vault.take().ok_or(ClientError::VaultLocked)?;
        let vault = vault.rekey(&new_key, || Ok(()))?;
        passphrase::write_params(
            &path,
            &KeyParamsFile {
                current: next,
                pending: None,
            },
        )?;
        self.vault = Some(vault);
        self.touch();
        Ok(())
    }

    /// Signs out: ends the session on the service (when it answers within a few seconds;
    /// a session it never hears of still ends at its idle lifetime), then wipes the vault,
    /// its companions and every keyring entry of this device. Edits not yet synced are
    /// lost: the UI warns first (`pending_edits`).
    pub async fn sign_out(&mut self) -> Result<AppStatus, ClientError> {
        if self.vault.is_some()
            && let (Ok(server), Ok(token)) = (self.server_of_vault(), self.session_token())
        {
            match tokio::time::timeout(Duration::from_secs(5), server.sign_out(&token)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "the service did not take the sign-out"),
                Err(_) => tracing::warn!("the service did not answer the sign-out in time"),
            }
        }
        if self.vault.is_none() && !self.cfg.vault_path().exists() {
            return Err(ClientError::NotSignedIn);
        }
        self.progress = None;
        self.wipe()
    }

    /// Deletes the vault, its companions and every keyring entry of this device.
    ///
    /// Survives a crash at any point (test `client::crash`): a marker is made durable
    /// first, the keys go before the files (without its key, what is left of a vault cannot
    /// be read), and the marker goes last; a start that finds the marker finishes the wipe.
    pub fn wipe(&mut self) -> Result<AppStatus, ClientError> {
        drop(self.vault.take());
        self.server_cache = None;
        self.token = None;
        let marker = self.wipe_marker();
        let vault_dir = self.cfg.data_dir.join(VAULT_DIR);
        create_private_dir(&vault_dir)?;
        let io = |what: &str, e: std::io::Error| {
            ClientError::Internal(format!("wiping: cannot {what} {}: {e}", marker.display()))
        };
        std::fs::File::create(&marker)
            .and_then(|f| f.sync_all())
            .and_then(|()| std::fs::File::open(&vault_dir)?.sync_all())
            .map_err(|e| io("write", e))?;
        for kind in [
            SecretKind::VaultKey,
            SecretKind::PendingVaultKey,
            SecretKind::SessionToken,
        ] {
            // With no keyring there is nothing in it to delete.
            if self.keyring_ok {
                self.keystore.delete(kind, &self.profile)?;
            }
        }
        Vault::wipe_files(&self.cfg.vault_path())?;
        self.wipe_set_aside(&vault_dir)?;
        std::fs::remove_file(&marker)
            .and_then(|()| std::fs::File::open(&vault_dir)?.sync_all())
            .map_err(|e| io("remove", e))?;
        self.connection = Connection::Unknown;
        self.last_error = None;
        self.status()
    }

    /// Deletes every vault set aside as unreadable (`vault.db.corrupt-*`, with its `-wal`
    /// and `-shm`) and the key kept for it: a wipe leaves nothing of this device's data.
    fn wipe_set_aside(&self, vault_dir: &Path) -> Result<(), ClientError> {
        let prefix = format!("{VAULT_FILE}.corrupt-");
        let io = |e: std::io::Error| {
            ClientError::Internal(format!("wiping {}: {e}", vault_dir.display()))
        };
        let entries = match std::fs::read_dir(vault_dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io(e)),
        };
        for entry in entries {
            let entry = entry.map_err(io)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with(&prefix) {
                continue;
            }
            if self.keyring_ok && !name.ends_with("-wal") && !name.ends_with("-shm") {
                self.keystore
                    .delete(SecretKind::VaultKey, &format!("{}:{name}", self.profile))?;
            }
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(e)),
            }
        }
        Ok(())
    }

    /// The file that says a wipe is under way.
    fn wipe_marker(&self) -> PathBuf {
        self.cfg.data_dir.join(VAULT_DIR).join(WIPE_MARKER)
    }

    /// The session token: from the vault (passphrase mode), else from the keyring, read
    /// once while the vault is open and kept in memory until it locks or is wiped.
    fn session_token(&mut self) -> Result<Zeroizing<String>, ClientError> {
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        if let Some(t) = vault.meta(meta::SESSION_TOKEN)? {
            return Ok(Zeroizing::new(t));
        }
        if let Some(token) = &self.token {
            return Ok(token.clone());
        }
        let token = self
            .keystore
            .get(SecretKind::SessionToken, &self.profile)?
            .ok_or(ClientError::SessionExpired)?;
        let token = String::from_utf8(token.to_vec())
            .map(Zeroizing::new)
            .map_err(|_| ClientError::SessionExpired)?;
        self.token = Some(token.clone());
        Ok(token)
    }

    /// Pulls every change after the vault's cursor. The first sync loads in bulk (several
    /// pages a transaction) and builds the search index at the end. The shell runs the same
    /// steps without holding the core during network waits: [`Core::begin_sync`], then
    /// [`SyncSession::prefetch`] and [`Core::apply_batch`] in turn, then
    /// [`Core::finish_sync`].
    pub async fn sync(&mut self) -> Result<SyncReport, ClientError> {
        self.sync_with_progress(&mut |_| {}).await
    }

    /// [`Core::sync`], telling `on_progress` after each batch of pages is stored (for a
    /// progress bar: changes done of total, bytes).
    pub async fn sync_with_progress(
        &mut self,
        on_progress: &mut (dyn FnMut(&SyncProgress) + Send),
    ) -> Result<SyncReport, ClientError> {
        let mut session = match self.begin_sync() {
            Ok(s) => s,
            Err(e) => return self.finish_sync(Err(e)),
        };
        let outcome = self.sync_steps(&mut session, on_progress).await;
        let finished = self.finish_sync(outcome);
        session.confirm_wipe_if_removed(&finished).await;
        if finished.is_ok() {
            let due = self.holdings_due();
            if let Some(h) = dashboard::tell_holdings(due).await {
                self.holdings_told(&h);
            }
        }
        finished
    }

    /// Push, then pull until the feed is drained: the body of [`Core::sync`].
    async fn sync_steps(
        &mut self,
        session: &mut SyncSession,
        on_progress: &mut (dyn FnMut(&SyncProgress) + Send),
    ) -> Result<SyncReport, ClientError> {
        let mut report = SyncReport::default();
        // Push first, so pulled changes never cover an edit still waiting to go.
        let pushed = self.push_all(session, &mut report).await;
        self.note_clock_skew(session.clock_skew());
        pushed?;
        let mut batches = session.prefetch();
        loop {
            let batch = batches.next().await;
            let progress = self.apply_fetched(&batch, &mut report)?;
            on_progress(&progress);
            if let Some(e) = batch.error {
                return Err(e);
            }
            if !batch.more {
                return Ok(report);
            }
        }
    }

    /// Starts a sync: checks there is a vault and a session, and enters bulk mode for a
    /// first sync. Only one sync runs at a time.
    pub fn begin_sync(&mut self) -> Result<SyncSession, ClientError> {
        if self.sync_running {
            return Err(ClientError::SyncInProgress);
        }
        let server = self.server_of_vault()?;
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        let cursor = vault.sync_state()?.cursor;
        if cursor == 0 && !vault.in_bulk_load()? {
            vault.begin_bulk_load()?;
        }
        let bulk = vault.in_bulk_load()?;
        let token = self.session_token()?;
        self.sync_running = true;
        self.progress = Some(SyncProgress::default());
        Ok(SyncSession {
            server,
            token,
            cursor,
            bulk,
            batch_changes: self.cfg.bulk_batch_changes.max(1),
            counted: false,
        })
    }

    /// What the live loop needs to open the service's event stream: the server and this
    /// device's session token. Fails like a sync would without a signed-in, open vault.
    pub fn live_session(&mut self) -> Result<(ServerClient, Zeroizing<String>), ClientError> {
        let server = self.server_of_vault()?;
        let token = self.session_token()?;
        Ok((server, token))
    }

    /// The handle of this core's live loop ([`run_live`]): the core pokes it itself when
    /// a local edit waits or a vault opens.
    pub fn live_control(&self) -> std::sync::Arc<LiveControl> {
        self.live.clone()
    }

    /// Records whether the service is reachable, as the live loop learns it.
    pub fn set_connection(&mut self, connection: Connection) {
        self.connection = connection;
    }

    /// Makes a local edit: applied to the vault and queued for the service in one
    /// transaction. Answers its mutation sequence.
    pub fn edit(
        &mut self,
        kind: RecordKind,
        id: uuid::Uuid,
        op: EditOp,
    ) -> Result<i64, ClientError> {
        self.touch();
        let vault = self.vault.as_mut().ok_or(ClientError::VaultLocked)?;
        let seq = vault.edit(
            &strongroom_vault::LocalEdit { kind, id, op },
            &now_rfc3339(),
        )?;
        self.live.poke();
        Ok(seq)
    }

    /// A record as this device holds it, if it does.
    pub fn record(
        &mut self,
        kind: RecordKind,
        id: uuid::Uuid,
    ) -> Result<Option<strongroom_protocol::ChangeRecord>, ClientError> {
        self.touch();
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        Ok(vault.record(kind, id)?.map(|(record, _, _)| record))
    }

    /// The conflicts waiting for this member's decision, one row per field in question.
    pub fn conflicts(&self) -> Result<Vec<LocalConflict>, ClientError> {
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        Ok(vault.open_conflicts()?)
    }

    /// The edits the service refused, kept to be shown.
    pub fn rejected_edits(&self) -> Result<Vec<RejectedEdit>, ClientError> {
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        Ok(vault.rejected_edits()?)
    }

    /// Sends the member's decision on a conflict to the service, which writes it for
    /// everyone; marks it resolved here. The next sync brings the result.
    ///
    /// A decision whose answer was lost on the way back (the service wrote it, the
    /// connection failed) is sent again by the member, and the service answers that it is
    /// resolved already: when its list of open conflicts no longer has this one, it is
    /// marked resolved here too (as `already_resolved`), not left open for good.
    pub async fn resolve_conflict(
        &mut self,
        server_id: uuid::Uuid,
        resolution: &strongroom_protocol::ConflictResolution,
    ) -> Result<(), ClientError> {
        let server = self.server_of_vault()?;
        let token = self.session_token()?;
        let decided = match server.resolve_conflict(&token, server_id, resolution).await {
            Ok(_) => Ok(false),
            Err(SyncError::Conflict(detail)) => match server.open_conflicts(&token).await {
                Ok(open) if open.iter().all(|c| c.id != server_id) => Ok(true),
                Ok(_) => Err(SyncError::Conflict(detail)),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        let already = match decided {
            Ok(already) => already,
            Err(SyncError::SessionRevoked) => {
                let gone = self.erase_revoked();
                if matches!(gone, ClientError::DeviceRemoved) {
                    // Best effort: the service learns of the wipe if it can.
                    let _ = server.confirm_wiped(&token).await;
                }
                return Err(gone);
            }
            Err(e) => return Err(e.into()),
        };
        let name = match resolution {
            _ if already => "already_resolved",
            strongroom_protocol::ConflictResolution::KeepMine => "keep_mine",
            strongroom_protocol::ConflictResolution::KeepTheirs => "keep_theirs",
            strongroom_protocol::ConflictResolution::Edit { .. } => "edit",
        };
        let vault = self.vault.as_mut().ok_or(ClientError::VaultLocked)?;
        vault.mark_conflict_resolved(&server_id.to_string(), name, &now_rfc3339())?;
        Ok(())
    }

    /// Keeps the service's clock skew as last measured (for the status line's warning).
    pub fn note_clock_skew(&mut self, skew: Option<i64>) {
        if skew.is_some() {
            self.clock_skew = skew;
        }
    }

    /// Pushes every queued edit, batch by batch, and undoes the refused ones.
    async fn push_all(
        &mut self,
        session: &SyncSession,
        report: &mut SyncReport,
    ) -> Result<(), ClientError> {
        while let Some(request) = self.next_push()? {
            let answer = session.push(&request).await?;
            let restored = fetch_refused(session, &request, &answer).await?;
            self.apply_push(&request, &answer, &restored, report)?;
        }
        Ok(())
    }

    /// The next batch of queued edits to push (at most the protocol's limit), or none
    /// when the outbox is empty. Makes this install's device id on first use.
    pub fn next_push(&mut self) -> Result<Option<PushRequest>, ClientError> {
        let vault = self.vault.as_mut().ok_or(ClientError::VaultLocked)?;
        let queued = vault.outbox()?;
        if queued.is_empty() {
            return Ok(None);
        }
        let device_id = match vault.meta(meta::DEVICE_ID)? {
            Some(id) => id
                .parse()
                .map_err(|_| ClientError::Internal("the stored device id is not a UUID".into()))?,
            None => {
                let id = uuid::Uuid::new_v4();
                vault.set_meta(meta::DEVICE_ID, &id.to_string())?;
                id
            }
        };
        // At most the protocol's count, and well under its size (a file note may be long).
        let budget = strongroom_protocol::MAX_PUSH_BYTES / 2;
        let mut mutations = Vec::new();
        let mut bytes = 0;
        for e in queued.into_iter().take(MAX_PUSH_MUTATIONS) {
            let m = Mutation {
                mutation_seq: e.mutation_seq,
                kind: e.kind,
                record_id: e.record_id,
                base_version: e.base_version,
                op: match e.op {
                    EditOp::Upsert { fields } => MutationOp::Upsert { fields },
                    EditOp::Delete => MutationOp::Delete,
                },
            };
            let size = match &m.op {
                MutationOp::Upsert { fields } => serde_json::to_vec(fields).map_or(0, |v| v.len()),
                MutationOp::Delete => 0,
            } + 200;
            if !mutations.is_empty() && bytes + size > budget {
                break;
            }
            bytes += size;
            mutations.push(m);
        }
        Ok(Some(PushRequest {
            device_id,
            mutations,
        }))
    }

    /// Applies the service's answers to a push in the vault, and puts the refused edits'
    /// records back as the service holds them (`restored`, fetched by the sync before the
    /// answer is applied), or removes them where it has none for this member.
    pub fn apply_push(
        &mut self,
        request: &PushRequest,
        answer: &PushResponse,
        restored: &[Restore],
        report: &mut SyncReport,
    ) -> Result<(), ClientError> {
        refused(request, answer)?;
        let vault = self.vault.as_mut().ok_or(ClientError::VaultLocked)?;
        let done = vault.apply_push_results(&answer.results, &now_rfc3339())?;
        report.pushed += done.applied;
        report.conflicts += done.conflicts;
        report.rejected += done.rejected;
        for (kind, id, server) in restored {
            vault.restore_from_server(*kind, *id, server.as_ref())?;
        }
        Ok(())
    }

    /// Applies a fetched batch like [`Core::apply_batch`], adding it to the report and to
    /// the progress that [`Core::status`] shows; answers the progress.
    pub fn apply_fetched(
        &mut self,
        batch: &FetchedBatch,
        report: &mut SyncReport,
    ) -> Result<SyncProgress, ClientError> {
        let applied = self.apply_batch(&batch.pages)?;
        report.applied += applied;
        report.pages += batch.pages.len();
        report.bytes += batch.bytes;
        let progress = self.progress.get_or_insert_with(SyncProgress::default);
        progress.done += applied as u64;
        progress.bytes += batch.bytes;
        if batch.total.is_some() {
            progress.total = batch.total;
        }
        Ok(*progress)
    }

    /// Applies a fetched batch (its pages and the last cursor) in one transaction.
    pub fn apply_batch(
        &mut self,
        pages: &[strongroom_protocol::ChangesPage],
    ) -> Result<usize, ClientError> {
        let vault = self.vault.as_mut().ok_or(ClientError::VaultLocked)?;
        Ok(vault.apply_pages(pages, &now_rfc3339())?)
    }

    /// The server said this device's session was revoked: erases the vault and every
    /// keyring entry of this device ([`Core::wipe`]). Answers
    /// [`ClientError::DeviceRemoved`] once that is done, or what stopped it.
    fn erase_revoked(&mut self) -> ClientError {
        tracing::warn!("the server revoked this device's session; erasing the offline copy");
        match self.wipe() {
            Ok(_) => {
                self.last_error = Some(ClientError::DeviceRemoved.to_dto());
                ClientError::DeviceRemoved
            }
            Err(e) => ClientError::Internal(format!(
                "this device's session was revoked, and erasing its offline copy failed: {e}"
            )),
        }
    }

    /// Ends a sync: on success finishes a bulk load (builds the indexes) and records the
    /// time; either way records whether the server answered. When the server revoked the
    /// session, erases this device's copy first (see [`SyncSession::confirm_wipe_if_removed`]).
    pub fn finish_sync(
        &mut self,
        outcome: Result<SyncReport, ClientError>,
    ) -> Result<SyncReport, ClientError> {
        if !matches!(outcome, Err(ClientError::SyncInProgress)) {
            self.sync_running = false;
            self.progress = None;
        }
        let outcome = match outcome {
            Err(ClientError::DeviceRemoved) => Err(self.erase_revoked()),
            other => other,
        };
        let outcome = outcome.and_then(|report| {
            let vault = self.vault.as_mut().ok_or(ClientError::VaultLocked)?;
            if vault.in_bulk_load()? {
                vault.finish_bulk_load()?;
            }
            vault.mark_synced(&now_rfc3339())?;
            Ok(report)
        });
        match &outcome {
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
        outcome
    }

    /// The matters held offline, most recently opened first.
    pub fn matters(&mut self) -> Result<Vec<MatterSummary>, ClientError> {
        self.touch();
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        Ok(vault
            .matters()?
            .into_iter()
            .map(MatterSummary::from)
            .collect())
    }

    /// Searches the matters held offline.
    pub fn search(&mut self, req: &SearchRequest) -> Result<Vec<SearchHitDto>, ClientError> {
        self.touch();
        let vault = self.vault.as_ref().ok_or(ClientError::VaultLocked)?;
        let status = match req.status.as_deref() {
            None | Some("") => None,
            Some(s) => Some(
                MatterStatus::parse(s)
                    .ok_or_else(|| ClientError::InvalidInput(format!("unknown status {s:?}")))?,
            ),
        };
        let hits = vault.search(&SearchQuery {
            text: req.text.clone(),
            status,
            matter_type: req.matter_type.clone().filter(|s| !s.is_empty()),
            responsible: req.responsible.clone().filter(|s| !s.is_empty()),
            limit: req.limit.unwrap_or(50),
        })?;
        // The list shows each hit as a row: the matter's other columns, read by id.
        let ids: Vec<uuid::Uuid> = hits.iter().map(|h| h.matter_id).collect();
        let matters: std::collections::HashMap<uuid::Uuid, strongroom_protocol::Matter> = vault
            .matters_by_id(&ids)?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        Ok(hits
            .into_iter()
            .filter_map(|h| {
                let m = matters.get(&h.matter_id)?;
                Some(SearchHitDto::new(h, m))
            })
            .collect())
    }

    /// Closes the vault, checkpointing it (used on exit).
    pub fn close(&mut self) -> Result<(), ClientError> {
        self.token = None;
        if let Some(v) = self.vault.take() {
            v.close()?;
        }
        Ok(())
    }
}

/// The TypeScript declarations of every type that crosses to the UI, as one module. The
/// UI's `ui/src/lib/bindings.ts` is this text; a test fails when it is stale.
pub fn typescript_bindings() -> String {
    use ts_rs::TS;
    let cfg = ts_rs::Config::new().with_large_int("number");
    let decls = [
        AppStatus::decl(&cfg),
        Connection::decl(&cfg),
        KeyMode::decl(&cfg),
        ErrorCode::decl(&cfg),
        ErrorDto::decl(&cfg),
        MatterSummary::decl(&cfg),
        SearchRequest::decl(&cfg),
        SearchHitDto::decl(&cfg),
        SyncProgress::decl(&cfg),
        SyncReport::decl(&cfg),
        strongroom_protocol::RecordKind::decl(&cfg),
        strongroom_protocol::MatterStatus::decl(&cfg),
        strongroom_protocol::ContactKind::decl(&cfg),
        strongroom_protocol::Matter::decl(&cfg),
        strongroom_protocol::Contact::decl(&cfg),
        strongroom_protocol::Participant::decl(&cfg),
        strongroom_protocol::FileNote::decl(&cfg),
        strongroom_protocol::Task::decl(&cfg),
        strongroom_protocol::TimeEntry::decl(&cfg),
        strongroom_protocol::Document::decl(&cfg),
        strongroom_protocol::ConflictKind::decl(&cfg),
        MatterSort::decl(&cfg),
        MatterListQuery::decl(&cfg),
        MatterPage::decl(&cfg),
        MatterFilterOptions::decl(&cfg),
        ParticipantView::decl(&cfg),
        MatterDetail::decl(&cfg),
        ConflictField::decl(&cfg),
        ConflictView::decl(&cfg),
        ConflictChoice::decl(&cfg),
        RejectedEditView::decl(&cfg),
        TimerState::decl(&cfg),
        strongroom_protocol::Role::decl(&cfg),
        strongroom_protocol::InvitationStatus::decl(&cfg),
        strongroom_protocol::privacy::DeviceHoldings::decl(&cfg),
        Cached::<()>::decl(&cfg),
        DeviceSession::decl(&cfg),
        MemberView::decl(&cfg),
        InvitationView::decl(&cfg),
        InvitationSent::decl(&cfg),
        DormantMember::decl(&cfg),
        ReviewRecord::decl(&cfg),
        AccessReview::decl(&cfg),
        MemberChange::decl(&cfg),
        AuditRow::decl(&cfg),
        AuditFilter::decl(&cfg),
        ChainCheck::decl(&cfg),
        AuditActorView::decl(&cfg),
        AuditLogView::decl(&cfg),
        ExportStage::decl(&cfg),
        ExportProgress::decl(&cfg),
        ExportResult::decl(&cfg),
        strongroom_protocol::support::SupportAccess::decl(&cfg),
        strongroom_protocol::support::SupportGrantStatus::decl(&cfg),
        strongroom_protocol::support::IntegrationScope::decl(&cfg),
        GrantMatter::decl(&cfg),
        GrantScope::decl(&cfg),
        SupportGrantView::decl(&cfg),
        SupportAccessView::decl(&cfg),
        IntegrationView::decl(&cfg),
        IntegrationCreatedView::decl(&cfg),
        strongroom_protocol::consent::CookieCategory::decl(&cfg),
        strongroom_protocol::consent::StorageKind::decl(&cfg),
        strongroom_protocol::consent::SetBy::decl(&cfg),
        strongroom_protocol::consent::CatalogueItem::decl(&cfg),
        strongroom_protocol::consent::CategoryInfo::decl(&cfg),
        strongroom_protocol::consent::CookieCatalogue::decl(&cfg),
        strongroom_protocol::consent::ConsentSource::decl(&cfg),
        strongroom_protocol::consent::ConsentSurface::decl(&cfg),
        strongroom_protocol::consent::ConsentChoices::decl(&cfg),
        strongroom_protocol::consent::ConsentRecord::decl(&cfg),
        strongroom_protocol::consent::EffectiveConsent::decl(&cfg),
        strongroom_protocol::consent::ConsentState::decl(&cfg),
        strongroom_protocol::consent::ConsentAction::decl(&cfg),
        strongroom_protocol::consent::CategoryChoices::decl(&cfg),
        strongroom_protocol::consent::ConsentChange::decl(&cfg),
        strongroom_protocol::notifications::Channel::decl(&cfg),
        strongroom_protocol::notifications::Category::decl(&cfg),
        strongroom_protocol::notifications::ChoiceSource::decl(&cfg),
        strongroom_protocol::notifications::ChannelChoice::decl(&cfg),
        strongroom_protocol::notifications::CategoryPreferences::decl(&cfg),
        strongroom_protocol::notifications::NotificationPreferences::decl(&cfg),
        strongroom_protocol::notifications::PreferenceChange::decl(&cfg),
        strongroom_protocol::notifications::UpdateSource::decl(&cfg),
        strongroom_protocol::notifications::PreferencesUpdate::decl(&cfg),
        strongroom_protocol::notifications::Notice::decl(&cfg),
        strongroom_protocol::consent::UsageBucket::decl(&cfg),
        strongroom_protocol::consent::UsageReport::decl(&cfg),
        strongroom_protocol::incidents::RegulatorReport::decl(&cfg),
        strongroom_protocol::incidents::MemberIncident::decl(&cfg),
        strongroom_protocol::incidents::IncidentAcknowledgement::decl(&cfg),
        strongroom_protocol::incidents::IncidentAcknowledgements::decl(&cfg),
        strongroom_protocol::policies::PolicyKind::decl(&cfg),
        strongroom_protocol::policies::PolicySummary::decl(&cfg),
        strongroom_protocol::policies::PolicyDocument::decl(&cfg),
        strongroom_protocol::policies::DiffTag::decl(&cfg),
        strongroom_protocol::policies::DiffLine::decl(&cfg),
        strongroom_protocol::policies::DiffHunk::decl(&cfg),
        strongroom_protocol::policies::PolicyDiff::decl(&cfg),
        strongroom_protocol::policies::MemberPolicy::decl(&cfg),
        strongroom_protocol::policies::PolicyAcknowledgement::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated by ts-rs from the Rust types in crates/client. Do not edit: run\n\
         // `STRONGROOM_UPDATE_BINDINGS=1 cargo nextest run -p strongroom-client bindings`.\n\n",
    );
    for d in decls {
        out.push_str("export ");
        out.push_str(&d);
        out.push_str("\n\n");
    }
    out
}

/// A sync under way: what it needs to fetch pages without holding the [`Core`].
#[derive(Clone)]
pub struct SyncSession {
    server: ServerClient,
    token: Zeroizing<String>,
    cursor: i64,
    bulk: bool,
    /// Changes a bulk load's batch holds at most.
    batch_changes: usize,
    /// Whether the service was asked how many changes wait.
    counted: bool,
}

/// Batches fetched ahead of the vault, in order ([`SyncSession::prefetch`]).
pub struct Prefetch {
    batches: tokio::sync::mpsc::Receiver<FetchedBatch>,
    task: tokio::task::JoinHandle<()>,
}

impl Prefetch {
    /// Whether the next batch has arrived already (fetched while the one before it was
    /// being stored).
    pub fn ready(&self) -> bool {
        !self.batches.is_empty()
    }

    /// The next batch, once it has arrived. After the batch that ended the pull (an
    /// error, or nothing more), or if the fetching task ended without one, answers a batch
    /// with an error and no pages.
    pub async fn next(&mut self) -> FetchedBatch {
        match self.batches.recv().await {
            Some(batch) => batch,
            None => FetchedBatch {
                pages: Vec::new(),
                more: true,
                error: Some(ClientError::Internal(
                    "the sync's fetching task ended without a last batch".into(),
                )),
                bytes: 0,
                total: None,
            },
        }
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What one fetch brought: whole pages (maybe none), whether more wait, and the failure
/// that stopped it, if any. Pages that arrived whole before a failure are kept.
pub struct FetchedBatch {
    pub pages: Vec<strongroom_protocol::ChangesPage>,
    pub more: bool,
    pub error: Option<ClientError>,
    /// Bytes of the pages' answers, as decoded.
    pub bytes: u64,
    /// How many changes waited when the sync began, when this batch's first answer said.
    pub total: Option<u64>,
}

impl SyncSession {
    /// The service's clock minus this device's, from the last answer.
    pub fn clock_skew(&self) -> Option<i64> {
        self.server.clock_skew()
    }

    /// After [`Core::finish_sync`] erased this device because its session was revoked,
    /// tells the service so with the revoked session's token, kept in memory until now.
    /// Best effort: a failure changes nothing.
    pub async fn confirm_wipe_if_removed(&self, finished: &Result<SyncReport, ClientError>) {
        if matches!(finished, Err(ClientError::DeviceRemoved)) {
            match self.server.confirm_wiped(&self.token).await {
                Ok(()) => tracing::info!("the wipe is confirmed to the service"),
                Err(e) => tracing::warn!(error = %e, "the wipe could not be confirmed"),
            }
        }
    }

    /// Pushes a batch of queued edits.
    pub async fn push(&self, request: &PushRequest) -> Result<PushResponse, ClientError> {
        Ok(self.server.push(&self.token, request).await?)
    }

    /// The record as the service holds it, if this member may see it.
    pub async fn fetch_record(
        &self,
        kind: RecordKind,
        id: uuid::Uuid,
    ) -> Result<Option<strongroom_protocol::Change>, ClientError> {
        Ok(self.server.record(&self.token, kind, id).await?)
    }

    /// Fetches the remaining batches on a task of its own, one batch ahead of the one being
    /// stored: while the vault stores a batch, the next one is asked for, sent and decoded
    /// on the other core (a first sync spends about as long fetching as storing). At most
    /// two batches are in memory: the one being stored and the one fetched ahead.
    ///
    /// The batches come in order and end with the first that failed or had nothing more
    /// after it, as [`SyncSession::fetch_batch`] answers them. Only storing a batch moves
    /// the vault's cursor, so a sync that stops (an error, a crash) starts again after the
    /// last batch stored; a batch fetched ahead and not stored is fetched again. Dropping
    /// the [`Prefetch`] stops the task, and any request it has under way.
    pub fn prefetch(&self) -> Prefetch {
        let mut fetcher = self.clone();
        // One slot, taken before each fetch: the next fetch starts only once the batch
        // before it has been taken to be stored.
        let (ahead, batches) = tokio::sync::mpsc::channel(1);
        let task = tokio::spawn(async move {
            loop {
                let Ok(slot) = ahead.reserve().await else {
                    return; // the sync stopped
                };
                let batch = fetcher.fetch_batch().await;
                let last = batch.error.is_some() || !batch.more;
                slot.send(batch);
                if last {
                    return;
                }
            }
        });
        Prefetch { batches, task }
    }

    /// Changes asked for per page: the protocol's most, or fewer when a bulk load's batch
    /// is smaller than that.
    fn page_size(&self) -> u32 {
        u32::try_from(self.batch_changes)
            .unwrap_or(u32::MAX)
            .clamp(1, PAGE_SIZE)
    }

    /// Fetches the next pages: one, or in a bulk load up to
    /// [`Config::bulk_batch_changes`] changes' worth.
    pub async fn fetch_batch(&mut self) -> FetchedBatch {
        let mut batch = FetchedBatch {
            pages: Vec::new(),
            more: true,
            error: None,
            bytes: 0,
            total: None,
        };
        let mut changes = 0;
        loop {
            // The first request of a sync also asks how many changes wait, for progress.
            let count = !self.counted;
            match self
                .server
                .changes(&self.token, self.cursor, self.page_size(), count)
                .await
            {
                Ok((page, bytes)) => {
                    self.counted = true;
                    self.cursor = page.cursor;
                    changes += page.changes.len();
                    batch.bytes += bytes;
                    if page.total.is_some() {
                        batch.total = page.total;
                    }
                    batch.more = page.has_more;
                    batch.pages.push(page);
                    if !batch.more || !self.bulk || changes >= self.batch_changes {
                        return batch;
                    }
                }
                Err(e) => {
                    batch.more = true;
                    batch.error = Some(e.into());
                    return batch;
                }
            }
        }
    }
}

/// A whole sync for a core shared behind a lock (the app's): the same steps as
/// [`Core::sync`] — push every queued edit, undo the refused ones, then pull — but the lock
/// is held only between network waits, so the UI stays responsive during a long sync.
pub async fn sync_shared(core: &tokio::sync::Mutex<Core>) -> Result<SyncReport, ClientError> {
    let begun = core.lock().await.begin_sync();
    let mut session = match begun {
        Ok(s) => s,
        Err(e) => return core.lock().await.finish_sync(Err(e)),
    };
    let outcome = shared_steps(core, &mut session).await;
    let finished = core.lock().await.finish_sync(outcome);
    session.confirm_wipe_if_removed(&finished).await;
    if finished.is_ok() {
        // Told without holding the core: the UI stays responsive.
        let due = core.lock().await.holdings_due();
        if let Some(h) = dashboard::tell_holdings(due).await {
            core.lock().await.holdings_told(&h);
        }
    }
    finished
}

/// Push, then pull until the feed is drained: the body of [`sync_shared`].
async fn shared_steps(
    core: &tokio::sync::Mutex<Core>,
    session: &mut SyncSession,
) -> Result<SyncReport, ClientError> {
    let mut report = SyncReport::default();
    let pushed = push_shared(core, session, &mut report).await;
    core.lock().await.note_clock_skew(session.clock_skew());
    pushed?;
    let mut batches = session.prefetch();
    loop {
        let batch = batches.next().await;
        core.lock().await.apply_fetched(&batch, &mut report)?;
        if let Some(e) = batch.error {
            return Err(e);
        }
        if !batch.more {
            return Ok(report);
        }
    }
}

/// The push half of [`sync_shared`].
async fn push_shared(
    core: &tokio::sync::Mutex<Core>,
    session: &SyncSession,
    report: &mut SyncReport,
) -> Result<(), ClientError> {
    loop {
        // Its own statement: a guard taken in a `while let` condition would live through
        // the body and deadlock on the next lock.
        let next = core.lock().await.next_push()?;
        let Some(request) = next else {
            return Ok(());
        };
        let answer = session.push(&request).await?;
        let restored = fetch_refused(session, &request, &answer).await?;
        core.lock()
            .await
            .apply_push(&request, &answer, &restored, report)?;
    }
}

/// A refused edit's record as the service holds it (none: it has none for this member).
pub type Restore = (RecordKind, uuid::Uuid, Option<strongroom_protocol::Change>);

/// Checks that `answer` answers `request` (else the same edits would be pushed again and
/// again), and names the records of the edits it refused, each once.
fn refused(
    request: &PushRequest,
    answer: &PushResponse,
) -> Result<Vec<(RecordKind, uuid::Uuid)>, ClientError> {
    let asked: std::collections::BTreeSet<i64> =
        request.mutations.iter().map(|m| m.mutation_seq).collect();
    if answer.results.is_empty()
        || answer
            .results
            .iter()
            .any(|r| !asked.contains(&r.mutation_seq))
    {
        return Err(ClientError::MalformedResponse(
            "the service's answer to a push does not match the edits sent".into(),
        ));
    }
    let mut records: Vec<(RecordKind, uuid::Uuid)> = Vec::new();
    for m in &request.mutations {
        let refused = answer.results.iter().any(|r| {
            r.mutation_seq == m.mutation_seq
                && matches!(r.outcome, MutationOutcome::Rejected { .. })
        });
        if refused && !records.contains(&(m.kind, m.record_id)) {
            records.push((m.kind, m.record_id));
        }
    }
    Ok(records)
}

/// The records of the edits a push's answer refused, as the service holds them, fetched
/// before anything of the answer is applied: if a fetch fails, the edits stay queued and
/// the next sync pushes them again (answered the same, applying nothing twice), so a
/// refused value never stays on show with nothing queued to undo it.
async fn fetch_refused(
    session: &SyncSession,
    request: &PushRequest,
    answer: &PushResponse,
) -> Result<Vec<Restore>, ClientError> {
    let mut restored = Vec::new();
    for (kind, id) in refused(request, answer)? {
        restored.push((kind, id, session.fetch_record(kind, id).await?));
    }
    Ok(restored)
}

/// Keeps this process's memory out of files and other processes: no core dump (a crash must
/// not write decrypted records or the vault key outside the vault) and, on Linux, no
/// attaching by other processes of the same user (`PR_SET_DUMPABLE` 0). The app and the CLI
/// call it first thing.
pub fn protect_process_memory() -> std::io::Result<()> {
    let none = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: setrlimit only reads the struct passed, which lives across the call.
    if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &none) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_DUMPABLE takes one integer argument and touches no memory of ours.
        if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Creates `dir` readable by its owner only, and makes it so if it already exists.
fn create_private_dir(dir: &Path) -> Result<(), ClientError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .and_then(|_| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)))
        .map_err(|e| ClientError::Internal(format!("cannot prepare {}: {e}", dir.display())))
}

/// Unix seconds as RFC 3339 in UTC.
fn rfc3339_of(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
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
            SyncError::MfaRequired => ClientError::MfaRequired,
            SyncError::WrongCode => ClientError::WrongCode,
            SyncError::MfaEnrollmentRequired => ClientError::MfaEnrollmentRequired,
            SyncError::SessionRevoked => ClientError::DeviceRemoved,
            SyncError::InvalidPin(m) => ClientError::InvalidInput(m),
            SyncError::IncompatibleProtocol { server, client } => {
                ClientError::IncompatibleServer { server, client }
            }
            SyncError::Malformed(m) => ClientError::MalformedResponse(m),
            SyncError::Forbidden(m) => ClientError::Forbidden(m),
            SyncError::ReauthRequired => ClientError::ReauthRequired,
            SyncError::NotFound(m) => ClientError::NotFound(m),
            SyncError::Conflict(m) => ClientError::Conflict(m),
            SyncError::Rejected(m) => ClientError::InvalidInput(m),
            SyncError::EssentialCategory(m) => ClientError::EssentialCategory(m),
            SyncError::StrictlyNecessaryLocked(m) => ClientError::StrictlyNecessaryLocked(m),
            SyncError::PolicyVersionNotCurrent(m) => ClientError::PolicyVersionNotCurrent(m),
            SyncError::Server { status, detail } if status >= 500 => {
                ClientError::Unreachable(format!("the server answered {status}: {detail}"))
            }
            SyncError::Server { status, detail } => {
                ClientError::Server(format!("{status}: {detail}"))
            }
        }
    }
}
