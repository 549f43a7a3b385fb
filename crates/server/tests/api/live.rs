//! The live stream, `GET /v1/sync/events`: `changed` on connecting and after each write to
//! the practice (and only its own practice's), `ended` when its session is revoked, and
//! with several instances on one PostgreSQL database, a write on one instance reaches a
//! stream held by another (`scale.rs`). Run on both stores from `on_both_stores!`.

use std::time::Duration;

use super::*;

/// An open event stream, read as text.
pub(crate) struct EventStream {
    resp: reqwest::Response,
    buf: String,
}

/// What the stream did next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    Event(String),
    Closed,
    Silent,
}

impl EventStream {
    pub(crate) async fn open(http: &reqwest::Client, url: String, token: &str) -> Self {
        let resp = http
            .get(url)
            .bearer_auth(token)
            .header("accept", "text/event-stream")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        Self {
            resp,
            buf: String::new(),
        }
    }

    /// The next named event within `within` (keep-alive comments are skipped).
    pub(crate) async fn next(&mut self, within: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                if let Some(name) = block
                    .lines()
                    .find_map(|l| l.strip_prefix("event:").map(|n| n.trim().to_owned()))
                {
                    return Next::Event(name);
                }
            }
            match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
                Err(_) => return Next::Silent,
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(Ok(None)) | Ok(Err(_)) => return Next::Closed,
            }
        }
    }
}

pub(crate) async fn the_live_stream_pokes_on_each_write_to_its_own_practice_only(backend: Backend) {
    let f = Fixture::new(backend).await;
    let store = f.server.store.clone();
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let mine = store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .practice_id;
    let other = store.create_practice("Other & Partners").await.unwrap();

    let mut events = EventStream::open(&f.http, f.url("/v1/sync/events"), &token).await;
    // Connecting says "pull now" at once, so a device that was away catches up.
    assert_eq!(
        events.next(Duration::from_secs(5)).await,
        Next::Event("changed".into())
    );
    // Nothing happens: nothing is said.
    assert_eq!(events.next(Duration::from_millis(300)).await, Next::Silent);
    // Another practice's write is not this stream's business.
    store
        .put_matter(other, &sample_matter("OP-1"))
        .await
        .unwrap();
    assert_eq!(events.next(Duration::from_millis(500)).await, Next::Silent);
    // This practice's writes are, through the store or the API alike.
    store
        .put_matter(mine, &sample_matter("LIVE-1"))
        .await
        .unwrap();
    assert_eq!(
        events.next(Duration::from_secs(5)).await,
        Next::Event("changed".into())
    );
    let m = sample_matter("LIVE-2");
    let (status, body) = f
        .request(
            Some(&token),
            reqwest::Method::PUT,
            &format!("/v1/records/matter/{}", m.id),
            Some(serde_json::to_value(&m).unwrap()),
        )
        .await;
    assert!(status.is_success(), "{status}: {body}");
    assert_eq!(
        events.next(Duration::from_secs(5)).await,
        Next::Event("changed".into())
    );
    // The pull it prompts sees the write: pokes go out after the commit.
    let page: ChangesPage = f
        .changes(&token, "?after=0&limit=5000")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        page.changes
            .iter()
            .any(|c| matches!(&c.record, ChangeRecord::Matter { matter } if matter.id == m.id))
    );
    // A stream needs a live session.
    let resp = f
        .http
        .get(f.url("/v1/sync/events"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    f.server.stop().await;
}

pub(crate) async fn a_revoked_sessions_live_stream_ends(backend: Backend) {
    let f = Fixture::configured(
        backend,
        strongroom_server::ServiceSettings {
            live_recheck: Some(Duration::from_millis(200)),
            ..Default::default()
        },
    )
    .await;
    let laptop = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let desk = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let mut events = EventStream::open(&f.http, f.url("/v1/sync/events"), &laptop).await;
    assert_eq!(
        events.next(Duration::from_secs(5)).await,
        Next::Event("changed".into())
    );
    // Still valid: the re-checks say nothing.
    assert_eq!(events.next(Duration::from_millis(700)).await, Next::Silent);
    // The desk revokes the laptop.
    let sessions = f.sessions(&desk).await;
    let laptop_id = sessions
        .iter()
        .find(|s| s["current"] == false)
        .expect("the laptop's session")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = f.revoke(&desk, &laptop_id).await;
    assert_eq!(status, 204);
    assert_eq!(
        events.next(Duration::from_secs(5)).await,
        Next::Event("ended".into())
    );
    assert_eq!(events.next(Duration::from_secs(5)).await, Next::Closed);
    f.server.stop().await;
}
