//! The value syntaxes of the configuration file: durations (`"1h30m"`), byte sizes (`"1GB"`),
//! identities (`gw.example`, `192.0.2.1`, `alice@example`, `C=US, CN=gw`, `%any`), traffic
//! selectors (`10.0.0.0/24[tcp/80]`) and ports. Each parser returns the message for the
//! operator on failure; the validator adds the position.

use core::time::Duration;
use std::net::IpAddr;

use rampart_policy::pad::{DistinguishedName, Identity};
use rampart_policy::{AddrRange, IpProtocol, PortSelector, ProtocolSelector, TrafficSelector};

/// Parses a duration: one or more `<number><unit>` with units `ms`, `s`, `m`, `h`, `d`
/// (`"30s"`, `"4h"`, `"1h30m"`, `"250ms"`).
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    let bad = |why: &str| {
        format!(
            "bad duration \"{text}\": {why} — write e.g. \"30s\", \"4h\", \"1h30m\" or \"250ms\""
        )
    };
    let s = text.trim();
    if s.is_empty() {
        return Err(bad("empty"));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad("expected a number"));
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| bad("number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let one = match unit {
            "ms" => Duration::from_millis(1),
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            "d" => Duration::from_secs(86_400),
            "" => return Err(bad("missing unit")),
            _ => return Err(bad(&format!("unknown unit \"{unit}\""))),
        };
        let part = u32::try_from(n)
            .ok()
            .and_then(|n| one.checked_mul(n))
            .ok_or_else(|| bad("too long"))?;
        total = total.checked_add(part).ok_or_else(|| bad("too long"))?;
    }
    Ok(total)
}

/// Parses a byte count: digits with an optional unit `K`/`KB` (10^3), `KiB` (2^10), `M`/`MB`,
/// `MiB`, `G`/`GB`, `GiB`, `T`/`TB`, `TiB` (`"1GB"`, `"500M"`, `"4096"`).
pub(crate) fn byte_size(text: &str) -> Result<u64, String> {
    let bad = |why: &str| {
        format!("bad byte size \"{text}\": {why} — write e.g. \"500M\", \"1GB\" or \"64KiB\"")
    };
    let s = text.trim();
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if digits == 0 {
        return Err(bad("expected a number"));
    }
    let n: u64 = s[..digits].parse().map_err(|_| bad("number too large"))?;
    let unit = s[digits..].trim();
    let scale: u64 = match unit {
        "" | "B" => 1,
        "K" | "KB" | "k" | "kB" => 1000,
        "KiB" => 1 << 10,
        "M" | "MB" => 1000 * 1000,
        "MiB" => 1 << 20,
        "G" | "GB" => 1000 * 1000 * 1000,
        "GiB" => 1 << 30,
        "T" | "TB" => 1000 * 1000 * 1000 * 1000,
        "TiB" => 1 << 40,
        _ => return Err(bad(&format!("unknown unit \"{unit}\""))),
    };
    n.checked_mul(scale).ok_or_else(|| bad("too large"))
}

/// An identity as written in `id` or `ids`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IdSpec {
    /// A concrete identity.
    Id(Identity),
    /// `%any`: matches every identity (only meaningful in `[[secrets]]`).
    Any,
}

impl IdSpec {
    /// Whether the spec names `id`.
    pub fn matches(&self, id: &Identity) -> bool {
        match self {
            Self::Any => true,
            Self::Id(own) => own == id,
        }
    }
}

/// Parses an identity: `%any`; an IPv4/IPv6 address; a distinguished name (contains `=`,
/// `C=US, O=Example, CN=gw`); `@name` (forced FQDN); `user@host` (RFC 822); otherwise an FQDN.
/// The prefixes `fqdn:`, `email:`, `dn:`, `keyid:` (hex) force a type.
pub(crate) fn identity(text: &str) -> Result<IdSpec, String> {
    let s = text.trim();
    let bad = |why: &str| format!("bad identity \"{text}\": {why}");
    if s == "%any" {
        return Ok(IdSpec::Any);
    }
    if let Some(hexed) = s.strip_prefix("keyid:") {
        let bytes = hex::decode(hexed.trim_start_matches("0x"))
            .map_err(|_| bad("keyid: takes hex digits, e.g. keyid:0a1b2c"))?;
        if bytes.is_empty() {
            return Err(bad("empty key id"));
        }
        return Ok(IdSpec::Id(Identity::KeyId(bytes)));
    }
    if let Some(dn) = s.strip_prefix("dn:") {
        return dn_identity(dn).map_err(|e| bad(&e));
    }
    if let Some(mail) = s.strip_prefix("email:") {
        return email(mail).map_err(|e| bad(&e));
    }
    if let Some(name) = s.strip_prefix("fqdn:").or_else(|| s.strip_prefix('@')) {
        return fqdn(name).map_err(|e| bad(&e));
    }
    if let Ok(addr) = s.parse::<IpAddr>() {
        return Ok(IdSpec::Id(Identity::Addr(addr)));
    }
    if s.contains('=') {
        return dn_identity(s).map_err(|e| bad(&e));
    }
    if s.contains('@') {
        return email(s).map_err(|e| bad(&e));
    }
    fqdn(s).map_err(|e| bad(&e))
}

fn dn_identity(s: &str) -> Result<IdSpec, String> {
    s.parse::<DistinguishedName>()
        .map(|dn| IdSpec::Id(Identity::Dn(dn)))
        .map_err(|_| "not a distinguished name — write e.g. \"C=US, O=Example, CN=gw\"".into())
}

fn email(s: &str) -> Result<IdSpec, String> {
    match s.rsplit_once('@') {
        Some((local, host)) if !local.is_empty() && fqdn(host).is_ok() => {
            Ok(IdSpec::Id(Identity::Rfc822(s.to_owned())))
        }
        _ => Err("not an e-mail address — write e.g. \"alice@example.com\"".into()),
    }
}

fn fqdn(s: &str) -> Result<IdSpec, String> {
    let name = s.strip_suffix('.').unwrap_or(s);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(
            "not a host name, address, e-mail address or DN — use letters, digits, \
                    '-' and '.' for a name (e.g. \"gw.example.com\")"
                .into(),
        );
    }
    Ok(IdSpec::Id(Identity::Fqdn(name.to_owned())))
}

/// The protocol names a traffic selector or policy may use.
pub(crate) const PROTOCOL_NAMES: &[&str] = &[
    "any",
    "tcp",
    "udp",
    "icmp",
    "ipv6-icmp",
    "icmp6",
    "sctp",
    "esp",
    "ah",
    "gre",
];

/// Parses a protocol: a name of [`PROTOCOL_NAMES`] or a number 0..=255 (0 is any).
pub(crate) fn protocol(text: &str) -> Result<ProtocolSelector, String> {
    let s = text.trim().to_ascii_lowercase();
    let p = match s.as_str() {
        "any" | "%any" => return Ok(ProtocolSelector::Any),
        "tcp" => IpProtocol::TCP,
        "udp" => IpProtocol::UDP,
        "icmp" => IpProtocol::ICMP,
        "ipv6-icmp" | "icmp6" | "icmpv6" => IpProtocol::ICMPV6,
        "sctp" => IpProtocol::SCTP,
        "esp" => IpProtocol::ESP,
        "ah" => IpProtocol::AH,
        "gre" => IpProtocol(47),
        _ => match s.parse::<u8>() {
            Ok(n) => return Ok(ProtocolSelector::from_ts_protocol_id(n)),
            Err(_) => {
                let hint = super::error::closest(&s, PROTOCOL_NAMES)
                    .map(|c| format!(" (did you mean {c}?)"))
                    .unwrap_or_default();
                return Err(format!(
                    "unknown protocol \"{text}\"{hint} — use one of {} or a number 0..=255",
                    PROTOCOL_NAMES.join(", ")
                ));
            }
        },
    };
    Ok(ProtocolSelector::Only(p))
}

/// Parses a port selector: `any`, `opaque`, `N` or `N-M`.
pub(crate) fn ports(text: &str) -> Result<PortSelector, String> {
    let s = text.trim();
    let bad = || {
        format!(
            "bad port \"{text}\" — write a port (\"443\"), a range (\"1024-65535\"), \"any\" or \"opaque\""
        )
    };
    match s {
        "any" | "%any" => return Ok(PortSelector::ANY),
        "opaque" | "%opaque" => return Ok(PortSelector::OPAQUE),
        _ => {}
    }
    let num = |t: &str| t.trim().parse::<u16>().map_err(|_| bad());
    match s.split_once('-') {
        Some((a, b)) => PortSelector::range(num(a)?, num(b)?)
            .map_err(|_| format!("port range \"{text}\" starts after it ends — swap the ends")),
        None => Ok(PortSelector::port(num(s)?)),
    }
}

/// Parses a traffic selector: `ADDRS` or `ADDRS[PROTO]` or `ADDRS[PROTO/PORTS]`, where ADDRS is
/// an address, a prefix `10.0.0.0/24` or a range `10.0.0.1-10.0.0.9`; `dynamic` stands for
/// `dynamic` (the caller's address).
pub(crate) fn traffic_selector(
    text: &str,
    dynamic: Option<IpAddr>,
) -> Result<TrafficSelector, String> {
    let s = text.trim();
    let (addrs, rest) = match s.split_once('[') {
        Some((a, r)) => {
            let inner = r.strip_suffix(']').ok_or_else(|| {
                format!("bad traffic selector \"{text}\": missing ']' — write e.g. \"10.0.0.0/24[tcp/443]\"")
            })?;
            (a.trim(), Some(inner))
        }
        None => (s, None),
    };
    let range = if addrs == "dynamic" {
        AddrRange::host(dynamic.ok_or_else(|| {
            format!("\"{text}\" uses dynamic, but the connection has no address to take — list the address or subnet instead")
        })?)
    } else {
        address_range(addrs)?
    };
    let (proto, port) = match rest {
        None => (ProtocolSelector::Any, PortSelector::ANY),
        Some(inner) => match inner.split_once('/') {
            Some((p, q)) => (protocol(p)?, ports(q)?),
            None => (protocol(inner)?, PortSelector::ANY),
        },
    };
    Ok(TrafficSelector::new(range, proto, port))
}

/// Parses an address, prefix or range with a message naming the accepted forms.
pub(crate) fn address_range(text: &str) -> Result<AddrRange, String> {
    text.parse::<AddrRange>().map_err(|e| {
        format!(
            "bad address or subnet \"{text}\" ({e}) — write an address (\"192.0.2.1\"), a prefix \
             (\"10.0.0.0/24\", \"2001:db8::/32\") or a range (\"10.0.0.1-10.0.0.9\")"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(duration("4h"), Ok(Duration::from_secs(4 * 3600)));
        assert_eq!(duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(duration("1d2s"), Ok(Duration::from_secs(86_402)));
        assert!(duration("30").unwrap_err().contains("missing unit"));
        assert!(duration("3x").unwrap_err().contains("unknown unit \"x\""));
        assert!(duration("h").unwrap_err().contains("expected a number"));
        assert!(duration("").is_err());
        assert!(duration("99999999999999999999s").is_err());
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(byte_size("1GB"), Ok(1_000_000_000));
        assert_eq!(byte_size("500M"), Ok(500_000_000));
        assert_eq!(byte_size("64KiB"), Ok(65_536));
        assert_eq!(byte_size("4096"), Ok(4096));
        assert!(byte_size("1XB").is_err());
        assert!(byte_size("GB").is_err());
        assert!(byte_size("99999999999TiB").is_err());
    }

    #[test]
    fn identities() {
        let id = |s| match identity(s) {
            Ok(IdSpec::Id(i)) => i,
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(id("gw-a.example"), Identity::Fqdn("gw-a.example".into()));
        assert_eq!(id("@gw"), Identity::Fqdn("gw".into()));
        assert_eq!(
            id("192.0.2.1"),
            Identity::Addr("192.0.2.1".parse().unwrap())
        );
        assert_eq!(
            id("2001:db8::1"),
            Identity::Addr("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            id("alice@example.com"),
            Identity::Rfc822("alice@example.com".into())
        );
        assert_eq!(
            id("C=US, O=Example, CN=gw"),
            Identity::Dn("C=US,O=Example,CN=gw".parse().unwrap())
        );
        assert_eq!(id("keyid:0a0b"), Identity::KeyId(vec![10, 11]));
        assert_eq!(identity("%any"), Ok(IdSpec::Any));
        assert!(identity("bad name!").is_err());
        assert!(identity("@").is_err());
        assert!(identity("a@").is_err());
        assert!(identity("keyid:zz").is_err());
    }

    #[test]
    fn selectors() {
        let ts = traffic_selector("10.0.0.0/24[tcp/443]", None).unwrap();
        assert_eq!(ts.to_string(), "10.0.0.0/24[tcp/443]");
        let ts = traffic_selector("10.0.0.1-10.0.0.9[udp]", None).unwrap();
        assert_eq!(ts.to_string(), "10.0.0.1-10.0.0.9[udp]");
        let host: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(
            traffic_selector("dynamic", Some(host)).unwrap().to_string(),
            "192.0.2.1"
        );
        assert!(traffic_selector("dynamic", None).is_err());
        assert!(traffic_selector("10.0.0.0/33", None).is_err());
        assert!(traffic_selector("10.0.0.0/24[tcp", None).is_err());
        assert!(
            traffic_selector("10.0.0.0/24[tpc]", None)
                .unwrap_err()
                .contains("did you mean tcp?")
        );
        assert!(ports("9-1").is_err());
        assert_eq!(ports("0-65535"), Ok(PortSelector::ANY));
    }
}
