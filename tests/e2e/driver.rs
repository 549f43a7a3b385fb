//! Driving the real app: tauri-driver in front of WebKitWebDriver, under the X display and
//! D-Bus session that `scripts/with-test-env` provides.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::{Client, ClientBuilder, Locator};

/// A running tauri-driver, killed on drop.
pub struct Driver {
    child: Child,
    pub port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Finds a program on PATH or in cargo's bin directory.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// The prerequisites of a desktop end-to-end run; a missing one fails the test loudly.
pub fn check_prerequisites() -> Result<(PathBuf, PathBuf)> {
    let driver = find_program("tauri-driver")
        .context("tauri-driver is not installed (cargo install tauri-driver --locked); scripts/test installs it")?;
    let native = find_program("WebKitWebDriver")
        .context("WebKitWebDriver is not installed (Debian package webkit2gtk-driver); scripts/test installs it")?;
    if std::env::var_os("DISPLAY").is_none() {
        bail!("no X display: run the end-to-end tests through scripts/with-test-env (Xvfb)");
    }
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        bail!("no D-Bus session: run the end-to-end tests through scripts/with-test-env (keyring)");
    }
    Ok((driver, native))
}

impl Driver {
    /// Starts tauri-driver; the app it launches inherits `env`.
    pub fn start(
        driver: &Path,
        native: &Path,
        env: &[(&str, std::ffi::OsString)],
        log: &Path,
    ) -> Result<Self> {
        let port = free_port();
        let native_port = free_port();
        let log_file = std::fs::File::create(log)?;
        let mut cmd = Command::new(driver);
        cmd.arg("--port")
            .arg(port.to_string())
            .arg("--native-port")
            .arg(native_port.to_string())
            .arg("--native-driver")
            .arg(native)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().context("starting tauri-driver")?;
        let d = Driver { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("tauri-driver did not listen on port {port}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(d)
    }

    /// Opens a session, which launches the app. Retried: the driver drops a request now and then.
    pub async fn session(&self, app: &Path) -> Result<Client> {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app.to_string_lossy() }),
        );
        let mut last = None;
        for _ in 0..5 {
            match ClientBuilder::rustls()?
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{}", self.port))
                .await
            {
                Ok(c) => return Ok(c),
                Err(e) => {
                    last = Some(e);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
        Err(anyhow::anyhow!(
            "could not open a WebDriver session: {last:?}"
        ))
    }
}

/// Polls until `f` returns `Some`, or fails after `timeout` with `what`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return Ok(v);
        }
        if Instant::now() > deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// The text of the first element matching `css`, if there is one.
pub async fn text_of(c: &Client, css: &str) -> Option<String> {
    let el = c.find(Locator::Css(css)).await.ok()?;
    el.text().await.ok()
}

/// The texts of every element matching `css`, as the DOM holds them (trimmed). Read in
/// one script, so a list that re-renders between two reads cannot give a stale element;
/// and WebKitWebDriver's own text reads "" for a virtualised list's cells.
pub async fn texts_of(c: &Client, css: &str) -> Option<Vec<String>> {
    let script =
        "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.textContent.trim())";
    let v = c
        .execute(script, vec![serde_json::Value::String(css.to_owned())])
        .await
        .ok()?;
    serde_json::from_value(v).ok()
}

/// Replaces an input's value by typing, retried.
pub async fn type_into(c: &Client, css: &str, value: &str) -> Result<()> {
    let mut last = None;
    for _ in 0..4 {
        let attempt = async {
            let el = c
                .wait()
                .at_most(Duration::from_secs(15))
                .for_element(Locator::Css(css))
                .await?;
            // As a person would: select all, delete, type. (WebDriver's clear fires no
            // input event, so the page would not see it.)
            el.send_keys("\u{E009}a\u{E000}\u{E003}").await?;
            if !value.is_empty() {
                el.send_keys(value).await?;
            }
            let now = el.prop("value").await?.unwrap_or_default();
            if now != value {
                anyhow::bail!("{css} holds {now:?} after typing");
            }
            Ok::<_, anyhow::Error>(())
        };
        match attempt.await {
            Ok(()) => return Ok(()),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap())
}

/// Clicks an element, retried.
pub async fn click(c: &Client, css: &str) -> Result<()> {
    let mut last = None;
    for _ in 0..4 {
        match c
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(el) => match el.click().await {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(anyhow::Error::from(e)),
            },
            Err(e) => last = Some(e.into()),
        }
    }
    Err(last.unwrap())
}

/// Clicks the first element matching `css` from inside the page (the element's own click
/// handler runs, as for a mouse click). For the matter list's rows, which WebKitWebDriver
/// reports as not interactable inside the virtualised list's scroller.
pub async fn click_in_page(c: &Client, css: &str) -> Result<()> {
    let script = "const e = document.querySelector(arguments[0]); if (!e) return false; e.scrollIntoView({block: 'nearest'}); e.click(); return true;";
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let clicked = c
            .execute(script, vec![serde_json::Value::String(css.to_owned())])
            .await?;
        if clicked == serde_json::Value::Bool(true) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("nothing matches {css} to click");
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// The pid of a process running `exe`, if one is.
pub fn pid_of(exe: &Path) -> Option<u32> {
    let want = exe.canonicalize().ok()?;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if std::fs::read_link(entry.path().join("exe")).ok().as_deref() == Some(want.as_path()) {
            return Some(pid);
        }
    }
    None
}
