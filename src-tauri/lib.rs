//! The Strongroom desktop app: a thin Tauri shell over [`strongroom_client::Core`].
//!
//! Invariant: this crate holds no logic. Each command takes the core's lock, calls one
//! method and maps its error to an [`ErrorDto`](strongroom_client::ErrorDto) with a code.
//! Invariant: the window loads only the bundled UI; each command is allowed by name in
//! `capabilities/`. The vault lives in its own owner-only folder, apart from the webview's.
//! Invariant: the vault locks itself after the configured idle time (a background tick).
//! Invariant: one app, one vault: a second launch hands over to the running app (which
//! comes to the front) and exits before it opens anything. The window's size and place
//! are kept in the config folder, outside the vault, and name nothing of the practice.
//! The live loop ([`strongroom_client::run_live`]) runs in the background from start-up
//! and tells the window `strongroom://changed` after each sync or connection change; the
//! event carries nothing, the window asks the core what changed.
//! Desktop notifications: every [`NOTICE_POLL`] the shell asks the core which notices to
//! raise ([`Core::notices_to_raise`]: unread, the member's `desktop` choice on, once per
//! device) and raises each through the notification plugin, from Rust only (the window
//! has no permission to raise one).

mod commands;
pub mod gl;

use std::path::PathBuf;

use anyhow::Context;
use strongroom_client::{Config, Core};
use tauri::{Emitter, Manager};

/// What is remembered of the window: its size and place, and whether it was maximised.
const WINDOW_STATE: tauri_plugin_window_state::StateFlags =
    tauri_plugin_window_state::StateFlags::SIZE
        .union(tauri_plugin_window_state::StateFlags::POSITION)
        .union(tauri_plugin_window_state::StateFlags::MAXIMIZED);

/// How often the shell asks the core for notices to raise as desktop notifications.
const NOTICE_POLL: std::time::Duration = std::time::Duration::from_secs(15);

/// The longest body a desktop notification shows; the inbox has the whole text.
const NOTICE_BODY_CHARS: usize = 240;

/// Raises the notices the core says are new, and tells the window (its counts change).
async fn raise_new_notices(handle: &tauri::AppHandle) {
    use tauri_plugin_notification::NotificationExt;
    let state = handle.state::<CoreState>();
    let notices = match state.0.lock().await.notices_to_raise().await {
        Ok(n) => n,
        Err(e) => {
            tracing::debug!(code = ?e.code(), "no notices to raise this time");
            return;
        }
    };
    if notices.is_empty() {
        return;
    }
    for n in &notices {
        let mut body: String = n.body.chars().take(NOTICE_BODY_CHARS).collect();
        if body.len() < n.body.len() {
            body.push('…');
        }
        if let Err(e) = handle
            .notification()
            .builder()
            .title(&n.title)
            .body(body)
            .show()
        {
            tracing::warn!(error = %e, "raising a desktop notification failed");
        }
    }
    if let Err(e) = handle.emit("strongroom://changed", ()) {
        tracing::warn!(error = %e, "telling the window of new notices failed");
    }
}

/// How long leaving the app waits for the core to be free to close the vault.
const EXIT_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// The core, shared by the commands.
pub struct CoreState(pub tokio::sync::Mutex<Core>);

fn config(app: &tauri::App) -> anyhow::Result<Config> {
    let data_dir = match std::env::var_os("STRONGROOM_DATA_DIR") {
        Some(d) => PathBuf::from(d),
        None => app
            .path()
            .app_data_dir()
            .context("no data directory for the app")?,
    };
    let mut cfg = Config::new(data_dir);
    cfg.default_server_url = std::env::var("STRONGROOM_SERVER_URL")
        .ok()
        .filter(|s| !s.is_empty());
    if let Some(ca) = std::env::var_os("STRONGROOM_CA_FILE").filter(|s| !s.is_empty()) {
        let pem = std::fs::read_to_string(&ca).with_context(|| {
            format!(
                "reading the practice CA file {}",
                PathBuf::from(&ca).display()
            )
        })?;
        cfg.practice_ca_pem = Some(pem);
    }
    // Where exports are saved (default: the user's Downloads folder).
    if let Some(dir) = std::env::var_os("STRONGROOM_EXPORT_DIR").filter(|s| !s.is_empty()) {
        cfg.export_dir = Some(PathBuf::from(dir));
    }
    // Public-key pins for sign-in, comma-separated (`sha256/<base64>`); checked when used.
    if let Ok(pins) = std::env::var("STRONGROOM_SERVER_PINS") {
        cfg.server_pins = pins
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
    }
    Ok(cfg)
}

/// Builds and runs the app until its window closes.
pub fn run() -> anyhow::Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let app = tauri::Builder::default()
        // First, so a second launch hands over to the running app (which comes to the
        // front) and exits before anything else starts: one app, one vault.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.show();
                let _ = window.set_focus();
            }
        }))
        // Desktop notifications, raised from Rust only: no capability lets the window use it.
        .plugin(tauri_plugin_notification::init())
        // The window's size and place, in the app's config folder: nothing identifying.
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(WINDOW_STATE)
                .build(),
        )
        .setup(|app| {
            let cfg = config(app)?;
            let core = Core::new(cfg);
            let live = core.live_control();
            app.manage(CoreState(tokio::sync::Mutex::new(core)));
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let state = handle.state::<CoreState>();
                strongroom_client::run_live(
                    &state.0,
                    &live,
                    strongroom_client::LiveOptions::default(),
                    |_update| {
                        if let Err(e) = handle.emit("strongroom://changed", ()) {
                            tracing::warn!(error = %e, "telling the window of a change failed");
                        }
                    },
                )
                .await;
            });
            // A system shutdown or a `kill` ends the app as cleanly as closing its window:
            // the vault is closed (checkpointed, its open-marker removed), so the next
            // start needs no integrity check.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
                    signal(SignalKind::terminate()),
                    signal(SignalKind::interrupt()),
                    signal(SignalKind::hangup()),
                ) else {
                    tracing::warn!("no signal handlers: a signal ends the app uncleanly");
                    return;
                };
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                    _ = hup.recv() => {}
                }
                handle.exit(0);
            });
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                loop {
                    tokio::time::sleep(NOTICE_POLL).await;
                    raise_new_notices(&handle).await;
                }
            });
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(20)).await;
                    let state = handle.state::<CoreState>();
                    if let Err(e) = state.0.lock().await.lock_if_idle(std::time::Instant::now()) {
                        tracing::warn!(code = ?e.code(), "idle lock failed");
                    }
                }
            });
            Ok(())
        })
        // Kept as it changes, not only on a clean exit (a killed or crashed app keeps it too).
        .on_window_event(|window, event| {
            if matches!(
                event,
                tauri::WindowEvent::Resized(_) | tauri::WindowEvent::Moved(_)
            ) {
                use tauri_plugin_window_state::AppHandleExt;
                if let Err(e) = window.app_handle().save_window_state(WINDOW_STATE) {
                    tracing::debug!(error = %e, "keeping the window's place failed");
                }
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_start,
            commands::app_status,
            commands::sign_in,
            commands::sign_out,
            commands::unlock,
            commands::lock,
            commands::sync_now,
            commands::list_matters,
            commands::matter_filters,
            commands::search_matters,
            commands::matter_detail,
            commands::find_contacts,
            commands::save_record,
            commands::delete_record,
            commands::list_conflicts,
            commands::resolve_conflict,
            commands::rejected_edits,
            commands::dismiss_rejected_edit,
            commands::timer_state,
            commands::timer_start,
            commands::timer_pause,
            commands::timer_resume,
            commands::timer_stop,
            commands::list_sessions,
            commands::revoke_session,
            commands::revoke_other_sessions,
            commands::list_members,
            commands::list_invitations,
            commands::invite_member,
            commands::revoke_invitation,
            commands::update_member,
            commands::remove_credentials,
            commands::access_review,
            commands::complete_access_review,
            commands::reauthenticate,
            commands::audit_log,
            commands::export_audit_log,
            commands::export_practice,
            commands::export_vault,
            commands::support_grants,
            commands::approve_grant,
            commands::decline_grant,
            commands::revoke_grant,
            commands::support_access_log,
            commands::list_integrations,
            commands::create_integration,
            commands::revoke_integration,
            commands::cookie_catalogue,
            commands::consent_state,
            commands::change_consent,
            commands::notification_preferences,
            commands::update_notification_preferences,
            commands::list_notices,
            commands::mark_notice_read,
            commands::usage_report_preview,
            commands::incidents,
            commands::acknowledge_incident,
            commands::incident_acknowledgements,
            commands::policies,
            commands::policy_document,
            commands::acknowledge_policy,
        ])
        .build(tauri::generate_context!())
        .context("building the app")?;
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event {
            let state = handle.state::<CoreState>();
            // Wait a moment for whatever holds the core (a command, the live loop between
            // two network waits). A sync that keeps it longer (a large first sync's batch)
            // leaves the vault as SQLite left it: every committed batch is durable, and the
            // next start checks the file.
            let closed = tauri::async_runtime::block_on(async {
                match tokio::time::timeout(EXIT_WAIT, state.0.lock()).await {
                    Ok(mut core) => Some(core.close()),
                    Err(_) => None,
                }
            });
            match closed {
                Some(Ok(())) => {}
                Some(Err(e)) => tracing::warn!(code = ?e.code(), "closing the vault failed"),
                None => tracing::warn!("the core stayed busy; the vault is left to its next check"),
            }
        }
    });
    Ok(())
}
