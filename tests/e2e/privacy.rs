//! The privacy dashboard in the real app against the real service: the lawyer signs out
//! their other laptop from Devices, the laptop wipes itself on its next sync, the audit log
//! (checked by the app) shows both; a support staff member's request is approved in the
//! app, their read shows in the transparency view, the grant is revoked and their next read
//! refused; and the whole practice is exported, with progress, to an archive that matches
//! its manifest and holds every record.

use std::path::PathBuf;

use anyhow::{Context, Result};
use strongroom_client::{ErrorCode, KEYRING_SERVICE, profile_for};
use strongroom_keystore::{Keystore, SecretKind};
use strongroom_server::{ServeOptions, seed};

use super::driver::{self, Driver, click, eventually, text_of, texts_of, type_into};
use super::{APP_IDENTIFIER, WAIT, app_env, save_screenshot, sign_in_through_the_window};

/// The second device's keyring service (the other e2e tests use their own).
const LAPTOP_KEYRING_SERVICE: &str = "law.strongroom.e2e.laptop";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_the_other_laptop_grant_support_access_and_export_the_practice() -> Result<()> {
    let (driver_bin, native) = driver::check_prerequisites()?;
    let app = PathBuf::from(env!("CARGO_BIN_EXE_strongroom"));
    let server_dir = tempfile::tempdir()?;
    let server = strongroom_server::start(ServeOptions {
        data_dir: server_dir.path().to_owned(),
        listen: "127.0.0.1:0".parse()?,
        seed_demo: true,
    })
    .await?;
    let titles: Vec<String> = seed::demo_matters().into_iter().map(|m| m.title).collect();
    let home = tempfile::tempdir()?;
    let exports = home.path().join("Exports");
    let url = server.url();
    let mut env = app_env(home.path(), &server.ca_pem_path);
    env.push(("STRONGROOM_EXPORT_DIR", exports.clone().into()));
    let log =
        std::env::temp_dir().join(format!("strongroom-e2e-privacy-{}.log", std::process::id()));
    let driver = Driver::start(&driver_bin, &native, &env, &log)?;
    let c = driver.session(&app).await?;
    sign_in_through_the_window(&c, &url, &titles).await?;

    // The same lawyer's laptop: signed in and synced, so it tells the service what it holds.
    let laptop_dir = tempfile::tempdir()?;
    let mut cfg = strongroom_client::Config::new(laptop_dir.path().join("data"));
    cfg.keyring_service = LAPTOP_KEYRING_SERVICE.into();
    cfg.practice_ca_pem = Some(std::fs::read_to_string(&server.ca_pem_path)?);
    cfg.without_os_roots = true;
    cfg.device_name = "Laptop (travel)".into();
    let mut laptop = strongroom_client::Core::new(cfg);
    laptop.start()?;
    laptop
        .sign_in(&url, seed::DEMO_EMAIL, seed::DEMO_PASSWORD, None)
        .await?;
    let held = laptop.matters()?.len();

    // Devices: both, the laptop with what it holds; sign out every other device.
    click(&c, "#account-menu").await?;
    click(&c, "#menu-privacy").await?;
    let rows = eventually("both devices listed", WAIT, || async {
        let rows = texts_of(&c, "[data-testid=session-row]").await?;
        (rows.len() == 2 && rows.iter().any(|r| r.contains("Laptop (travel)"))).then_some(rows)
    })
    .await?;
    let laptop_row = rows
        .iter()
        .find(|r| r.contains("Laptop (travel)"))
        .context("the laptop's row")?;
    assert!(
        laptop_row.contains(&format!("{held} matters")),
        "the laptop's holdings: {laptop_row}"
    );
    save_screenshot(&c, "privacy-devices-app.png").await?;
    click(&c, "#revoke-others").await?;
    eventually("the confirmation", WAIT, || async {
        text_of(&c, "[data-testid=revoke-others-words]").await
    })
    .await?;
    click(&c, "#confirm-revoke-session").await?;
    eventually("the laptop signed out", WAIT, || async {
        let done = text_of(&c, "[data-testid=devices-done]").await?;
        done.contains("signed out").then_some(())
    })
    .await?;

    // The laptop learns on its next sync, and erases its copy and key.
    let gone = laptop.sync().await.expect_err("the laptop was signed out");
    assert_eq!(gone.code(), ErrorCode::DeviceRemoved);
    assert!(!laptop_dir.path().join("data/vault/vault.db").exists());

    // The audit log, checked by the app, shows the revocation and the wipe.
    click(&c, "#nav-audit").await?;
    eventually("the chain verified by the app", WAIT, || async {
        let check = text_of(&c, "[data-testid=chain-check]").await?;
        check.contains("Verified").then_some(())
    })
    .await?;
    eventually("the revocation and the wipe in the log", WAIT, || async {
        let rows = texts_of(&c, "[data-testid=audit-row]").await?;
        let revoked = rows
            .iter()
            .any(|r| r.contains("Laptop (travel)") && r.contains("remotely"));
        let wiped = rows.iter().any(|r| r.contains("erased its offline copy"));
        (revoked && wiped).then_some(())
    })
    .await?;
    save_screenshot(&c, "privacy-audit-app.png").await?;

    // Support access, the whole cycle: a staff member asks, the lawyer approves in the app,
    // the staff member's read shows in the transparency view, the lawyer revokes, and the
    // next read is refused.
    let practice = server
        .store
        .user_by_email(seed::DEMO_EMAIL)
        .await?
        .context("the demo member")?
        .practice_id
        .0;
    let staff_password = "Lighthouse-Copper-4471-fern";
    server
        .store
        .create_staff(
            "sam@support.strongroom.example",
            "Sam Support",
            &strongroom_server::auth::hash_password(staff_password)?,
            time::OffsetDateTime::now_utc().unix_timestamp(),
        )
        .await?;
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&std::fs::read(
            &server.ca_pem_path,
        )?)?])
        .build()?;
    let signed: serde_json::Value = http
        .post(format!("{url}v1/support/auth/sign-in"))
        .json(&serde_json::json!({"email": "sam@support.strongroom.example", "password": staff_password}))
        .send()
        .await?
        .json()
        .await?;
    let staff = signed["token"]
        .as_str()
        .context("a staff token")?
        .to_owned();
    let asked = http
        .post(format!("{url}v1/support/requests"))
        .bearer_auth(&staff)
        .json(&serde_json::json!({
            "practice_id": practice, "reason": "The trust ledger report will not open",
            "ticket": "SUP-7001", "scope": {"kind": "practice"}, "access": "read",
            "duration_hours": 24,
        }))
        .send()
        .await?;
    assert_eq!(asked.status(), 201);
    let staff_read = || {
        let (http, staff) = (http.clone(), staff.clone());
        let at = format!("{url}v1/support/practices/{practice}/records/matter");
        async move {
            http.get(at)
                .bearer_auth(staff)
                .send()
                .await
                .map(|r| r.status().as_u16())
        }
    };
    click(&c, "#nav-support").await?;
    let request = "[data-testid=grant-request][data-ticket=SUP-7001]";
    eventually("the request waiting", WAIT, || async {
        text_of(&c, request).await
    })
    .await?;
    save_screenshot(&c, "privacy-support-app.png").await?;
    click(&c, &format!("{request} button.primary")).await?;
    let active = "[data-testid=active-grant][data-ticket=SUP-7001]";
    eventually("the grant active", WAIT, || async {
        if text_of(&c, "#reauth-dialog").await.is_some() {
            // The service wants the password again: give it.
            type_into(&c, "#reauth-password", seed::DEMO_PASSWORD)
                .await
                .ok()?;
            click(&c, "#reauth-confirm").await.ok()?;
        }
        text_of(&c, active).await
    })
    .await?;
    assert_eq!(
        staff_read().await?,
        200,
        "the staff member reads under the grant"
    );
    click(&c, "#nav-devices").await?;
    click(&c, "#nav-support").await?;
    eventually(
        "the staff member's read in the transparency view",
        WAIT,
        || async {
            let entries = texts_of(&c, "[data-testid=access-entry]").await?;
            entries
                .iter()
                .any(|e| e.contains("Sam Support") && e.contains("Allowed"))
                .then_some(())
        },
    )
    .await?;
    click(&c, &format!("{active} button.danger")).await?;
    click(&c, "#confirm-revoke-grant").await?;
    eventually("the grant revoked", WAIT, || async {
        let past = text_of(&c, "[data-testid=past-grant][data-ticket=SUP-7001]").await?;
        past.contains("Revoked").then_some(())
    })
    .await?;
    assert_eq!(staff_read().await?, 403, "refused once revoked");

    // Export the whole practice: progress, then the archive, checked against its manifest.
    click(&c, "#nav-export").await?;
    click(&c, "#export-practice").await?;
    let result = eventually("the export's result", WAIT, || async {
        let r = text_of(&c, "[data-testid=practice-result]").await?;
        r.contains("Checked against its manifest").then_some(r)
    })
    .await?;
    save_screenshot(&c, "privacy-export-app.png").await?;
    let zip = std::fs::read_dir(&exports)?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "zip"))
        .context("no archive in the export folder")?;
    assert!(result.contains(&zip.display().to_string()), "{result}");
    let checked = strongroom_export::check_archive(std::fs::File::open(&zip)?)?;
    assert_eq!(checked.manifest.records(), seed::demo_change_count() as u64);

    c.close().await.ok();
    drop(driver);
    server.stop().await;
    std::fs::remove_file(&log).ok();
    let profile = profile_for(&home.path().join(".local/share").join(APP_IDENTIFIER));
    let keystore = Keystore::native(KEYRING_SERVICE);
    keystore.delete(SecretKind::VaultKey, &profile)?;
    keystore.delete(SecretKind::SessionToken, &profile)?;
    Ok(())
}
