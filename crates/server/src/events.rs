//! `GET /v1/sync/events`: a server-sent event stream that tells a connected device when to
//! pull, so that an edit made on one device shows on another at once.
//!
//! The stream sends `changed` on connecting (so a client that was away pulls first) and
//! whenever its practice's feed moves (see [`crate::store::pokes`]); a keep-alive comment
//! every [`EVENTS_KEEP_ALIVE_SECS`]; and `ended` before it closes because the session
//! stopped being valid (revoked, expired, its member disabled), which is checked every
//! [`SESSION_CHECK_SECS`].
//!
//! Invariant: an event carries no record, no sequence number and no content: only "pull
//! now". Everything a member may see still comes through `/v1/sync/changes` and its checks.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use strongroom_protocol::{
    EVENT_CHANGED, EVENT_ENDED, EVENTS_KEEP_ALIVE_SECS, Problem, ProblemCode,
};

use crate::api::{ApiError, AppState, ProtocolHeader, bearer_token, unix_now};
use crate::auth;
use crate::store::pokes::Subscriber;
use crate::store::{PracticeId, Principal};

/// How often a stream checks that its session is still valid, in seconds.
pub const SESSION_CHECK_SECS: u64 = 30;

/// The practice's live events: `changed` (pull now) and `ended` (the session is over).
#[utoipa::path(
    get,
    path = "/v1/sync/events",
    tag = "sync",
    params(ProtocolHeader),
    security(("session" = [])),
    responses(
        (status = 200, description = "A `text/event-stream`: `changed` on connecting and \
         whenever the practice's changes move (data `{}`), `ended` before the stream closes \
         because the session is no longer valid (data: a problem), and a keep-alive comment \
         every 15 seconds. The schema is that of one event", content_type = "text/event-stream",
         body = LiveEvent),
        (status = 400, description = "A protocol version this service does not speak \
         (`incompatible_protocol`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session (`unauthenticated`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The practice requires a second factor this member has \
         not set up (`mfa_enrollment_required`)", body = Problem,
         content_type = "application/problem+json"),
    )
)]
pub(crate) async fn events(
    principal: Principal,
    headers: HeaderMap,
    State(state): State<AppState>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let token_hash = bearer_token(&headers)
        .map(auth::token_hash)
        .ok_or_else(ApiError::unauthenticated)?;
    let watch = Watch {
        check: tokio::time::interval_at(
            tokio::time::Instant::now() + state.live_recheck,
            state.live_recheck,
        ),
        pokes: state.store.pokes().subscribe(),
        practice: principal.practice_id,
        token_hash,
        state,
        step: Step::Hello,
    };
    let stream = futures_util::stream::unfold(watch, |mut w| async move {
        let event = w.next().await?;
        Some((Ok(event), w))
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(EVENTS_KEEP_ALIVE_SECS))))
}

/// One event of the live stream as an event-stream parser reads it: its name (`event`) and
/// its `data`. The OpenAPI document describes a `text/event-stream` answer by the schema of
/// each event (as OpenAPI 3.2's `itemSchema` does), not of the stream as one string.
pub(crate) struct LiveEvent;

impl utoipa::PartialSchema for LiveEvent {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        let event = |name: &str, data: &str| {
            ObjectBuilder::new()
                .property(
                    "event",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some([name])),
                )
                .required("event")
                .property(
                    "data",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .content_media_type("application/json")
                        .description(Some(data)),
                )
                .required("data")
        };
        OneOfBuilder::new()
            .item(event(EVENT_CHANGED, "`{}`: pull the changes now"))
            .item(event(
                EVENT_ENDED,
                "A problem (`unauthenticated`): the session is no longer valid, and the \
                 stream closes",
            ))
            .description(Some(
                "One event of `GET /v1/sync/events`: `changed` (pull now) or `ended` (the \
                 session is over). Keep-alive comments are not events.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for LiveEvent {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Hello,
    Watching,
    Done,
}

/// One stream's state.
struct Watch {
    pokes: Subscriber,
    practice: PracticeId,
    token_hash: String,
    state: AppState,
    check: tokio::time::Interval,
    step: Step,
}

impl Watch {
    /// The next event to send, or `None` to close the stream.
    async fn next(&mut self) -> Option<Event> {
        match self.step {
            Step::Done => return None,
            Step::Hello => {
                self.step = Step::Watching;
                return Some(changed());
            }
            Step::Watching => {}
        }
        loop {
            tokio::select! {
                poked = self.pokes.next_for(self.practice) => {
                    return match poked {
                        Some(()) => Some(changed()),
                        // The store is gone: the server is shutting down.
                        None => {
                            self.step = Step::Done;
                            None
                        }
                    };
                }
                _ = self.check.tick() => {
                    if !self.session_is_live().await {
                        self.step = Step::Done;
                        return Some(ended());
                    }
                }
            }
        }
    }

    /// Whether the stream's session is still valid. A store that cannot answer keeps the
    /// stream open: a passing failure is no verdict on the session.
    async fn session_is_live(&self) -> bool {
        let store = &self.state.store;
        match store
            .session(
                &self.token_hash,
                unix_now(),
                self.state.sessions.idle_secs,
                None,
            )
            .await
        {
            Ok(found) => found.is_some(),
            Err(e) => {
                tracing::warn!(error = %e, "events: the session check failed; keeping the stream");
                true
            }
        }
    }
}

fn changed() -> Event {
    Event::default().event(EVENT_CHANGED).data("{}")
}

fn ended() -> Event {
    let problem = Problem {
        kind: "about:blank".into(),
        title: "Unauthorized".into(),
        status: 401,
        detail: Some("the session is no longer valid".into()),
        code: ProblemCode::Unauthenticated,
    };
    Event::default()
        .event(EVENT_ENDED)
        .json_data(problem)
        .unwrap_or_else(|_| Event::default().event(EVENT_ENDED).data("{}"))
}
