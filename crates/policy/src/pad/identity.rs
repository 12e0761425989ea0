//! IKE identities (RFC 7296 §3.5) and the PAD's identity patterns (RFC 4301 §4.4.3.1), with the
//! matching rules between them.

use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::addr_range::AddrRange;
use crate::error::PolicyError;
use crate::pad::dn::DistinguishedName;

/// ID Type values (RFC 7296 §3.5).
pub mod id_type {
    /// A single IPv4 address.
    pub const ID_IPV4_ADDR: u8 = 1;
    /// A fully qualified domain name.
    pub const ID_FQDN: u8 = 2;
    /// An RFC 822 e-mail address.
    pub const ID_RFC822_ADDR: u8 = 3;
    /// A single IPv6 address.
    pub const ID_IPV6_ADDR: u8 = 5;
    /// A DER-encoded X.500 distinguished name.
    pub const ID_DER_ASN1_DN: u8 = 9;
    /// A DER-encoded X.509 GeneralName.
    pub const ID_DER_ASN1_GN: u8 = 10;
    /// An opaque octet string.
    pub const ID_KEY_ID: u8 = 11;
}

/// An identity a peer asserts in IDi / IDr.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    /// ID_IPV4_ADDR / ID_IPV6_ADDR.
    Addr(IpAddr),
    /// ID_FQDN, e.g. `gw.example.com`.
    Fqdn(String),
    /// ID_RFC822_ADDR, e.g. `alice@example.com`.
    Rfc822(String),
    /// ID_DER_ASN1_DN, as a normalized name.
    Dn(DistinguishedName),
    /// ID_KEY_ID.
    KeyId(Vec<u8>),
}

impl Identity {
    /// From an Identification payload's type and data (RFC 7296 §3.5). DER DNs and GeneralNames
    /// need the certificate code and are refused here for now.
    pub fn from_wire(id_type: u8, data: &[u8]) -> Result<Self, PolicyError> {
        let text = |what| {
            core::str::from_utf8(data)
                .ok()
                .filter(|s| !s.is_empty() && s.is_ascii())
                .map(str::to_owned)
                .ok_or_else(|| PolicyError::parse(what, &String::from_utf8_lossy(data)))
        };
        match id_type {
            id_type::ID_IPV4_ADDR => <[u8; 4]>::try_from(data)
                .map(|b| Self::Addr(IpAddr::V4(Ipv4Addr::from(b))))
                .map_err(|_| PolicyError::parse("ID_IPV4_ADDR", "wrong length")),
            id_type::ID_IPV6_ADDR => <[u8; 16]>::try_from(data)
                .map(|b| Self::Addr(IpAddr::V6(Ipv6Addr::from(b))))
                .map_err(|_| PolicyError::parse("ID_IPV6_ADDR", "wrong length")),
            id_type::ID_FQDN => text("ID_FQDN").map(Self::Fqdn),
            id_type::ID_RFC822_ADDR => text("ID_RFC822_ADDR").map(Self::Rfc822),
            id_type::ID_KEY_ID => Ok(Self::KeyId(data.to_vec())),
            _ => Err(PolicyError::parse(
                "supported ID type",
                &id_type.to_string(),
            )),
        }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Addr(a) => write!(f, "{a}"),
            Self::Fqdn(n) => write!(f, "fqdn:{n}"),
            Self::Rfc822(m) => write!(f, "email:{m}"),
            Self::Dn(d) => write!(f, "dn:{d}"),
            Self::KeyId(k) => {
                f.write_str("keyid:")?;
                k.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
    }
}

/// The identity pattern of a PAD entry (RFC 4301 §4.4.3.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IdPattern {
    /// An address identity inside this range.
    Addr(AddrRange),
    /// `gw.example.com`: that name exactly; `.example.com`: any name ending in `.example.com`
    /// (not `example.com` itself). Case-insensitive, a trailing dot ignored.
    Fqdn(String),
    /// `alice@example.com`: that mailbox exactly (local part case-sensitive, domain not);
    /// `@example.com` or `example.com`: any mailbox at host `example.com`; `.example.com`: any
    /// mailbox at a host under `example.com` (the RFC 5280 §4.2.1.10 conventions).
    Rfc822(String),
    /// This DN exactly, after normalization.
    Dn(DistinguishedName),
    /// These key-id bytes exactly.
    KeyId(Vec<u8>),
    /// Any identity (for entries that rely on the authentication data alone).
    Any,
}

fn dns_norm(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// Whether `host` is `pattern`, or under it when `pattern` starts with a dot.
fn host_matches(pattern: &str, host: &str) -> bool {
    let (pattern, host) = (dns_norm(pattern), dns_norm(host));
    if pattern.starts_with('.') {
        host.len() > pattern.len() && host.ends_with(&pattern)
    } else {
        !pattern.is_empty() && host == pattern
    }
}

impl IdPattern {
    /// Whether the pattern accepts `id`. Patterns only accept identities of their own type: an
    /// FQDN pattern never matches an e-mail identity, even with the same domain.
    pub fn matches(&self, id: &Identity) -> bool {
        match (self, id) {
            (Self::Any, _) => true,
            (Self::Addr(range), Identity::Addr(a)) => range.contains_addr(*a),
            (Self::Fqdn(p), Identity::Fqdn(name)) => host_matches(p, name),
            (Self::Rfc822(p), Identity::Rfc822(mail)) => {
                let Some((local, domain)) = mail.rsplit_once('@') else {
                    return false;
                };
                match p.rsplit_once('@') {
                    Some(("", host)) => host_matches(host, domain),
                    Some((plocal, pdomain)) => plocal == local && host_matches(pdomain, domain),
                    None => host_matches(p, domain),
                }
            }
            (Self::Dn(p), Identity::Dn(d)) => p == d,
            (Self::KeyId(p), Identity::KeyId(k)) => p == k,
            _ => false,
        }
    }
}
