//! The live stream, `GET /v1/sync/events`: the service says when to pull.
//!
//! A stream that stays silent for [`QUIET_LIMIT`] (several of the service's keep-alive
//! intervals) is treated as lost, so a dead connection that no packet announces still ends
//! in a reconnect.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    /// How long it may stay silent.
    quiet: Duration,
    /// When its last bytes came, keep-alive comments included.
    heard: Arc<Mutex<Instant>>,
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
            // request would cut it; silence is caught by the quiet limit instead.
            .timeout(Duration::from_secs(365 * 24 * 3600));
        // Until the answer begins (and all of a refusal), the request timeout holds: a
        // service that takes the connection and never answers is unreachable, not a
        // stream that is open.
        let opened = async {
            let resp = req.send().await.map_err(classify)?;
            let status = resp.status();
            self.note_date(resp.headers());
            if !status.is_success() {
                let body = read_capped(resp).await?;
                return Err(problem(status, &body));
            }
            Ok(resp)
        };
        let resp = tokio::time::timeout(self.timeouts.request, opened)
            .await
            .map_err(|_| {
                SyncError::Unreachable(format!(
                    "the live stream was not answered within {:?}",
                    self.timeouts.request
                ))
            })??;
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
        Ok(LiveStream::over(resp.bytes_stream(), self.timeouts.quiet))
    }
}

impl LiveStream {
    /// The events in `bytes`, lost after `quiet` without a byte.
    fn over<S, B>(bytes: S, quiet: Duration) -> Self
    where
        S: Stream<Item = Result<B, reqwest::Error>> + Send + 'static,
        B: AsRef<[u8]> + Send + 'static,
    {
        let heard = Arc::new(Mutex::new(Instant::now()));
        let noted = heard.clone();
        let bytes = bytes.inspect(move |_| {
            if let Ok(mut at) = noted.lock() {
                *at = Instant::now();
            }
        });
        LiveStream {
            inner: Box::pin(bytes.eventsource()),
            quiet,
            heard,
        }
    }

    /// The next event. An error means the stream is lost (silence, a cut connection, a
    /// malformed event); `Ok(None)` that the service closed it.
    pub async fn next(&mut self) -> Result<Option<LiveEvent>, SyncError> {
        loop {
            let since = self.heard.lock().map(|at| at.elapsed()).unwrap_or_default();
            let left = self.quiet.saturating_sub(since);
            if left.is_zero() {
                return Err(SyncError::Unreachable(
                    "the live connection went quiet".into(),
                ));
            }
            let Ok(item) = tokio::time::timeout(left, self.inner.next()).await else {
                // Bytes may have come meanwhile that make no event (a keep-alive): look
                // again at when the last came.
                continue;
            };
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` after `wait`, as a chunk of the stream.
    fn chunks(
        plan: Vec<(u64, &'static [u8])>,
    ) -> impl Stream<Item = Result<&'static [u8], reqwest::Error>> + Send + 'static {
        futures_util::stream::unfold(plan.into_iter(), |mut plan| async move {
            let (wait, text) = plan.next()?;
            tokio::time::sleep(Duration::from_millis(wait)).await;
            Some((Ok(text), plan))
        })
    }

    #[tokio::test]
    async fn keep_alive_comments_keep_a_stream_alive_and_only_silence_ends_it() {
        // A comment every 50 ms for 600 ms, then an event: with a quiet limit of 200 ms,
        // the stream lives on the comments alone.
        let mut plan = vec![(50, b":\n\n".as_slice()); 12];
        plan.push((50, b"event: changed\ndata: {}\n\n".as_slice()));
        let mut stream = LiveStream::over(chunks(plan), Duration::from_millis(200));
        assert_eq!(stream.next().await.unwrap(), Some(LiveEvent::Changed));
        // Then nothing at all: lost once the limit has passed, not before.
        let began = Instant::now();
        let mut stream = LiveStream::over(
            futures_util::stream::pending::<Result<&'static [u8], reqwest::Error>>(),
            Duration::from_millis(200),
        );
        assert!(matches!(
            stream.next().await,
            Err(SyncError::Unreachable(_))
        ));
        let waited = began.elapsed();
        assert!(
            waited >= Duration::from_millis(200) && waited < Duration::from_secs(2),
            "{waited:?}"
        );
    }
}
