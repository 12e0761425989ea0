//! Distinguished names for PAD matching (RFC 4301 §4.4.3.1 "Distinguished Name"): a DN is compared
//! as a normalized sequence of RDNs — attribute types case-insensitive (and common OIDs mapped to
//! their short names), values exact after trimming surrounding blanks, the AVAs of a
//! multi-valued RDN (`CN=a+UID=b`) in a canonical order.
//!
//! Only the string form (`C=US, O=Example, CN=gw`, RFC 4514 order or its reverse as written) is
//! parsed for now; the DER form from an ID_DER_ASN1_DN payload comes with the certificate work.

use core::fmt;
use core::str::FromStr;

use crate::error::PolicyError;

/// One attribute type/value pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Ava {
    attr: String,
    value: String,
}

/// A distinguished name as a sequence of RDNs, in the order written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DistinguishedName {
    rdns: Vec<Vec<Ava>>,
}

/// Well-known attribute OIDs and their short names (RFC 4519).
const OID_NAMES: &[(&str, &str)] = &[
    ("2.5.4.3", "CN"),
    ("2.5.4.6", "C"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.5", "SERIALNUMBER"),
    ("0.9.2342.19200300.100.1.25", "DC"),
    ("1.2.840.113549.1.9.1", "E"),
];

fn normalize_attr(attr: &str) -> String {
    let attr = attr.trim();
    let attr = attr
        .strip_prefix("OID.")
        .or_else(|| attr.strip_prefix("oid."))
        .unwrap_or(attr);
    let upper = attr.to_ascii_uppercase();
    match upper.as_str() {
        "EMAILADDRESS" => "E".to_owned(),
        _ => OID_NAMES
            .iter()
            .find(|(oid, _)| *oid == upper)
            .map_or(upper, |(_, n)| (*n).to_owned()),
    }
}

impl FromStr for DistinguishedName {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || PolicyError::parse("distinguished name", s);
        if s.trim().is_empty() {
            return Err(bad());
        }
        let mut rdns = Vec::new();
        for rdn in split_escaped_keep(s, ',') {
            let mut avas = Vec::new();
            for ava in split_escaped_keep(&rdn, '+') {
                let (attr, value) = ava.split_once('=').ok_or_else(bad)?;
                let attr = normalize_attr(attr);
                if attr.is_empty() {
                    return Err(bad());
                }
                avas.push(Ava {
                    attr,
                    value: unescape(value.trim()),
                });
            }
            avas.sort();
            rdns.push(avas);
        }
        Ok(Self { rdns })
    }
}

/// Splits on unescaped `sep`, keeping escapes in the pieces for the next level.
fn split_escaped_keep(s: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut escaped = false;
    for c in s.chars() {
        let cur = out
            .last_mut()
            .expect("starts with one piece and only grows");
        if escaped {
            cur.push(c);
            escaped = false;
        } else if c == '\\' {
            cur.push(c);
            escaped = true;
        } else if c == sep {
            out.push(String::new());
        } else {
            cur.push(c);
        }
    }
    out
}

/// Removes backslash escapes (`\,` → `,`).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    out
}

impl fmt::Display for DistinguishedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let esc = |v: &str| {
            v.replace('\\', "\\\\")
                .replace(',', "\\,")
                .replace('+', "\\+")
        };
        for (i, rdn) in self.rdns.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            for (j, ava) in rdn.iter().enumerate() {
                if j > 0 {
                    f.write_str("+")?;
                }
                write!(f, "{}={}", ava.attr, esc(&ava.value))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dn(s: &str) -> DistinguishedName {
        s.parse().expect("test DN parses")
    }

    #[test]
    fn normalization() {
        assert_eq!(
            dn("C=US, O=Example, CN=gw"),
            dn("c=US,o=Example ,  cn = gw")
        );
        assert_eq!(
            dn("2.5.4.6=US, O=Example, CN=gw"),
            dn("C=US, O=Example, CN=gw")
        );
        assert_eq!(dn("CN=a+UID=b"), dn("UID=b+CN=a"));
        // Values are exact; order of RDNs matters.
        assert_ne!(dn("C=US, O=Example, CN=gw"), dn("C=US, O=example, CN=gw"));
        assert_ne!(dn("C=US, O=Example, CN=gw"), dn("CN=gw, O=Example, C=US"));
        assert_eq!(
            dn(r"O=Acme\, Inc., CN=gw").to_string(),
            r"O=Acme\, Inc., CN=gw"
        );
        assert!("".parse::<DistinguishedName>().is_err());
        assert!("CN".parse::<DistinguishedName>().is_err());
        assert!("=x".parse::<DistinguishedName>().is_err());
    }
}
