//! `rampart proposal`: parse proposal strings as the config file would, and show each transform
//! with its IANA type and ID — the quickest way to see why a peer says NO_PROPOSAL_CHOSEN.

use std::process::ExitCode;

use clap::ValueEnum;
use rampart_crypto::proposal::{ProposalSpec, Transform, known_keywords};
use serde_json::json;

/// Arguments of `rampart proposal`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Which SA the proposals are for.
    #[arg(long, value_enum, default_value_t = Kind::Ike)]
    kind: Kind,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// List every known keyword instead of parsing.
    #[arg(long, conflicts_with = "proposals")]
    keywords: bool,
    /// Proposal strings, e.g. `aes128gcm16-prfsha256-x25519`.
    #[arg(required_unless_present = "keywords")]
    proposals: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    Ike,
    Esp,
    Ah,
}

/// Runs the command. Exit status 0 when every string parses, 1 when any does not.
pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if args.keywords {
        for (keyword, transform) in known_keywords() {
            println!("{keyword:<20} {}", transform.transform_type());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut failed = false;
    let mut out = Vec::new();
    for text in &args.proposals {
        let parsed = match args.kind {
            Kind::Ike => ProposalSpec::parse_ike(text),
            Kind::Esp => ProposalSpec::parse_esp(text),
            Kind::Ah => ProposalSpec::parse_ah(text),
        };
        match parsed {
            Ok(spec) => out.push(Ok((text, spec))),
            Err(e) => {
                failed = true;
                out.push(Err((text, e)));
            }
        }
    }
    if args.json {
        print_json(&out);
    } else {
        print_table(&out);
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

type Outcome<'a> =
    Result<(&'a String, ProposalSpec), (&'a String, rampart_crypto::proposal::ProposalError)>;

/// The IANA registry name of a transform (`ENCR_AES_GCM_16`), as RFCs and packet dumps show it.
fn iana_name(t: Transform) -> String {
    match t {
        Transform::Encr(id, _) => id.to_string(),
        Transform::Prf(id) => id.to_string(),
        Transform::Integ(id) => id.to_string(),
        Transform::Ke(id) => id.to_string(),
        Transform::Esn(id) => id.to_string(),
    }
}

fn print_table(out: &[Outcome<'_>]) {
    for item in out {
        match item {
            Ok((text, spec)) => {
                println!("{text}  ({} proposal, canonical: {spec})", spec.protocol);
                for t in spec.transforms() {
                    let bits = t
                        .key_bits()
                        .map(|b| format!(" keylen={b}"))
                        .unwrap_or_default();
                    let (ty, name) = (t.transform_type().to_string(), iana_name(t));
                    println!("  {ty:<6} {:>3}  {name:<24} {t}{bits}", t.id());
                }
            }
            Err((_, e)) => eprintln!("error: {e}"),
        }
    }
}

fn print_json(out: &[Outcome<'_>]) {
    let items: Vec<_> = out
        .iter()
        .map(|item| match item {
            Ok((text, spec)) => json!({
                "input": text,
                "protocol": spec.protocol.to_string(),
                "canonical": spec.to_string(),
                "transforms": spec.transforms().map(|t| json!({
                    "type": t.transform_type().to_string(),
                    "type_id": u8::from(t.transform_type()),
                    "id": t.id(),
                    "iana_name": iana_name(t),
                    "keyword": t.to_string(),
                    "key_bits": t.key_bits(),
                })).collect::<Vec<_>>(),
            }),
            Err((text, e)) => json!({ "input": text, "error": e.to_string() }),
        })
        .collect();
    println!("{}", serde_json::Value::Array(items));
}
