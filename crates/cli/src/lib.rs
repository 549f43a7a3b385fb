//! `strongroom-cli`: a headless client on the desktop's [`Core`], for scripting and tests.
//!
//! Invariants, the app's own:
//! - The vault key lives in the OS keyring, or is derived from a passphrase; the vault is
//!   never written in plaintext. `export` is the one way data leaves it, on request, into an
//!   owner-only file that is never overwritten.
//! - Passwords and passphrases come from standard input (one a line), never from arguments,
//!   and are never printed.
//! - Every error is printed with its [`ErrorCode`]; the exit status is 0 on success, 2 when
//!   the server cannot be reached (worth retrying), 1 otherwise.

mod secret;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use clap::{Parser, Subcommand};
use serde::Serialize;
use strongroom_client::{
    AppStatus, ClientError, Config, Core, ErrorCode, KEYRING_SERVICE, KeyMode, SearchRequest,
};
use zeroize::Zeroizing;

pub use secret::{Secrets, StdinSecrets, line_to_secret};

/// The exit status when the server cannot be reached: try again later.
pub const EXIT_OFFLINE: u8 = 2;
/// The exit status of any other failure.
pub const EXIT_FAILED: u8 = 1;

/// The folder under the platform's data directory the desktop app uses (its Tauri
/// identifier), so the CLI and the app share one vault by default.
const APP_IDENTIFIER: &str = "law.strongroom.desktop";

const SECRETS_HELP: &str = "\
Secrets: passwords and passphrases are read from standard input, one a line (at a terminal,
a prompt asks for them without echo); they are never taken as arguments and never printed.
Where no OS keyring is available, the vault key is derived from a passphrase instead:
`sign-in` then reads the password on the first line and a new passphrase (at least 10
characters) on the second, and every other command reads the passphrase on the first line.

Exit status: 0 on success, 2 when the server cannot be reached (offline; try again), 1 on
any other error. Errors are printed as `error (CODE): message`.";

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "strongroom-cli",
    version,
    about = "Strongroom's headless client: sign in, sync and read the encrypted vault",
    after_help = SECRETS_HELP
)]
pub struct Cli {
    /// Where the vault lives [default: the desktop app's data folder]
    #[arg(long, global = true, env = "STRONGROOM_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The keyring service name (tests use their own).
    #[arg(long, global = true, hide = true, default_value = KEYRING_SERVICE)]
    pub keyring_service: String,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Signs in (password on standard input) and runs the first sync
    SignIn {
        /// The server's address, e.g. https://strongroom.example.com/
        #[arg(long)]
        server: String,
        #[arg(long)]
        email: String,
        /// A practice CA (PEM) to trust besides the OS roots; kept in the vault
        #[arg(long, value_name = "PEM")]
        ca_file: Option<PathBuf>,
        /// A public-key pin the server must match (sha256/BASE64 of its certificate's
        /// SubjectPublicKeyInfo, as `strongroom-server pin` prints it); repeatable, kept
        /// in the vault
        #[arg(long = "pin", value_name = "PIN")]
        pins: Vec<String>,
        /// Only sign in: the first sync then runs with `sync` (resumable, with progress)
        #[arg(long)]
        no_sync: bool,
    },
    /// Pushes this device's edits and pulls the service's changes
    Sync {
        #[arg(long)]
        json: bool,
        /// Changes a first sync stores per transaction (default 100000): fewer hold less
        /// in memory and lose less to an interruption
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        batch_changes: Option<u64>,
        /// Reports progress as one JSON line per stored batch on standard error
        /// (`{"done":N,"total":N,"bytes":N}`), instead of a bar
        #[arg(long)]
        progress_json: bool,
    },
    /// Shows whether this device is signed in, the practice, last sync, pending edits
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Lists the matters held offline
    Matters {
        #[arg(long)]
        json: bool,
    },
    /// Searches the matters held offline
    Search {
        text: String,
        /// open, on_hold or closed
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        limit: Option<usize>,
        #[arg(long)]
        json: bool,
    },
    /// Lists the conflicts waiting for a decision
    Conflicts {
        #[arg(long)]
        json: bool,
    },
    /// Writes every matter as JSON to FILE. The export is PLAINTEXT: it leaves the vault's
    /// encryption. FILE is created readable by its owner only, and never overwritten.
    Export {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

impl Cli {
    /// The core's configuration for these options.
    pub fn config(&self) -> anyhow::Result<Config> {
        let data_dir = match &self.data_dir {
            Some(d) => d.clone(),
            None => dirs::data_dir()
                .context("no data directory on this platform; pass --data-dir")?
                .join(APP_IDENTIFIER),
        };
        let mut cfg = Config::new(data_dir);
        cfg.keyring_service = self.keyring_service.clone();
        cfg.device_name = format!("Strongroom CLI ({})", std::env::consts::OS);
        Ok(cfg)
    }
}

/// A conflict as `conflicts` shows it.
#[derive(Debug, Serialize)]
pub struct ConflictOut {
    pub server_id: String,
    pub kind: serde_json::Value,
    pub record_kind: serde_json::Value,
    pub record_id: String,
    pub field: String,
    /// JSON text of this device's value and the service's.
    pub mine: Option<String>,
    pub theirs: Option<String>,
}

/// Runs one command, writing its answer to `out`.
pub async fn run(cli: Cli, secrets: &mut dyn Secrets, out: &mut dyn Write) -> anyhow::Result<()> {
    let cfg = cli.config()?;
    match cli.command {
        Command::SignIn {
            server,
            email,
            ca_file,
            pins,
            no_sync,
        } => {
            let cfg = Config {
                server_pins: pins,
                ..cfg
            };
            sign_in(
                cfg,
                &server,
                &email,
                ca_file.as_deref(),
                !no_sync,
                secrets,
                out,
            )
            .await
        }
        Command::Sync {
            json,
            batch_changes,
            progress_json,
        } => {
            let mut cfg = cfg;
            if let Some(n) = batch_changes {
                cfg.bulk_batch_changes = usize::try_from(n).unwrap_or(usize::MAX);
            }
            let mut core = open(cfg, secrets)?;
            // On a terminal, a bar of changes stored of those waiting (drawn on standard
            // error; nothing is drawn when it is not a terminal).
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} changes ({percent}%), {msg}, about {eta} left",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            if progress_json {
                bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            let outcome = core
                .sync_with_progress(&mut |p| {
                    if progress_json {
                        // Written only once the batch is stored: a reader may rely on it.
                        eprintln!(
                            "{}",
                            serde_json::json!({"done": p.done, "total": p.total, "bytes": p.bytes})
                        );
                        return;
                    }
                    if let Some(total) = p.total {
                        bar.set_length(total.max(p.done));
                    }
                    bar.set_position(p.done);
                    bar.set_message(format!("{} received", indicatif::HumanBytes(p.bytes)));
                })
                .await;
            bar.finish_and_clear();
            let report = outcome?;
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
            } else {
                writeln!(
                    out,
                    "pulled {} pages, {} changes, {} bytes\npushed {} edits\nconflicts {}\nrejected {}",
                    report.pages,
                    report.applied,
                    report.bytes,
                    report.pushed,
                    report.conflicts,
                    report.rejected
                )?;
            }
            core.close()?;
            Ok(())
        }
        Command::Status { json } => {
            let mut core = Core::new(cfg);
            let mut st = core.start()?;
            if st.signed_in && st.locked && st.key_mode == Some(KeyMode::Passphrase) {
                // Without a passphrase on stdin, what can be said of a locked vault.
                if let Some(p) = secrets.read("Vault passphrase: ")? {
                    st = core.unlock(Some(&p))?;
                }
            }
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&st)?)?;
            } else {
                write_status(out, &st)?;
            }
            core.close()?;
            Ok(())
        }
        Command::Matters { json } => {
            let mut core = open(cfg, secrets)?;
            let matters = core.matters()?;
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&matters)?)?;
            } else {
                for m in &matters {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}",
                        m.number, m.status, m.title, m.client_name
                    )?;
                }
            }
            core.close()?;
            Ok(())
        }
        Command::Search {
            text,
            status,
            limit,
            json,
        } => {
            let mut core = open(cfg, secrets)?;
            let hits = core.search(&SearchRequest {
                text,
                status,
                limit,
                ..SearchRequest::default()
            })?;
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&hits)?)?;
            } else {
                for h in &hits {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t(in {})",
                        h.number, h.title, h.client_name, h.found_in
                    )?;
                }
            }
            core.close()?;
            Ok(())
        }
        Command::Conflicts { json } => {
            let mut core = open(cfg, secrets)?;
            let conflicts = core
                .conflicts()?
                .into_iter()
                .map(|c| {
                    Ok(ConflictOut {
                        server_id: c.server_id,
                        kind: serde_json::to_value(c.kind)?,
                        record_kind: serde_json::to_value(c.record_kind)?,
                        record_id: c.record_id,
                        field: c.field,
                        mine: c.mine,
                        theirs: c.theirs,
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&conflicts)?)?;
            } else if conflicts.is_empty() {
                writeln!(out, "no open conflicts")?;
            } else {
                for c in &conflicts {
                    writeln!(
                        out,
                        "{} {} {}: mine {} / theirs {} ({}, {})",
                        text_of(&c.record_kind),
                        c.record_id,
                        c.field,
                        c.mine.as_deref().unwrap_or("(none)"),
                        c.theirs.as_deref().unwrap_or("(none)"),
                        text_of(&c.kind),
                        c.server_id
                    )?;
                }
            }
            core.close()?;
            Ok(())
        }
        Command::Export { out: file } => {
            let mut core = open(cfg, secrets)?;
            let matters = core.matters()?;
            let mut json = serde_json::to_vec_pretty(&matters)?;
            json.push(b'\n');
            write_new_private_file(&file, &json)?;
            core.close()?;
            eprintln!(
                "warning: {} is plaintext, outside the vault's encryption; keep it safe",
                file.display()
            );
            writeln!(
                out,
                "exported {} matters to {}",
                matters.len(),
                file.display()
            )?;
            Ok(())
        }
    }
}

async fn sign_in(
    mut cfg: Config,
    server: &str,
    email: &str,
    ca_file: Option<&Path>,
    first_sync: bool,
    secrets: &mut dyn Secrets,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if let Some(ca) = ca_file {
        let pem = std::fs::read_to_string(ca)
            .with_context(|| format!("reading the practice CA file {}", ca.display()))?;
        cfg.practice_ca_pem = Some(pem);
    }
    let mut core = Core::new(cfg);
    let st = core.start()?;
    if st.signed_in {
        return Err(ClientError::AlreadySignedIn.into());
    }
    let password = secrets
        .read("Password: ")?
        .filter(|p| !p.is_empty())
        .ok_or_else(|| anyhow!("no password on standard input (give it as one line)"))?;
    let passphrase: Option<Zeroizing<String>> = if st.keyring_available {
        None
    } else {
        Some(
            secrets
                .read("No keyring here: a new vault passphrase (at least 10 characters): ")?
                .ok_or(ClientError::PassphraseRequired)?,
        )
    };
    let passphrase = passphrase.as_ref().map(|p| p.as_str());
    let st = if first_sync {
        core.sign_in(server, email, &password, passphrase).await?
    } else {
        core.sign_in_without_sync(server, email, &password, passphrase)
            .await?
    };
    drop(password);
    writeln!(
        out,
        "signed in to {} as {}\n{} matters",
        st.practice_name.as_deref().unwrap_or("?"),
        st.user_email.as_deref().unwrap_or(email),
        st.matter_count
    )?;
    if let Some(e) = &st.last_error {
        eprintln!(
            "warning: the first sync did not finish ({}): {}; run `strongroom-cli sync`",
            code_name(e.code),
            e.message
        );
    }
    core.close()?;
    Ok(())
}

/// A started core with its vault open, reading the passphrase if the vault has one.
fn open(cfg: Config, secrets: &mut dyn Secrets) -> anyhow::Result<Core> {
    let mut core = Core::new(cfg);
    let st = core.start()?;
    if let Some(to) = &st.set_aside {
        return Err(
            anyhow::Error::from(ClientError::VaultUnreadable).context(format!(
                "this device's copy could not be read and was set aside as {to}; sign in again"
            )),
        );
    }
    if !st.signed_in {
        return Err(ClientError::NotSignedIn.into());
    }
    if st.locked {
        if st.key_mode != Some(KeyMode::Passphrase) {
            return Err(ClientError::VaultLocked.into());
        }
        let p = secrets
            .read("Vault passphrase: ")?
            .ok_or(ClientError::PassphraseRequired)?;
        core.unlock(Some(&p))?;
    }
    Ok(core)
}

fn write_status(out: &mut dyn Write, st: &AppStatus) -> anyhow::Result<()> {
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let or_none = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
    writeln!(out, "signed in: {}", yes_no(st.signed_in))?;
    if let Some(to) = &st.set_aside {
        writeln!(out, "set aside: {to} (unreadable; sign in again)")?;
    }
    if !st.signed_in {
        return Ok(());
    }
    let key = match st.key_mode {
        Some(KeyMode::Keyring) => "keyring",
        Some(KeyMode::Passphrase) => "passphrase",
        None => "-",
    };
    writeln!(out, "locked: {}", yes_no(st.locked))?;
    writeln!(out, "key: {key}")?;
    writeln!(out, "practice: {}", or_none(&st.practice_name))?;
    writeln!(out, "user: {}", or_none(&st.user_email))?;
    writeln!(out, "server: {}", or_none(&st.server_url))?;
    writeln!(
        out,
        "connection: {}",
        text_of(&serde_json::to_value(st.connection)?)
    )?;
    writeln!(out, "last sync: {}", or_none(&st.last_sync_at))?;
    writeln!(out, "pending edits: {}", st.pending_edits)?;
    writeln!(out, "matters: {}", st.matter_count)?;
    Ok(())
}

fn text_of(v: &serde_json::Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

/// An error code as the UI and scripts know it: `server_unreachable`.
pub fn code_name(code: ErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .as_ref()
        .map_or_else(|| format!("{code:?}"), text_of)
}

/// The core's error behind `e`, if any.
fn client_error(e: &anyhow::Error) -> Option<&ClientError> {
    e.chain().find_map(|c| c.downcast_ref::<ClientError>())
}

/// The exit status for a failure: [`EXIT_OFFLINE`] when the server cannot be reached.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    match client_error(e) {
        Some(c) if c.is_offline() => EXIT_OFFLINE,
        _ => EXIT_FAILED,
    }
}

/// A failure as printed: `error (server_unreachable): ...`.
pub fn describe(e: &anyhow::Error) -> String {
    let code = client_error(e).map_or_else(|| "internal".to_owned(), |c| code_name(c.code()));
    let mut text = format!("error ({code}): {e:#}");
    if client_error(e).is_some_and(ClientError::is_offline) {
        text.push_str("\noffline: nothing was changed; try again when the server answers");
    }
    text
}

/// Writes `bytes` to a new file at `path`, readable and writable by its owner only. An
/// existing file is never overwritten; a file half written is removed.
pub fn write_new_private_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                anyhow!(
                    "{} already exists; refusing to overwrite it",
                    path.display()
                )
            }
            _ => anyhow::Error::from(e).context(format!("creating {}", path.display())),
        })?;
    let written = file
        .set_permissions(std::fs::Permissions::from_mode(0o600))
        .and_then(|()| file.write_all(bytes))
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(anyhow::Error::from(e).context(format!("writing {}", path.display())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_errors_exit_2_and_name_their_code() {
        let e = anyhow::Error::from(ClientError::Unreachable("refused".into()));
        assert_eq!(exit_code(&e), EXIT_OFFLINE);
        assert!(describe(&e).starts_with("error (server_unreachable): "));
        let e = anyhow::Error::from(ClientError::InvalidCredentials).context("signing in");
        assert_eq!(exit_code(&e), EXIT_FAILED);
        assert!(describe(&e).starts_with("error (invalid_credentials): signing in: "));
        let e = anyhow!("something else");
        assert_eq!(exit_code(&e), EXIT_FAILED);
        assert!(describe(&e).starts_with("error (internal): "));
    }

    #[test]
    fn private_files_are_owner_only_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_new_private_file(&path, b"[]\n").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let err = write_new_private_file(&path, b"other").unwrap_err();
        assert!(err.to_string().contains("refusing to overwrite"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"[]\n");
    }

    #[test]
    fn the_command_line_parses() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "strongroom-cli",
            "--data-dir",
            "/tmp/x",
            "search",
            "harbour",
            "--status",
            "open",
            "--limit",
            "3",
        ])
        .unwrap();
        assert_eq!(cli.config().unwrap().data_dir, PathBuf::from("/tmp/x"));
        assert!(matches!(
            cli.command,
            Command::Search { limit: Some(3), .. }
        ));
    }
}
