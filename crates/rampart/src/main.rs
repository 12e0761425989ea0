//! `rampart`: the one binary. It explains proposal strings, checks configuration files and the
//! SPD they produce, runs the daemon (`rampart run`) and talks to it over its control socket
//! (`status`, `sa list`, `sa export`, `up`, `down`, `reload`), and shows it all working on one
//! machine (`rampart demo`).
#![forbid(unsafe_code)]

mod config_cmd;
mod ctl_cmd;
mod demo;
mod demo_lab;
mod policy_cmd;
mod proposal_cmd;
mod run_cmd;
mod sa_export;

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
    /// Try it: two gateways in network namespaces, a tunnel, a ping through it, then cleanup
    /// (root).
    Demo(demo::Args),
    /// Explain strongSwan-style proposal strings as the IKEv2 transforms they put on the wire.
    Proposal(proposal_cmd::Args),
    /// Configuration files.
    #[command(subcommand)]
    Config(config_cmd::Command),
    /// The security policy database a configuration produces.
    #[command(subcommand)]
    Policy(policy_cmd::Command),
    /// Run the daemon in the foreground (IKE over UDP 500/4500; logs to stderr, RAMPART_LOG).
    Run(run_cmd::Args),
    /// The running daemon's state.
    Status(ctl_cmd::StatusArgs),
    /// Security associations of the running daemon.
    #[command(subcommand)]
    Sa(ctl_cmd::SaCommand),
    /// Bring up a connection or child SA.
    Up(ctl_cmd::NameArgs),
    /// Delete a connection's IKE SAs (and keep it down) or a child SA.
    Down(ctl_cmd::NameArgs),
    /// Make the daemon re-read its configuration file and apply what changed (as SIGHUP does).
    Reload(ctl_cmd::StatusArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Proposal(args) => proposal_cmd::run(&args),
        Command::Config(command) => config_cmd::run(&command),
        Command::Policy(command) => policy_cmd::run(&command),
        Command::Run(args) => run_cmd::run(&args),
        Command::Status(args) => ctl_cmd::status(&args),
        Command::Sa(command) => ctl_cmd::sa(&command),
        Command::Up(args) => ctl_cmd::up(&args),
        Command::Down(args) => ctl_cmd::down(&args),
        Command::Reload(args) => ctl_cmd::reload(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rampart: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
