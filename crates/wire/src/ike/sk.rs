//! Encrypted payloads: SK (RFC 7296 §3.14) and SKF (RFC 7383 §2.5).
//!
//! This layer does no crypto: it keeps the body as raw bytes and splits it into IV, ciphertext
//! (which includes padding and the Pad Length octet) and ICV, with the lengths the negotiated
//! algorithms dictate. After decryption the engine parses the inner payload chain with
//! [`super::message::parse_payload_chain`], starting from [`SkPayload::first_inner`].
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                     Initialization Vector                     |
//! |         (length is block size for encryption algorithm)       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                    Encrypted IKE Payloads                     ~
//! +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |               |             Padding (0-255 octets)            |
//! +-+-+-+-+-+-+-+-+                               +-+-+-+-+-+-+-+-+
//! |                                               |  Pad Length   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                    Integrity Checksum Data                    ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! SKF (RFC 7383 §2.5) adds two fields before the IV; Next Payload is the first inner payload
//! type in fragment 1 and zero in the others:
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |        Fragment Number        |        Total Fragments        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                     Initialization Vector                     |
//! ~                      Encrypted content                        ~
//! ~                    Integrity Checksum Data                    ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::iana::PayloadType;
use super::reader::{Reader, Writer};
use crate::error::{Error, Result};

/// The three parts of an encrypted body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkParts<'a> {
    /// Initialization vector.
    pub iv: &'a [u8],
    /// Encrypted payloads, padding and Pad Length.
    pub ciphertext: &'a [u8],
    /// Integrity checksum data (the AEAD tag for combined-mode ciphers).
    pub icv: &'a [u8],
}

fn split<'a>(
    what: &'static str,
    body: &'a [u8],
    iv_len: usize,
    icv_len: usize,
) -> Result<SkParts<'a>> {
    let mut r = Reader::new(what, body);
    let iv = r.take(iv_len)?;
    let Some(ct_len) = r.remaining().checked_sub(icv_len) else {
        return Err(Error::Truncated {
            what,
            need: iv_len + icv_len,
            have: body.len(),
        });
    };
    let ciphertext = r.take(ct_len)?;
    Ok(SkParts {
        iv,
        ciphertext,
        icv: r.rest(),
    })
}

/// An SK payload: IV || ciphertext || ICV, plus the type of the first inner payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkPayload {
    /// The Next Payload field of the SK header: the first payload inside the encryption.
    pub first_inner: PayloadType,
    /// IV, ciphertext and ICV, concatenated.
    pub body: Vec<u8>,
}

impl SkPayload {
    /// Builds the body from its parts.
    pub fn from_parts(first_inner: PayloadType, iv: &[u8], ciphertext: &[u8], icv: &[u8]) -> Self {
        Self {
            first_inner,
            body: [iv, ciphertext, icv].concat(),
        }
    }

    /// Parses an SK body (everything is raw).
    pub fn parse(first_inner: PayloadType, r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            first_inner,
            body: r.rest().to_vec(),
        })
    }

    /// Appends the body.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        w.bytes(&self.body);
        Ok(())
    }

    /// Splits the body given the IV and ICV lengths of the negotiated algorithms.
    pub fn split(&self, iv_len: usize, icv_len: usize) -> Result<SkParts<'_>> {
        split("IKEv2 SK payload", &self.body, iv_len, icv_len)
    }
}

/// An SKF payload (RFC 7383): one fragment of an SK payload's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkfPayload {
    /// First inner payload type in fragment 1; [`PayloadType::NONE`] in the others.
    pub first_inner: PayloadType,
    /// This fragment's number, 1..=`total_fragments`.
    pub fragment_number: u16,
    /// The number of fragments the message was split into.
    pub total_fragments: u16,
    /// IV, ciphertext and ICV, concatenated.
    pub body: Vec<u8>,
}

impl SkfPayload {
    fn check(&self) -> Result<()> {
        // RFC 7383 §2.5: numbering starts at 1 and cannot exceed Total Fragments.
        if self.fragment_number == 0 || self.fragment_number > self.total_fragments {
            return Err(Error::BadValue {
                what: "IKEv2 SKF payload: fragment number",
                value: self.fragment_number.into(),
            });
        }
        Ok(())
    }

    /// Parses an SKF body.
    pub fn parse(first_inner: PayloadType, r: &mut Reader<'_>) -> Result<Self> {
        let p = Self {
            first_inner,
            fragment_number: r.u16()?,
            total_fragments: r.u16()?,
            body: r.rest().to_vec(),
        };
        p.check()?;
        Ok(p)
    }

    /// Appends the body.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        self.check()?;
        w.u16(self.fragment_number);
        w.u16(self.total_fragments);
        w.bytes(&self.body);
        Ok(())
    }

    /// Splits the body given the IV and ICV lengths of the negotiated algorithms.
    pub fn split(&self, iv_len: usize, icv_len: usize) -> Result<SkParts<'_>> {
        split("IKEv2 SKF payload", &self.body, iv_len, icv_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::testutil::{body_truncations_fail, emit_body};

    #[test]
    fn sk_split() {
        let sk = SkPayload::from_parts(PayloadType::IDI, &[1; 8], &[2; 5], &[3; 16]);
        assert_eq!(emit_body(|w| sk.emit(w)).len(), 29);
        let p = sk.split(8, 16).unwrap();
        assert_eq!(
            (p.iv, p.ciphertext, p.icv),
            (&[1; 8][..], &[2; 5][..], &[3; 16][..])
        );
        assert!(sk.split(8, 22).is_err());
        assert!(sk.split(30, 0).is_err());
        let back = SkPayload::parse(PayloadType::IDI, &mut Reader::new("SK", &sk.body)).unwrap();
        assert_eq!(back, sk);
    }

    #[test]
    fn skf_known_bytes_and_numbering() {
        let bytes = [0, 2, 0, 3, 0xaa, 0xbb];
        let f = SkfPayload::parse(PayloadType::NONE, &mut Reader::new("SKF", &bytes)).unwrap();
        assert_eq!((f.fragment_number, f.total_fragments), (2, 3));
        assert_eq!(f.split(1, 1).unwrap().ciphertext, &[] as &[u8]);
        assert_eq!(emit_body(|w| f.emit(w)), bytes);
        body_truncations_fail(&bytes[..4], |r| SkfPayload::parse(PayloadType::NONE, r));
        for bad in [[0, 0, 0, 3], [0, 4, 0, 3], [0, 1, 0, 0]] {
            assert!(SkfPayload::parse(PayloadType::NONE, &mut Reader::new("SKF", &bad)).is_err());
        }
    }
}
