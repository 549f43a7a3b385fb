//! Notifications (promise 8: non-essential email can be turned off; essential email
//! cannot): each member's preferences by category and channel, the one way the service
//! notifies a member ([`Notifier::notify`]), the in-app inbox, and the RFC 8058 one-click
//! unsubscribe.
//!
//! Routes:
//! - `GET /v1/me/notifications/preferences`: the member's own preferences, every category
//!   with its channels, each choice with when and how it was last made (`default`, `user`,
//!   `web`, `unsubscribe_link`); essential categories locked on with their reason.
//! - `PATCH /v1/me/notifications/preferences`: changes, all or none; turning an essential
//!   category off is refused (400 `essential_category`), never ignored. Audited.
//! - `GET /v1/me/notices`, `POST /v1/me/notices/{id}/read`: the member's inbox.
//! - `POST /v1/unsubscribe/{token}`: one-click unsubscribe, without signing in; 200, no
//!   redirect, idempotent; turns email of that category off with source
//!   `unsubscribe_link`; audited when it changes something. A forged or altered token is
//!   404 `invalid_unsubscribe_token`.
//! - `GET /v1/unsubscribe/{token}`: a small page with a button that POSTs to the same
//!   address. It changes nothing: mail scanners and link previews follow links in mail,
//!   and must not unsubscribe anyone; a person who follows the link gets one click.
//!
//! Sending: a feature that must tell a member something (a breach notice, a policy
//! update, ...) calls [`Notifier::notify`] with the member, the category and a
//! [`Notification`]. In one store transaction the member's choices are read and, per
//! channel, the email is queued in the outbox (see [`crate::outbox`]) and the notice kept
//! for the inbox (and for the desktop app, which raises a desktop notification where the
//! member's `desktop` choice is on). A non-essential email carries `List-Unsubscribe` (an
//! HTTPS link with an opaque token) and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
//!
//! Invariant: a member reads and changes only their own preferences and notices (the user
//! id comes from the session, never from the request).
//! Invariant: an essential category is on in every channel; a request to turn one off is
//! refused with `essential_category` and changes nothing.
//! Invariant: a non-essential email is queued only if the member takes email of its
//! category, and sent only if they still do when it goes (see [`crate::outbox`]).
//! Invariant: an unsubscribe token is the member's id, the category and an HMAC-SHA256 of
//! both under the server's key (`unsubscribe.key` in the data directory, owner-only); it
//! holds no email address, and any change to it is refused.

use std::path::Path;
use std::sync::Arc;

use aws_lc_rs::hmac;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use strongroom_protocol::consent::ConsentSurface;
use strongroom_protocol::notifications::{
    Category, CategoryPreferences, Channel, ChannelChoice, ChoiceSource, MAX_PREFERENCE_CHANGES,
    Notice, NotificationPreferences, PreferenceChange, PreferencesUpdate, Unsubscribed,
};
use strongroom_protocol::{Problem, ProblemCode};
use uuid::Uuid;

use crate::api::{ApiError, AppState, audit, unix_now};
use crate::audit::{Actor, AuditKind, NewAuditEvent};
use crate::sessions::rfc3339;
use crate::store::notifications::{Broadcast, Delivery, NewNotification, NoticeRow, StoredChoice};
use crate::store::{Principal, Store, StoreError, UserId};

/// The file in the data directory that holds the unsubscribe key (64 hex digits).
pub const UNSUBSCRIBE_KEY_FILE: &str = "unsubscribe.key";
/// The most notices `GET /v1/me/notices` answers.
pub const MAX_NOTICES: i64 = 200;
/// The longest title and body a notification may have, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 20_000;

/// What the token's MAC covers before the member and the category.
const TOKEN_CONTEXT: &[u8] = b"strongroom-unsubscribe-v1";
/// A token's length in bytes: member id, category, MAC.
const TOKEN_BYTES: usize = 16 + 1 + 32;

/// The server's key for unsubscribe tokens.
pub struct UnsubscribeKey(hmac::Key);

impl std::fmt::Debug for UnsubscribeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnsubscribeKey(..)")
    }
}

impl UnsubscribeKey {
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, bytes))
    }

    /// The key in `data_dir/unsubscribe.key`, made there (owner-only) if there is none yet.
    /// Two servers starting at once agree on one key: it is written aside and linked into
    /// place, which only one of them can do.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Self> {
        let bytes =
            crate::keyfile::load_or_create(data_dir, UNSUBSCRIBE_KEY_FILE, "the unsubscribe key")?;
        Ok(Self::from_bytes(&bytes))
    }

    fn signed_part(user: UserId, category_index: u8) -> Vec<u8> {
        let mut data = Vec::with_capacity(TOKEN_CONTEXT.len() + 17);
        data.extend_from_slice(TOKEN_CONTEXT);
        data.extend_from_slice(user.0.as_bytes());
        data.push(category_index);
        data
    }

    /// The opaque token that unsubscribes `user` from email of `category`.
    pub fn token(&self, user: UserId, category: Category) -> String {
        let index = category_index(category);
        let tag = hmac::sign(&self.0, &Self::signed_part(user, index));
        let mut bytes = Vec::with_capacity(TOKEN_BYTES);
        bytes.extend_from_slice(user.0.as_bytes());
        bytes.push(index);
        bytes.extend_from_slice(tag.as_ref());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The member and non-essential category a token names, if this key signed it.
    pub fn verify(&self, token: &str) -> Option<(UserId, Category)> {
        if token.len() > 2 * TOKEN_BYTES {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        if bytes.len() != TOKEN_BYTES {
            return None;
        }
        let user = UserId(Uuid::from_slice(&bytes[..16]).ok()?);
        let index = bytes[16];
        hmac::verify(&self.0, &Self::signed_part(user, index), &bytes[17..]).ok()?;
        let category = *Category::ALL.get(usize::from(index))?;
        (!category.is_essential()).then_some((user, category))
    }
}

fn category_index(category: Category) -> u8 {
    Category::ALL
        .iter()
        .position(|c| *c == category)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(u8::MAX)
}

/// What to tell a member: the same words go by email (title as the subject) and in the
/// app. The service's own words; never a practice's record content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub title: String,
    pub body: String,
}

/// Why a notification could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("there is no such member")]
    NoSuchMember,
    #[error("the notification's {0} is empty or too long")]
    Invalid(&'static str),
    #[error(transparent)]
    Store(StoreError),
}

/// The notification's title, trimmed, if it and the body are within bounds.
fn checked(message: &Notification) -> Result<&str, NotifyError> {
    let title = message.title.trim();
    if title.is_empty()
        || title.chars().count() > MAX_TITLE_CHARS
        || title.chars().any(char::is_control)
    {
        return Err(NotifyError::Invalid("title"));
    }
    if message.body.trim().is_empty() || message.body.chars().count() > MAX_BODY_CHARS {
        return Err(NotifyError::Invalid("body"));
    }
    Ok(title)
}

/// The email text of an essential message: the body, and why it cannot be turned off.
fn essential_email(category: Category, body: &str, reason: &str) -> String {
    format!(
        "{}\n\n--\nThis is an essential message about {}: it cannot be turned \
         off. {reason}\n",
        body.trim_end(),
        category.describe(),
    )
}

/// An essential message to many members at once, for the store to fan out in the
/// transaction that records its cause (a breach, a policy version): the same words for
/// everyone, with no unsubscribe link. A non-essential category is refused
/// (`Invalid("category")`): its email would need each member's own link.
pub fn essential_broadcast(
    category: Category,
    message: &Notification,
) -> Result<Broadcast, NotifyError> {
    let title = checked(message)?;
    let reason = category
        .essential_reason()
        .ok_or(NotifyError::Invalid("category"))?;
    Ok(Broadcast {
        category,
        subject: title.to_owned(),
        email_body: essential_email(category, &message.body, reason),
        title: title.to_owned(),
        notice_body: message.body.clone(),
    })
}

/// The one way the service notifies a member; see the module's documentation.
pub struct Notifier {
    store: Arc<dyn Store>,
    key: UnsubscribeKey,
    /// `https://host[:port]`, without a trailing slash: where unsubscribe links point.
    public_url: String,
    /// Woken when mail is queued, so the outbox worker sends it without waiting to poll.
    wake: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl Notifier {
    pub fn new(store: Arc<dyn Store>, key: UnsubscribeKey, public_url: &str) -> Self {
        Self {
            store,
            key,
            public_url: public_url.trim_end_matches('/').to_owned(),
            wake: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// What the outbox worker waits on.
    pub fn wake(&self) -> Arc<tokio::sync::Notify> {
        self.wake.clone()
    }

    pub fn key(&self) -> &UnsubscribeKey {
        &self.key
    }

    /// The one-click unsubscribe address for `user` and `category`.
    pub fn unsubscribe_url(&self, user: UserId, category: Category) -> String {
        format!(
            "{}/v1/unsubscribe/{}",
            self.public_url,
            self.key.token(user, category)
        )
    }

    /// Notifies `user` about `category`, per channel as their preferences say: the email
    /// into the outbox, the notice into their inbox (for the app and the desktop). Answers
    /// where it went; a member who takes none of it gets nothing, and that is no error.
    pub async fn notify(
        &self,
        user: UserId,
        category: Category,
        message: &Notification,
    ) -> Result<Delivery, NotifyError> {
        let title = checked(message)?;
        let (email_body, headers) = match category.essential_reason() {
            Some(reason) => (essential_email(category, &message.body, reason), Vec::new()),
            None => {
                let link = self.unsubscribe_url(user, category);
                (
                    format!(
                        "{}\n\n--\nYou get these emails because you turned on email about {} \
                         in Strongroom. To stop them, open this address and press \
                         Unsubscribe:\n{link}\nor change your notification preferences in \
                         the app.\n",
                        message.body.trim_end(),
                        category.describe(),
                    ),
                    vec![
                        ("List-Unsubscribe".to_owned(), format!("<{link}>")),
                        (
                            "List-Unsubscribe-Post".to_owned(),
                            "List-Unsubscribe=One-Click".to_owned(),
                        ),
                    ],
                )
            }
        };
        let now_ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        let now_ms = i64::try_from(now_ms).unwrap_or(i64::MAX);
        let delivery = self
            .store
            .enqueue_notification(NewNotification {
                user,
                category,
                subject: title.to_owned(),
                email_body,
                headers,
                notice_id: Uuid::new_v4(),
                title: title.to_owned(),
                notice_body: message.body.clone(),
                now: now_ms.div_euclid(1000),
                now_ms,
            })
            .await
            .map_err(|e| match e {
                StoreError::NotFound => NotifyError::NoSuchMember,
                other => NotifyError::Store(other),
            })?;
        if delivery.mail.is_some() {
            self.wake.notify_one();
        }
        Ok(delivery)
    }
}

/// The preferences document from what the member stored.
pub fn preferences_from(stored: &[StoredChoice]) -> NotificationPreferences {
    let choice = |category: Category, channel: Channel| -> ChannelChoice {
        match stored
            .iter()
            .find(|c| c.category == category && c.channel == channel)
            .filter(|_| !category.is_essential())
        {
            Some(c) => ChannelChoice {
                enabled: c.enabled,
                source: c.source,
                changed_at: Some(rfc3339(c.changed_at)),
            },
            None => ChannelChoice {
                enabled: category.default_on(channel),
                source: ChoiceSource::Default,
                changed_at: None,
            },
        }
    };
    NotificationPreferences {
        categories: Category::ALL
            .into_iter()
            .map(|category| CategoryPreferences {
                category,
                essential: category.is_essential(),
                reason: category.essential_reason().map(str::to_owned),
                email: choice(category, Channel::Email),
                in_app: choice(category, Channel::InApp),
                desktop: choice(category, Channel::Desktop),
            })
            .collect(),
    }
}

/// The member's notification preferences: every category and channel, each choice with
/// when and how it was last made; essential categories locked on with their reason.
#[utoipa::path(
    get,
    path = "/v1/me/notifications/preferences",
    tag = "notifications",
    security(("session" = [])),
    responses(
        (status = 200, description = "The member's preferences", body = NotificationPreferences),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_preferences(
    principal: Principal,
    State(state): State<AppState>,
) -> Result<Json<NotificationPreferences>, ApiError> {
    let stored = state.store.notification_choices(principal.user_id).await?;
    Ok(Json(preferences_from(&stored)))
}

fn essential_refused(category: Category) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        ProblemCode::EssentialCategory,
        format!(
            "{} cannot be turned off: {}",
            category.describe(),
            category.essential_reason().unwrap_or_default()
        ),
    )
}

/// Changes the member's choices, all or none; answers the preferences as they now are.
/// Turning an essential category off is refused (`essential_category`) and changes
/// nothing; turning one on is no change. Audited.
#[utoipa::path(
    patch,
    path = "/v1/me/notifications/preferences",
    tag = "notifications",
    request_body(content = PreferencesUpdate, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 200, description = "Changed: the preferences as they now are",
         body = NotificationPreferences),
        (status = 400, description = "A malformed body, or too many changes (`bad_request`); \
         or an essential category turned off (`essential_category`), and nothing was changed",
         body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch_preferences(
    caller: crate::consent::Caller,
    State(state): State<AppState>,
    body: Result<Json<PreferencesUpdate>, JsonRejection>,
) -> Result<Json<NotificationPreferences>, ApiError> {
    let principal = caller.principal;
    let Json(update) = body.map_err(|e| {
        ApiError::bad_request(format!("the body is not understood: {}", e.body_text()))
    })?;
    if update.changes.len() > MAX_PREFERENCE_CHANGES {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_PREFERENCE_CHANGES} changes at once"
        )));
    }
    if let Some(c) = update
        .changes
        .iter()
        .find(|c| c.category.is_essential() && !c.enabled)
    {
        return Err(essential_refused(c.category));
    }
    let changes: Vec<PreferenceChange> = update
        .changes
        .into_iter()
        .filter(|c| !c.category.is_essential())
        .collect();
    if !changes.is_empty() {
        // The session says where the change was made, not the body: a bearer token is
        // the desktop app, the web session cookie a browser (`update.source` is ignored).
        let source = match caller.surface {
            ConsentSurface::Desktop => ChoiceSource::User,
            ConsentSurface::Web => ChoiceSource::Web,
        };
        state
            .store
            .set_notification_choices(principal.user_id, changes.clone(), source, unix_now())
            .await?;
        audit(
            &state,
            &principal,
            AuditKind::NotificationPreferencesChanged,
            json!({ "source": source.as_str(), "changes": changes }),
        )
        .await?;
    }
    let stored = state.store.notification_choices(principal.user_id).await?;
    Ok(Json(preferences_from(&stored)))
}

/// A 404: no such link was made (an answer that says "bad request" would invite retries).
fn invalid_token() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ProblemCode::InvalidUnsubscribeToken,
        "this unsubscribe link is not one Strongroom made; change your preferences in the app",
    )
}

fn verified(
    state: &AppState,
    token: Result<UrlPath<String>, PathRejection>,
) -> Result<(UserId, Category), ApiError> {
    let UrlPath(token) = token.map_err(|_| invalid_token())?;
    let notifier = state.notifier.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ProblemCode::Internal,
            "notifications are not set up on this server",
        )
    })?;
    notifier.key().verify(&token).ok_or_else(invalid_token)
}

/// An HTML answer of the service's own words, with a policy that allows only a form
/// posting back to this service.
fn page(title: &str, paragraph: &str, form: bool) -> Response {
    let button = if form {
        "<form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" \
         value=\"One-Click\"><button type=\"submit\">Unsubscribe</button></form>"
    } else {
        ""
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{paragraph}</p>{button}</body></html>"
    );
    let mut resp = (StatusCode::OK, html).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(
            "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    resp
}

/// The page behind an unsubscribe link: what it does, and a button that does it (a POST to
/// the same address). Following the link changes nothing, since mail scanners follow
/// links too.
#[utoipa::path(
    get,
    path = "/v1/unsubscribe/{token}",
    tag = "notifications",
    params(("token" = String, Path, description = "The token from the email's link")),
    responses(
        (status = 200, description = "A page with an Unsubscribe button", body = String,
         content_type = "text/html"),
        (status = 404, description = "A forged or altered token \
         (`invalid_unsubscribe_token`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn unsubscribe_page(
    State(state): State<AppState>,
    token: Result<UrlPath<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let (_, category) = verified(&state, token)?;
    let what = category.describe();
    Ok(page(
        &format!("Unsubscribe from {what} emails?"),
        &format!(
            "Strongroom will stop emailing you about {what}. Essential messages (security \
             alerts, breach notices, billing, service notices and policy changes) still \
             reach you. You can turn it back on in the app's notification preferences."
        ),
        true,
    ))
}

/// The form a mail client posts for a one-click unsubscribe (RFC 8058):
/// `List-Unsubscribe=One-Click`. It describes the body in the OpenAPI document, as the
/// form of fields it is; [`unsubscribe`] reads no body, since the token says it all.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct OneClickUnsubscribe {
    /// `One-Click`.
    #[serde(rename = "List-Unsubscribe")]
    #[schema(example = "One-Click")]
    pub list_unsubscribe: Option<String>,
}

/// One-click unsubscribe (RFC 8058): turns email of the token's category off for its
/// member, without signing in; answers 200 (no redirect), the same every time. The body
/// (`List-Unsubscribe=One-Click`) is not needed. Audited when it changes something.
#[utoipa::path(
    post,
    path = "/v1/unsubscribe/{token}",
    tag = "notifications",
    params(("token" = String, Path, description = "The token from the email's link")),
    request_body(content = OneClickUnsubscribe,
                 content_type = "application/x-www-form-urlencoded",
                 description = "`List-Unsubscribe=One-Click`, as RFC 8058 has mail clients \
                 send it (an empty body is accepted too)"),
    responses(
        (status = 200, description = "Unsubscribed (HTML when the client asks for it)",
         body = Unsubscribed),
        (status = 404, description = "A forged or altered token \
         (`invalid_unsubscribe_token`), or the token's member is gone (`not_found`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn unsubscribe(
    State(state): State<AppState>,
    headers: HeaderMap,
    token: Result<UrlPath<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let (user, category) = verified(&state, token)?;
    let stored = state.store.notification_choices(user).await?;
    let already_off = stored
        .iter()
        .any(|c| c.category == category && c.channel == Channel::Email && !c.enabled);
    if !already_off {
        let change = PreferenceChange {
            category,
            channel: Channel::Email,
            enabled: false,
        };
        let practice = state
            .store
            .set_notification_choices(
                user,
                vec![change],
                ChoiceSource::UnsubscribeLink,
                unix_now(),
            )
            .await?;
        state
            .store
            .append_audit(NewAuditEvent {
                practice: Some(practice),
                actor: Some(Actor::User(user)),
                kind: AuditKind::NotificationPreferencesChanged,
                details: json!({
                    "source": ChoiceSource::UnsubscribeLink.as_str(),
                    "changes": [change],
                }),
            })
            .await?;
    }
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html {
        let what = category.describe();
        return Ok(page(
            "You are unsubscribed",
            &format!(
                "Strongroom will not email you about {what} any more. You can turn it back \
                 on in the app's notification preferences."
            ),
            false,
        ));
    }
    Ok(Json(Unsubscribed {
        category,
        email: false,
    })
    .into_response())
}

fn notice_wire(n: NoticeRow) -> Notice {
    Notice {
        id: n.id,
        category: n.category,
        title: n.title,
        body: n.body,
        created_at: rfc3339(n.created_at),
        read_at: n.read_at.map(rfc3339),
        in_app: n.in_app,
        desktop: n.desktop,
    }
}

/// The member's own notices, newest first (at most 200).
#[utoipa::path(
    get,
    path = "/v1/me/notices",
    tag = "notifications",
    security(("session" = [])),
    responses(
        (status = 200, description = "The member's notices, newest first", body = [Notice]),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_notices(
    principal: Principal,
    State(state): State<AppState>,
) -> Result<Json<Vec<Notice>>, ApiError> {
    let rows = state.store.notices(principal.user_id, MAX_NOTICES).await?;
    Ok(Json(rows.into_iter().map(notice_wire).collect()))
}

/// Marks one of the member's notices read (the first time counts).
#[utoipa::path(
    post,
    path = "/v1/me/notices/{id}/read",
    tag = "notifications",
    params(("id" = Uuid, Path, description = "The notice's id")),
    security(("session" = [])),
    responses(
        (status = 204, description = "Read"),
        (status = 400, description = "Not a notice id (`bad_request`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)", body = Problem,
         content_type = "application/problem+json"),
        (status = 404, description = "The member has no such notice (`not_found`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The service could not complete the request \
         (`internal`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn read_notice(
    principal: Principal,
    State(state): State<AppState>,
    id: Result<UrlPath<Uuid>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let UrlPath(id) = id.map_err(|_| ApiError::bad_request("not a notice id"))?;
    if state
        .store
        .mark_notice_read(principal.user_id, id, unix_now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("no such notice"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_any_change_is_refused() {
        let key = UnsubscribeKey::from_bytes(&[7; 32]);
        let user = UserId(Uuid::new_v4());
        let token = key.token(user, Category::Tips);
        assert_eq!(key.verify(&token), Some((user, Category::Tips)));
        // No email address, no readable category name.
        assert!(!token.contains('@') && !token.contains("tips"));
        // Every single-character change is refused.
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for i in 0..token.len() {
            for c in alphabet.chars().step_by(7) {
                let mut t = token.clone().into_bytes();
                if t[i] == c as u8 {
                    continue;
                }
                t[i] = c as u8;
                let t = String::from_utf8(t).unwrap();
                assert_eq!(key.verify(&t), None, "{t}");
            }
        }
        // Another key, a truncated token, an essential category, garbage: refused.
        assert_eq!(UnsubscribeKey::from_bytes(&[8; 32]).verify(&token), None);
        assert_eq!(key.verify(&token[..token.len() - 1]), None);
        assert_eq!(key.verify(&key.token(user, Category::BreachNotices)), None);
        for junk in ["", "{token}", "....", &"A".repeat(5000)] {
            assert_eq!(key.verify(junk), None);
        }
    }

    #[test]
    fn defaults_are_privacy_first_and_essentials_locked() {
        let prefs = preferences_from(&[StoredChoice {
            category: Category::SecurityAlerts,
            channel: Channel::Email,
            enabled: false,
            source: ChoiceSource::User,
            changed_at: 0,
        }]);
        assert_eq!(prefs.categories.len(), Category::ALL.len());
        for c in &prefs.categories {
            assert_eq!(c.essential, c.reason.is_some());
            for ch in Channel::ALL {
                let choice = c.channel(ch);
                assert_eq!(choice.source, ChoiceSource::Default);
                let want = c.essential || ch == Channel::InApp;
                assert_eq!(choice.enabled, want, "{:?} {ch:?}", c.category);
            }
        }
    }
}
