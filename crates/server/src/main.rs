//! `strongroom-server`: the hosted service and its operator commands (create a practice,
//! create a member, seed benchmark data, verify the audit log, record a breach and follow
//! its notices, publish a policy version).
//!
//! `serve` takes its settings from a TOML file, the environment and its flags
//! ([`strongroom_server::config`]); the operator commands from their flags and environment.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use strongroom_protocol::Role;
use strongroom_server::audit::Verdict;
use strongroom_server::config::{self, LogFormat, LogSettings, Overrides, ServerConfig};
use strongroom_server::{ServeOptions, StoreConfig, operator, seed};
use uuid::Uuid;

#[derive(Parser)]
#[command(
    name = "strongroom-server",
    version,
    about = "The Strongroom hosted service"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API over TLS. Settings come from the defaults, then the `--config` file,
    /// then the `STRONGROOM_*` environment variables, then these flags (see
    /// strongroom-server.example.toml).
    Serve {
        /// A TOML file of settings.
        #[arg(long, env = "STRONGROOM_CONFIG")]
        config: Option<PathBuf>,
        /// Directory for the TLS material, and for the SQLite database `server.db`
        /// [default: .strongroom-server; env: STRONGROOM_SERVER_DATA].
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Address to listen on [default: 127.0.0.1:8443; env: STRONGROOM_LISTEN].
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Seed the demo practice if it is not there yet.
        #[arg(long)]
        seed_demo: bool,
        /// Keep the data in this PostgreSQL database (`postgres://user@host:port/db`)
        /// instead of SQLite's `server.db` in the data directory
        /// [env: STRONGROOM_DATABASE_URL].
        #[arg(long)]
        database_url: Option<String>,
        /// How log lines are written: pretty or json [default: pretty; env:
        /// STRONGROOM_LOG_FORMAT].
        #[arg(long, value_parser = parse_log_format)]
        log_format: Option<LogFormat>,
        /// What is logged: a tracing filter such as `info` or `debug`
        /// [default: info,tower_http=warn; env: STRONGROOM_LOG_LEVEL, else RUST_LOG].
        #[arg(long)]
        log_level: Option<String>,
        /// Serve the UI's browser entry (the account and privacy pages) from this folder:
        /// the UI's build output, `ui/dist` [env: STRONGROOM_WEB_ROOT].
        #[arg(long, env = "STRONGROOM_WEB_ROOT")]
        web_root: Option<PathBuf>,
    },
    /// Create a practice; prints its id.
    CreatePractice {
        /// The practice's name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Create a member of a practice; prints the member's id. The password is read from
    /// standard input (one line, 12 to 1024 characters, not easily guessed), never from the command line.
    CreateMember {
        /// The practice's id.
        #[arg(long)]
        practice: Uuid,
        /// The member's email, which signs them in.
        #[arg(long)]
        email: String,
        /// The member's name as shown.
        #[arg(long)]
        name: String,
        /// What the member may do: admin, lawyer or read_only.
        #[arg(long, default_value = "lawyer", value_parser = parse_role)]
        role: Role,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Create a support staff member (no practice's member: they reach a practice's data
    /// only through a grant it approves); prints their id. The password is read from
    /// standard input (one line, 12 to 1024 characters, not easily guessed).
    AddSupportStaff {
        /// The staff member's email, which signs them in at /v1/support/auth/sign-in.
        #[arg(long)]
        email: String,
        /// The staff member's name as practices see it.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Create a benchmark practice with a member (prints the email and a generated
    /// password) and generated matters.
    Seed {
        /// How many matters, 1 to 100000.
        #[arg(long, default_value_t = 1000)]
        matters: u32,
        /// Records on those matters (contacts, participants, file notes, tasks, time
        /// entries, documents), spread evenly, 0 to 1000000.
        #[arg(long, default_value_t = 0)]
        related: u64,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print the public-key pin (`sha256/<base64>` of the SubjectPublicKeyInfo) of each
    /// certificate in a PEM file, one a line, for the desktop app's `--pin` or
    /// `STRONGROOM_SERVER_PINS`.
    Pin {
        /// A PEM file of one or more certificates, e.g. the data directory's `server.pem`.
        #[arg(long, value_name = "FILE")]
        cert: PathBuf,
    },
    /// Breach notices: record an incident (notifying every member of each affected
    /// practice), or show its delivery and acknowledgements.
    Incident {
        #[command(subcommand)]
        command: IncidentCommand,
    },
    /// Policies: publish a new version of the privacy policy or the terms of use
    /// (notifying every member).
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Verify the audit log's hash chain: prints "intact (N entries)" and exits 0, or
    /// "broken at entry ID: reason" and exits 1 (2 if it could not be checked).
    VerifyAudit {
        /// The server's data directory, which holds `server.db` when the store is SQLite.
        #[arg(
            long,
            env = "STRONGROOM_SERVER_DATA",
            default_value = ".strongroom-server"
        )]
        data_dir: PathBuf,
        /// The PostgreSQL database the server keeps its data in, if not SQLite.
        #[arg(long, env = "STRONGROOM_DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
    },
}

#[derive(Subcommand)]
enum IncidentCommand {
    /// Record a personal-data breach from a JSON file (see the server's `incidents`
    /// module for its fields) and notify, by essential email and in the app, every
    /// enabled member of each affected practice; prints the incident's id.
    Record {
        /// The incident file (JSON, at most 1 MiB).
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Show, per recipient, when the notice was made, when the email left, the time from
    /// recording to delivery and the acknowledgement; and the summary.
    Status {
        /// The incident's id.
        id: Uuid,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Publish a new version and notify every enabled member of every practice by email
    /// and in the app; prints how many were notified.
    Publish {
        /// privacy or terms.
        #[arg(long, value_parser = parse_policy_kind)]
        kind: strongroom_protocol::policies::PolicyKind,
        /// The version's label, unique per kind (letters, digits, '.', '-', '_'), e.g.
        /// 2026-12.
        #[arg(long)]
        version: String,
        /// What changed, in a few words (it goes into the notice).
        #[arg(long)]
        summary: String,
        /// The full text, Markdown.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Where an operator command finds the store.
#[derive(clap::Args)]
struct StoreArgs {
    /// The server's data directory, which holds `server.db` when the store is SQLite.
    #[arg(
        long,
        env = "STRONGROOM_SERVER_DATA",
        default_value = ".strongroom-server"
    )]
    data_dir: PathBuf,
    /// The PostgreSQL database the server keeps its data in, if not SQLite.
    #[arg(long, env = "STRONGROOM_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
}

/// Reads one line of standard input: the password, without its line ending.
fn read_password() -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal, Read};
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password (12 to 1024 characters; it will be shown as you type): ");
    }
    // Enough for the longest password allowed in four-byte characters, and its line ending.
    let limit = (operator::MAX_PASSWORD_CHARS as u64 + 1) * 4 + 2;
    let mut line = Vec::new();
    stdin
        .lock()
        .take(limit)
        .read_until(b'\n', &mut line)
        .context("reading the password from standard input")?;
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    let password = String::from_utf8(line)
        .map_err(|_| anyhow::anyhow!("the password on standard input is not UTF-8"))?;
    if password.is_empty() {
        anyhow::bail!("no password on standard input (give it as one line)");
    }
    Ok(password)
}

/// Runs an operator command: its error is printed and ends the process with status 1.
async fn operate(command: Command) -> anyhow::Result<()> {
    match command {
        Command::CreatePractice { name, store } => {
            // Refuse a bad name before creating a store.
            operator::check_practice_name(&name)?;
            let store =
                strongroom_server::open_store(&store.data_dir, store_config(store.database_url))
                    .await?;
            let id = operator::create_practice(store.as_ref(), &name).await?;
            println!("{}", id.0);
        }
        Command::CreateMember {
            practice,
            email,
            name,
            role,
            store,
        } => {
            let password = read_password()?;
            operator::check_password(&password, &email, &name)?;
            let store = strongroom_server::open_existing_store(
                &store.data_dir,
                store_config(store.database_url),
            )
            .await?;
            let id =
                operator::create_member(store.as_ref(), practice, &email, &name, password, role)
                    .await?;
            println!("{}", id.0);
        }
        Command::AddSupportStaff { email, name, store } => {
            let password = read_password()?;
            operator::check_password(&password, &email, &name)?;
            let store = strongroom_server::open_existing_store(
                &store.data_dir,
                store_config(store.database_url),
            )
            .await?;
            let id =
                operator::create_support_staff(store.as_ref(), &email, &name, password).await?;
            println!("{id}");
        }
        Command::Seed {
            matters,
            related,
            store,
        } => {
            if related > operator::MAX_SEED_RELATED {
                anyhow::bail!("--related must be at most {}", operator::MAX_SEED_RELATED);
            }
            if matters == 0 || matters > operator::MAX_SEED_MATTERS {
                anyhow::bail!("--matters must be 1 to {}", operator::MAX_SEED_MATTERS);
            }
            let store =
                strongroom_server::open_store(&store.data_dir, store_config(store.database_url))
                    .await?;
            // A progress bar on a terminal; plain lines otherwise (logs, tests).
            let bar = std::io::stderr().is_terminal().then(|| {
                let bar = indicatif::ProgressBar::new(u64::from(matters) + related);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "seeding {bar:40} {pos}/{len} records, {per_sec}, {eta} left",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                bar
            });
            let seeded = operator::seed_benchmark(
                store.as_ref(),
                matters,
                related,
                |done, total| match &bar {
                    Some(bar) => bar.set_position(done),
                    None => eprintln!("seeded {done} of {total} records"),
                },
            )
            .await?;
            if let Some(bar) = bar {
                bar.finish();
            }
            println!("practice: {} ({})", seeded.practice_name, seeded.practice.0);
            println!("email: {}", seeded.email);
            println!("password: {}", seeded.password);
            println!("matters: {}", seeded.matters);
            println!("related records: {}", seeded.related);
        }
        Command::Incident {
            command: IncidentCommand::Record { file, store },
        } => {
            let store = strongroom_server::open_existing_store(
                &store.data_dir,
                store_config(store.database_url),
            )
            .await?;
            let (id, recorded) =
                strongroom_server::incidents::record_file(store.as_ref(), &file).await?;
            println!("{id}");
            eprintln!(
                "recorded; {} member(s) notified (the server's outbox sends the email)",
                recorded.recipients
            );
        }
        Command::Incident {
            command: IncidentCommand::Status { id, store },
        } => {
            let store = strongroom_server::open_existing_store(
                &store.data_dir,
                store_config(store.database_url),
            )
            .await?;
            let status = strongroom_server::incidents::status(store.as_ref(), id).await?;
            print!("{}", strongroom_server::incidents::render_status(&status));
        }
        Command::Policy {
            command:
                PolicyCommand::Publish {
                    kind,
                    version,
                    summary,
                    file,
                    store,
                },
        } => {
            strongroom_server::policies::check_version(&version)?;
            let text = {
                use std::io::Read;
                let limit = strongroom_server::policies::MAX_TEXT_BYTES as u64 + 1;
                let mut bytes = Vec::new();
                std::fs::File::open(&file)
                    .and_then(|f| f.take(limit).read_to_end(&mut bytes))
                    .with_context(|| format!("reading the policy file {}", file.display()))?;
                bytes
            };
            strongroom_server::policies::check_publication(&version, &summary, &text)?;
            let store = strongroom_server::open_existing_store(
                &store.data_dir,
                store_config(store.database_url),
            )
            .await?;
            let notified = strongroom_server::policies::publish(
                store.as_ref(),
                kind,
                &version,
                &summary,
                &text,
            )
            .await?;
            println!(
                "published version {version} of {}; {notified} member(s) notified",
                kind.describe()
            );
        }
        Command::Serve { .. } | Command::VerifyAudit { .. } | Command::Pin { .. } => {}
    }
    Ok(())
}

fn store_config(database_url: Option<String>) -> StoreConfig {
    match database_url.filter(|u| !u.trim().is_empty()) {
        Some(url) => StoreConfig::Postgres { url },
        None => StoreConfig::Sqlite,
    }
}

/// Opens the store, verifies the chain, and closes the store again.
async fn verify_audit(data_dir: &std::path::Path, store: StoreConfig) -> anyhow::Result<Verdict> {
    let store = strongroom_server::open_existing_store(data_dir, store).await?;
    store.verify_audit().await.context("reading the audit log")
}

/// Logging for the operator commands: `RUST_LOG`, else informational.
fn init_default_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| config::DEFAULT_LOG_LEVEL.into()),
        )
        .init();
}

/// Logging for the server, as its settings say.
fn init_logging(log: &LogSettings) {
    let filter = tracing_subscriber::EnvFilter::try_new(&log.level)
        .unwrap_or_else(|_| config::DEFAULT_LOG_LEVEL.into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match log.format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// The settings of `serve`, or the process ends with status 2 and every problem named.
fn serve_settings(file: Option<&std::path::Path>, flags: &Overrides) -> ServerConfig {
    match config::load(file, flags) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: the server's settings cannot be used:");
            for problem in &e.problems {
                eprintln!("  {problem}");
            }
            std::process::exit(2);
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        command @ (Command::CreatePractice { .. }
        | Command::CreateMember { .. }
        | Command::AddSupportStaff { .. }
        | Command::Seed { .. }
        | Command::Incident { .. }
        | Command::Policy { .. }) => {
            init_default_logging();
            if let Err(e) = operate(command).await {
                eprintln!("error: {e:#}");
                std::process::exit(1);
            }
        }
        Command::Serve {
            config: file,
            data_dir,
            listen,
            seed_demo,
            database_url,
            log_format,
            log_level,
            web_root,
        } => {
            let flags = Overrides {
                listen,
                data_dir,
                database_url,
                log_format,
                log_level,
            };
            let settings = serve_settings(file.as_deref(), &flags);
            init_logging(&settings.log);
            // Its Debug shows no password.
            tracing::info!(?settings, "starting");
            let server = strongroom_server::start_configured(
                ServeOptions {
                    data_dir: settings.data_dir.clone(),
                    listen: settings.listen,
                    seed_demo,
                },
                settings.store(),
                strongroom_server::ServiceSettings {
                    sessions: settings.sessions,
                    smtp: settings.smtp.clone(),
                    live_recheck: None,
                    web_root,
                    public_url: settings.public_url.clone(),
                    ..Default::default()
                },
            )
            .await
            .context("starting the server")?;
            println!("Strongroom server listening on {}", server.url());
            println!(
                "Development CA (trust this in the app): {}",
                server.ca_pem_path.display()
            );
            let chain = strongroom_server::tls::TlsPaths::in_dir(&settings.data_dir).server_chain;
            if let Some(pin) = std::fs::read_to_string(&chain)
                .ok()
                .and_then(|pem| strongroom_server::tls::spki_pins(&pem).ok())
                .and_then(|pins| pins.into_iter().next())
            {
                println!("Public-key pin of this server's certificate: {pin}");
            }
            if seed_demo {
                println!(
                    "Demo practice: {} / {}",
                    seed::DEMO_EMAIL,
                    seed::DEMO_PASSWORD
                );
            }
            tokio::signal::ctrl_c().await?;
            server.stop().await;
        }
        Command::Pin { cert } => {
            let pem = std::fs::read_to_string(&cert)
                .with_context(|| format!("reading {}", cert.display()))?;
            for pin in strongroom_server::tls::spki_pins(&pem)
                .with_context(|| format!("reading the certificates in {}", cert.display()))?
            {
                println!("{pin}");
            }
        }
        Command::VerifyAudit {
            data_dir,
            database_url,
        } => {
            init_default_logging();
            match verify_audit(&data_dir, store_config(database_url)).await {
                Ok(Verdict::Intact { entries }) => println!("intact ({entries} entries)"),
                Ok(Verdict::Broken { entry_id, reason }) => {
                    println!("broken at entry {entry_id}: {reason}");
                    std::process::exit(1);
                }
                Err(e) => {
                    eprintln!("could not verify the audit log: {e:#}");
                    std::process::exit(2);
                }
            }
        }
    }
    Ok(())
}

fn parse_log_format(s: &str) -> Result<LogFormat, String> {
    LogFormat::parse(s).ok_or_else(|| format!("{s:?} is not a log format: pretty or json"))
}

fn parse_policy_kind(s: &str) -> Result<strongroom_protocol::policies::PolicyKind, String> {
    strongroom_protocol::policies::PolicyKind::parse(s)
        .ok_or_else(|| format!("{s:?} is not a policy: privacy or terms"))
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("{s:?} is not a role: admin, lawyer or read_only"))
}
