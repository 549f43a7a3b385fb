//! The desktop's HTTPS client of the hosted service: reqwest over rustls.
//!
//! Invariants:
//! - TLS 1.2 or 1.3 only, through rustls; trust comes from the OS roots plus an optional
//!   practice CA, narrowed by optional public-key pins. There is no switch that accepts an
//!   invalid certificate.
//! - Only a 401 whose problem code is `session_revoked` is [`SyncError::SessionRevoked`],
//!   the one answer on which the device erases itself; any other 401 is
//!   [`SyncError::Unauthenticated`], and 5xx, timeouts and lost connections are transient.
//! - Only `https://` server addresses are accepted.
//! - A response is decoded whole before anything is returned, so a malformed answer is an
//!   error and never half a result.

mod live;
mod tls;

use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;
use serde::de::{DeserializeOwned, IntoDeserializer};
use strongroom_protocol::consent::{ConsentChange, ConsentState, CookieCatalogue, UsageReport};
use strongroom_protocol::incidents::{IncidentAcknowledgements, MemberIncident};
use strongroom_protocol::notifications::{Notice, NotificationPreferences, PreferencesUpdate};
use strongroom_protocol::policies::{
    MemberPolicy, PolicyAcknowledgement, PolicyDocument, PolicyKind,
};
use strongroom_protocol::{
    AppliedAt, Change, ChangesPage, ConflictResolution, Health, PROTOCOL_HEADER, PROTOCOL_VERSION,
    ProblemCode, PushRequest, PushResponse, RecordKind, SignInRequest, SignInResponse,
    SyncConflict,
};
use url::Url;

pub use live::{LiveEvent, LiveStream, QUIET_LIMIT};
pub use reqwest::Method;
pub use tls::{SpkiPin, TlsOptions};

/// What can go wrong talking to the server.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the server address is not valid: {0}")]
    InvalidAddress(String),
    #[error("the server could not be reached: {0}")]
    Unreachable(String),
    #[error("the server's certificate was refused: {0}")]
    Certificate(String),
    #[error("the practice CA file could not be used: {0}")]
    BadCaFile(String),
    #[error("the email or password is not right")]
    InvalidCredentials,
    #[error("the session is no longer valid; sign in again")]
    Unauthenticated,
    /// The password was right and the member has a second factor: sign in again with the
    /// authenticator's code or a recovery code.
    #[error("a one-time code from the authenticator (or a recovery code) is needed")]
    MfaRequired,
    #[error("the one-time code is not right, or was used already")]
    WrongCode,
    /// The practice requires a second factor and this member has none yet.
    #[error("the practice requires a second factor: set one up on the practice's web page first")]
    MfaEnrollmentRequired,
    /// The server says this session was revoked (signed out remotely, the device removed,
    /// or the member disabled): the device must erase its offline copy.
    #[error("this device's session was revoked")]
    SessionRevoked,
    #[error("{0}")]
    InvalidPin(String),
    #[error("the server speaks protocol version {server}, this app speaks {client}")]
    IncompatibleProtocol { server: u32, client: u32 },
    #[error("the server sent an answer this app cannot read: {0}")]
    Malformed(String),
    /// The member's role does not allow it (403 `forbidden`).
    #[error("{0}")]
    Forbidden(String),
    /// The action needs a recent sign-in: re-authenticate, then ask again.
    #[error("this action needs you to confirm your password again")]
    ReauthRequired,
    /// 404: no such thing, or not one this member may see.
    #[error("{0}")]
    NotFound(String),
    /// 409: the thing is no longer in a state that allows it.
    #[error("{0}")]
    Conflict(String),
    /// 400 or 422: the service refused the request as malformed or invalid.
    #[error("{0}")]
    Rejected(String),
    /// 400 `essential_category`: an essential notification category cannot be turned off;
    /// nothing was changed. The words say which and why.
    #[error("{0}")]
    EssentialCategory(String),
    /// 400 `strictly_necessary_locked`: strictly necessary cookies cannot be refused;
    /// nothing was recorded.
    #[error("{0}")]
    StrictlyNecessaryLocked(String),
    /// 409 `policy_version_not_current`: only the current version of a policy can be
    /// acknowledged; nothing was recorded. The words name the current version.
    #[error("{0}")]
    PolicyVersionNotCurrent(String),
    #[error("the server answered {status}: {detail}")]
    Server { status: u16, detail: String },
}

impl SyncError {
    /// Whether the failure is passing (network, timeout, 5xx) rather than a verdict.
    pub fn is_transient(&self) -> bool {
        matches!(self, SyncError::Unreachable(_))
            || matches!(self, SyncError::Server { status, .. } if *status >= 500)
    }
}

/// How long the client waits on the network before it calls the server unreachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Making a connection, TLS handshake included.
    pub connect: Duration,
    /// A whole request and its answer; for the live stream, until its answer begins.
    pub request: Duration,
    /// How long an open live stream may stay silent before it counts as lost.
    pub quiet: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(60),
            quiet: QUIET_LIMIT,
        }
    }
}

/// A client of one server.
#[derive(Debug, Clone)]
pub struct ServerClient {
    base: Url,
    http: reqwest::Client,
    timeouts: Timeouts,
    /// The server's clock minus this device's, in seconds, from the last answer's `Date`.
    skew: std::sync::Arc<std::sync::Mutex<Option<i64>>>,
}

impl ServerClient {
    /// A client for the server at `address` (an `https://` URL), trusting the OS roots and
    /// the practice CA in `tls`, if any, with the default [`Timeouts`].
    pub fn new(address: &str, tls: &TlsOptions) -> Result<Self, SyncError> {
        Self::with_timeouts(address, tls, Timeouts::default())
    }

    /// [`ServerClient::new`] with timeouts of its own.
    pub fn with_timeouts(
        address: &str,
        tls: &TlsOptions,
        timeouts: Timeouts,
    ) -> Result<Self, SyncError> {
        let base = parse_address(address)?;
        let config = tls::client_config(tls)?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(config)
            .https_only(true)
            // The API never redirects; following one could carry a password elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.request)
            .user_agent(concat!("strongroom-desktop/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SyncError::Unreachable(e.to_string()))?;
        Ok(Self {
            base,
            http,
            timeouts,
            skew: Default::default(),
        })
    }

    /// The server's address, normalised.
    pub fn address(&self) -> &str {
        self.base.as_str()
    }

    fn url(&self, path: &str) -> Result<Url, SyncError> {
        self.base
            .join(path)
            .map_err(|e| SyncError::InvalidAddress(e.to_string()))
    }

    /// The server's address with `segments` appended, each percent-encoded as one segment
    /// (a `/`, `?` or `#` in one stays inside it). An empty, `.` or `..` segment would
    /// change which route is asked, so it is [`SyncError::Rejected`] before anything is
    /// sent.
    fn url_of(&self, segments: &[&str]) -> Result<Url, SyncError> {
        if let Some(bad) = segments
            .iter()
            .find(|s| s.is_empty() || **s == "." || **s == "..")
        {
            return Err(SyncError::Rejected(format!(
                "{bad:?} cannot be part of the request's address"
            )));
        }
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| SyncError::InvalidAddress(self.base.to_string()))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// `GET /v1/health`, checking that the server speaks this protocol version.
    pub async fn health(&self) -> Result<Health, SyncError> {
        let req = self.http.get(self.url("v1/health")?);
        let health: Health = self.send(req).await?;
        if health.protocol_version != PROTOCOL_VERSION {
            return Err(SyncError::IncompatibleProtocol {
                server: health.protocol_version,
                client: PROTOCOL_VERSION,
            });
        }
        Ok(health)
    }

    /// How far the server's clock is ahead of this device's (negative: behind), in seconds,
    /// as of the last answer; none before one arrived with a `Date` header. Ordering never
    /// depends on it: it is for warning the user.
    pub fn clock_skew(&self) -> Option<i64> {
        self.skew.lock().ok().and_then(|s| *s)
    }

    fn note_date(&self, headers: &reqwest::header::HeaderMap) {
        let server = headers
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok());
        if let Some(server) = server {
            let secs = |t: std::time::SystemTime| {
                t.duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0)
            };
            if let Ok(mut s) = self.skew.lock() {
                *s = Some(secs(server) - secs(std::time::SystemTime::now()));
            }
        }
    }

    /// `POST /v1/auth/sign-in`.
    pub async fn sign_in(&self, body: &SignInRequest) -> Result<SignInResponse, SyncError> {
        let req = self.http.post(self.url("v1/auth/sign-in")?).json(body);
        self.send(req).await
    }

    /// `GET /v1/sync/changes`: the page of changes after `after`, and the size of the
    /// answer in bytes (as decoded). With `count`, the page says how many changes wait in
    /// all (`total`).
    pub async fn changes(
        &self,
        token: &str,
        after: i64,
        limit: u32,
        count: bool,
    ) -> Result<(ChangesPage, u64), SyncError> {
        let mut url = self.url("v1/sync/changes")?;
        url.query_pairs_mut()
            .append_pair("after", &after.to_string())
            .append_pair("limit", &limit.to_string());
        if count {
            url.query_pairs_mut().append_pair("count", "true");
        }
        let req = self.http.get(url).bearer_auth(token);
        let (status, body) = self.answer(req).await?;
        if !status.is_success() {
            return Err(problem(status, &body));
        }
        let page =
            serde_json::from_slice(&body).map_err(|e| SyncError::Malformed(e.to_string()))?;
        Ok((page, body.len() as u64))
    }

    /// `POST /v1/sync/push`: this device's queued edits; one answer per mutation.
    pub async fn push(&self, token: &str, body: &PushRequest) -> Result<PushResponse, SyncError> {
        let req = self
            .http
            .post(self.url("v1/sync/push")?)
            .bearer_auth(token)
            .json(body);
        self.send(req).await
    }

    /// `GET /v1/records/{kind}/{id}`: the record as the service holds it, or `None` when
    /// there is none this member may see.
    pub async fn record(
        &self,
        token: &str,
        kind: RecordKind,
        id: uuid::Uuid,
    ) -> Result<Option<Change>, SyncError> {
        let url = self.url(&format!("v1/records/{}/{id}", kind.as_str()))?;
        match self.send(self.http.get(url).bearer_auth(token)).await {
            Ok(change) => Ok(Some(change)),
            Err(SyncError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /v1/sync/conflicts`: the member's conflicts still waiting for a decision.
    pub async fn open_conflicts(&self, token: &str) -> Result<Vec<SyncConflict>, SyncError> {
        self.get_json(token, "v1/sync/conflicts").await
    }

    /// `POST /v1/sync/conflicts/{id}/resolve`: the member's decision on a conflict.
    pub async fn resolve_conflict(
        &self,
        token: &str,
        id: uuid::Uuid,
        resolution: &ConflictResolution,
    ) -> Result<AppliedAt, SyncError> {
        let url = self.url(&format!("v1/sync/conflicts/{id}/resolve"))?;
        self.send(self.http.post(url).bearer_auth(token).json(resolution))
            .await
    }

    /// `POST /v1/auth/sign-out`: ends this session on the service; the token stops working.
    pub async fn sign_out(&self, token: &str) -> Result<(), SyncError> {
        self.post_with_token("v1/auth/sign-out", token).await
    }

    /// `POST /v1/sessions/wiped`: tells the service that this device, whose session was
    /// revoked, has erased its offline copy (with the revoked session's own token).
    pub async fn confirm_wiped(&self, token: &str) -> Result<(), SyncError> {
        self.post_with_token("v1/sessions/wiped", token).await
    }

    /// `GET /v1/cookies`: every cookie and storage item the service and its web pages set,
    /// by category (promise 6). Public: no session needed.
    pub async fn cookie_catalogue(&self) -> Result<CookieCatalogue, SyncError> {
        self.send(self.http.get(self.url("v1/cookies")?)).await
    }

    /// `GET /v1/me/consent`: the member's one consent record (shared with the browser),
    /// what it allows, and its history.
    pub async fn consent(&self, token: &str) -> Result<ConsentState, SyncError> {
        self.get_json(token, "v1/me/consent").await
    }

    /// `PUT /v1/me/consent`: accept all, reject all, or choose. With the bearer token the
    /// service records the change with the desktop as its surface. Refusing strictly
    /// necessary items is [`SyncError::StrictlyNecessaryLocked`].
    pub async fn change_consent(
        &self,
        token: &str,
        change: &ConsentChange,
    ) -> Result<ConsentState, SyncError> {
        self.send_json(token, Method::PUT, "v1/me/consent", change)
            .await
    }

    /// `GET /v1/me/notifications/preferences`: every category and channel, essential ones
    /// locked on with their reason (promise 8).
    pub async fn notification_preferences(
        &self,
        token: &str,
    ) -> Result<NotificationPreferences, SyncError> {
        self.get_json(token, "v1/me/notifications/preferences")
            .await
    }

    /// `PATCH /v1/me/notifications/preferences`: all the changes or none; answers the
    /// preferences as they now are. Turning an essential category off is
    /// [`SyncError::EssentialCategory`].
    pub async fn update_notification_preferences(
        &self,
        token: &str,
        update: &PreferencesUpdate,
    ) -> Result<NotificationPreferences, SyncError> {
        self.send_json(
            token,
            Method::PATCH,
            "v1/me/notifications/preferences",
            update,
        )
        .await
    }

    /// `GET /v1/me/notices`: the member's in-app inbox, newest first.
    pub async fn notices(&self, token: &str) -> Result<Vec<Notice>, SyncError> {
        self.get_json(token, "v1/me/notices").await
    }

    /// `POST /v1/me/notices/{id}/read`: marks one of the member's notices read; another's
    /// or none is [`SyncError::NotFound`].
    pub async fn mark_notice_read(&self, token: &str, id: uuid::Uuid) -> Result<(), SyncError> {
        self.post_with_token(&format!("v1/me/notices/{id}/read"), token)
            .await
    }

    /// `GET /v1/practice/usage-report/preview`: exactly what the aggregated usage report
    /// would send (administrators only: others are [`SyncError::Forbidden`]).
    pub async fn usage_report_preview(&self, token: &str) -> Result<UsageReport, SyncError> {
        self.get_json(token, "v1/practice/usage-report/preview")
            .await
    }

    /// `GET /v1/me/incidents`: the breach notices that affect the member's own practice,
    /// every statutory field, with the member's own notice, email delivery and
    /// acknowledgement (promise 10).
    pub async fn incidents(&self, token: &str) -> Result<Vec<MemberIncident>, SyncError> {
        self.get_json(token, "v1/me/incidents").await
    }

    /// `POST /v1/me/incidents/{id}/acknowledge`: the member has read the notice (the first
    /// time counts; again changes nothing). Answers the incident as the member now sees it.
    /// Another practice's incident, or none, is [`SyncError::NotFound`].
    pub async fn acknowledge_incident(
        &self,
        token: &str,
        id: uuid::Uuid,
    ) -> Result<MemberIncident, SyncError> {
        let url = self.url(&format!("v1/me/incidents/{id}/acknowledge"))?;
        self.send(self.http.post(url).bearer_auth(token)).await
    }

    /// `GET /v1/practice/incidents/{id}/acknowledgements`: every member of the practice
    /// and whether each was notified and has acknowledged (administrators only: others
    /// are [`SyncError::Forbidden`]).
    pub async fn incident_acknowledgements(
        &self,
        token: &str,
        id: uuid::Uuid,
    ) -> Result<IncidentAcknowledgements, SyncError> {
        self.get_json(
            token,
            &format!("v1/practice/incidents/{id}/acknowledgements"),
        )
        .await
    }

    /// `GET /v1/me/policies`: per kind, the current version, the one the member last
    /// acknowledged, and the service's line diff between them (promises 11 and 12).
    pub async fn policies(&self, token: &str) -> Result<Vec<MemberPolicy>, SyncError> {
        self.get_json(token, "v1/me/policies").await
    }

    /// `GET /v1/policies/{kind}/{version}`: a version with its whole text. Public: no
    /// session needed. The version is sent as one path segment, percent-encoded; a label
    /// that cannot be one (empty, `.` or `..`) is [`SyncError::Rejected`] unsent.
    pub async fn policy_document(
        &self,
        kind: PolicyKind,
        version: &str,
    ) -> Result<PolicyDocument, SyncError> {
        let url = self.url_of(&["v1", "policies", kind.as_str(), version])?;
        self.send(self.http.get(url)).await
    }

    /// `POST /v1/me/policies/{kind}/acknowledge` with `{ "version": ... }`: the member has
    /// read that version; answers their view of the kind. A version that is not the
    /// current one is [`SyncError::PolicyVersionNotCurrent`], and nothing is recorded.
    pub async fn acknowledge_policy(
        &self,
        token: &str,
        kind: PolicyKind,
        version: &str,
    ) -> Result<MemberPolicy, SyncError> {
        let path = format!("v1/me/policies/{}/acknowledge", kind.as_str());
        let body = PolicyAcknowledgement {
            version: version.to_owned(),
        };
        self.send_json(token, Method::POST, &path, &body).await
    }

    /// `GET path` (relative to the server's address, query included) with the session's
    /// token, decoding the JSON answer.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        token: &str,
        path: &str,
    ) -> Result<T, SyncError> {
        self.send(self.http.get(self.url(path)?).bearer_auth(token))
            .await
    }

    /// `method path` with a JSON body and the session's token, decoding the JSON answer.
    pub async fn send_json<B: serde::Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: &B,
    ) -> Result<T, SyncError> {
        let req = self
            .http
            .request(method, self.url(path)?)
            .bearer_auth(token)
            .json(body);
        self.send(req).await
    }

    /// `method path` with the session's token and an optional JSON body, whose answer
    /// carries nothing but success (e.g. 204).
    pub async fn call<B: serde::Serialize + ?Sized>(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<(), SyncError> {
        let mut req = self
            .http
            .request(method, self.url(path)?)
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(body);
        }
        let (status, body) = self.answer(req).await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(problem(status, &body))
        }
    }

    /// `GET path` with the session's token, writing the answer's body to `out` as it
    /// arrives (no size cap but `max_bytes`) and telling `progress` the bytes so far and
    /// the total when the answer says it. Answers the bytes written.
    pub async fn download(
        &self,
        token: &str,
        path: &str,
        out: &mut (dyn std::io::Write + Send),
        max_bytes: u64,
        progress: &mut (dyn FnMut(u64, Option<u64>) + Send),
    ) -> Result<u64, SyncError> {
        let mut resp = self
            .http
            .get(self.url(path)?)
            .bearer_auth(token)
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            // An export is sent as it is: no other encoding hides its length.
            .header(reqwest::header::ACCEPT_ENCODING, "identity")
            .timeout(Duration::from_secs(30 * 60))
            .send()
            .await
            .map_err(classify)?;
        let status = resp.status();
        self.note_date(resp.headers());
        if !status.is_success() {
            let body = read_capped(resp).await?;
            return Err(problem(status, &body));
        }
        let total = resp.content_length();
        if total.is_some_and(|n| n > max_bytes) {
            return Err(SyncError::Malformed(format!(
                "the answer is larger than {max_bytes} bytes"
            )));
        }
        let mut done = 0u64;
        progress(0, total);
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    done += chunk.len() as u64;
                    if done > max_bytes {
                        return Err(SyncError::Malformed(format!(
                            "the answer is larger than {max_bytes} bytes"
                        )));
                    }
                    out.write_all(&chunk)
                        .map_err(|e| SyncError::Malformed(format!("cannot write: {e}")))?;
                    progress(done, total);
                }
                Ok(None) => break,
                Err(e) => return Err(SyncError::Unreachable(chain(&e))),
            }
        }
        if total.is_some_and(|n| n != done) {
            return Err(SyncError::Unreachable(
                "the connection ended before the whole answer arrived".into(),
            ));
        }
        Ok(done)
    }

    /// A bodiless `POST` with the session's token, whose answer carries nothing but success.
    async fn post_with_token(&self, path: &str, token: &str) -> Result<(), SyncError> {
        let req = self.http.post(self.url(path)?).bearer_auth(token);
        let (status, body) = self.answer(req).await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(problem(status, &body))
        }
    }

    async fn send<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<T, SyncError> {
        let (status, body) = self.answer(req).await?;
        if status.is_success() {
            return decode(&body);
        }
        Err(problem(status, &body))
    }

    /// Sends a request; answers its status and whole body.
    async fn answer(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, Vec<u8>), SyncError> {
        let resp = req
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .send()
            .await
            .map_err(classify)?;
        let status = resp.status();
        self.note_date(resp.headers());
        let body = read_capped(resp).await?;
        Ok((status, body))
    }
}

/// A successful answer's body, decoded whole: anything this app cannot read is
/// [`SyncError::Malformed`], never a panic or half a value.
fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, SyncError> {
    serde_json::from_slice(body).map_err(|e| SyncError::Malformed(e.to_string()))
}

/// What a failed answer means.
///
/// A problem whose code this app does not know (a newer server's) still counts as a
/// problem: it is read for its status and its words, so the user sees the server's detail.
fn problem(status: StatusCode, body: &[u8]) -> SyncError {
    let (code, words) = match serde_json::from_slice::<AnyProblem>(body) {
        Ok(p) => (
            ProblemCode::deserialize(p.code.as_str().into_deserializer())
                .map_err(|_: serde::de::value::Error| ())
                .ok(),
            Some(p.detail.unwrap_or(p.title)),
        ),
        Err(_) => (None, None),
    };
    let is_problem = words.is_some();
    let detail = || words.clone().unwrap_or_default();
    match (status, code) {
        (StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS, _) => {
            SyncError::Unreachable(format!("the server is busy ({status}); trying again later"))
        }
        (_, Some(ProblemCode::InvalidCredentials)) => SyncError::InvalidCredentials,
        (_, Some(ProblemCode::MfaRequired)) => SyncError::MfaRequired,
        (_, Some(ProblemCode::WrongCode)) => SyncError::WrongCode,
        (_, Some(ProblemCode::MfaEnrollmentRequired)) => SyncError::MfaEnrollmentRequired,
        (StatusCode::UNAUTHORIZED, Some(ProblemCode::SessionRevoked)) => SyncError::SessionRevoked,
        (StatusCode::UNAUTHORIZED, _) => SyncError::Unauthenticated,
        (_, Some(ProblemCode::IncompatibleProtocol)) => SyncError::IncompatibleProtocol {
            server: 0,
            client: PROTOCOL_VERSION,
        },
        (_, Some(ProblemCode::ReauthRequired)) => SyncError::ReauthRequired,
        (StatusCode::BAD_REQUEST, Some(ProblemCode::EssentialCategory)) => {
            SyncError::EssentialCategory(detail())
        }
        (StatusCode::BAD_REQUEST, Some(ProblemCode::StrictlyNecessaryLocked)) => {
            SyncError::StrictlyNecessaryLocked(detail())
        }
        (StatusCode::CONFLICT, Some(ProblemCode::PolicyVersionNotCurrent)) => {
            SyncError::PolicyVersionNotCurrent(detail())
        }
        (StatusCode::FORBIDDEN, _) if is_problem => SyncError::Forbidden(detail()),
        (StatusCode::NOT_FOUND, _) if is_problem => SyncError::NotFound(detail()),
        (StatusCode::CONFLICT, _) if is_problem => SyncError::Conflict(detail()),
        (StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY, _) if is_problem => {
            SyncError::Rejected(detail())
        }
        _ => SyncError::Server {
            status: status.as_u16(),
            detail: words
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned()),
        },
    }
}

/// A problem (RFC 9457) as any version of the service writes it: its words, for the user,
/// and its code as written, which makes it one of the service's answers rather than some
/// other JSON (a proxy's, say), whether or not this app knows the code.
#[derive(serde::Deserialize)]
struct AnyProblem {
    title: String,
    detail: Option<String>,
    code: String,
}

/// The largest answer read from the server.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Reads a body, refusing one larger than [`MAX_BODY_BYTES`]. A connection lost part-way
/// is a network failure, never a malformed answer.
async fn read_capped(mut resp: reqwest::Response) -> Result<Vec<u8>, SyncError> {
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        return Err(SyncError::Malformed(format!(
            "the answer is larger than {MAX_BODY_BYTES} bytes"
        )));
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(SyncError::Malformed(format!(
                        "the answer is larger than {MAX_BODY_BYTES} bytes"
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(SyncError::Unreachable(chain(&e))),
        }
    }
}

fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg = format!("{msg}: {s}");
        src = s.source();
    }
    msg
}

fn parse_address(address: &str) -> Result<Url, SyncError> {
    let trimmed = address.trim();
    let mut url =
        Url::parse(trimmed).map_err(|e| SyncError::InvalidAddress(format!("{trimmed:?}: {e}")))?;
    if url.scheme() != "https" {
        return Err(SyncError::InvalidAddress(format!(
            "{trimmed:?} does not start with https://; Strongroom only talks to servers over TLS"
        )));
    }
    if url.host_str().is_none() {
        return Err(SyncError::InvalidAddress(format!(
            "{trimmed:?} names no host"
        )));
    }
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// Turns a transport error into the reason a person can act on, finding a refused
/// certificate wherever it sits in the error's chain.
fn classify(e: reqwest::Error) -> SyncError {
    if let Some(cert) = tls::certificate_problem(&e) {
        return SyncError::Certificate(cert);
    }
    SyncError::Unreachable(chain(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_401_saying_session_revoked_is_a_revocation() {
        let body = |code: &str| {
            serde_json::to_vec(&serde_json::json!({
                "type": "x", "title": "Unauthorized", "status": 401, "code": code
            }))
            .unwrap()
        };
        let revoked = problem(StatusCode::UNAUTHORIZED, &body("session_revoked"));
        assert!(matches!(revoked, SyncError::SessionRevoked), "{revoked:?}");
        assert!(!revoked.is_transient());
        for (status, text) in [
            (StatusCode::UNAUTHORIZED, body("unauthenticated")),
            (StatusCode::UNAUTHORIZED, b"".to_vec()),
            (StatusCode::UNAUTHORIZED, b"session_revoked".to_vec()),
        ] {
            assert!(
                matches!(problem(status, &text), SyncError::Unauthenticated),
                "{status}"
            );
        }
        // A revoked code on anything but a 401 (a proxy's, say) is no revocation.
        for status in [
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::BAD_GATEWAY,
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::FORBIDDEN,
        ] {
            let e = problem(status, &body("session_revoked"));
            assert!(!matches!(e, SyncError::SessionRevoked), "{status}: {e:?}");
        }
        assert!(problem(StatusCode::SERVICE_UNAVAILABLE, b"").is_transient());
    }

    /// A newer server's code this app does not know: the answer is still read as the
    /// problem it is, by its status, with the server's words; a body that is no problem
    /// is not.
    #[test]
    fn a_problem_code_this_app_does_not_know_keeps_the_servers_words() {
        let words = "Your practice's plan does not include this.";
        let body = |status| problem_body(status, "a_code_from_a_newer_server", words);
        let e = problem(StatusCode::FORBIDDEN, &body(403));
        assert!(matches!(&e, SyncError::Forbidden(d) if d == words), "{e:?}");
        let e = problem(StatusCode::NOT_FOUND, &body(404));
        assert!(matches!(&e, SyncError::NotFound(d) if d == words), "{e:?}");
        let e = problem(StatusCode::CONFLICT, &body(409));
        assert!(matches!(&e, SyncError::Conflict(d) if d == words), "{e:?}");
        for status in [StatusCode::BAD_REQUEST, StatusCode::UNPROCESSABLE_ENTITY] {
            let e = problem(status, &body(status.as_u16()));
            assert!(matches!(&e, SyncError::Rejected(d) if d == words), "{e:?}");
        }
        let e = problem(StatusCode::INTERNAL_SERVER_ERROR, &body(500));
        assert!(
            matches!(&e, SyncError::Server { status: 500, detail } if detail == words),
            "{e:?}"
        );
        assert!(e.is_transient());
        let e = problem(StatusCode::UNAUTHORIZED, &body(401));
        assert!(matches!(e, SyncError::Unauthenticated), "{e:?}");
        // Not a problem: a proxy's page, or JSON without a code.
        for text in [
            b"<html>Forbidden</html>".to_vec(),
            br#"{"title": "Forbidden", "detail": "no"}"#.to_vec(),
        ] {
            let e = problem(StatusCode::FORBIDDEN, &text);
            assert!(
                matches!(&e, SyncError::Server { status: 403, detail } if detail == "Forbidden"),
                "{e:?}"
            );
        }
    }

    fn problem_body(status: u16, code: &str, detail: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "type": "about:blank", "title": "x", "status": status, "code": code, "detail": detail
        }))
        .unwrap()
    }

    #[test]
    fn the_preference_routes_refusals_keep_their_codes() {
        let e = problem(
            StatusCode::BAD_REQUEST,
            &problem_body(
                400,
                "essential_category",
                "security alerts cannot be turned off",
            ),
        );
        assert!(
            matches!(&e, SyncError::EssentialCategory(d) if d.contains("security alerts")),
            "{e:?}"
        );
        let e = problem(
            StatusCode::BAD_REQUEST,
            &problem_body(400, "strictly_necessary_locked", "cannot be turned off"),
        );
        assert!(matches!(e, SyncError::StrictlyNecessaryLocked(_)), "{e:?}");
        // Other refusals of the same routes keep their usual meaning.
        let e = problem(
            StatusCode::FORBIDDEN,
            &problem_body(403, "forbidden", "admins"),
        );
        assert!(matches!(e, SyncError::Forbidden(_)), "{e:?}");
        let e = problem(
            StatusCode::NOT_FOUND,
            &problem_body(404, "not_found", "no such"),
        );
        assert!(matches!(e, SyncError::NotFound(_)), "{e:?}");
        let e = problem(
            StatusCode::BAD_REQUEST,
            &problem_body(400, "bad_request", "x"),
        );
        assert!(matches!(e, SyncError::Rejected(_)), "{e:?}");
        // The code on another status (a proxy's 502, say) is no verdict on the request.
        let e = problem(
            StatusCode::BAD_GATEWAY,
            &problem_body(502, "essential_category", "x"),
        );
        assert!(e.is_transient(), "{e:?}");
    }

    /// Every hostile answer below decodes as `T` to [`SyncError::Malformed`], never a panic
    /// and never a value.
    fn hostile<T: DeserializeOwned + std::fmt::Debug>(what: &str) {
        for body in [
            &b""[..],
            b"null",
            b"{}",
            b"[1, 2]",
            b"7",
            b"\"text\"",
            b"\xff\xfe garbage",
            b"{\"categories\": 7}",
            b"{\"current\": {\"id\": \"not a uuid\"}}",
            b"[{\"id\": \"00000000-0000-0000-0000-000000000000\", \"category\": \"spam\"}]",
            b"{\"policy_version\": \"x\", \"categories\": [], \"items\": [",
            b"[{\"id\": \"not a uuid\"}]",
            b"{\"incident_id\": \"00000000-0000-0000-0000-000000000000\", \"members\": 3}",
            b"[{\"kind\": \"cookies\"}]",
            b"{\"kind\": \"privacy\", \"version\": 1}",
            b"[{\"id\": \"00000000-0000-0000-0000-000000000000\", \"title\": \"x\"",
        ] {
            let r = decode::<T>(body);
            assert!(
                matches!(r, Err(SyncError::Malformed(_))),
                "{what}: {:?} gave {r:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn bad_answers_of_the_preference_routes_are_malformed_never_a_panic() {
        hostile::<CookieCatalogue>("catalogue");
        hostile::<ConsentState>("consent");
        hostile::<NotificationPreferences>("preferences");
        hostile::<Vec<Notice>>("notices");
        hostile::<UsageReport>("usage report");
        // A well-formed answer decodes.
        let notices: Vec<Notice> = decode(
            br#"[{"id":"00000000-0000-4000-8000-000000000001","category":"tips","title":"t",
                 "body":"b","created_at":"2026-11-28T00:00:00Z","read_at":null,
                 "in_app":true,"desktop":false}]"#,
        )
        .unwrap();
        assert_eq!(notices.len(), 1);
    }

    #[test]
    fn a_stale_policy_acknowledgement_keeps_its_code() {
        let e = problem(
            StatusCode::CONFLICT,
            &problem_body(
                409,
                "policy_version_not_current",
                "that is not the current version of the privacy policy: the current one is 2026-12",
            ),
        );
        assert!(
            matches!(&e, SyncError::PolicyVersionNotCurrent(d) if d.contains("2026-12")),
            "{e:?}"
        );
        assert!(!e.is_transient());
        // Any other 409 is still a conflict, and the code on another status no verdict.
        let e = problem(
            StatusCode::CONFLICT,
            &problem_body(409, "conflict", "decided already"),
        );
        assert!(matches!(e, SyncError::Conflict(_)), "{e:?}");
        let e = problem(
            StatusCode::BAD_GATEWAY,
            &problem_body(502, "policy_version_not_current", "x"),
        );
        assert!(e.is_transient(), "{e:?}");
    }

    #[test]
    fn bad_answers_of_the_incident_and_policy_routes_are_malformed_never_a_panic() {
        hostile::<Vec<MemberIncident>>("incidents");
        hostile::<MemberIncident>("an acknowledged incident");
        hostile::<IncidentAcknowledgements>("acknowledgements");
        hostile::<Vec<MemberPolicy>>("policies");
        hostile::<MemberPolicy>("an acknowledged policy");
        hostile::<PolicyDocument>("a policy document");
        // A diff line with an unknown tag, or a negative line number, is no diff.
        let policy = |line: &str| {
            format!(
                r#"[{{"kind":"privacy","current":{{"kind":"privacy","version":"2026-12",
                "published_at":"2026-12-01T00:00:00Z","summary":"s"}},"acknowledged_version":null,
                "acknowledged_at":null,"up_to_date":false,"diff":{{"from_version":null,
                "to_version":"2026-12","hunks":[{{"old_start":0,"old_lines":0,"new_start":1,
                "new_lines":1,"lines":[{line}]}}],"inserted":1,"deleted":0}}}}]"#
            )
        };
        for bad in [
            r#"{"tag":"moved","old_line":null,"new_line":1,"text":"x"}"#,
            r#"{"tag":"insert","old_line":null,"new_line":-1,"text":"x"}"#,
            r#"{"tag":"insert","old_line":null,"new_line":1}"#,
        ] {
            let r = decode::<Vec<MemberPolicy>>(policy(bad).as_bytes());
            assert!(matches!(r, Err(SyncError::Malformed(_))), "{bad}: {r:?}");
        }
        // Well-formed answers decode, the document's flattened summary included.
        let ok = decode::<Vec<MemberPolicy>>(
            policy(r#"{"tag":"insert","old_line":null,"new_line":1,"text":"x"}"#).as_bytes(),
        )
        .unwrap();
        assert_eq!(ok[0].diff.hunks[0].lines[0].new_line, Some(1));
        let doc: PolicyDocument = decode(
            br##"{"kind":"terms","version":"2026-12","published_at":"2026-12-01T00:00:00Z",
                 "summary":"s","text":"# Terms","current":true}"##,
        )
        .unwrap();
        assert_eq!(doc.summary.kind, PolicyKind::Terms);
        let incidents: Vec<MemberIncident> = decode(
            br#"[{"id":"00000000-0000-4000-8000-000000000001","title":"t","description":"d",
                 "occurred_at":null,"detected_at":"2026-11-21T08:30:00Z","data_kinds":["names"],
                 "steps_taken":"s","recommendations":"r","contact":"c",
                 "regulator":{"notified":false,"regulator":null,"notified_at":null},
                 "recorded_by":"ops","recorded_at":"2026-11-21T09:00:00Z",
                 "notice_created_at":"2026-11-21T09:00:00Z","email_delivered_at":null,
                 "acknowledged_at":null}]"#,
        )
        .unwrap();
        assert_eq!(incidents.len(), 1);
    }

    #[test]
    fn a_policy_version_is_one_path_segment_and_never_a_way_to_another_route() {
        let client =
            ServerClient::new("https://example.test/base", &TlsOptions::default()).unwrap();
        let url = client
            .url_of(&["v1", "policies", "privacy", "2026-12"])
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://example.test/base/v1/policies/privacy/2026-12"
        );
        let url = client
            .url_of(&["v1", "policies", "privacy", "a/../../me?x#y"])
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://example.test/base/v1/policies/privacy/a%2F..%2F..%2Fme%3Fx%23y"
        );
        for bad in ["", ".", ".."] {
            let r = client.url_of(&["v1", "policies", "privacy", bad]);
            assert!(matches!(r, Err(SyncError::Rejected(_))), "{bad:?}: {r:?}");
        }
    }

    #[test]
    fn addresses_must_be_https_with_a_host() {
        assert!(parse_address("https://127.0.0.1:8443").is_ok());
        assert_eq!(
            parse_address(" https://example.test/base ")
                .unwrap()
                .as_str(),
            "https://example.test/base/"
        );
        for bad in [
            "http://example.test",
            "example.test",
            "",
            "ftp://x",
            "https://",
        ] {
            assert!(
                matches!(parse_address(bad), Err(SyncError::InvalidAddress(_))),
                "{bad}"
            );
        }
    }
}
