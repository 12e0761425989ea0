//! `rampart policy check|list`: the SPD a configuration produces — its static analysis
//! (shadowed, redundant, conflicting entries; missing reverse directions) and its entries in
//! match order. Until the daemon's control socket exists these read the configuration file; later
//! they will ask the running daemon.

use std::process::ExitCode;

use rampart_policy::check::{Finding, Severity, check};
use rampart_policy::{Action, Spd};
use serde_json::json;

use crate::config_cmd::{FileArgs, load, report_errors};

/// `rampart policy ...`.
#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// Analyse the SPD built from a configuration; exit status 1 if any finding is an error.
    Check(FileArgs),
    /// List the SPD entries in match order.
    List(FileArgs),
}

/// Runs `rampart policy ...`.
pub(crate) fn run(command: &Command) -> anyhow::Result<ExitCode> {
    let args = match command {
        Command::Check(a) | Command::List(a) => a,
    };
    let config = match load(&args.config)? {
        Ok(c) => c,
        Err(e) => return Ok(report_errors(&e, args.json)),
    };
    let spd = config.spd();
    Ok(match command {
        Command::Check(_) => print_check(&spd, args.json),
        Command::List(_) => {
            print_list(&spd, args.json);
            ExitCode::SUCCESS
        }
    })
}

fn print_check(spd: &Spd, json: bool) -> ExitCode {
    let findings = check(spd);
    let count = |s| findings.iter().filter(|f| f.severity == s).count();
    let errors = count(Severity::Error);
    if json {
        let list: Vec<_> = findings.iter().map(finding_json).collect();
        println!("{}", serde_json::Value::Array(list));
    } else {
        for f in &findings {
            println!("{f}");
        }
        println!(
            "{} finding(s): {errors} error(s), {} warning(s), {} info",
            findings.len(),
            count(Severity::Warning),
            count(Severity::Info)
        );
    }
    if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn finding_json(f: &Finding) -> serde_json::Value {
    json!({
        "severity": f.severity.to_string(),
        "kind": f.kind.to_string(),
        "direction": f.direction.to_string(),
        "entries": f.entries,
        "message": f.message,
        "example": f.example.map(|p| p.to_string()),
        "region": f.region.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "region_truncated": f.region_truncated,
    })
}

/// The action column: `BYPASS`, `DISCARD`, or `PROTECT esp/tunnel #1` (the reqid).
fn action_text(action: &Action) -> String {
    match action {
        Action::Protect(t) => format!(
            "PROTECT {}/{} #{}",
            format!("{:?}", t.protocol).to_lowercase(),
            format!("{:?}", t.mode).to_lowercase(),
            t.reqid.0
        ),
        other => other.kind().to_string(),
    }
}

/// Prints the SPD entries in match order (text or JSON), as `rampart policy list` does.
pub(crate) fn print_list(spd: &Spd, json: bool) {
    if json {
        let entries: Vec<_> = spd
            .entries()
            .iter()
            .enumerate()
            .map(|(i, e)| {
                json!({
                    "index": i,
                    "name": e.name,
                    "direction": e.direction.to_string(),
                    "priority": e.priority,
                    "action": e.action.kind().to_string(),
                    "template": match &e.action {
                        Action::Protect(t) => json!({
                            "protocol": format!("{:?}", t.protocol).to_lowercase(),
                            "mode": format!("{:?}", t.mode).to_lowercase(),
                            "reqid": t.reqid.0,
                            "proposals": t.proposals,
                        }),
                        _ => serde_json::Value::Null,
                    },
                    "selectors": e.selectors.iter().map(ToString::to_string).collect::<Vec<_>>(),
                })
            })
            .collect();
        let ike: Vec<String> = spd.ike_addrs().iter().map(ToString::to_string).collect();
        println!("{}", json!({ "ike_bypass_addrs": ike, "entries": entries }));
        return;
    }
    let ike: Vec<String> = spd.ike_addrs().iter().map(ToString::to_string).collect();
    println!(
        "IKE bypass (before every entry): udp/500,4500 on {}",
        if ike.is_empty() {
            "(no addresses)".to_owned()
        } else {
            ike.join(", ")
        }
    );
    println!(
        "{:>3}  {:<24} {:<3} {:>8}  {:<24} selectors",
        "#", "name", "dir", "priority", "action"
    );
    for (i, e) in spd.entries().iter().enumerate() {
        let mut selectors = e.selectors.iter().map(ToString::to_string);
        println!(
            "{i:>3}  {:<24} {:<3} {:>8}  {:<24} {}",
            e.name,
            e.direction.to_string(),
            e.priority,
            action_text(&e.action),
            selectors.next().unwrap_or_default()
        );
        for s in selectors {
            println!("{:>68} {s}", "");
        }
        if let Action::Protect(t) = &e.action {
            println!("{:>68} proposals: {}", "", t.proposals.join(", "));
        }
    }
    println!("(anything else: DISCARD)");
}
