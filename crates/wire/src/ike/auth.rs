//! Authentication payload (AUTH, RFC 7296 §3.8; RFC 7427 for method 14).
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Auth Method   |                RESERVED                       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                      Authentication Data                      ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! With the Digital Signature method (RFC 7427 §3) the Authentication Data is itself
//! structured:
//!
//! ```text
//! | ASN.1 Length  | AlgorithmIdentifier ASN.1 object (ASN.1 Length octets) | Signature Value ~
//! ```

use super::iana::AuthMethod;
use super::reader::{Reader, Writer, len_u8};
use crate::error::{Error, Result};

/// An AUTH payload body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthPayload {
    /// The authentication method.
    pub method: AuthMethod,
    /// The authentication data (a MAC, or a signature, per `method`).
    pub data: Vec<u8>,
}

impl AuthPayload {
    /// Parses an AUTH body.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self> {
        let method = AuthMethod(r.u8()?);
        let _reserved = r.take(3)?; // §3.8: ignored on receipt.
        Ok(Self {
            method,
            data: r.rest().to_vec(),
        })
    }

    /// Appends the body.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        w.u8(self.method.0);
        w.bytes(&[0; 3]);
        w.bytes(&self.data);
        Ok(())
    }

    /// An AUTH payload for the Digital Signature method (RFC 7427 §3) from the DER
    /// AlgorithmIdentifier and the signature value.
    pub fn digital_signature(algorithm_identifier: &[u8], signature: &[u8]) -> Result<Self> {
        let n = len_u8(
            "IKEv2 AUTH payload: ASN.1 length",
            algorithm_identifier.len(),
        )?;
        let mut data = Vec::with_capacity(1 + algorithm_identifier.len() + signature.len());
        data.push(n);
        data.extend_from_slice(algorithm_identifier);
        data.extend_from_slice(signature);
        Ok(Self {
            method: AuthMethod::DIGITAL_SIGNATURE,
            data,
        })
    }

    /// For the Digital Signature method, the (AlgorithmIdentifier, signature value) pair
    /// (RFC 7427 §3); [`Error::BadValue`] for any other method.
    pub fn signature_parts(&self) -> Result<(&[u8], &[u8])> {
        if self.method != AuthMethod::DIGITAL_SIGNATURE {
            return Err(Error::BadValue {
                what: "IKEv2 AUTH payload: method is not Digital Signature",
                value: self.method.0.into(),
            });
        }
        let mut r = Reader::new("IKEv2 AUTH payload: signature", &self.data);
        let n = r.u8()?;
        let alg = r.take(n.into())?;
        Ok((alg, r.rest()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::testutil::{body_truncations_fail, emit_body};

    #[test]
    fn psk_known_bytes() {
        let bytes = [2, 0, 0, 0, 1, 2, 3, 4];
        let a = AuthPayload::parse(&mut Reader::new("AUTH", &bytes)).unwrap();
        assert_eq!(a.method, AuthMethod::PSK);
        assert_eq!(a.data, [1, 2, 3, 4]);
        assert_eq!(emit_body(|w| a.emit(w)), bytes);
        body_truncations_fail(&bytes[..4], AuthPayload::parse);
        assert!(a.signature_parts().is_err());
    }

    #[test]
    fn digital_signature_parts() {
        // RFC 7427 Appendix A.4.3-style: a 5-octet "AlgorithmIdentifier" then the signature.
        let a = AuthPayload::digital_signature(&[0x30, 3, 6, 1, 0], &[9, 9]).unwrap();
        assert_eq!(a.data, [5, 0x30, 3, 6, 1, 0, 9, 9]);
        assert_eq!(
            a.signature_parts().unwrap(),
            (&[0x30, 3, 6, 1, 0][..], &[9, 9][..])
        );
        let short = AuthPayload {
            method: AuthMethod::DIGITAL_SIGNATURE,
            data: vec![6, 0x30, 3],
        };
        assert!(matches!(
            short.signature_parts(),
            Err(Error::Truncated { .. })
        ));
    }
}
