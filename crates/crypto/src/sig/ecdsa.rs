//! ECDSA signature encodings: the DER `ECDSA-Sig-Value` (RFC 3279 §2.2.3) that X.509 and
//! RFC 7427 method 14 use, and the fixed-length `r || s` of RFC 4754 §7 that IKEv2 auth
//! methods 9/10/11 use ("the signature value is the concatenation of r and s, each as a
//! big-endian integer of the curve's field size").
//!
//! ```text
//!   ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
//! ```

use super::SigError;
use super::der::{self, Reader, tag};

/// Converts a DER ECDSA-Sig-Value to `r || s`, each left-padded to `field_len` octets.
pub fn der_to_fixed(der_sig: &[u8], field_len: usize) -> Result<Vec<u8>, SigError> {
    let mut outer = Reader::new(der_sig);
    let mut seq = Reader::new(outer.read(tag::SEQUENCE, "ECDSA-Sig-Value")?);
    outer.finish("ECDSA-Sig-Value: trailing data")?;
    let mut out = Vec::with_capacity(2 * field_len);
    for _ in 0..2 {
        let int = seq.read(tag::INTEGER, "ECDSA-Sig-Value INTEGER")?;
        let magnitude = unsigned_magnitude(int)?;
        if magnitude.len() > field_len {
            return Err(SigError::Malformed(
                "ECDSA-Sig-Value: integer longer than the field",
            ));
        }
        out.resize(out.len() + field_len - magnitude.len(), 0);
        out.extend_from_slice(magnitude);
    }
    seq.finish("ECDSA-Sig-Value: trailing data")?;
    Ok(out)
}

/// Converts `r || s` (two equal halves) to a DER ECDSA-Sig-Value.
pub fn fixed_to_der(fixed: &[u8]) -> Result<Vec<u8>, SigError> {
    if fixed.is_empty() || fixed.len() % 2 != 0 {
        return Err(SigError::Malformed(
            "fixed ECDSA signature: odd or empty length",
        ));
    }
    let (r, s) = fixed.split_at(fixed.len() / 2);
    let mut body = Vec::with_capacity(fixed.len() + 6);
    for half in [r, s] {
        let first_nonzero = half.iter().position(|&b| b != 0).unwrap_or(half.len() - 1);
        let trimmed = &half[first_nonzero..];
        // A leading 0x00 keeps a high first bit from reading as negative (X.690 §8.3).
        let mut int = Vec::with_capacity(trimmed.len() + 1);
        if trimmed[0] & 0x80 != 0 {
            int.push(0);
        }
        int.extend_from_slice(trimmed);
        der::write(&mut body, tag::INTEGER, &int);
    }
    Ok(der::tlv(tag::SEQUENCE, &body))
}

/// A DER INTEGER's content as an unsigned magnitude: minimal, non-negative.
fn unsigned_magnitude(int: &[u8]) -> Result<&[u8], SigError> {
    match int {
        [] => Err(SigError::Malformed("ECDSA-Sig-Value: empty INTEGER")),
        [b, ..] if b & 0x80 != 0 => Err(SigError::Malformed("ECDSA-Sig-Value: negative INTEGER")),
        [0, next, ..] if next & 0x80 == 0 => {
            Err(SigError::Malformed("ECDSA-Sig-Value: non-minimal INTEGER"))
        }
        [0, rest @ ..] if !rest.is_empty() => Ok(rest),
        _ => Ok(int),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pads_and_strips_sign_octets() {
        // r = 0x80 (needs a sign octet), s = 0x01 (needs padding).
        let der_sig = [0x30, 0x07, 0x02, 0x02, 0x00, 0x80, 0x02, 0x01, 0x01];
        let fixed = der_to_fixed(&der_sig, 4).unwrap();
        assert_eq!(fixed, [0, 0, 0, 0x80, 0, 0, 0, 1]);
        assert_eq!(fixed_to_der(&fixed).unwrap(), der_sig);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            &[0x30, 0x03, 0x02, 0x01, 0x80][..], // negative, and only one INTEGER
            &[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x81], // negative s
            &[0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01], // non-minimal r
            &[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00], // trailing
        ] {
            assert!(der_to_fixed(bad, 32).is_err(), "{bad:02x?}");
        }
        let too_long = fixed_to_der(&[0x7f; 66]).unwrap();
        assert!(der_to_fixed(&too_long, 32).is_err());
        assert!(fixed_to_der(&[1, 2, 3]).is_err());
    }

    proptest! {
        #[test]
        fn fixed_der_round_trip(r in proptest::collection::vec(any::<u8>(), 32), s in proptest::collection::vec(any::<u8>(), 32)) {
            let fixed = [r, s].concat();
            let der_sig = fixed_to_der(&fixed).unwrap();
            prop_assert_eq!(der_to_fixed(&der_sig, 32).unwrap(), fixed);
        }
    }
}
