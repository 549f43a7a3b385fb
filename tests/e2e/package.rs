//! The Debian package, installed: `scripts/package --debug` (run by `scripts/test` before
//! the tests) builds it; this test installs it with dpkg, starts the installed app against a
//! real server and signs in, then removes the package.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use strongroom_client::{KEYRING_SERVICE, profile_for};
use strongroom_keystore::{Keystore, SecretKind};
use strongroom_server::{ServeOptions, seed};

use super::{APP_IDENTIFIER, app_env, driver, sign_in_through_the_window};
use driver::Driver;

/// The package to install: `STRONGROOM_DEB`, or the newest one `scripts/package` built.
fn package_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("STRONGROOM_DEB") {
        return Ok(PathBuf::from(p));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found: Vec<PathBuf> = ["target/debug/bundle/deb", "target/release/bundle/deb"]
        .iter()
        .filter_map(|d| std::fs::read_dir(root.join(d)).ok())
        .flat_map(|rd| rd.flatten().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "deb"))
        .collect();
    found.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    found.pop().context(
        "no Debian package to install: build one with `scripts/package --debug` (scripts/test does)",
    )
}

/// dpkg as root (directly, or through sudo without a prompt).
fn dpkg(args: &[&str]) -> Result<()> {
    let root = Command::new("id").arg("-u").output()?.stdout == b"0\n";
    let status = if root {
        Command::new("dpkg").args(args).status()?
    } else {
        Command::new("sudo")
            .arg("-n")
            .arg("dpkg")
            .args(args)
            .status()?
    };
    if !status.success() {
        bail!("dpkg {args:?} failed: {status}");
    }
    Ok(())
}

/// Removes the package when the test ends, however it ends.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        if let Err(e) = dpkg(&["--remove", "strongroom"]) {
            eprintln!("removing the package: {e:#}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_installed_package_starts_and_signs_in() -> Result<()> {
    let (driver_bin, native) = driver::check_prerequisites()?;
    let deb = package_path()?;
    dpkg(&["--install", deb.to_str().context("package path")?])?;
    let _installed = Installed;
    let app = PathBuf::from("/usr/bin/strongroom");
    anyhow::ensure!(app.exists(), "the package put no /usr/bin/strongroom");
    let desktop = Path::new("/usr/share/applications/Strongroom.desktop");
    let entry = std::fs::read_to_string(desktop)
        .with_context(|| format!("the package put no {}", desktop.display()))?;
    assert!(entry.contains("Exec=strongroom"), "{entry}");

    let server_dir = tempfile::tempdir()?;
    let server = strongroom_server::start(ServeOptions {
        data_dir: server_dir.path().to_owned(),
        listen: "127.0.0.1:0".parse()?,
        seed_demo: true,
    })
    .await?;
    let titles: Vec<String> = seed::demo_matters().into_iter().map(|m| m.title).collect();
    let home = tempfile::tempdir()?;
    let url = server.url();
    let env = app_env(home.path(), &server.ca_pem_path);
    let log = std::env::temp_dir().join(format!("strongroom-package-{}.log", std::process::id()));
    let driver = Driver::start(&driver_bin, &native, &env, &log)?;
    let c = driver.session(&app).await?;
    sign_in_through_the_window(&c, &url, &titles).await?;
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
