//! Desktop notifications: the notices the app raises as operating-system notifications,
//! each once on a device, only unread ones with the member's `desktop` choice on, and
//! nothing from the vault's copy offline (`Core::notices_to_raise`).

use strongroom_protocol::notifications::{Category, Notice};
use strongroom_server::seed;

use super::Env;
use super::preferences::device_of;

async fn notify(env: &Env, category: Category, title: &str) {
    env.notify_demo(
        category,
        title,
        &format!("{title}: the service's own words."),
    )
    .await;
}

fn titles(notices: &[Notice]) -> Vec<&str> {
    notices.iter().map(|n| n.title.as_str()).collect()
}

#[tokio::test]
async fn each_new_unread_desktop_notice_is_raised_once_on_each_device() {
    let env = Env::new().await;
    let mut laptop = env.signed_in().await;

    // A notice made just before this device first asked is raised: it is fresh.
    notify(
        &env,
        Category::SecurityAlerts,
        "A new sign-in to your account",
    )
    .await;
    let first = laptop.notices_to_raise().await.unwrap();
    assert_eq!(titles(&first), ["A new sign-in to your account"]);
    assert!(
        laptop.notices_to_raise().await.unwrap().is_empty(),
        "each notice is raised once"
    );

    // Essential categories always reach the desktop; a tip does not unless the member
    // turned its desktop channel on (off by default). Oldest first.
    notify(&env, Category::Tips, "Search finds file notes too").await;
    notify(
        &env,
        Category::BreachNotices,
        "A security incident affects your practice",
    )
    .await;
    notify(&env, Category::PolicyChanges, "Our privacy policy changed").await;
    let next = laptop.notices_to_raise().await.unwrap();
    assert_eq!(
        titles(&next),
        [
            "A security incident affects your practice",
            "Our privacy policy changed"
        ]
    );
    assert!(next.iter().all(|n| n.desktop && n.read_at.is_none()));
    assert!(laptop.notices_to_raise().await.unwrap().is_empty());

    // A notice read before the app asked (in the browser, say) is not raised.
    notify(&env, Category::SecurityAlerts, "Read in the browser first").await;
    let inbox = laptop.notices().await.unwrap().value;
    let read_first = inbox
        .iter()
        .find(|n| n.title == "Read in the browser first")
        .unwrap();
    laptop.mark_notice_read(read_first.id).await.unwrap();
    assert!(laptop.notices_to_raise().await.unwrap().is_empty());

    // Another device keeps its own record: it raises the fresh unread ones once too.
    let other_dir = tempfile::tempdir().unwrap();
    let mut other = device_of(
        &env,
        other_dir.path(),
        seed::DEMO_EMAIL,
        seed::DEMO_PASSWORD,
    )
    .await;
    let on_other = other.notices_to_raise().await.unwrap();
    assert_eq!(
        titles(&on_other),
        [
            "A new sign-in to your account",
            "A security incident affects your practice",
            "Our privacy policy changed"
        ]
    );
    assert!(other.notices_to_raise().await.unwrap().is_empty());

    // Offline: nothing is raised from the kept copy, and it is not an error.
    notify(&env, Category::ServiceNotices, "Maintenance on Sunday").await;
    env.server.stop().await;
    assert!(laptop.notices_to_raise().await.unwrap().is_empty());
    assert!(laptop.notices_to_raise().await.unwrap().is_empty());
}
