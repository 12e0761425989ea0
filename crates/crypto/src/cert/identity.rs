//! Identity binding (RFC 4945 §3.1): whether the peer's IDi/IDr payload names an identity the
//! end-entity certificate vouches for. IP, FQDN and RFC 822 identities must appear in
//! subjectAltName (the subject's CN does not count, §3.1.2); a DN identity must equal the
//! subject (§3.1.5).

use std::net::IpAddr;

use rampart_wire::ike::iana::IdType;
use x509_parser::prelude::{FromDer, X509Name};

use super::{Certificate, SubjectAltName};

impl Certificate {
    /// Whether the identity `(id_type, id_data)` of an ID payload (RFC 7296 §3.5) is bound by
    /// this certificate. Unsupported ID types (KEY_ID, DER_ASN1_GN, ...) are never bound.
    pub fn matches_identity(&self, id_type: IdType, id_data: &[u8]) -> bool {
        match id_type {
            IdType::IPV4_ADDR => {
                <[u8; 4]>::try_from(id_data).is_ok_and(|a| self.has_ip(IpAddr::from(a)))
            }
            IdType::IPV6_ADDR => {
                <[u8; 16]>::try_from(id_data).is_ok_and(|a| self.has_ip(IpAddr::from(a)))
            }
            IdType::FQDN => std::str::from_utf8(id_data).is_ok_and(|fqdn| {
                let fqdn = fqdn.strip_suffix('.').unwrap_or(fqdn);
                self.subject_alt_names
                    .iter()
                    .any(|n| matches!(n, SubjectAltName::Dns(d) if d.eq_ignore_ascii_case(fqdn)))
            }),
            IdType::RFC822_ADDR => std::str::from_utf8(id_data).is_ok_and(|email| {
                self.subject_alt_names
                    .iter()
                    .any(|n| matches!(n, SubjectAltName::Email(e) if email_eq(e, email)))
            }),
            IdType::DER_ASN1_DN => self.dn_matches(id_data),
            _ => false,
        }
    }

    fn has_ip(&self, ip: IpAddr) -> bool {
        self.subject_alt_names.contains(&SubjectAltName::Ip(ip))
    }

    /// Exact DER equality, or else the same attributes and values in the same order (so a
    /// PrintableString / UTF8String difference in encoding does not break the match).
    fn dn_matches(&self, id_dn: &[u8]) -> bool {
        if id_dn == self.subject_der.as_slice() {
            return true;
        }
        match X509Name::from_der(id_dn) {
            Ok(([], name)) => name.to_string() == self.subject,
            _ => false,
        }
    }
}

/// RFC 5321 §2.4: the local part is case-sensitive, the domain is not.
fn email_eq(a: &str, b: &str) -> bool {
    match (a.rsplit_once('@'), b.rsplit_once('@')) {
        (Some((la, da)), Some((lb, db))) => la == lb && da.eq_ignore_ascii_case(db),
        _ => a == b,
    }
}
