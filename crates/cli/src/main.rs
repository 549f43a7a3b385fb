//! The `strongroom-cli` binary: parses the command line, runs one command on the desktop
//! core, prints a failure with its error code and exits 0, 1, or 2 when offline.

use std::process::ExitCode;

use clap::Parser;
use strongroom_cli::{Cli, StdinSecrets, describe, exit_code, run};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    if let Err(e) = strongroom_client::protect_process_memory() {
        eprintln!("strongroom-cli: cannot protect the process's memory: {e}");
        return ExitCode::FAILURE;
    }
    let cli = Cli::parse();
    let mut stdout = std::io::stdout().lock();
    match run(cli, &mut StdinSecrets, &mut stdout).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", describe(&e));
            ExitCode::from(exit_code(&e))
        }
    }
}
