//! `strongroom-server`: the hosted service and its operator commands.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use strongroom_server::audit::Verdict;
use strongroom_server::{ServeOptions, StoreConfig, seed};

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
    /// Serve the API over TLS.
    Serve {
        /// Directory for the TLS material, and for the SQLite database `server.db`.
        #[arg(
            long,
            env = "STRONGROOM_SERVER_DATA",
            default_value = ".strongroom-server"
        )]
        data_dir: PathBuf,
        /// Address to listen on.
        #[arg(long, env = "STRONGROOM_LISTEN", default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// Seed the demo practice if it is not there yet.
        #[arg(long)]
        seed_demo: bool,
        /// Keep the data in this PostgreSQL database (`postgres://user@host:port/db`)
        /// instead of SQLite's `server.db` in the data directory.
        #[arg(long, env = "STRONGROOM_DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve {
            data_dir,
            listen,
            seed_demo,
            database_url,
        } => {
            let store = store_config(database_url);
            let server = strongroom_server::start_with_store(
                ServeOptions {
                    data_dir,
                    listen,
                    seed_demo,
                },
                store,
            )
            .await
            .context("starting the server")?;
            println!("Strongroom server listening on {}", server.url());
            println!(
                "Development CA (trust this in the app): {}",
                server.ca_pem_path.display()
            );
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
        Command::VerifyAudit {
            data_dir,
            database_url,
        } => match verify_audit(&data_dir, store_config(database_url)).await {
            Ok(Verdict::Intact { entries }) => println!("intact ({entries} entries)"),
            Ok(Verdict::Broken { entry_id, reason }) => {
                println!("broken at entry {entry_id}: {reason}");
                std::process::exit(1);
            }
            Err(e) => {
                eprintln!("could not verify the audit log: {e:#}");
                std::process::exit(2);
            }
        },
    }
    Ok(())
}
