//! Second factors and re-authentication: TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps,
//! one step of drift either way) with recovery codes, `POST /v1/auth/reauth` for a fresh
//! proof of identity within a session, and the practice's `mfa_required` setting.
//!
//! Routes: `POST /v1/auth/mfa/totp/setup`, `/confirm`, `/disable`,
//! `POST /v1/auth/mfa/recovery-codes`, `POST /v1/auth/reauth`, and `GET`/`PUT
//! /v1/practice/settings`. Sign-in ([`crate::api`]) asks for the second factor through
//! [`sign_in_second_factor`].
//!
//! Invariant: a TOTP time step is accepted at most once per member (`users.totp_last_step`
//! only moves forward, by a conditional update), so a code seen over someone's shoulder or
//! in a log cannot be replayed, not even within its own 30 s; a recovery code works once.
//! Invariant: a wrong second factor, at sign-in or re-authentication, counts toward the
//! same per-account back-off as a wrong password, and is audited.
//! Invariant: the [`Principal`] extractor refuses (403 `mfa_enrollment_required`) a
//! session whose practice requires a second factor its member has not set up; only the
//! handlers that take [`Enrolling`] instead (setup, confirm, re-authentication, sign-out)
//! let it through. A handler that takes a `Principal` cannot forget the check.
//! Invariant: sensitive actions call [`Principal::require_recent_auth`]: the member must
//! have signed in or re-authenticated within [`REAUTH_WINDOW_SECS`].
//! Invariant: no secret, code or recovery code is ever logged or audited; recovery codes
//! are stored only as salted SHA-256 hashes and shown once.
//!
//! TOTP secrets at rest: unlike a password, the server must be able to read a TOTP secret
//! back, so it cannot be hashed. Whoever reads a secret can make valid codes for that
//! member forever, which turns a leaked database (a backup, a dump, a replica) plus a
//! cracked or phished password into a full takeover. So the secrets are sealed with
//! AES-256-GCM (aws-lc-rs, the library rustls runs on) under a key kept outside the
//! database, in the server's data directory (`totp.key`, owner-only, made on first start;
//! [`TotpKey`]); the member's id is bound in as associated data, so a sealed secret cannot
//! be moved to another member. What this does not cover: someone who can read the data
//! directory as well as the database (for SQLite both sit side by side, so it protects
//! copies of `server.db` alone, such as backups). Every instance serving one PostgreSQL
//! database needs the same `totp.key`; if it is lost, authenticator codes stop working
//! (the server answers 503 rather than "wrong code") while recovery codes, which are
//! hashed and need no key, still let members in to set up a new authenticator.

use std::net::SocketAddr;
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::{Extension, Json};
use base64::Engine;
use rand::TryRngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use strongroom_protocol::{
    PracticeSettings, Problem, ProblemCode, ReauthRequest, RecoveryCodes, TotpConfirmRequest,
    TotpSetup,
};
use totp_rs::{Algorithm, Totp};

use crate::api::{
    ApiError, AppState, FAILURE_WINDOW_SECS, ProtocolHeader, audit, backoff_remaining,
    session_principal, unix_now,
};
use crate::audit::{Actor, AuditKind, NewAuditEvent, email_sha256};
use crate::auth;
use crate::store::mfa::MfaUser;
use crate::store::{Principal, UserId, UserRecord};

/// How long a sign-in or re-authentication counts as recent for sensitive actions.
pub const REAUTH_WINDOW_SECS: i64 = 5 * 60;

/// How many recovery codes a member gets at a time.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// The file in the data directory that holds the key sealing TOTP secrets.
pub const TOTP_KEY_FILE: &str = "totp.key";

/// The issuer an authenticator app shows beside the account.
const TOTP_ISSUER: &str = "Strongroom";

/// Seconds per TOTP step, and steps of drift allowed either way.
const TOTP_STEP_SECS: u64 = 30;
const TOTP_SKEW_STEPS: u16 = 1;

/// Recovery codes' letters: Crockford's base32, lower-case (no i, l, o, u), so that 5
/// random bits pick one without bias and nothing is easily misread.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Characters in a recovery code, without its hyphens: 12 × 5 = 60 random bits.
const RECOVERY_CODE_LEN: usize = 12;

impl Principal {
    /// Whether the member proved who they are (signed in, or `POST /v1/auth/reauth`)
    /// within the last [`REAUTH_WINDOW_SECS`]; otherwise 403 `reauth_required`. Call it
    /// first thing in a sensitive handler: approving access, exporting, changing roles or
    /// factors, changing the practice's settings.
    pub fn require_recent_auth(&self, now: i64) -> Result<(), ApiError> {
        match self.reauth_at {
            Some(at) if now.saturating_sub(at) < REAUTH_WINDOW_SECS => Ok(()),
            _ => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ProblemCode::ReauthRequired,
                "this action needs a recent sign-in: re-authenticate (POST /v1/auth/reauth) \
                 and try again",
            )),
        }
    }
}

/// The refusal of a session that must enroll a second factor first.
pub(crate) fn enrollment_required() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        ProblemCode::MfaEnrollmentRequired,
        "the practice requires a second factor: set up an authenticator app \
         (POST /v1/auth/mfa/totp/setup) before anything else",
    )
}

/// A live session that may still have to enroll a second factor. Only the handlers that
/// let a member enroll (or leave) take this instead of [`Principal`]: TOTP setup and
/// confirmation, re-authentication and sign-out.
#[derive(Debug, Clone, Copy)]
pub struct Enrolling(pub Principal);

impl FromRequestParts<AppState> for Enrolling {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        session_principal(parts, state).await.map(Enrolling)
    }
}

// ---- Sealing secrets at rest ----

/// The key that seals TOTP secrets in the database (AES-256-GCM, random 96-bit nonces).
pub struct TotpKey {
    key: RandomizedNonceKey,
}

impl std::fmt::Debug for TotpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpKey(<redacted>)")
    }
}

/// The prefix of a sealed secret: the format's version.
const SEALED_PREFIX: &str = "v1.";

impl TotpKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> anyhow::Result<Self> {
        let key = RandomizedNonceKey::new(&AES_256_GCM, bytes)
            .map_err(|_| anyhow::anyhow!("the TOTP key is not an AES-256 key"))?;
        Ok(Self { key })
    }

    /// The key in `data_dir/totp.key` (64 hex digits), made there (owner-only) if there
    /// is none yet. Two servers starting at once agree on one key: it is written aside and
    /// linked into place, which only one of them can do.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Self> {
        let bytes = crate::keyfile::load_or_create(data_dir, TOTP_KEY_FILE, "the TOTP key")?;
        Self::from_bytes(&bytes)
    }

    /// The associated data: the member it belongs to.
    fn aad(user: UserId) -> Aad<Vec<u8>> {
        let mut aad = b"strongroom-totp-v1\0".to_vec();
        aad.extend_from_slice(user.0.as_bytes());
        Aad::from(aad)
    }

    /// Seals `secret` for `user`: `v1.` and base64url of nonce, ciphertext and tag.
    pub fn seal(&self, user: UserId, secret: &[u8]) -> anyhow::Result<String> {
        let mut in_out = secret.to_vec();
        let nonce = self
            .key
            .seal_in_place_append_tag(Self::aad(user), &mut in_out)
            .map_err(|_| anyhow::anyhow!("sealing failed"))?;
        let mut out = nonce.as_ref().to_vec();
        out.extend_from_slice(&in_out);
        Ok([
            SEALED_PREFIX,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out),
        ]
        .concat())
    }

    /// The secret sealed for `user`, if this key sealed it for them.
    pub fn open(&self, user: UserId, sealed: &str) -> Option<Vec<u8>> {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sealed.strip_prefix(SEALED_PREFIX)?)
            .ok()?;
        if raw.len() < NONCE_LEN {
            return None;
        }
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut in_out = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Self::aad(user), &mut in_out)
            .ok()?;
        Some(plain.to_vec())
    }
}

// ---- Codes ----

fn internal(detail: &'static str) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ProblemCode::Internal,
        detail,
    )
}

/// The server's key, or 503 when it was started without one.
fn totp_key(state: &AppState) -> Result<&TotpKey, ApiError> {
    state.totp_key.as_deref().ok_or_else(|| {
        tracing::error!("no TOTP key: this server was started without one");
        internal("authenticator codes are not available on this server")
    })
}

/// The RFC 6238 parameters every authenticator app supports, for `secret` and `account`.
pub fn totp(secret: Vec<u8>, account: &str) -> anyhow::Result<Totp> {
    totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(TOTP_STEP_SECS)
        .with_skew(TOTP_SKEW_STEPS)
        .with_secret(secret)
        // An authenticator's label may not hold a colon.
        .with_account_name(account.replace(':', "_"))
        .with_issuer(Some(TOTP_ISSUER))
        .build()
        .map_err(|e| anyhow::anyhow!("TOTP parameters: {e}"))
}

/// The time step at which `code` is valid for `totp` at `now` (give or take a step), if
/// it is. Spaces are ignored (`123 456`).
fn totp_step(totp: &Totp, code: &str, now: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let now = u64::try_from(now).ok()?;
    totp.check(&code, now).and_then(|s| i64::try_from(s).ok())
}

/// New recovery codes, `xxxx-xxxx-xxxx` each.
fn new_recovery_codes() -> Result<Vec<String>, ApiError> {
    let mut bytes = [0u8; RECOVERY_CODE_COUNT * RECOVERY_CODE_LEN];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|_| internal("no randomness available"))?;
    Ok(bytes
        .chunks(RECOVERY_CODE_LEN)
        .map(|chunk| {
            let letters: Vec<char> = chunk
                .iter()
                .map(|b| char::from(RECOVERY_ALPHABET[usize::from(b & 31)]))
                .collect();
            letters
                .chunks(4)
                .map(|g| g.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect())
}

/// A recovery code as typed, made canonical: hyphens and spaces dropped, lower case, and
/// the letters Crockford's base32 reads as digits (i, l → 1; o → 0) read so. `None` when
/// it cannot be a recovery code.
fn canonical_recovery_code(code: &str) -> Option<String> {
    let canonical: String = code
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| match c.to_ascii_lowercase() {
            'i' | 'l' => '1',
            'o' => '0',
            other => other,
        })
        .collect();
    (canonical.len() == RECOVERY_CODE_LEN
        && canonical.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)))
    .then_some(canonical)
}

/// The stored form of a member's recovery code: SHA-256, hex, over a domain tag, the
/// member's id (a salt: one table of guesses does not serve every member) and the code.
fn recovery_hash(user: UserId, code: &str) -> Option<String> {
    let canonical = canonical_recovery_code(code)?;
    let mut h = Sha256::new();
    h.update(b"strongroom-recovery-v1\0");
    h.update(user.0.as_bytes());
    h.update(canonical.as_bytes());
    Some(hex::encode(h.finalize()))
}

/// New recovery codes and their stored hashes.
fn recovery_codes_for(user: UserId) -> Result<(Vec<String>, Vec<String>), ApiError> {
    let codes = new_recovery_codes()?;
    let hashes = codes
        .iter()
        .map(|c| recovery_hash(user, c).ok_or_else(|| internal("a recovery code was malformed")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((codes, hashes))
}

/// The second factor given with a sign-in or a re-authentication: trimmed, an empty one
/// taken as none, at most one of the two, and of a plausible length.
pub(crate) fn second_factor_input(
    totp_code: Option<String>,
    recovery_code: Option<String>,
) -> Result<Option<FactorInput>, ApiError> {
    let clean = |c: Option<String>| c.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    match (clean(totp_code), clean(recovery_code)) {
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "give either totp_code or recovery_code, not both",
        )),
        (Some(c), None) if c.chars().count() <= 16 => Ok(Some(FactorInput::Totp(c))),
        (None, Some(c)) if c.chars().count() <= 64 => Ok(Some(FactorInput::RecoveryCode(c))),
        (None, None) => Ok(None),
        _ => Err(ApiError::bad_request(
            "totp_code must be at most 16 characters, recovery_code at most 64",
        )),
    }
}

/// A second factor as given.
pub(crate) enum FactorInput {
    Totp(String),
    RecoveryCode(String),
}

/// Which second factor was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Factor {
    Totp,
    RecoveryCode,
}

impl Factor {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Factor::Totp => "totp",
            Factor::RecoveryCode => "recovery_code",
        }
    }
}

/// The outcome of checking a member's second factor.
enum FactorCheck {
    /// The member has none: the password alone is enough.
    NotEnrolled,
    /// The member has one, and none was given.
    Missing,
    Passed(Factor),
    /// Wrong, malformed, or used already.
    Failed,
}

/// Checks the second factor `given` for `member` at `now`, consuming the TOTP step or the
/// recovery code it matches. A recovery code's use is audited here (`during` says where).
async fn check_second_factor(
    state: &AppState,
    member: &MfaUser,
    given: Option<&FactorInput>,
    now: i64,
    during: &'static str,
) -> Result<FactorCheck, ApiError> {
    let Some(sealed) = member.totp_secret.as_deref() else {
        return Ok(FactorCheck::NotEnrolled);
    };
    let id = member.user.id;
    match given {
        None => Ok(FactorCheck::Missing),
        Some(FactorInput::Totp(code)) => {
            let secret = totp_key(state)?.open(id, sealed).ok_or_else(|| {
                tracing::error!(user = %id.0, "a TOTP secret does not open with this server's key");
                internal("authenticator codes cannot be checked on this server")
            })?;
            let totp = totp(secret, &member.user.email).map_err(|e| {
                tracing::error!(user = %id.0, error = %e, "a stored TOTP secret is unusable");
                internal("authenticator codes cannot be checked on this server")
            })?;
            let Some(step) = totp_step(&totp, code, now) else {
                return Ok(FactorCheck::Failed);
            };
            // Only a step later than the last accepted one: never the same code twice.
            Ok(if state.store.accept_totp_step(id, step).await? {
                FactorCheck::Passed(Factor::Totp)
            } else {
                FactorCheck::Failed
            })
        }
        Some(FactorInput::RecoveryCode(code)) => {
            let Some(hash) = recovery_hash(id, code) else {
                return Ok(FactorCheck::Failed);
            };
            if !state.store.use_recovery_code(id, &hash, now).await? {
                return Ok(FactorCheck::Failed);
            }
            let remaining = state.store.recovery_codes_left(id).await?;
            state
                .store
                .append_audit(NewAuditEvent {
                    practice: Some(member.user.practice_id),
                    actor: Some(Actor::User(id)),
                    kind: AuditKind::RecoveryCodeUsed,
                    details: json!({ "during": during, "remaining": remaining }),
                })
                .await?;
            Ok(FactorCheck::Passed(Factor::RecoveryCode))
        }
    }
}

/// 401 `mfa_required`: the password was right, and a second factor must come with it.
fn mfa_required() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        ProblemCode::MfaRequired,
        "a second factor is required: send totp_code (or recovery_code) with the password",
    )
}

/// 401 `invalid_credentials` for a wrong second factor.
fn wrong_second_factor() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        ProblemCode::InvalidCredentials,
        "the authenticator or recovery code is not right",
    )
}

/// The second step of a sign-in whose password was right: nothing for a member without a
/// second factor; otherwise the factor must be given and right. A missing one answers 401
/// `mfa_required` (audited as `second_factor_missing`, not counted: the client now asks for
/// the code); a wrong one counts toward the account's back-off and is audited as
/// `wrong_second_factor`. Answers the factor used, for the sign-in's audit entry.
pub(crate) async fn sign_in_second_factor(
    state: &AppState,
    user: &UserRecord,
    given: Option<&FactorInput>,
    account_key: &str,
    device_name: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<Option<Factor>, ApiError> {
    let member = state
        .store
        .mfa_user(user.id)
        .await?
        .ok_or_else(|| internal("the member vanished during sign-in"))?;
    let (reason, refusal) = match check_second_factor(state, &member, given, now, "sign_in").await?
    {
        FactorCheck::NotEnrolled => return Ok(None),
        FactorCheck::Passed(f) => return Ok(Some(f)),
        // Someone has the password: worth a line in the log, but not a failure to count.
        FactorCheck::Missing => ("second_factor_missing", mfa_required()),
        FactorCheck::Failed => {
            state
                .store
                .record_sign_in_failure(account_key, now, FAILURE_WINDOW_SECS)
                .await?;
            ("wrong_second_factor", wrong_second_factor())
        }
    };
    tracing::info!(user = %user.id.0, reason, "sign-in stopped at the second factor");
    state
        .store
        .append_audit(NewAuditEvent {
            practice: Some(user.practice_id),
            actor: Some(Actor::User(user.id)),
            kind: AuditKind::SignInFailed,
            details: json!({ "reason": reason, "device_name": device_name, "ip": ip }),
        })
        .await?;
    Err(refusal)
}

/// The caller's own member record; a session whose member is gone is no session.
async fn member(state: &AppState, principal: &Principal) -> Result<MfaUser, ApiError> {
    state
        .store
        .mfa_user(principal.user_id)
        .await?
        .ok_or_else(ApiError::unauthenticated)
}

fn json_body<T>(body: Result<Json<T>, JsonRejection>, what: &str) -> Result<T, ApiError> {
    body.map(|Json(t)| t).map_err(|e| {
        ApiError::bad_request(format!("the request body is not {what}: {}", e.body_text()))
    })
}

// ---- Routes ----

/// Starts setting up an authenticator app: a new secret, kept pending until
/// `POST /v1/auth/mfa/totp/confirm` proves the app has it. A factor already confirmed
/// stays in force until then. Needs a recent sign-in or re-authentication.
#[utoipa::path(
    post,
    path = "/v1/auth/mfa/totp/setup",
    tag = "auth",
    params(ProtocolHeader),
    security(("session" = [])),
    responses(
        (status = 200, description = "The new secret, base32 and as an otpauth:// URI",
         body = TotpSetup),
        (status = 400, description = "A protocol version this service does not speak \
         (`incompatible_protocol`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No recent sign-in or re-authentication \
         (`reauth_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn totp_setup(
    Enrolling(principal): Enrolling,
    State(state): State<AppState>,
) -> Result<Json<TotpSetup>, ApiError> {
    principal.require_recent_auth(unix_now())?;
    let key = totp_key(&state)?;
    let member = member(&state, &principal).await?;
    let mut secret = [0u8; 20];
    rand::rngs::OsRng
        .try_fill_bytes(&mut secret)
        .map_err(|_| internal("no randomness available"))?;
    let sealed = key
        .seal(principal.user_id, &secret)
        .map_err(|_| internal("the secret could not be sealed"))?;
    let totp = totp(secret.to_vec(), &member.user.email)
        .map_err(|_| internal("the secret could not be encoded"))?;
    let otpauth_uri = totp
        .to_url()
        .map_err(|_| internal("the secret could not be encoded"))?;
    state
        .store
        .set_totp_pending(principal.user_id, Some(&sealed))
        .await?;
    Ok(Json(TotpSetup {
        secret: totp.secret().to_base32(),
        otpauth_uri,
    }))
}

/// Confirms the authenticator being set up with its current code: it becomes the member's
/// second factor (replacing any before it), and 10 new recovery codes replace any old
/// ones. The codes are shown this once.
#[utoipa::path(
    post,
    path = "/v1/auth/mfa/totp/confirm",
    tag = "auth",
    params(ProtocolHeader),
    request_body(content = TotpConfirmRequest, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 200, description = "Enrolled: the recovery codes, shown once",
         body = RecoveryCodes),
        (status = 400, description = "A malformed request (`bad_request`), a wrong code \
         (`wrong_code`), or a protocol version this service does not speak \
         (`incompatible_protocol`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing is being set up (`no_pending_factor`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn totp_confirm(
    Enrolling(principal): Enrolling,
    State(state): State<AppState>,
    body: Result<Json<TotpConfirmRequest>, JsonRejection>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    let req = json_body(body, "a confirmation")?;
    if req.code.chars().count() > 16 {
        return Err(ApiError::bad_request("code must be at most 16 characters"));
    }
    let member = member(&state, &principal).await?;
    let no_pending = || {
        ApiError::new(
            StatusCode::CONFLICT,
            ProblemCode::NoPendingFactor,
            "no authenticator is being set up: POST /v1/auth/mfa/totp/setup first",
        )
    };
    let pending = member.totp_pending.as_deref().ok_or_else(no_pending)?;
    let secret = totp_key(&state)?
        .open(principal.user_id, pending)
        .ok_or_else(|| internal("the pending secret cannot be read on this server"))?;
    let totp =
        totp(secret, &member.user.email).map_err(|_| internal("the pending secret is unusable"))?;
    let step = totp_step(&totp, &req.code, unix_now()).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ProblemCode::WrongCode,
            "the code is not right: check the authenticator app and the device's clock",
        )
    })?;
    let (codes, hashes) = recovery_codes_for(principal.user_id)?;
    if !state
        .store
        .confirm_totp(principal.user_id, pending, step, &hashes)
        .await?
    {
        return Err(no_pending());
    }
    audit(
        &state,
        &principal,
        AuditKind::MfaEnabled,
        json!({ "factor": "totp", "replaced": member.totp_secret.is_some() }),
    )
    .await?;
    tracing::info!(user = %principal.user_id.0, "authenticator app enrolled");
    Ok(Json(RecoveryCodes { codes }))
}

/// Removes the member's authenticator and recovery codes. Refused while the practice
/// requires a second factor. Needs a recent sign-in or re-authentication.
#[utoipa::path(
    post,
    path = "/v1/auth/mfa/totp/disable",
    tag = "auth",
    params(ProtocolHeader),
    security(("session" = [])),
    responses(
        (status = 204, description = "The second factor is gone"),
        (status = 400, description = "A protocol version this service does not speak \
         (`incompatible_protocol`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No recent sign-in or re-authentication \
         (`reauth_required`), or the member must enroll first (`mfa_enrollment_required`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The practice requires a second factor \
         (`mfa_mandatory`), or the member has none (`mfa_not_enrolled`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn totp_disable(
    principal: Principal,
    State(state): State<AppState>,
) -> Result<StatusCode, ApiError> {
    principal.require_recent_auth(unix_now())?;
    let member = member(&state, &principal).await?;
    if member.practice_mfa_required {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ProblemCode::MfaMandatory,
            "the practice requires a second factor, so it cannot be removed",
        ));
    }
    if member.totp_secret.is_none() && member.totp_pending.is_none() {
        return Err(not_enrolled());
    }
    if state.store.remove_totp(principal.user_id).await? {
        audit(
            &state,
            &principal,
            AuditKind::MfaDisabled,
            json!({ "factor": "totp" }),
        )
        .await?;
        tracing::info!(user = %principal.user_id.0, "authenticator app removed");
    }
    Ok(StatusCode::NO_CONTENT)
}

fn not_enrolled() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        ProblemCode::MfaNotEnrolled,
        "there is no second factor: set up an authenticator app first",
    )
}

/// A new set of 10 recovery codes, shown once; the old ones stop working. Needs an
/// authenticator, and a recent sign-in or re-authentication.
#[utoipa::path(
    post,
    path = "/v1/auth/mfa/recovery-codes",
    tag = "auth",
    params(ProtocolHeader),
    security(("session" = [])),
    responses(
        (status = 200, description = "The new recovery codes, shown once", body = RecoveryCodes),
        (status = 400, description = "A protocol version this service does not speak \
         (`incompatible_protocol`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No recent sign-in or re-authentication \
         (`reauth_required`), or the member must enroll first (`mfa_enrollment_required`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The member has no second factor (`mfa_not_enrolled`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn regenerate_recovery_codes(
    principal: Principal,
    State(state): State<AppState>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    principal.require_recent_auth(unix_now())?;
    let member = member(&state, &principal).await?;
    if member.totp_secret.is_none() {
        return Err(not_enrolled());
    }
    let (codes, hashes) = recovery_codes_for(principal.user_id)?;
    state
        .store
        .replace_recovery_codes(principal.user_id, &hashes)
        .await?;
    audit(
        &state,
        &principal,
        AuditKind::RecoveryCodesRegenerated,
        json!({ "count": codes.len() }),
    )
    .await?;
    Ok(Json(RecoveryCodes { codes }))
}

/// Proves again, within this session, who its member is: the password, and the second
/// factor when they have one, checked as at sign-in (and counted toward the same back-off
/// when wrong). Sensitive actions then work for the next five minutes.
#[utoipa::path(
    post,
    path = "/v1/auth/reauth",
    tag = "auth",
    params(ProtocolHeader),
    request_body(content = ReauthRequest, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 204, description = "Re-authenticated"),
        (status = 400, description = "A malformed request (`bad_request`), or a protocol \
         version this service does not speak (`incompatible_protocol`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`), a wrong password \
         or code (`invalid_credentials`), or a second factor is needed (`mfa_required`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many checks at once, or too many failures for this \
         account (`rate_limited`)", body = Problem, content_type = "application/problem+json",
         headers(("retry-after" = u32, description = "Seconds to wait"))),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn reauth(
    Enrolling(principal): Enrolling,
    State(state): State<AppState>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Result<Json<ReauthRequest>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let req = json_body(body, "a re-authentication")?;
    if req.password.is_empty() || req.password.chars().count() > 1024 {
        return Err(ApiError::bad_request(
            "password must be 1 to 1024 characters",
        ));
    }
    let given = second_factor_input(req.totp_code, req.recovery_code)?;
    let Ok(_permit) = state.password_checks.clone().try_acquire_owned() else {
        return Err(ApiError::rate_limited(
            "too many password checks at once; try again in a moment",
            1,
        ));
    };
    let ip = connection.map(|Extension(ConnectInfo(addr))| addr.ip().to_string());
    let member = member(&state, &principal).await?;
    let account_key = email_sha256(&member.user.email);
    let now = unix_now();
    if let Some((failures, last)) = state.store.sign_in_failures(&account_key).await?
        && let Some(wait) = backoff_remaining(failures, now - last)
    {
        return Err(ApiError::rate_limited(
            "too many failed attempts for this account; wait before trying again",
            u32::try_from(wait).unwrap_or(u32::MAX),
        ));
    }
    let session_id = principal.session_id.to_string();
    // Audited; counted toward the back-off unless only the second factor was missing.
    let refuse = |reason: &'static str, count: bool| {
        let state = state.clone();
        let account_key = account_key.clone();
        let session_id = session_id.clone();
        let ip = ip.clone();
        async move {
            tracing::info!(user = %principal.user_id.0, reason, "re-authentication failed");
            if count {
                state
                    .store
                    .record_sign_in_failure(&account_key, now, FAILURE_WINDOW_SECS)
                    .await?;
            }
            audit(
                &state,
                &principal,
                AuditKind::ReauthFailed,
                json!({ "reason": reason, "session_id": session_id, "ip": ip }),
            )
            .await
        }
    };
    let password = req.password;
    let phc = member.user.password_hash.clone();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &phc))
        .await
        .unwrap_or(false);
    if !ok {
        refuse("wrong_password", true).await?;
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ProblemCode::InvalidCredentials,
            "the password is not right",
        ));
    }
    let factor = match check_second_factor(&state, &member, given.as_ref(), now, "reauth").await? {
        FactorCheck::NotEnrolled => None,
        FactorCheck::Passed(f) => Some(f),
        FactorCheck::Missing => {
            refuse("second_factor_missing", false).await?;
            return Err(mfa_required());
        }
        FactorCheck::Failed => {
            refuse("wrong_second_factor", true).await?;
            return Err(wrong_second_factor());
        }
    };
    state.store.clear_sign_in_failures(&account_key).await?;
    if !state
        .store
        .set_reauth_at(principal.user_id, principal.session_id, now)
        .await?
    {
        return Err(ApiError::unauthenticated());
    }
    let mut details = json!({ "session_id": session_id, "ip": ip });
    if let Some(f) = factor {
        details["second_factor"] = json!(f.as_str());
    }
    audit(&state, &principal, AuditKind::Reauthenticated, details).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The practice's settings. Any member may read them.
#[utoipa::path(
    get,
    path = "/v1/practice/settings",
    tag = "practice",
    params(ProtocolHeader),
    security(("session" = [])),
    responses(
        (status = 200, description = "The settings", body = PracticeSettings),
        (status = 400, description = "A protocol version this service does not speak \
         (`incompatible_protocol`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The member must enroll a second factor first \
         (`mfa_enrollment_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn practice_settings(
    principal: Principal,
    State(state): State<AppState>,
) -> Result<Json<PracticeSettings>, ApiError> {
    Ok(Json(PracticeSettings {
        mfa_required: state.store.mfa_required(principal.practice_id).await?,
    }))
}

/// Changes the practice's settings: admins only, with a recent sign-in or
/// re-authentication. Requiring a second factor takes effect at once: members without one
/// can then only set one up.
#[utoipa::path(
    put,
    path = "/v1/practice/settings",
    tag = "practice",
    params(ProtocolHeader),
    request_body(content = PracticeSettings, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 200, description = "The settings now", body = PracticeSettings),
        (status = 400, description = "A malformed request (`bad_request`), or a protocol \
         version this service does not speak (`incompatible_protocol`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`forbidden`), no recent sign-in or \
         re-authentication (`reauth_required`), or the member must enroll a second factor \
         first (`mfa_enrollment_required`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn put_practice_settings(
    principal: Principal,
    State(state): State<AppState>,
    body: Result<Json<PracticeSettings>, JsonRejection>,
) -> Result<Json<PracticeSettings>, ApiError> {
    if !principal.role.is_admin() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ProblemCode::Forbidden,
            "only an admin may change the practice's settings",
        ));
    }
    principal.require_recent_auth(unix_now())?;
    let req = json_body(body, "the practice's settings")?;
    let before = state.store.mfa_required(principal.practice_id).await?;
    if before != req.mfa_required {
        state
            .store
            .set_mfa_required(principal.practice_id, req.mfa_required)
            .await?;
        audit(
            &state,
            &principal,
            AuditKind::PracticeSettingsChanged,
            json!({ "mfa_required": { "from": before, "to": req.mfa_required } }),
        )
        .await?;
    }
    Ok(Json(req))
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn key() -> TotpKey {
        TotpKey::from_bytes(&[7u8; 32]).unwrap()
    }

    #[test]
    fn sealed_secrets_open_only_for_their_member_and_key() {
        let (a, b) = (UserId(Uuid::from_u128(1)), UserId(Uuid::from_u128(2)));
        let sealed = key().seal(a, b"twenty byte secret!!").unwrap();
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("twenty"));
        assert_eq!(key().open(a, &sealed).unwrap(), b"twenty byte secret!!");
        assert_eq!(key().open(b, &sealed), None, "bound to its member");
        let other = TotpKey::from_bytes(&[8u8; 32]).unwrap();
        assert_eq!(other.open(a, &sealed), None, "bound to its key");
        assert_ne!(sealed, key().seal(a, b"twenty byte secret!!").unwrap());
        for bad in ["", "v1.", "v1.AAAA", "v2.xyz", "plain"] {
            assert_eq!(key().open(a, bad), None, "{bad}");
        }
    }

    #[test]
    fn the_key_file_is_made_once_owner_only_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let user = UserId(Uuid::from_u128(3));
        let sealed = TotpKey::load_or_create(dir.path())
            .unwrap()
            .seal(user, b"s")
            .unwrap();
        let path = dir.path().join(TOTP_KEY_FILE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = TotpKey::load_or_create(dir.path()).unwrap();
        assert_eq!(again.open(user, &sealed).unwrap(), b"s");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        std::fs::write(&path, "not hex").unwrap();
        assert!(TotpKey::load_or_create(dir.path()).is_err());
    }

    #[test]
    fn codes_are_checked_at_their_step_with_one_step_of_drift() {
        let t = totp(b"12345678901234567890".to_vec(), "a@b.example").unwrap();
        // RFC 6238's SHA-1 test vector at T = 59: 94287082, of which 6 digits.
        assert_eq!(t.generate(59).to_string(), "287082");
        assert_eq!(totp_step(&t, "287082", 59), Some(1));
        assert_eq!(totp_step(&t, "287 082", 59 + 30), Some(1));
        assert_eq!(totp_step(&t, "287082", 59 + 60), None);
        assert_eq!(totp_step(&t, "28708", 59), None);
        assert_eq!(totp_step(&t, "+87082", 59), None);
        assert!(
            t.to_url()
                .unwrap()
                .starts_with("otpauth://totp/Strongroom:a%40b.example?")
        );
    }

    #[test]
    fn recovery_codes_are_typable_distinct_and_hashed_per_member() {
        let codes = new_recovery_codes().unwrap();
        assert_eq!(codes.len(), RECOVERY_CODE_COUNT);
        let distinct: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), codes.len());
        for c in &codes {
            assert_eq!(c.len(), 14, "{c}");
            assert_eq!(c.matches('-').count(), 2, "{c}");
            assert!(canonical_recovery_code(c).is_some(), "{c}");
        }
        let (a, b) = (UserId(Uuid::from_u128(1)), UserId(Uuid::from_u128(2)));
        let h = recovery_hash(a, "abcd-efgh-jk10").unwrap();
        assert_eq!(recovery_hash(a, " ABCD EFGH JKlO ").unwrap(), h);
        assert_ne!(recovery_hash(b, "abcd-efgh-jk10").unwrap(), h);
        assert!(!h.contains("abcd"));
        assert_eq!(recovery_hash(a, "abcd-efgh-jk1"), None);
        assert_eq!(recovery_hash(a, "abcd-efgh-jk1u"), None);
    }

    #[test]
    fn recent_auth_lasts_five_minutes() {
        let p = |reauth_at| Principal {
            user_id: UserId(Uuid::nil()),
            practice_id: crate::store::PracticeId(Uuid::nil()),
            role: strongroom_protocol::Role::Admin,
            session_id: Uuid::nil(),
            reauth_at,
            mfa_enrollment_required: false,
        };
        assert!(p(Some(1000)).require_recent_auth(1000).is_ok());
        assert!(p(Some(1000)).require_recent_auth(1299).is_ok());
        assert!(p(Some(1000)).require_recent_auth(1300).is_err());
        assert!(p(None).require_recent_auth(1000).is_err());
    }
}
