//! Errors of the desktop core, each with a stable machine-readable code for the UI.

use serde::Serialize;
use strongroom_keystore::KeystoreError;
use strongroom_vault::VaultError;
use ts_rs::TS;

/// The codes the UI maps to human messages. Stable: the UI matches on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    KeyringUnavailable,
    VaultKeyMissing,
    VaultUnreadable,
    VaultFailed,
    NotSignedIn,
    AlreadySignedIn,
    InvalidAddress,
    ServerUnreachable,
    CertificateRefused,
    BadCaFile,
    InvalidCredentials,
    SessionExpired,
    /// The server revoked this device's session; its offline copy and key were erased.
    DeviceRemoved,
    IncompatibleServer,
    MalformedResponse,
    ServerError,
    PassphraseRequired,
    PassphraseTooShort,
    WrongPassphrase,
    VaultLocked,
    IndexNotReady,
    InvalidInput,
    SyncInProgress,
    /// The service wants the authenticator's one-time code (or a recovery code).
    MfaRequired,
    WrongCode,
    /// The practice requires a second factor and this member has not set one up.
    MfaEnrollmentRequired,
    /// The record is not on this device.
    NotFound,
    /// A timer is running already (for this or another matter).
    TimerRunning,
    /// There is no timer to pause, resume or stop.
    NoTimer,
    /// The action needs the service, which cannot be reached, and nothing is kept offline.
    Offline,
    /// The member's role does not allow it (most of the dashboard is for admins).
    Forbidden,
    /// The action needs a recent password confirmation: re-authenticate, then retry.
    ReauthRequired,
    /// The password given to re-authenticate is not right.
    WrongPassword,
    /// The thing changed meanwhile and no longer allows the action (e.g. a grant that was
    /// decided already).
    Conflict,
    /// An essential notification category (security alerts, breach notices, billing,
    /// service notices, policy changes) cannot be turned off; nothing was changed.
    EssentialCategory,
    /// Strictly necessary cookies cannot be refused; nothing was recorded.
    StrictlyNecessaryLocked,
    /// Only the current version of a policy can be acknowledged, and this one is not (a
    /// newer one was published meanwhile); nothing was recorded.
    PolicyVersionNotCurrent,
    Internal,
}

/// An error as it crosses to the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ErrorDto {
    pub code: ErrorCode,
    pub message: String,
}

/// What can go wrong in a use case.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "the system keyring is not available ({0}); Strongroom keeps its vault key only there and never stores data unencrypted"
    )]
    KeyringUnavailable(String),
    #[error("the vault's key is missing from the system keyring")]
    VaultKeyMissing,
    #[error("the vault cannot be read with the key in the keyring")]
    VaultUnreadable,
    #[error("the vault failed: {0}")]
    Vault(VaultError),
    #[error("not signed in")]
    NotSignedIn,
    #[error("this device is already signed in")]
    AlreadySignedIn,
    #[error("{0}")]
    InvalidAddress(String),
    #[error("the server could not be reached: {0}")]
    Unreachable(String),
    #[error("the server's certificate was refused: {0}")]
    CertificateRefused(String),
    #[error("the practice CA could not be used: {0}")]
    BadCaFile(String),
    #[error("the email or password is not right")]
    InvalidCredentials,
    #[error("the session has ended; sign in again")]
    SessionExpired,
    /// Only the server's explicit `session_revoked` leads here, and by the time the UI
    /// sees it the vault and its keyring entries are gone.
    #[error(
        "this device was signed out remotely (its session was revoked), and its offline copy and key were erased"
    )]
    DeviceRemoved,
    #[error("the server speaks protocol {server}; this app speaks {client}")]
    IncompatibleServer { server: u32, client: u32 },
    #[error("the server sent an answer this app cannot read; nothing was changed ({0})")]
    MalformedResponse(String),
    #[error("the server refused the request: {0}")]
    Server(String),
    #[error(
        "no system keyring is available, so a passphrase is needed to protect this device's copy"
    )]
    PassphraseRequired,
    #[error("the passphrase must have at least {0} characters")]
    PassphraseTooShort(usize),
    #[error("that passphrase does not unlock this device's copy")]
    WrongPassphrase,
    #[error("the vault is locked")]
    VaultLocked,
    #[error("the search index is still being built")]
    IndexNotReady,
    #[error("{0}")]
    InvalidInput(String),
    #[error("a sync is already under way")]
    SyncInProgress,
    #[error("a one-time code from the authenticator (or a recovery code) is needed")]
    MfaRequired,
    /// With a one-time code given, the service does not say which of password and code
    /// was wrong; it is nearly always the code.
    #[error(
        "the one-time code (or the password) was not accepted; codes work once, within about a minute"
    )]
    WrongCode,
    #[error("the practice requires a second factor, and this member has not set one up yet")]
    MfaEnrollmentRequired,
    /// Not on this device, or (from the service) no such thing this member may see.
    #[error("{0}")]
    NotFound(String),
    #[error("a timer is already running for matter {0}")]
    TimerRunning(String),
    #[error("no timer is running")]
    NoTimer,
    #[error("this needs the practice's service, which cannot be reached: {0}")]
    Offline(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("this action needs you to confirm your password again")]
    ReauthRequired,
    #[error("the password is not right")]
    WrongPassword,
    #[error("{0}")]
    Conflict(String),
    /// The service's words say which category and why it stays on.
    #[error("{0}")]
    EssentialCategory(String),
    #[error("{0}")]
    StrictlyNecessaryLocked(String),
    /// The service's words name the current version.
    #[error("{0}")]
    PolicyVersionNotCurrent(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ClientError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ClientError::KeyringUnavailable(_) => ErrorCode::KeyringUnavailable,
            ClientError::VaultKeyMissing => ErrorCode::VaultKeyMissing,
            ClientError::VaultUnreadable => ErrorCode::VaultUnreadable,
            ClientError::Vault(_) => ErrorCode::VaultFailed,
            ClientError::NotSignedIn => ErrorCode::NotSignedIn,
            ClientError::AlreadySignedIn => ErrorCode::AlreadySignedIn,
            ClientError::InvalidAddress(_) => ErrorCode::InvalidAddress,
            ClientError::Unreachable(_) => ErrorCode::ServerUnreachable,
            ClientError::CertificateRefused(_) => ErrorCode::CertificateRefused,
            ClientError::BadCaFile(_) => ErrorCode::BadCaFile,
            ClientError::InvalidCredentials => ErrorCode::InvalidCredentials,
            ClientError::SessionExpired => ErrorCode::SessionExpired,
            ClientError::DeviceRemoved => ErrorCode::DeviceRemoved,
            ClientError::IncompatibleServer { .. } => ErrorCode::IncompatibleServer,
            ClientError::MalformedResponse(_) => ErrorCode::MalformedResponse,
            ClientError::Server(_) => ErrorCode::ServerError,
            ClientError::PassphraseRequired => ErrorCode::PassphraseRequired,
            ClientError::PassphraseTooShort(_) => ErrorCode::PassphraseTooShort,
            ClientError::WrongPassphrase => ErrorCode::WrongPassphrase,
            ClientError::VaultLocked => ErrorCode::VaultLocked,
            ClientError::IndexNotReady => ErrorCode::IndexNotReady,
            ClientError::InvalidInput(_) => ErrorCode::InvalidInput,
            ClientError::SyncInProgress => ErrorCode::SyncInProgress,
            ClientError::MfaRequired => ErrorCode::MfaRequired,
            ClientError::WrongCode => ErrorCode::WrongCode,
            ClientError::MfaEnrollmentRequired => ErrorCode::MfaEnrollmentRequired,
            ClientError::NotFound(_) => ErrorCode::NotFound,
            ClientError::TimerRunning(_) => ErrorCode::TimerRunning,
            ClientError::NoTimer => ErrorCode::NoTimer,
            ClientError::Offline(_) => ErrorCode::Offline,
            ClientError::Forbidden(_) => ErrorCode::Forbidden,
            ClientError::ReauthRequired => ErrorCode::ReauthRequired,
            ClientError::WrongPassword => ErrorCode::WrongPassword,
            ClientError::Conflict(_) => ErrorCode::Conflict,
            ClientError::EssentialCategory(_) => ErrorCode::EssentialCategory,
            ClientError::StrictlyNecessaryLocked(_) => ErrorCode::StrictlyNecessaryLocked,
            ClientError::PolicyVersionNotCurrent(_) => ErrorCode::PolicyVersionNotCurrent,
            ClientError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Whether this failure means the server cannot be reached right now.
    pub fn is_offline(&self) -> bool {
        matches!(self, ClientError::Unreachable(_) | ClientError::Offline(_))
    }

    pub fn to_dto(&self) -> ErrorDto {
        ErrorDto {
            code: self.code(),
            message: self.to_string(),
        }
    }
}

impl From<KeystoreError> for ClientError {
    fn from(e: KeystoreError) -> Self {
        ClientError::KeyringUnavailable(e.to_string())
    }
}

impl From<VaultError> for ClientError {
    fn from(e: VaultError) -> Self {
        match e {
            VaultError::WrongKeyOrNotAVault => ClientError::VaultUnreadable,
            VaultError::PageOutOfOrder(m) => ClientError::MalformedResponse(m),
            VaultError::IndexNotReady => ClientError::IndexNotReady,
            VaultError::InvalidEdit(m) => ClientError::InvalidInput(m),
            other => ClientError::Vault(other),
        }
    }
}
