//! `rampart config check`: read a configuration file the way the daemon will, and report every
//! mistake as `file:line:column: message`, or a one-line summary when there is none.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use rampart_daemon::config::{Config, ConfigErrors, LoadError};
use serde_json::json;

/// `rampart config ...`.
#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// Check a configuration file; exit status 1 if it has mistakes.
    Check(FileArgs),
}

/// The file option shared by the commands that read a configuration.
#[derive(clap::Args)]
pub(crate) struct FileArgs {
    /// The configuration file.
    #[arg(short = 'c', long = "config")]
    pub(crate) config: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Runs `rampart config ...`.
pub(crate) fn run(command: &Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Check(args) => check(args),
    }
}

/// Loads the file: `Err` for an unreadable file (exit 2), `Ok(Err)` for an invalid one.
pub(crate) fn load(path: &Path) -> anyhow::Result<Result<Arc<Config>, ConfigErrors>> {
    match Config::load(path) {
        Ok(c) => Ok(Ok(c)),
        Err(LoadError::Invalid(e)) => Ok(Err(e)),
        Err(e) => Err(e.into()),
    }
}

/// Prints the errors of an invalid file (JSON on stdout, text on stderr); exit status 1.
pub(crate) fn report_errors(errors: &ConfigErrors, json: bool) -> ExitCode {
    if json {
        println!("{}", json!({ "ok": false, "errors": errors.to_json() }));
    } else {
        eprintln!("{errors}");
        eprintln!("{} error(s)", errors.errors().len());
    }
    ExitCode::FAILURE
}

fn check(args: &FileArgs) -> anyhow::Result<ExitCode> {
    let config = match load(&args.config)? {
        Ok(c) => c,
        Err(e) => return Ok(report_errors(&e, args.json)),
    };
    let (connections, children) = (config.connections.len(), config.child_count());
    if args.json {
        println!(
            "{}",
            json!({
                "ok": true,
                "connections": connections,
                "children": children,
                "policies": config.policies.len(),
            })
        );
    } else {
        println!("ok: {connections} connections, {children} children");
    }
    Ok(ExitCode::SUCCESS)
}
