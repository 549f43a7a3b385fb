//! The live stream, `GET /v1/sync/events`: the service says when to pull.
//!
//! A stream that stays silent for [`QUIET_LIMIT`] (several of the service's keep-alive
//! intervals) is treated as lost, so a dead connection that no packet announces still ends
//! in a reconnect.

use std::pin::Pin;
use std::time::Duration;

use eventsource_stream::{EventStreamError, Eventsource};
use futures_util::{Stream, StreamExt};
use strongroom_protocol::{
    EVENT_CHANGED, EVENT_ENDED, EVENTS_KEEP_ALIVE_SECS, PROTOCOL_HEADER, PROTOCOL_VERSION,
};

use crate::{ServerClient, SyncError, chain, classify, problem, read_capped};

/// How long a stream may stay silent before it counts as lost.
pub const QUIET_LIMIT: Duration = Duration::from_secs(EVENTS_KEEP_ALIVE_SECS * 3);

/// The longest event this client reads (the service's are a few bytes).
const MAX_EVENT_BYTES: usize = 64 * 1024;

/// What the service said on the live stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveEvent {
    /// Pull now.
    Changed,
    /// The session is no longer valid; the stream is over.
    Ended,
}

type Inner = Pin<
    Box<
        dyn Stream<Item = Result<eventsource_stream::Event, EventStreamError<reqwest::Error>>>
            + Send,
    >,
>;

/// An open live stream.
pub struct LiveStream {
    inner: Inner,
}

impl std::fmt::Debug for LiveStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveStream").finish_non_exhaustive()
    }
}

impl ServerClient {
    /// Opens `GET /v1/sync/events`. A refusal is the same error any request gets.
    pub async fn events(&self, token: &str) -> Result<LiveStream, SyncError> {
        let req = self
            .http
            .get(self.url("v1/sync/events")?)
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            // The stream lives as long as the connection: the client-wide limit on a whole
            // request would cut it; silence is caught by `QUIET_LIMIT` instead.
            .timeout(Duration::from_secs(365 * 24 * 3600));
        let resp = req.send().await.map_err(classify)?;
        let status = resp.status();
        self.note_date(resp.headers());
        if !status.is_success() {
            let body = read_capped(resp).await?;
            return Err(problem(status, &body));
        }
        let is_events = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !is_events {
            return Err(SyncError::Malformed(
                "the live stream is not an event stream".into(),
            ));
        }
        Ok(LiveStream {
            inner: Box::pin(resp.bytes_stream().eventsource()),
        })
    }
}

impl LiveStream {
    /// The next event. An error means the stream is lost (silence, a cut connection, a
    /// malformed event); `Ok(None)` that the service closed it.
    pub async fn next(&mut self) -> Result<Option<LiveEvent>, SyncError> {
        loop {
            let item = tokio::time::timeout(QUIET_LIMIT, self.inner.next())
                .await
                .map_err(|_| SyncError::Unreachable("the live connection went quiet".into()))?;
            let event = match item {
                None => return Ok(None),
                Some(Ok(event)) => event,
                Some(Err(EventStreamError::Transport(e))) => {
                    return Err(SyncError::Unreachable(chain(&e)));
                }
                Some(Err(e)) => return Err(SyncError::Malformed(e.to_string())),
            };
            if event.data.len() > MAX_EVENT_BYTES {
                return Err(SyncError::Malformed("an event is too large".into()));
            }
            match event.event.as_str() {
                EVENT_CHANGED => return Ok(Some(LiveEvent::Changed)),
                EVENT_ENDED => return Ok(Some(LiveEvent::Ended)),
                // Events this version does not know are for newer clients.
                _ => continue,
            }
        }
    }
}
