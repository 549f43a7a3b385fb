//! The member's own preferences through the desktop core against a real server: one
//! consent record shared with a browser's cookie session of the same member (each side
//! sees the other's change, each recorded with its own surface), strictly necessary cookies
//! and essential notification categories locked on with their own error codes,
//! notification preferences as the service stores them, the in-app inbox read and marked
//! read, the usage report's preview for administrators only, and every read kept for
//! offline while every action needs the service.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};
use strongroom_client::{Config, Core, ErrorCode};
use strongroom_protocol::Role;
use strongroom_protocol::consent::{
    CategoryChoices, ConsentAction, ConsentChange, ConsentSource, ConsentState, ConsentSurface,
    CookieCategory, MIN_GROUP_PRACTICES, StorageKind,
};
use strongroom_protocol::notifications::{
    Category, Channel, ChoiceSource, NotificationPreferences, PreferenceChange, PreferencesUpdate,
    UpdateSource,
};
use strongroom_server::seed;

use super::Env;

/// A browser signed in to the service's web surface: the session cookie kept in a jar
/// from `Set-Cookie`, and the service's own `Origin` and CSRF header on every request, as
/// the web pages send them.
struct Browser {
    http: reqwest::Client,
    base: String,
    jar: BTreeMap<String, String>,
}

impl Browser {
    async fn signed_in(env: &Env, email: &str, password: &str) -> Browser {
        let mut b = Browser {
            http: env.http(),
            base: env.server.url().trim_end_matches('/').to_owned(),
            jar: BTreeMap::new(),
        };
        let (status, body) = b
            .send(
                reqwest::Method::POST,
                "/v1/web/session",
                Some(json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(
            b.jar.contains_key("__Host-strongroom-session"),
            "{:?}",
            b.jar.keys()
        );
        b
    }

    async fn send(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("origin", &self.base)
            .header("x-strongroom-csrf", "1")
            .header("sec-fetch-site", "same-origin");
        if !self.jar.is_empty() {
            let cookies: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req = req.header("cookie", cookies.join("; "));
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        // No `Authorization` ever: the cookie alone is the session.
        for set in resp.headers().get_all("set-cookie") {
            let raw = set.to_str().unwrap();
            let (pair, attrs) = raw.split_once(';').unwrap_or((raw, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.to_ascii_lowercase().contains("max-age=0") {
                self.jar.remove(name.trim());
            } else {
                self.jar
                    .insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn consent(&mut self) -> ConsentState {
        let (status, body) = self
            .send(reqwest::Method::GET, "/v1/me/consent", None)
            .await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).unwrap()
    }
}

fn custom(categories: CategoryChoices, items: &[(&str, Option<bool>)]) -> ConsentChange {
    ConsentChange {
        action: ConsentAction::Custom,
        categories,
        items: items.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
    }
}

/// A core under `dir` signed in as `email`.
pub(super) async fn device_of(env: &Env, dir: &Path, email: &str, password: &str) -> Core {
    let mut cfg = Config::new(dir.join("data"));
    cfg.keyring_service = env.service.clone();
    cfg.practice_ca_pem = Some(env.ca_pem.clone());
    cfg.without_os_roots = true;
    let mut core = Core::new(cfg);
    core.start().unwrap();
    core.sign_in(&env.server.url(), email, password, None)
        .await
        .unwrap();
    core
}

#[tokio::test]
async fn one_consent_record_for_the_desktop_and_the_browser_and_strictly_necessary_stays_on() {
    let env = Env::new().await;
    let mut core = env.signed_in().await;
    let catalogue = core.cookie_catalogue().await.unwrap();
    assert!(!catalogue.offline);
    let session_cookie = catalogue
        .value
        .items
        .iter()
        .find(|i| i.category == CookieCategory::StrictlyNecessary && i.kind == StorageKind::Cookie)
        .expect("the session cookie is in the catalogue")
        .name
        .clone();
    assert!(
        catalogue
            .value
            .categories
            .iter()
            .all(|c| c.locked == (c.category == CookieCategory::StrictlyNecessary))
    );

    // Nothing chosen yet: the default, and the member is to be asked.
    let first = core.consent().await.unwrap();
    assert!(!first.offline);
    assert_eq!(first.value.current.source, ConsentSource::Default);
    assert!(first.value.choice_needed);
    assert!(first.value.history.is_empty());

    // A choice in the desktop app is recorded as the desktop's...
    let mine = core
        .change_consent(&custom(
            CategoryChoices {
                functional: Some(true),
                ..Default::default()
            },
            &[],
        ))
        .await
        .unwrap();
    assert_eq!(mine.current.source, ConsentSource::User);
    assert_eq!(mine.current.surface, Some(ConsentSurface::Desktop));
    assert!(mine.current.choices.functional && !mine.current.choices.analytics);
    assert!(!mine.choice_needed);
    // ...and is what the service answers a browser of the same member.
    let mut browser = Browser::signed_in(&env, seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let seen = browser.consent().await;
    assert_eq!(seen.current, mine.current);
    assert!(seen.effective.functional && !seen.effective.analytics);

    // The other way round: the browser's choice is the desktop's answer.
    let (status, body) = browser
        .send(
            reqwest::Method::PUT,
            "/v1/me/consent",
            Some(json!({"action": "reject_all"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let theirs: ConsentState = serde_json::from_value(body).unwrap();
    assert_eq!(theirs.current.surface, Some(ConsentSurface::Web));
    let now = core.consent().await.unwrap().value;
    assert_eq!(now.current, theirs.current);
    assert!(!now.current.choices.functional && !now.current.choices.analytics);
    let surfaces: Vec<_> = now.history.iter().map(|r| r.surface).collect();
    assert_eq!(
        surfaces,
        [Some(ConsentSurface::Web), Some(ConsentSurface::Desktop)],
        "newest first"
    );

    // Strictly necessary cannot be turned off, by category or by item; nothing recorded.
    for refused in [
        custom(
            CategoryChoices {
                strictly_necessary: Some(false),
                analytics: Some(true),
                ..Default::default()
            },
            &[],
        ),
        custom(
            Default::default(),
            &[(session_cookie.as_str(), Some(false))],
        ),
    ] {
        let e = core.change_consent(&refused).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::StrictlyNecessaryLocked, "{e}");
        assert!(e.to_string().contains("strictly necessary"), "{e}");
    }
    let after = core.consent().await.unwrap().value;
    assert_eq!(after.history.len(), 2);
    assert_eq!(after.current, now.current);
    assert_eq!(browser.consent().await.current, now.current);
    env.server.stop().await;
    env.cleanup_keyring();
}

fn email_of(prefs: &NotificationPreferences, category: Category) -> (bool, ChoiceSource) {
    let c = prefs.category(category).unwrap().channel(Channel::Email);
    (c.enabled, c.source)
}

#[tokio::test]
async fn notification_preferences_change_from_the_desktop_and_essential_ones_stay_on() {
    let env = Env::new().await;
    let mut core = env.signed_in().await;
    let admin = env.demo_member().await;
    let prefs = core.notification_preferences().await.unwrap();
    assert!(!prefs.offline);
    assert_eq!(prefs.value.categories.len(), Category::ALL.len());
    // Privacy first: non-essential email is off until the member takes it.
    assert_eq!(
        email_of(&prefs.value, Category::Tips),
        (false, ChoiceSource::Default)
    );
    let alerts = prefs.value.category(Category::SecurityAlerts).unwrap();
    assert!(alerts.essential && alerts.email.enabled && alerts.reason.is_some());

    let change = |category, enabled| PreferencesUpdate {
        changes: vec![PreferenceChange {
            category,
            channel: Channel::Email,
            enabled,
        }],
        // The window cannot pass the desktop off as the web surface.
        source: UpdateSource::Web,
    };
    let on = core
        .update_notification_preferences(&change(Category::Tips, true))
        .await
        .unwrap();
    assert_eq!(email_of(&on, Category::Tips), (true, ChoiceSource::User));
    let off = core
        .update_notification_preferences(&change(Category::Tips, false))
        .await
        .unwrap();
    assert_eq!(email_of(&off, Category::Tips), (false, ChoiceSource::User));
    // The service holds it: tips by email off, chosen in the desktop app.
    let stored = env
        .server
        .store
        .notification_choices(admin.id)
        .await
        .unwrap();
    let tips = stored
        .iter()
        .find(|c| c.category == Category::Tips && c.channel == Channel::Email)
        .unwrap();
    assert!(!tips.enabled);
    assert_eq!(tips.source, ChoiceSource::User);

    // An essential category cannot be turned off: refused with its code and reason, and
    // the change beside it in the same request is not made either.
    let mut both = change(Category::SecurityAlerts, false);
    both.changes.push(PreferenceChange {
        category: Category::ProductNews,
        channel: Channel::Email,
        enabled: true,
    });
    let e = core
        .update_notification_preferences(&both)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::EssentialCategory, "{e}");
    assert!(e.to_string().contains("security alerts"), "{e}");
    let now = core.notification_preferences().await.unwrap().value;
    assert_eq!(
        email_of(&now, Category::SecurityAlerts),
        (true, ChoiceSource::Default)
    );
    assert_eq!(
        email_of(&now, Category::ProductNews),
        (false, ChoiceSource::Default)
    );
    env.server.stop().await;
    env.cleanup_keyring();
}

#[tokio::test]
async fn a_notice_from_the_service_is_listed_marked_read_and_shown_read() {
    let env = Env::new().await;
    let mut core = env.signed_in().await;
    for (category, title) in [
        (Category::SecurityAlerts, "A new sign-in to your account"),
        (Category::Tips, "Search finds file notes too"),
    ] {
        env.notify_demo(
            category,
            title,
            &format!("{title}: the service's own words."),
        )
        .await;
    }
    let inbox = core.notices().await.unwrap();
    assert!(!inbox.offline);
    assert_eq!(inbox.value.len(), 2, "{:?}", inbox.value);
    assert!(inbox.value.iter().all(|n| n.read_at.is_none() && n.in_app));
    let alert = inbox
        .value
        .iter()
        .find(|n| n.category == Category::SecurityAlerts)
        .unwrap()
        .clone();
    assert!(alert.desktop, "essential: a desktop notification too");

    core.mark_notice_read(alert.id).await.unwrap();
    let after = core.notices().await.unwrap().value;
    let read = after.iter().find(|n| n.id == alert.id).unwrap();
    let first_read = read.read_at.clone().expect("shown read");
    assert!(
        after
            .iter()
            .filter(|n| n.id != alert.id)
            .all(|n| n.read_at.is_none())
    );
    // Marking again changes nothing; a notice that is not the member's is not found.
    core.mark_notice_read(alert.id).await.unwrap();
    let again = core.notices().await.unwrap().value;
    assert_eq!(
        again.iter().find(|n| n.id == alert.id).unwrap().read_at,
        Some(first_read)
    );
    let e = core
        .mark_notice_read(uuid::Uuid::new_v4())
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound);
    env.server.stop().await;
    env.cleanup_keyring();
}

#[tokio::test]
async fn the_usage_preview_is_for_administrators_only() {
    let env = Env::new().await;
    let mut core = env.signed_in().await;
    let preview = core.usage_report_preview().await.unwrap();
    assert!(!preview.offline);
    let report = preview.value;
    assert_eq!(report.min_group_practices, MIN_GROUP_PRACTICES);
    // One practice on this service: every week is suppressed, none is emitted.
    assert!(report.buckets.is_empty(), "{report:?}");
    assert!(!report.suppressed_weeks.is_empty());

    let admin = env.demo_member().await;
    let password = "Harbour-Ledger-5521-kite";
    let hash = strongroom_server::auth::hash_password(password).unwrap();
    env.server
        .store
        .create_user(
            admin.practice_id,
            "lawyer@harbourvine.example",
            "Lee Lawyer",
            &hash,
            Role::Lawyer,
        )
        .await
        .unwrap();
    let lawyer_dir = tempfile::tempdir().unwrap();
    let mut lawyer = device_of(
        &env,
        lawyer_dir.path(),
        "lawyer@harbourvine.example",
        password,
    )
    .await;
    let e = lawyer.usage_report_preview().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    // Their own preferences are theirs to read.
    assert!(lawyer.consent().await.is_ok());
    assert!(lawyer.notification_preferences().await.is_ok());
    let _ = lawyer.close();
    env.forget_device(lawyer_dir.path());
    env.server.stop().await;
    env.cleanup_keyring();
}

#[tokio::test]
async fn preference_reads_answer_the_kept_copy_offline_and_actions_need_the_service() {
    let env = Env::new().await;
    let mut core = env.signed_in().await;
    env.notify_demo(
        Category::ServiceNotices,
        "Maintenance on Sunday",
        "The service is down for an hour from 02:00 UTC.",
    )
    .await;
    let catalogue = core.cookie_catalogue().await.unwrap();
    let prefs = core.notification_preferences().await.unwrap();
    let usage = core.usage_report_preview().await.unwrap();
    let notices = core.notices().await.unwrap();
    // An action's answer is what is kept: the consent just chosen, the notice just read.
    let chosen = core
        .change_consent(&ConsentChange {
            action: ConsentAction::AcceptAll,
            categories: Default::default(),
            items: Default::default(),
        })
        .await
        .unwrap();
    let notice = notices.value[0].id;
    core.mark_notice_read(notice).await.unwrap();

    env.server.stop().await;
    let kept = core.cookie_catalogue().await.unwrap();
    assert!(kept.offline);
    assert_eq!(
        (kept.value, kept.fetched_at),
        (catalogue.value, catalogue.fetched_at)
    );
    let kept = core.notification_preferences().await.unwrap();
    assert!(kept.offline);
    assert_eq!(
        (kept.value, kept.fetched_at),
        (prefs.value.clone(), prefs.fetched_at)
    );
    let kept = core.usage_report_preview().await.unwrap();
    assert!(kept.offline);
    assert_eq!(
        (kept.value, kept.fetched_at),
        (usage.value, usage.fetched_at)
    );
    let kept = core.consent().await.unwrap();
    assert!(kept.offline);
    assert_eq!(kept.value, chosen);
    assert!(!kept.fetched_at.is_empty());
    let kept = core.notices().await.unwrap();
    assert!(kept.offline);
    assert_eq!(kept.fetched_at, notices.fetched_at);
    assert_eq!(kept.value.len(), notices.value.len());
    assert!(kept.value[0].read_at.is_some(), "read, as last decided");

    // Every action fails offline and says so.
    let e = core
        .change_consent(&ConsentChange {
            action: ConsentAction::RejectAll,
            categories: Default::default(),
            items: Default::default(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Offline);
    let e = core
        .update_notification_preferences(&PreferencesUpdate {
            changes: vec![PreferenceChange {
                category: Category::Tips,
                channel: Channel::Email,
                enabled: true,
            }],
            source: UpdateSource::User,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Offline);
    let e = core.mark_notice_read(notice).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Offline);
    // The kept copies are as they were: an action offline changes nothing.
    assert_eq!(
        core.notification_preferences().await.unwrap().value,
        prefs.value
    );
    assert_eq!(core.consent().await.unwrap().value, chosen);
    env.cleanup_keyring();
}
