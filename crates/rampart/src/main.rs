//! `rampart`: the one binary. Today it explains proposal strings and checks configuration files
//! and the SPD they produce; the daemon (`rampart run`) and its control commands (`up`, `down`,
//! `status`, `sa list`, ...) join it as they are built.
#![forbid(unsafe_code)]

mod config_cmd;
mod policy_cmd;
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
    /// Configuration files.
    #[command(subcommand)]
    Config(config_cmd::Command),
    /// The security policy database a configuration produces.
    #[command(subcommand)]
    Policy(policy_cmd::Command),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Proposal(args) => proposal_cmd::run(&args),
        Command::Config(command) => config_cmd::run(&command),
        Command::Policy(command) => policy_cmd::run(&command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rampart: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
