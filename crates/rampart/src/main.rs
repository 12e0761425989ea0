//! `rampart`: the one binary. Today it explains proposal strings; the daemon (`rampart run`) and
//! its control commands (`up`, `down`, `status`, `sa list`, ...) join it as they are built.
#![forbid(unsafe_code)]

mod proposal_cmd;

use clap::{Parser, Subcommand};

/// Rampart IPsec.
#[derive(Parser)]
#[command(name = "rampart", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Explain strongSwan-style proposal strings as the IKEv2 transforms they put on the wire.
    Proposal(proposal_cmd::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Proposal(args) => proposal_cmd::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rampart: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
