//! `rampart run`: the daemon in the foreground, logging to stderr (`RAMPART_LOG`).

use std::path::PathBuf;
use std::process::ExitCode;

use crate::config_cmd;

/// `rampart run`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The configuration file.
    #[arg(short = 'c', long = "config")]
    config: PathBuf,
    /// The control socket (default: the configuration's `[daemon] control_socket`).
    #[arg(long)]
    socket: Option<PathBuf>,
}

/// Runs the daemon until SIGTERM or SIGINT: exit status 0 then, 1 for an invalid
/// configuration, 2 when it cannot start (a socket in use, no permission).
pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let config = match config_cmd::load(&args.config)? {
        Ok(c) => c,
        Err(e) => return Ok(config_cmd::report_errors(&e, false)),
    };
    rampart_daemon::run::run(config, args.socket.as_deref())?;
    Ok(ExitCode::SUCCESS)
}
