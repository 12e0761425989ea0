//! The control commands: `rampart status`, `rampart sa list`, `rampart up NAME`,
//! `rampart down NAME`, `rampart reload` (and `rampart sa export`, in `sa_export.rs`). Each sends
//! one request line to the daemon's control socket and prints the answer
//! (docs/control-protocol.md). Exit status: 0 done, 1 the daemon refused, 2 the daemon could not
//! be reached.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use rampart_daemon::config::DEFAULT_CONTROL_SOCKET;
use serde_json::{Value, json};

/// Where the daemon listens, and how to print.
#[derive(clap::Args)]
pub(crate) struct Common {
    /// The daemon's control socket.
    #[arg(long, default_value = DEFAULT_CONTROL_SOCKET)]
    socket: PathBuf,
    /// Print the daemon's JSON answer instead of text.
    #[arg(long)]
    json: bool,
}

/// `rampart status`.
#[derive(clap::Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    common: Common,
}

/// `rampart sa ...`.
#[derive(clap::Subcommand)]
pub(crate) enum SaCommand {
    /// List the IKE SAs and their child SAs.
    List(StatusArgs),
    /// Write every SA's keys as Wireshark decryption tables, to decrypt captures (needs
    /// `allow_key_export = true` in the daemon's `[daemon]` section).
    Export(crate::sa_export::ExportArgs),
}

/// `rampart up NAME` / `rampart down NAME`.
#[derive(clap::Args)]
pub(crate) struct NameArgs {
    /// A connection or child SA name.
    name: String,
    #[command(flatten)]
    common: Common,
}

/// Sends `request` and returns the answer; `Err` (exit 2) when the daemon is unreachable.
pub(crate) fn call(socket: &Path, request: &Value) -> anyhow::Result<Value> {
    let stream = UnixStream::connect(socket).with_context(|| {
        format!(
            "cannot reach the daemon at {} (is `rampart run` running? --socket names another path)",
            socket.display()
        )
    })?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut line = request.to_string();
    line.push('\n');
    (&stream)
        .write_all(line.as_bytes())
        .with_context(|| format!("writing to {}", socket.display()))?;
    let mut answer = String::new();
    BufReader::new(&stream)
        .read_line(&mut answer)
        .with_context(|| format!("reading from {}", socket.display()))?;
    if answer.is_empty() {
        bail!("the daemon at {} closed the connection", socket.display());
    }
    serde_json::from_str(&answer)
        .with_context(|| format!("bad answer from the daemon at {}", socket.display()))
}

/// Prints an answer; exit status 1 when it says `"ok": false`.
fn finish(answer: &Value, json: bool, text: impl FnOnce(&Value)) -> ExitCode {
    let ok = answer.get("ok").and_then(Value::as_bool) == Some(true);
    if json {
        println!("{answer}");
    } else if ok {
        text(answer);
    } else {
        let e = answer
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("failed");
        eprintln!("rampart: {e}");
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `rampart status`.
pub(crate) fn status(args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let answer = call(&args.common.socket, &json!({ "cmd": "status" }))?;
    Ok(finish(&answer, args.common.json, |a| {
        println!(
            "rampart daemon pid {}, up {} s, config {}",
            a["pid"],
            a["uptime_secs"],
            a["config"].as_str().unwrap_or("?")
        );
        print_sas(&a["ike_sas"]);
    }))
}

/// `rampart sa ...`.
pub(crate) fn sa(command: &SaCommand) -> anyhow::Result<ExitCode> {
    let args = match command {
        SaCommand::List(args) => args,
        SaCommand::Export(args) => return crate::sa_export::run(args),
    };
    let answer = call(&args.common.socket, &json!({ "cmd": "sa_list" }))?;
    Ok(finish(&answer, args.common.json, |a| {
        print_sas(&a["ike_sas"])
    }))
}

/// `rampart up NAME`.
pub(crate) fn up(args: &NameArgs) -> anyhow::Result<ExitCode> {
    let answer = call(
        &args.common.socket,
        &json!({ "cmd": "up", "name": args.name }),
    )?;
    Ok(finish(&answer, args.common.json, |_| {
        println!("initiating {}", args.name);
    }))
}

/// `rampart down NAME`.
pub(crate) fn down(args: &NameArgs) -> anyhow::Result<ExitCode> {
    let answer = call(
        &args.common.socket,
        &json!({ "cmd": "down", "name": args.name }),
    )?;
    Ok(finish(&answer, args.common.json, |_| {
        println!("deleting {}", args.name);
    }))
}

/// `rampart reload`: the daemon reads its configuration file again (as on SIGHUP). Exit status
/// 1 when the file is invalid (its errors are printed; the daemon keeps the running one).
pub(crate) fn reload(args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let answer = call(&args.common.socket, &json!({ "cmd": "reload" }))?;
    Ok(finish(&answer, args.common.json, |a| {
        let list = |k: &str| {
            a[k].as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "-".to_owned())
        };
        println!("configuration reloaded");
        for k in ["unchanged", "changed", "added", "removed"] {
            println!("  {k}: {}", list(k));
        }
    }))
}

/// Prints the IKE SAs of a `sa_list` or `status` answer, each with its child SAs and, when the
/// daemon has a data plane, their packet counters.
pub(crate) fn print_sas(list: &Value) {
    let sas = list.as_array().map(Vec::as_slice).unwrap_or_default();
    if sas.is_empty() {
        println!("no IKE SAs");
    }
    let s = |v: &Value| v.as_str().unwrap_or("?").to_owned();
    for ike in sas {
        println!(
            "{}: {} {} -> {}, SPIs {}_i {}_r",
            s(&ike["name"]),
            s(&ike["state"]),
            s(&ike["local"]),
            s(&ike["remote"]),
            s(&ike["spi_i"]),
            s(&ike["spi_r"]),
        );
        for c in ike["children"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let ts = |v: &Value| {
                v.as_array()
                    .map(|a| a.iter().map(s).collect::<Vec<_>>().join(","))
                    .unwrap_or_default()
            };
            println!(
                "  {}: {} SPIs {}_i {}_o{} {} === {}",
                s(&c["name"]),
                s(&c["mode"]),
                s(&c["spi_in"]),
                s(&c["spi_out"]),
                if c["udp_encap"].is_null() {
                    ""
                } else {
                    " udp-encap"
                },
                ts(&c["local_ts"]),
                ts(&c["remote_ts"]),
            );
            if let Some(counters) = counters_text(c) {
                println!("    {counters}");
            }
        }
    }
}

/// `in 4 packets, 336 bytes (0 dropped); out 4 packets, 336 bytes`, from a child's data-plane
/// counters; `None` when the daemon has no data plane.
fn counters_text(c: &Value) -> Option<String> {
    let n = |k: &str| c.get(k).and_then(Value::as_u64);
    let inbound = n("in_packets").map(|p| {
        format!(
            "in {p} packets, {} bytes ({} dropped)",
            n("in_bytes").unwrap_or(0),
            n("in_drops").unwrap_or(0)
        )
    });
    let outbound =
        n("out_packets").map(|p| format!("out {p} packets, {} bytes", n("out_bytes").unwrap_or(0)));
    match (inbound, outbound) {
        (None, None) => None,
        (i, o) => Some(i.into_iter().chain(o).collect::<Vec<_>>().join("; ")),
    }
}
