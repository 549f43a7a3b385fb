//! End to end, as a lawyer would: the real hosted service on 127.0.0.1 over TLS, the real
//! desktop app in WebKit under Xvfb (tauri-driver + WebKitWebDriver), the real keyring.
//!
//! Sign in, see the practice's matters, search, open a matter and add a file note, lose the
//! server, still see them (and the app says it is offline), add a note offline, restart
//! the app offline, still see them; the server returns, the offline note syncs and a
//! second client gets both notes, and the second client's edit shows in the window by
//! itself. Then read every file the app wrote: no matter or client name, no note, no vault
//! key and no session token in any of them. The privacy dashboard's own journey is in
//! `privacy.rs`; a breach notice's, to a desktop notification, in `notices.rs`; the installed
//! package's in `package.rs`.

mod driver;
mod notices;
mod package;
mod privacy;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use strongroom_client::{KEYRING_SERVICE, profile_for};
use strongroom_keystore::{Keystore, SecretKind};
use strongroom_server::{ServeOptions, seed};
use strongroom_vault::{Vault, VaultError, VaultKey};

use driver::{Driver, click, click_in_page, eventually, text_of, texts_of, type_into};

const APP_IDENTIFIER: &str = "law.strongroom.desktop";
const WAIT: Duration = Duration::from_secs(45);
/// The keyring service of the second client (the app's own is `KEYRING_SERVICE`).
const SECOND_KEYRING_SERVICE: &str = "law.strongroom.e2e.second";
const ONLINE_NOTE: &str = "Call with the executor";
const OFFLINE_NOTE: &str = "Offline note from the plane";
const RENAMED: &str = "Estate of Margaret Okafor: probate and sale of the house";

fn screenshot_dir() -> PathBuf {
    std::env::var_os("STRONGROOM_SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e-screenshots"))
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p);
            if meta.as_ref().map(|m| m.is_dir()).unwrap_or(false) {
                out.extend(files_under(&p));
            } else if meta.map(|m| m.is_file()).unwrap_or(false) {
                out.push(p);
            }
        }
    }
    out
}

async fn wait_for_matters(c: &fantoccini::Client, titles: &[String]) -> Result<Vec<String>> {
    let found = eventually("every seeded matter on screen", WAIT, || async {
        let shown = texts_of(c, "tr.matter-row td.title").await?;
        titles.iter().all(|t| shown.contains(t)).then_some(shown)
    })
    .await;
    if found.is_err() {
        let _ = save_screenshot(c, "failure.png").await;
        let shown = texts_of(c, "tr.matter-row td.title").await;
        let rows = c
            .find_all(fantoccini::Locator::Css("tr.matter-row"))
            .await
            .map(|r| r.len());
        return found.with_context(|| format!("titles read: {shown:?}; rows: {rows:?}"));
    }
    found
}

async fn wait_for_connection(c: &fantoccini::Client, want: &str) -> Result<()> {
    eventually(&format!("the status line to say {want}"), WAIT, || async {
        let t = text_of(c, "[data-testid=connection]").await?;
        (t.trim() == want).then_some(())
    })
    .await
}

/// Calls a command from inside the page, as script in the webview could.
async fn invoke_from_page(c: &fantoccini::Client, cmd: &str) -> Result<serde_json::Value> {
    let script = r#"
        const [cmd, done] = [arguments[0], arguments[arguments.length - 1]];
        window.__TAURI_INTERNALS__.invoke(cmd, {}).then(
            (v) => done({ ok: true, value: JSON.stringify(v ?? null).slice(0, 200) }),
            (e) => done({ ok: false, error: String(e && e.message ? e.message : JSON.stringify(e)) }),
        );
    "#;
    Ok(
        c.execute_async(script, vec![serde_json::Value::String(cmd.to_owned())])
            .await?,
    )
}

/// On a matter page: the File notes tab, a new note, and the note shown.
async fn add_file_note(c: &fantoccini::Client, subject: &str, body: &str) -> Result<()> {
    eventually("the matter page's tabs", WAIT, || async {
        text_of(c, "#tab-notes").await
    })
    .await?;
    click(c, "#tab-notes").await?;
    click(c, "#add-note").await?;
    type_into(c, "#note-subject", subject).await?;
    type_into(c, "#note-body", body).await?;
    click(c, "#save-note").await?;
    eventually(&format!("the note {subject:?} listed"), WAIT, || async {
        let shown = texts_of(c, "[data-testid=note] .note-subject").await?;
        shown.iter().any(|s| s == subject).then_some(())
    })
    .await
}

/// The environment the app is launched with: its whole world under `home` (every file it
/// writes lands there), trusting the practice CA at `ca`.
pub(crate) fn app_env(home: &Path, ca: &Path) -> Vec<(&'static str, std::ffi::OsString)> {
    vec![
        ("HOME", home.into()),
        ("XDG_DATA_HOME", home.join(".local/share").into()),
        ("XDG_CONFIG_HOME", home.join(".config").into()),
        ("XDG_CACHE_HOME", home.join(".cache").into()),
        ("XDG_STATE_HOME", home.join(".local/state").into()),
        ("STRONGROOM_CA_FILE", ca.into()),
    ]
}

/// Signs in to `url` as the demo member through the window's form, and waits until every
/// matter titled in `titles` is listed and the app is online.
pub(crate) async fn sign_in_through_the_window(
    c: &fantoccini::Client,
    url: &str,
    titles: &[String],
) -> Result<()> {
    eventually("the sign-in form", WAIT, || async {
        text_of(c, "#signin-title").await
    })
    .await?;
    type_into(c, "#server-url", url).await?;
    type_into(c, "#email", seed::DEMO_EMAIL).await?;
    type_into(c, "#password", seed::DEMO_PASSWORD).await?;
    click(c, "#sign-in").await?;
    wait_for_matters(c, titles).await?;
    wait_for_connection(c, "Online").await
}

/// Saves what the window shows, as the X server has it (`import` from ImageMagick, cropped
/// to the window). Not WebDriver's Take Screenshot: WebKit takes that in the window's
/// process after the next presentation update, which, with the frames in shared memory
/// (the app keeps OpenGL out of that process, `src-tauri/gl.rs`), sometimes never comes.
async fn save_screenshot(c: &fantoccini::Client, name: &str) -> Result<()> {
    // WebKit paints after the DOM changes: give it a moment so the picture is current.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (x, y, width, height) = c.get_window_rect().await?;
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(name);
    let import = driver::find_program("import")
        .context("ImageMagick's import is not installed (Debian package imagemagick); scripts/test installs it")?;
    let out = tokio::process::Command::new(import)
        .args(["-silent", "-window", "root", "-crop"])
        .arg(format!("{width}x{height}+{x}+{y}"))
        .arg("+repage")
        .arg(&path)
        .output()
        .await?;
    anyhow::ensure!(
        out.status.success(),
        "import could not take {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&path)?;
    anyhow::ensure!(
        png.starts_with(b"\x89PNG"),
        "{name} is not a PNG ({} bytes)",
        png.len()
    );
    Ok(())
}

/// The shared objects of OpenGL's drivers that process `pid` has mapped: Mesa's drivers and
/// the `libLLVM` they link (`src-tauri/gl.rs` keeps them out of the app's process).
fn gl_drivers_mapped(pid: u32) -> Result<Vec<String>> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))?;
    let mut found: Vec<String> = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .filter(|path| {
            let file = path.rsplit('/').next().unwrap_or(path);
            file.starts_with("libLLVM")
                || file.ends_with("_dri.so")
                || file.starts_with("libgallium")
                || file.starts_with("libEGL_mesa")
                || file.starts_with("libGLX_mesa")
        })
        .map(str::to_owned)
        .collect();
    found.sort();
    found.dedup();
    Ok(found)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_sync_and_keep_working_offline() -> Result<()> {
    let (driver_bin, native) = driver::check_prerequisites()?;
    let app = PathBuf::from(env!("CARGO_BIN_EXE_strongroom"));

    let server_dir = tempfile::tempdir()?;
    let server = strongroom_server::start(ServeOptions {
        data_dir: server_dir.path().to_owned(),
        listen: "127.0.0.1:0".parse()?,
        seed_demo: true,
    })
    .await?;
    let demo = seed::demo_matters();
    let titles: Vec<String> = demo.iter().map(|m| m.title.clone()).collect();

    // The app's whole world: every file it writes lands under this home.
    let home = tempfile::tempdir()?;
    let url = server.url();
    let mut env = app_env(home.path(), &server.ca_pem_path);
    env.push(("STRONGROOM_SERVER_URL", url.clone().into()));
    let data_dir = home.path().join(".local/share").join(APP_IDENTIFIER);
    let log = std::env::temp_dir().join(format!(
        "strongroom-e2e-{}-tauri-driver.log",
        std::process::id()
    ));
    let driver = Driver::start(&driver_bin, &native, &env, &log)?;

    // 1. Sign in and see the matters.
    let c = driver.session(&app).await?;
    eventually("the sign-in form", WAIT, || async {
        text_of(&c, "#signin-title").await
    })
    .await?;
    save_screenshot(&c, "sign-in.png").await?;
    type_into(&c, "#server-url", &url).await?;
    type_into(&c, "#email", seed::DEMO_EMAIL).await?;
    type_into(&c, "#password", seed::DEMO_PASSWORD).await?;
    click(&c, "#sign-in").await?;
    wait_for_matters(&c, &titles).await?;
    wait_for_connection(&c, "Online").await?;
    save_screenshot(&c, "matters.png").await?;

    // The window's process has shown the page, signed in and synced without loading any
    // OpenGL driver (60 MiB resident): the web process draws, this one only shows.
    let pid = driver::pid_of(&app).context("the app's process")?;
    let drivers = gl_drivers_mapped(pid)?;
    assert!(
        drivers.is_empty(),
        "the app's process loaded OpenGL drivers: {drivers:?}"
    );

    // The window's size is remembered (checked after a restart below).
    c.set_window_size(1024, 700).await?;
    // One app, one vault: a second launch hands over to this one and exits.
    let second_launch = tokio::process::Command::new(&app)
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    let exited = tokio::time::timeout(Duration::from_secs(30), second_launch)
        .await
        .context("a second launch kept running beside the first")??;
    assert!(exited.success(), "the second launch failed: {exited}");
    let still = invoke_from_page(&c, "app_status").await?;
    assert_eq!(
        still["ok"], true,
        "the first app stopped answering: {still}"
    );

    // The app's commands are an allow-list: an allowed one answers, anything else (a core
    // command no capability grants, a command that does not exist) is refused.
    let allowed = invoke_from_page(&c, "app_status").await?;
    assert_eq!(allowed["ok"], true, "{allowed}");
    for refused in [
        "plugin:app|version",
        "plugin:path|resolve_directory",
        "wipe_everything",
    ] {
        let answer = invoke_from_page(&c, refused).await?;
        assert_eq!(answer["ok"], false, "{refused} was not refused: {answer}");
    }

    // Search as you type, through the vault's full-text index.
    type_into(&c, "#matter-search", "okaf").await?;
    eventually("only the Okafor matter listed", WAIT, || async {
        let shown = texts_of(&c, "tr.matter-row td.title").await?;
        (shown.len() == 1 && shown[0].contains("Okafor")).then_some(())
    })
    .await?;
    save_screenshot(&c, "search.png").await?;

    // The matter page: open the found matter, add a file note.
    click_in_page(&c, "tr.matter-row").await?;
    eventually("the matter page", WAIT, || async {
        let t = text_of(&c, "#matter-title").await?;
        t.contains("Okafor").then_some(())
    })
    .await?;
    save_screenshot(&c, "matter.png").await?;
    add_file_note(
        &c,
        ONLINE_NOTE,
        "Spoke with the executor about the valuation.",
    )
    .await?;
    save_screenshot(&c, "matter-notes.png").await?;
    click(&c, "#back").await?;
    type_into(&c, "#matter-search", "").await?;
    wait_for_matters(&c, &titles).await?;

    // Lock on demand: the vault closes; unlocking takes the key from the keyring again.
    click(&c, "#lock").await?;
    eventually("the lock screen", WAIT, || async {
        text_of(&c, "#unlock-title").await
    })
    .await?;
    save_screenshot(&c, "locked.png").await?;
    click(&c, "#unlock").await?;
    wait_for_matters(&c, &titles).await?;

    // 2. The server goes away: the list stays and the app says it is offline.
    server.stop().await;
    click(&c, "#sync-now").await?;
    wait_for_connection(&c, "Offline").await?;
    wait_for_matters(&c, &titles).await?;
    eventually("the offline note", WAIT, || async {
        text_of(&c, "[data-testid=offline-note]").await
    })
    .await?;
    save_screenshot(&c, "matters-offline.png").await?;

    // Offline, the lawyer keeps working: a file note, kept on this device until it syncs.
    type_into(&c, "#matter-search", "okaf").await?;
    eventually("only the Okafor matter listed", WAIT, || async {
        let shown = texts_of(&c, "tr.matter-row td.title").await?;
        (shown.len() == 1).then_some(())
    })
    .await?;
    click_in_page(&c, "tr.matter-row").await?;
    add_file_note(
        &c,
        OFFLINE_NOTE,
        "Drafted on the plane; to send to the executor.",
    )
    .await?;
    eventually("the note marked as not yet synced", WAIT, || async {
        text_of(&c, "[data-testid=unsynced-mark]").await
    })
    .await?;
    save_screenshot(&c, "matter-offline-edit.png").await?;
    click(&c, "#back").await?;
    type_into(&c, "#matter-search", "").await?;
    wait_for_matters(&c, &titles).await?;

    // A system shutdown (SIGTERM) ends the app as cleanly as closing it: the vault is
    // checkpointed and its open-marker removed, so the next start needs no integrity check.
    let marker = data_dir.join("vault").join("vault.db.open");
    assert!(marker.exists(), "the open vault has no marker");
    let pid = driver::pid_of(&app).context("the app's process")?;
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()?;
    assert!(killed.success());
    eventually("the vault closed on SIGTERM", WAIT, || async {
        (!marker.exists() && driver::pid_of(&app).is_none()).then_some(())
    })
    .await?;
    c.close().await.ok();

    // 3. Restart the app with the server still gone: straight to the matters, offline,
    // in a window of the size it had.
    let c = driver.session(&app).await?;
    wait_for_matters(&c, &titles).await?;
    wait_for_connection(&c, "Offline").await?;
    let (_, _, width, height) = c.get_window_rect().await?;
    assert_eq!(
        (width as u32, height as u32),
        (1024, 700),
        "the window's size was not kept"
    );

    // The server comes back: the offline note goes up, and a second client (the same
    // member on another device) gets it; its own edit reaches this window by itself.
    let server = strongroom_server::start(ServeOptions {
        data_dir: server_dir.path().to_owned(),
        listen: server.addr,
        seed_demo: true,
    })
    .await?;
    click(&c, "#sync-now").await?;
    wait_for_connection(&c, "Online").await?;
    let second_dir = tempfile::tempdir()?;
    let mut cfg = strongroom_client::Config::new(second_dir.path().join("data"));
    cfg.keyring_service = SECOND_KEYRING_SERVICE.into();
    cfg.practice_ca_pem = Some(std::fs::read_to_string(&server.ca_pem_path)?);
    cfg.without_os_roots = true;
    let mut second = strongroom_client::Core::new(cfg);
    second.start()?;
    second
        .sign_in(&server.url(), seed::DEMO_EMAIL, seed::DEMO_PASSWORD, None)
        .await?;
    let okafor = second
        .matters()?
        .into_iter()
        .find(|m| m.title.contains("Okafor"))
        .context("the Okafor matter on the second client")?;
    let deadline = tokio::time::Instant::now() + WAIT;
    let notes = loop {
        second.sync().await.ok();
        let page = second.matter_detail(&okafor.id)?;
        let subjects: Vec<String> = page.file_notes.iter().map(|n| n.subject.clone()).collect();
        if subjects.iter().any(|s| s == ONLINE_NOTE) && subjects.iter().any(|s| s == OFFLINE_NOTE) {
            break subjects;
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the second client did not get both notes: {subjects:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    for subject in [ONLINE_NOTE, OFFLINE_NOTE] {
        let times = notes.iter().filter(|s| s.as_str() == subject).count();
        assert_eq!(times, 1, "{subject:?} once: {notes:?}");
    }
    second.save_record(
        strongroom_client::RecordKind::Matter,
        Some(&okafor.id),
        serde_json::json!({ "title": RENAMED })
            .as_object()
            .cloned()
            .context("an object")?,
    )?;
    second.sync().await?;
    eventually(
        "the second client's edit in the window, unasked",
        WAIT,
        || async {
            let shown = texts_of(&c, "tr.matter-row td.title").await?;
            shown.iter().any(|t| t == RENAMED).then_some(())
        },
    )
    .await?;
    second.sign_out().await?;
    c.close().await.ok();
    drop(driver);

    // 4. The secrets are in the keyring, and nothing readable is in any file.
    let profile = profile_for(&data_dir);
    let keystore = Keystore::native(KEYRING_SERVICE);
    let key_bytes = keystore
        .get(SecretKind::VaultKey, &profile)?
        .context("the vault key is not in the keyring")?;
    let token = keystore
        .get(SecretKind::SessionToken, &profile)?
        .context("the session token is not in the keyring")?;
    assert_eq!(key_bytes.len(), 32);
    let hex_key: String = key_bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut needles: Vec<(String, Vec<u8>)> = vec![
        ("vault key".into(), key_bytes.to_vec()),
        ("vault key (hex)".into(), hex_key.clone().into_bytes()),
        (
            "vault key (HEX)".into(),
            hex_key.to_uppercase().into_bytes(),
        ),
        ("session token".into(), token.to_vec()),
    ];
    for text in [ONLINE_NOTE, OFFLINE_NOTE, RENAMED] {
        needles.push((format!("{text:?}"), text.as_bytes().to_vec()));
    }
    for m in &demo {
        needles.push((format!("title {:?}", m.title), m.title.clone().into_bytes()));
        needles.push((
            format!("client {:?}", m.client_name),
            m.client_name.clone().into_bytes(),
        ));
    }
    // Nothing that says who the user is, either: the webview keeps nothing of its own
    // (no storage, cookies or form data) that names the member or the practice.
    for (what, text) in [
        ("the member's email", seed::DEMO_EMAIL),
        ("the member's name", seed::DEMO_NAME),
        ("the practice's name", seed::DEMO_PRACTICE),
    ] {
        needles.push((what.into(), text.as_bytes().to_vec()));
    }
    // WebKit keeps web storage as UTF-16: every text is looked for in that form too.
    let texts: Vec<(String, Vec<u8>)> = needles
        .iter()
        .filter_map(|(what, n)| {
            let text = std::str::from_utf8(n).ok()?;
            let utf16 = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
            Some((format!("{what} (UTF-16)"), utf16))
        })
        .collect();
    needles.extend(texts);
    let written = files_under(home.path());
    // The window's size and place are remembered, outside the vault.
    assert!(
        written.iter().any(|p| p.ends_with(".window-state.json")),
        "no window state kept: {written:?}"
    );
    assert!(
        written.iter().any(|p| p.ends_with("vault.db")),
        "the vault is not where expected: {written:?}"
    );
    for path in &written {
        // The webview may still be tidying its own files away as the app exits.
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e.into()),
        };
        for (what, needle) in &needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{what} found in plaintext in {}",
                path.display()
            );
        }
    }

    // 5. The vault opens with its key and with nothing else.
    let vault_path = data_dir.join("vault").join("vault.db");
    let key = VaultKey::from_slice(&key_bytes).context("key length")?;
    let wrong = VaultKey::generate()?;
    assert!(matches!(
        Vault::open(&vault_path, &wrong),
        Err(VaultError::WrongKeyOrNotAVault)
    ));
    let header = std::fs::read(&vault_path)?;
    assert!(
        !header.starts_with(b"SQLite format 3\0"),
        "the vault has a plain SQLite header: it is not encrypted"
    );
    let vault = Vault::open(&vault_path, &key)?;
    assert_eq!(vault.matters()?.len(), demo.len());
    drop(vault);

    keystore.delete(SecretKind::VaultKey, &profile)?;
    keystore.delete(SecretKind::SessionToken, &profile)?;
    std::fs::remove_file(&log).ok();
    Ok(())
}
