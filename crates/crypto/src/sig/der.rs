//! A minimal DER reader and writer (X.690 §8, §10) for the few structures the signature and
//! certificate code touches itself: AlgorithmIdentifier, ECDSA-Sig-Value, SubjectPublicKeyInfo
//! and the outer Certificate SEQUENCE. Definite lengths only; every read is bounds-checked.

use super::SigError;

/// Universal tag numbers used here.
pub(crate) mod tag {
    pub(crate) const INTEGER: u8 = 0x02;
    pub(crate) const BIT_STRING: u8 = 0x03;
    pub(crate) const NULL: u8 = 0x05;
    pub(crate) const OID: u8 = 0x06;
    pub(crate) const SEQUENCE: u8 = 0x30;
}

/// A cursor over DER bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Reads one TLV and returns `(tag, value, whole element)`.
    ///
    /// ```text
    ///   tag (1 octet, low tag numbers only) | length (short or long form) | value
    /// ```
    pub(crate) fn read_any(&mut self) -> Result<(u8, &'a [u8], &'a [u8]), SigError> {
        let start = self.rest;
        let (&t, after_tag) = self
            .rest
            .split_first()
            .ok_or(SigError::Malformed("DER: truncated tag"))?;
        if t & 0x1f == 0x1f {
            return Err(SigError::Malformed(
                "DER: high tag numbers are not used here",
            ));
        }
        let (&l0, mut after_len) = after_tag
            .split_first()
            .ok_or(SigError::Malformed("DER: truncated length"))?;
        let len = if l0 < 0x80 {
            usize::from(l0)
        } else {
            let n = usize::from(l0 & 0x7f);
            if n == 0 || n > 4 {
                return Err(SigError::Malformed("DER: indefinite or oversized length"));
            }
            let (bytes, rest) = after_len
                .split_at_checked(n)
                .ok_or(SigError::Malformed("DER: truncated length"))?;
            if bytes[0] == 0 {
                return Err(SigError::Malformed("DER: non-minimal length"));
            }
            let len = bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            if len < 0x80 {
                return Err(SigError::Malformed("DER: non-minimal length"));
            }
            after_len = rest;
            len
        };
        let (value, rest) = after_len
            .split_at_checked(len)
            .ok_or(SigError::Malformed("DER: value runs past the end"))?;
        let whole_len = start.len() - rest.len();
        self.rest = rest;
        Ok((t, value, &start[..whole_len]))
    }

    /// Reads one element that must carry `want` and returns its value.
    pub(crate) fn read(&mut self, want: u8, what: &'static str) -> Result<&'a [u8], SigError> {
        let (t, value, _) = self.read_any()?;
        if t != want {
            return Err(SigError::Malformed(what));
        }
        Ok(value)
    }

    /// Fails unless every byte was consumed.
    pub(crate) fn finish(&self, what: &'static str) -> Result<(), SigError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(SigError::Malformed(what))
        }
    }
}

/// Appends a TLV with a definite, minimal length.
pub(crate) fn write(out: &mut Vec<u8>, t: u8, value: &[u8]) {
    out.push(t);
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(value);
}

/// A TLV as a new vector.
pub(crate) fn tlv(t: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    write(&mut out, t, value);
    out
}

/// Formats an OID's content octets in dotted form (X.690 §8.19), for error messages.
pub(crate) fn oid_to_string(oid: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for &b in oid {
        acc = acc.saturating_mul(128) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            arcs.push(acc);
            acc = 0;
        }
    }
    let mut s = String::new();
    if let Some(&first) = arcs.first() {
        let (a, b) = match first {
            0..=39 => (0, first),
            40..=79 => (1, first - 40),
            _ => (2, first - 80),
        };
        s = format!("{a}.{b}");
    }
    for arc in arcs.iter().skip(1) {
        s.push('.');
        s.push_str(&arc.to_string());
    }
    if s.is_empty() {
        "(empty)".to_owned()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths_and_rejects_bad_ones() {
        let long = [&[0x04, 0x81, 0x80][..], &[0xaa; 0x80]].concat();
        let (t, v, whole) = Reader::new(&long).read_any().unwrap();
        assert_eq!((t, v.len(), whole.len()), (0x04, 0x80, 0x83));
        assert_eq!(tlv(0x04, &[0xaa; 0x80]), long);
        for bad in [
            &[0x30][..],
            &[0x30, 0x05, 0x00],
            &[0x30, 0x80],
            &[0x30, 0x81, 0x05, 0, 0, 0, 0, 0],
            &[0x1f, 0x00],
        ] {
            assert!(Reader::new(bad).read_any().is_err(), "{bad:02x?}");
        }
    }

    #[test]
    fn formats_oids() {
        assert_eq!(
            oid_to_string(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]),
            "1.2.840.113549.1.1.11"
        );
        assert_eq!(oid_to_string(&[0x2b, 0x65, 0x70]), "1.3.101.112");
    }
}
