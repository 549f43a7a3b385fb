//! Notification preferences, the mail outbox and one-click unsubscribe (promise 8: non-
//! essential email can be turned off; essential email cannot), against the real service
//! on TLS and a real SMTP listener on loopback (`SmtpSink`). Registered in
//! `on_both_stores!` in `api.rs`.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use strongroom_protocol::Role;
use strongroom_protocol::notifications::{
    Category, Channel, ChoiceSource, Notice, NotificationPreferences,
};
use strongroom_server::notifications::Notification;
use strongroom_server::outbox::OutboxSettings;
use strongroom_server::store::UserId;
use strongroom_server::{ServeOptions, ServiceSettings, StoreConfig};
use uuid::Uuid;

use super::access::{PASSWORD, Who};
use super::mail::SmtpSink;
use super::{Backend, Fixture};

/// An outbox that polls often and retries soon, for tests.
pub(crate) fn quick_outbox() -> OutboxSettings {
    OutboxSettings {
        poll: Duration::from_millis(100),
        first_retry: Duration::from_millis(200),
        max_retry: Duration::from_millis(800),
        max_attempts: 50,
        lease: Duration::from_secs(30),
    }
}

pub(crate) fn with_mail(smtp: Option<strongroom_server::config::SmtpSettings>) -> ServiceSettings {
    ServiceSettings {
        smtp,
        outbox: quick_outbox(),
        ..Default::default()
    }
}

fn problem_code(body: &str) -> String {
    serde_json::from_str::<Value>(body).unwrap()["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

impl Fixture {
    async fn preferences(&self, who: &Who) -> NotificationPreferences {
        let (status, body) = self
            .request(
                Some(&who.token),
                Method::GET,
                "/v1/me/notifications/preferences",
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    pub(crate) async fn change_preferences(&self, who: &Who, body: Value) -> (StatusCode, String) {
        self.request(
            Some(&who.token),
            Method::PATCH,
            "/v1/me/notifications/preferences",
            Some(body),
        )
        .await
    }

    /// Turns off every channel of every category that can be (the non-essential ones).
    pub(crate) async fn opt_out_of_everything(&self, who: &Who) {
        let mut changes = Vec::new();
        for c in Category::ALL.into_iter().filter(|c| !c.is_essential()) {
            for ch in ["email", "in_app", "desktop"] {
                changes.push(json!({"category": c, "channel": ch, "enabled": false}));
            }
        }
        let (status, body) = self
            .change_preferences(who, json!({ "changes": changes }))
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// Disables a member of the demo practice.
    pub(crate) async fn disable_in_demo(&self, who: &Who) {
        let demo = strongroom_server::store::PracticeId(self.demo_practice().await);
        self.server
            .store
            .update_member(
                demo,
                strongroom_server::store::UserId(who.id),
                None,
                Some(true),
            )
            .await
            .unwrap();
    }

    pub(crate) async fn notices(&self, who: &Who) -> Vec<Notice> {
        let (status, body) = self
            .request(Some(&who.token), Method::GET, "/v1/me/notices", None)
            .await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    async fn notify(&self, who: &Who, category: Category, title: &str) {
        self.server
            .notifier
            .notify(
                UserId(who.id),
                category,
                &Notification {
                    title: title.into(),
                    body: format!("The body of {title}."),
                },
            )
            .await
            .unwrap();
    }

    /// The audit entries of `kind` in the demo practice.
    pub(crate) async fn audited_kind(&self, kind: &str) -> Vec<Value> {
        let practice = strongroom_server::store::PracticeId(self.demo_practice().await);
        self.server
            .store
            .audit_entries(Some(practice), 0, 10_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == kind)
            .map(|e| serde_json::from_str(&e.details).unwrap())
            .collect()
    }

    /// Stops this server and starts another on the same data directory and database.
    async fn restart(&mut self, settings: ServiceSettings) {
        self.server.stop().await;
        let store = match &self.pg {
            None => StoreConfig::Sqlite,
            Some(schema) => StoreConfig::Postgres {
                url: schema.url.clone(),
            },
        };
        self.server = strongroom_server::start_configured(
            ServeOptions {
                data_dir: self._dir.path().to_owned(),
                listen: "127.0.0.1:0".parse().unwrap(),
                seed_demo: false,
            },
            store,
            settings,
        )
        .await
        .unwrap();
    }

    /// (attempts, sent) of every outbox row, oldest first.
    pub(crate) async fn outbox_rows(&self) -> Vec<(i64, bool)> {
        match &self.pg {
            None => {
                let c = rusqlite::Connection::open(self._dir.path().join("server.db")).unwrap();
                let mut stmt = c
                    .prepare("SELECT attempts, sent_at IS NOT NULL FROM mail_outbox ORDER BY id")
                    .unwrap();
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap()
                    .collect::<Result<Vec<_>, _>>()
                    .unwrap()
            }
            Some(_) => self
                .pg_client()
                .await
                .query(
                    "SELECT attempts::bigint, sent_at IS NOT NULL FROM mail_outbox ORDER BY id",
                    &[],
                )
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect(),
        }
    }
}

/// A message as received: its headers unfolded, and its subject.
pub(crate) struct Mail {
    headers: Vec<(String, String)>,
}

impl Mail {
    pub(crate) fn parse(data: &str) -> Self {
        let head = data.split_once("\n\n").map_or(data, |(h, _)| h);
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some(last) = headers.last_mut() {
                    last.1.push_str(line.trim_start());
                }
            } else if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        Mail { headers }
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn subject(&self) -> &str {
        self.header("subject").unwrap_or_default()
    }
}

impl SmtpSink {
    pub(crate) fn mails(&self) -> Vec<Mail> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|r| Mail::parse(&r.data))
            .collect()
    }

    /// Waits (up to 20 s) until a message with this subject has arrived, and answers it.
    pub(crate) async fn wait_for(&self, subject: &str) -> Mail {
        let start = Instant::now();
        loop {
            if let Some(m) = self.mails().into_iter().find(|m| m.subject() == subject) {
                return m;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{subject:?} never arrived; got {:?}",
                self.mails().iter().map(Mail::subject).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) fn count(&self, subject: &str) -> usize {
        self.mails()
            .iter()
            .filter(|m| m.subject() == subject)
            .count()
    }
}

/// Defaults are privacy-first (non-essential email and desktop off, in-app on) and
/// essential categories are locked on with a reason; a member's changes are kept with
/// their source and time, and audited; turning an essential category off is refused with
/// `essential_category` and changes nothing, not even the valid part of the request.
pub async fn notification_preferences_default_change_and_refuse_essential_off(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let prefs = f.preferences(&admin).await;
    assert_eq!(prefs.categories.len(), 8);
    for c in &prefs.categories {
        let essential = c.category.is_essential();
        assert_eq!(c.essential, essential, "{:?}", c.category);
        assert_eq!(c.reason.is_some(), essential, "{:?}", c.category);
        for ch in Channel::ALL {
            let choice = c.channel(ch);
            assert_eq!(choice.source, ChoiceSource::Default);
            assert_eq!(choice.changed_at, None);
            assert_eq!(choice.enabled, essential || ch == Channel::InApp);
        }
    }

    // Opt in to product news by email, tips off in the app: through the desktop's bearer
    // token, so recorded as the member's own (`user`), whatever the body claims.
    let (status, body) = f
        .change_preferences(
            &admin,
            json!({"source": "web", "changes": [
                {"category": "product_news", "channel": "email", "enabled": true},
                {"category": "tips", "channel": "in_app", "enabled": false},
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let answered: NotificationPreferences = serde_json::from_str(&body).unwrap();
    assert_eq!(answered, f.preferences(&admin).await);
    let news = answered.category(Category::ProductNews).unwrap();
    assert!(news.email.enabled);
    assert_eq!(news.email.source, ChoiceSource::User);
    assert!(news.email.changed_at.is_some());
    assert_eq!(news.desktop.source, ChoiceSource::Default);
    let tips = answered.category(Category::Tips).unwrap();
    assert!(!tips.in_app.enabled);
    assert_eq!(tips.in_app.source, ChoiceSource::User);
    let audited = f.audited_kind("notification_preferences_changed").await;
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert_eq!(audited[0]["source"], "user");
    assert_eq!(audited[0]["changes"].as_array().unwrap().len(), 2);

    // Essential off: refused, and the valid change beside it is not made either.
    for (category, channel) in [
        ("security_alerts", "email"),
        ("breach_notices", "in_app"),
        ("billing", "desktop"),
        ("service_notices", "email"),
        ("policy_changes", "email"),
    ] {
        let (status, body) = f
            .change_preferences(
                &admin,
                json!({"changes": [
                    {"category": "usage_suggestions", "channel": "email", "enabled": true},
                    {"category": category, "channel": channel, "enabled": false},
                ]}),
            )
            .await;
        assert_eq!(status, 400, "{category}: {body}");
        assert_eq!(problem_code(&body), "essential_category", "{body}");
    }
    assert_eq!(f.preferences(&admin).await, answered, "nothing changed");
    // Essential on: no change, and nothing recorded.
    let (status, body) = f
        .change_preferences(
            &admin,
            json!({"changes": [{"category": "billing", "channel": "email", "enabled": true}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(f.preferences(&admin).await, answered);
    assert_eq!(
        f.audited_kind("notification_preferences_changed")
            .await
            .len(),
        1
    );

    // Malformed bodies are 400s.
    for bad in [
        json!({}),
        json!({"changes": [{"category": "spam", "channel": "email", "enabled": true}]}),
        json!({"changes": [{"category": "tips", "channel": "pigeon", "enabled": true}]}),
        json!({"changes": [{"category": "tips", "channel": "email", "enabled": "yes"}]}),
        json!({"changes": [], "source": "unsubscribe_link"}),
        json!({"changes": [], "extra": 1}),
        json!({"changes": vec![json!({"category": "tips", "channel": "email", "enabled": true}); 65]}),
    ] {
        let (status, body) = f.change_preferences(&admin, bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(problem_code(&body), "bad_request");
    }
    assert_eq!(f.preferences(&admin).await, answered);
    // Without a session: 401.
    let (status, _) = f
        .request(None, Method::GET, "/v1/me/notifications/preferences", None)
        .await;
    assert_eq!(status, 401);
    f.server.stop().await;
}

/// A member reads and changes only their own preferences and notices: another member's
/// change leaves theirs alone, a notice reaches only its member, and another's notice is
/// the same 404 as none, in this practice or another.
pub async fn members_reach_only_their_own_preferences_and_notices(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let lawyer = f
        .member(&admin, "lawyer@harbourvine.example", Role::Lawyer)
        .await;
    let store = f.server.store.clone();
    let elsewhere = store.create_practice("Elsewhere Legal").await.unwrap();
    let hash = strongroom_server::auth::hash_password(PASSWORD).unwrap();
    let outsider_id = store
        .create_user(
            elsewhere,
            "admin@elsewhere.example",
            "Else",
            &hash,
            Role::Admin,
        )
        .await
        .unwrap();
    let outsider = Who {
        token: f.token("admin@elsewhere.example", PASSWORD).await,
        id: outsider_id.0,
    };
    let defaults = f.preferences(&lawyer).await;
    let (status, _) = f
        .change_preferences(
            &admin,
            json!({"changes": [{"category": "tips", "channel": "email", "enabled": true}]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(f.preferences(&lawyer).await, defaults);
    assert_eq!(f.preferences(&outsider).await, defaults);

    f.notify(&admin, Category::ServiceNotices, "For the admin only")
        .await;
    let mine = f.notices(&admin).await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].title, "For the admin only");
    assert!(mine[0].in_app && mine[0].desktop && mine[0].read_at.is_none());
    assert!(f.notices(&lawyer).await.is_empty());
    assert!(f.notices(&outsider).await.is_empty());
    let path = format!("/v1/me/notices/{}/read", mine[0].id);
    for who in [&lawyer, &outsider] {
        let (status, body) = f.request(Some(&who.token), Method::POST, &path, None).await;
        assert_eq!(status, 404, "{body}");
    }
    assert!(f.notices(&admin).await[0].read_at.is_none());
    let (status, _) = f
        .request(Some(&admin.token), Method::POST, &path, None)
        .await;
    assert_eq!(status, 204);
    let read_at = f.notices(&admin).await[0].read_at.clone();
    assert!(read_at.is_some());
    // Once read, it stays read at that time.
    let (status, _) = f
        .request(Some(&admin.token), Method::POST, &path, None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(f.notices(&admin).await[0].read_at, read_at);
    for bad in ["/v1/me/notices/nope/read", "/v1/me/notices/%7Bid%7D/read"] {
        let (status, _) = f.request(Some(&admin.token), Method::POST, bad, None).await;
        assert_eq!(status, 400, "{bad}");
    }
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::POST,
            &format!("/v1/me/notices/{}/read", Uuid::new_v4()),
            None,
        )
        .await;
    assert_eq!(status, 404);
    f.server.stop().await;
}

/// Through a real SMTP listener: an opted-in non-essential message arrives with both RFC
/// 8058 headers; an opted-out category never arrives; an essential one always does, with
/// no unsubscribe header. The link's GET changes nothing; its POST, without a session,
/// answers 200 with no redirect, turns that category's email off (source
/// `unsubscribe_link`, audited once however often it is posted), and the next message of
/// it is not sent. A forged or altered token is refused.
pub async fn one_click_unsubscribe_stops_that_category_and_no_other(backend: Backend) {
    let sink = SmtpSink::start().await;
    let f = Fixture::configured(backend, with_mail(Some(sink.settings()))).await;
    let admin = f.demo_admin().await;
    let (status, _) = f
        .change_preferences(
            &admin,
            json!({"changes": [
                {"category": "product_news", "channel": "email", "enabled": true},
                {"category": "usage_suggestions", "channel": "email", "enabled": true},
            ]}),
        )
        .await;
    assert_eq!(status, 200);

    f.notify(&admin, Category::Tips, "Tip one (opted out)")
        .await;
    f.notify(&admin, Category::ProductNews, "News one").await;
    f.notify(&admin, Category::SecurityAlerts, "Security one")
        .await;
    let news = sink.wait_for("News one").await;
    let security = sink.wait_for("Security one").await;
    assert_eq!(sink.count("Tip one (opted out)"), 0);
    // Checked when it was queued: the opted-out tip never reached the outbox.
    assert_eq!(f.outbox_rows().await.len(), 2, "only the two wanted");
    assert_eq!(
        news.header("list-unsubscribe-post"),
        Some("List-Unsubscribe=One-Click")
    );
    let link = news.header("list-unsubscribe").expect("List-Unsubscribe");
    let url = link
        .strip_prefix('<')
        .and_then(|l| l.strip_suffix('>'))
        .unwrap_or_else(|| panic!("not <url>: {link}"));
    let prefix = format!("https://{}/v1/unsubscribe/", f.server.addr);
    let token = url
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{url} is not under {prefix}"));
    assert!(!token.contains('@') && !token.contains("harbourvine"));
    assert_eq!(security.header("list-unsubscribe"), None);
    assert_eq!(security.header("list-unsubscribe-post"), None);
    let path = format!("/v1/unsubscribe/{token}");

    // GET: a page with a button, and no change.
    let resp = f.http.get(f.url(&path)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = resp.text().await.unwrap();
    assert!(html.contains("<form method=\"post\"") && html.contains("product news"));
    let prefs = f.preferences(&admin).await;
    assert!(prefs.category(Category::ProductNews).unwrap().email.enabled);

    // Forged, altered and truncated tokens: refused, nothing changes.
    let mut altered = token.to_owned().into_bytes();
    altered[3] = if altered[3] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    for forged in [
        altered.as_str(),
        &token[..token.len() - 2],
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "not-a-token",
    ] {
        let (status, body) = f
            .request(
                None,
                Method::POST,
                &format!("/v1/unsubscribe/{forged}"),
                None,
            )
            .await;
        assert_eq!(status, 404, "{forged}: {body}");
        assert_eq!(problem_code(&body), "invalid_unsubscribe_token");
    }
    assert_eq!(f.preferences(&admin).await, prefs);

    // POST, the way a mail client does it: no session, RFC 8058's body; twice.
    for _ in 0..2 {
        let resp = f
            .http
            .post(f.url(&path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.headers().get("location").is_none());
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v, json!({"category": "product_news", "email": false}));
    }
    let after = f.preferences(&admin).await;
    let news_prefs = after.category(Category::ProductNews).unwrap();
    assert!(!news_prefs.email.enabled);
    assert_eq!(news_prefs.email.source, ChoiceSource::UnsubscribeLink);
    assert!(news_prefs.email.changed_at.is_some());
    // Only that category: usage suggestions stay on.
    assert!(
        after
            .category(Category::UsageSuggestions)
            .unwrap()
            .email
            .enabled
    );
    let audited = f.audited_kind("notification_preferences_changed").await;
    assert_eq!(audited.len(), 2, "the member's change and one unsubscribe");
    assert_eq!(audited[1]["source"], "unsubscribe_link");

    // The next product news is not sent; the in-app notice still comes.
    f.notify(&admin, Category::ProductNews, "News two").await;
    f.notify(&admin, Category::UsageSuggestions, "Suggestion one")
        .await;
    f.notify(&admin, Category::BreachNotices, "Breach one")
        .await;
    sink.wait_for("Suggestion one").await;
    sink.wait_for("Breach one").await;
    assert_eq!(sink.count("News two"), 0);
    assert_eq!(sink.count("News one"), 1);
    assert!(
        f.notices(&admin)
            .await
            .iter()
            .any(|n| n.title == "News two")
    );
    // A person's browser gets a page, not JSON.
    let resp = f
        .http
        .post(f.url(&path))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("unsubscribed"));
    f.server.stop().await;
}

/// Mail waits in the outbox across a restart, and a member who opts out while it waits
/// never receives it; the essential message queued with it arrives after the restart.
pub async fn an_opted_out_category_is_never_sent(backend: Backend) {
    // First without mail: the rows wait.
    let mut f = Fixture::configured(backend, with_mail(None)).await;
    let admin = f.demo_admin().await;
    let (status, _) = f
        .change_preferences(
            &admin,
            json!({"changes": [{"category": "tips", "channel": "email", "enabled": true}]}),
        )
        .await;
    assert_eq!(status, 200);
    f.notify(&admin, Category::Tips, "Tip queued").await;
    f.notify(&admin, Category::PolicyChanges, "Policy queued")
        .await;
    assert_eq!(f.outbox_rows().await, vec![(0, false), (0, false)]);
    // Opting out after the tip was queued.
    let (status, _) = f
        .change_preferences(
            &admin,
            json!({"changes": [{"category": "tips", "channel": "email", "enabled": false}]}),
        )
        .await;
    assert_eq!(status, 200);
    let sink = SmtpSink::start().await;
    f.restart(with_mail(Some(sink.settings()))).await;
    sink.wait_for("Policy queued").await;
    // Give the worker time to have sent the tip, had it been going to.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.count("Tip queued"), 0);
    assert_eq!(sink.mails().len(), 1);
    let rows = f.outbox_rows().await;
    assert_eq!(rows.len(), 2);
    assert!(!rows[0].1, "the tip is not sent");
    assert!(rows[1].1, "the policy change is sent");
    f.server.stop().await;
}

/// With the SMTP server down, a message is retried with back-off, and arrives exactly
/// once when the server comes up.
pub async fn mail_is_retried_until_the_smtp_server_answers_and_arrives_once(backend: Backend) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut settings = SmtpSink::start().await.settings();
    settings.port = port;
    let f = Fixture::configured(backend, with_mail(Some(settings))).await;
    let admin = f.demo_admin().await;
    f.notify(&admin, Category::SecurityAlerts, "Retried").await;
    let start = Instant::now();
    while f.outbox_rows().await[0].0 < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{:?}",
            f.outbox_rows().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!f.outbox_rows().await[0].1);
    let sink = SmtpSink::start_on(port).await;
    sink.wait_for("Retried").await;
    // Several back-off periods later, still once.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.count("Retried"), 1);
    let rows = f.outbox_rows().await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].1 && rows[0].0 >= 3, "{rows:?}");
    f.server.stop().await;
}
