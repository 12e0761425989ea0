//! Certificate and Certificate Request payloads (CERT, CERTREQ; RFC 7296 §3.6, §3.7).
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Cert Encoding |                                               |
//! +-+-+-+-+-+-+-+-+                                               +
//! |                                                               |
//! ~                       Certificate Data                        ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! CERTREQ has the same shape with "Certification Authority" in place of the certificate data:
//! for X.509 it is a concatenation of SHA-1 hashes of trusted CAs' public keys.

use super::iana::CertEncoding;
use super::reader::{Reader, Writer};
use crate::error::Result;

/// Length of one CA public-key hash in a CERTREQ for X.509 (SHA-1, §3.7).
pub const CA_HASH_LEN: usize = 20;

/// A CERT payload body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertPayload {
    /// How `data` is encoded.
    pub encoding: CertEncoding,
    /// The certificate (DER for X.509) or other encoded object.
    pub data: Vec<u8>,
}

impl CertPayload {
    /// Parses a CERT body.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            encoding: CertEncoding(r.u8()?),
            data: r.rest().to_vec(),
        })
    }

    /// Appends the body.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        w.u8(self.encoding.0);
        w.bytes(&self.data);
        Ok(())
    }
}

/// A CERTREQ payload body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertReqPayload {
    /// The certificate encoding requested.
    pub encoding: CertEncoding,
    /// The Certification Authority field, raw.
    pub authorities: Vec<u8>,
}

impl CertReqPayload {
    /// Parses a CERTREQ body.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            encoding: CertEncoding(r.u8()?),
            authorities: r.rest().to_vec(),
        })
    }

    /// Appends the body.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        w.u8(self.encoding.0);
        w.bytes(&self.authorities);
        Ok(())
    }

    /// The 20-octet CA key hashes of an X.509 CERTREQ (§3.7); a trailing partial hash is ignored.
    pub fn ca_hashes(&self) -> impl Iterator<Item = &[u8]> {
        self.authorities.chunks_exact(CA_HASH_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::testutil::{body_truncations_fail, emit_body};

    #[test]
    fn cert_known_bytes() {
        let bytes = [4, 0x30, 0x82, 0x01];
        let c = CertPayload::parse(&mut Reader::new("CERT", &bytes)).unwrap();
        assert_eq!(c.encoding, CertEncoding::X509_SIGNATURE);
        assert_eq!(c.data, [0x30, 0x82, 0x01]);
        assert_eq!(emit_body(|w| c.emit(w)), bytes);
        body_truncations_fail(&bytes[..1], CertPayload::parse);
    }

    #[test]
    fn certreq_known_bytes_and_hashes() {
        let mut bytes = vec![4];
        bytes.extend([0x11; 20]);
        bytes.extend([0x22; 20]);
        let c = CertReqPayload::parse(&mut Reader::new("CERTREQ", &bytes)).unwrap();
        let hashes: Vec<_> = c.ca_hashes().collect();
        assert_eq!(hashes, [&[0x11; 20][..], &[0x22; 20][..]]);
        assert_eq!(emit_body(|w| c.emit(w)), bytes);
        body_truncations_fail(&bytes[..1], CertReqPayload::parse);
    }
}
