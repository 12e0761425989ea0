//! Byte reader and writer for IKEv2 payload chains (STYLE.md guideline 4).
//!
//! Every IKEv2 payload parser reads through a [`Reader`]: big-endian integers, `take(n)`, and
//! `sub(what, len)` for length-prefixed nested structures (proposal → transform → attribute), so
//! a bad inner length can never read past its container. A reader carries the static name of the
//! structure it reads; errors it returns name that structure. [`Reader::expect_empty`] enforces
//! "no trailing data" where a structure must end exactly.
//!
//! [`Writer`] is the emitting side: it appends to a `Vec<u8>` (IKE is the control plane, so
//! owned emission may allocate) and back-patches 16-bit length fields once the body is written.

use crate::error::{Error, Result};

/// A cursor over an untrusted byte slice; every read is bounds-checked.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`, naming `what` in its errors.
    pub fn new(what: &'static str, buf: &'a [u8]) -> Self {
        Self { buf, what }
    }

    /// The structure this reader reads.
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.buf.len() {
            return Err(Error::Truncated {
                what: self.what,
                need: n,
                have: self.buf.len(),
            });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    /// A big-endian `u16`.
    pub fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// A big-endian `u32`.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// A big-endian `u64`.
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// Splits off the next `len` bytes as a reader of their own, naming `what` (a nested,
    /// length-prefixed structure).
    pub fn sub(&mut self, what: &'static str, len: usize) -> Result<Self> {
        if len > self.buf.len() {
            return Err(Error::BadLength { what, len });
        }
        Ok(Self::new(what, self.take(len)?))
    }

    /// Everything not yet read; the reader is empty afterwards.
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.buf)
    }

    /// Fails with [`Error::TrailingData`] if any bytes are left.
    pub fn expect_empty(&self) -> Result<()> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(Error::TrailingData {
                what: self.what,
                extra: self.buf.len(),
            })
        }
    }
}

/// Appends big-endian fields to a `Vec<u8>`.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut Vec<u8>,
}

impl<'a> Writer<'a> {
    /// A writer appending to `buf`.
    pub fn new(buf: &'a mut Vec<u8>) -> Self {
        Self { buf }
    }

    /// Bytes in the underlying buffer so far (an offset usable with the `patch_*` methods).
    pub fn position(&self) -> usize {
        self.buf.len()
    }

    /// Appends one byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// Appends a big-endian `u16`.
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends a big-endian `u32`.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends a big-endian `u64`.
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends raw bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// Appends a zero `u16` to be patched later; returns its offset.
    pub fn placeholder_u16(&mut self) -> usize {
        let at = self.position();
        self.u16(0);
        at
    }

    /// Writes `position() - start` into the `u16` placeholder at `at`: the length of a structure
    /// that began at offset `start` and ends here. Fails if it does not fit 16 bits.
    pub fn patch_len_u16(&mut self, what: &'static str, at: usize, start: usize) -> Result<()> {
        let len = self.position() - start;
        let v = u16::try_from(len).map_err(|_| Error::BadLength { what, len })?;
        // `at` came from `placeholder_u16` on this buffer, so the two bytes exist.
        self.buf[at..at + 2].copy_from_slice(&v.to_be_bytes());
        Ok(())
    }

    /// Overwrites the byte at offset `at` (written earlier through this writer).
    pub fn patch_u8(&mut self, at: usize, v: u8) {
        self.buf[at] = v;
    }
}

/// `n` as a one-byte count or length field, or [`Error::BadLength`] naming `what`.
pub(crate) fn len_u8(what: &'static str, n: usize) -> Result<u8> {
    u8::try_from(n).map_err(|_| Error::BadLength { what, len: n })
}

/// `n` as a two-byte count or length field, or [`Error::BadLength`] naming `what`.
pub(crate) fn len_u16(what: &'static str, n: usize) -> Result<u16> {
    u16::try_from(n).map_err(|_| Error::BadLength { what, len: n })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_big_endian_and_names_the_structure_when_short() {
        let mut r = Reader::new("thing", &[1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(r.u8().unwrap(), 1);
        assert_eq!(r.u16().unwrap(), 0x0203);
        assert_eq!(r.u32().unwrap(), 0x0405_0607);
        assert_eq!(
            r.u8(),
            Err(Error::Truncated {
                what: "thing",
                need: 1,
                have: 0
            })
        );
        let mut r = Reader::new("long", &[0xff; 7]);
        assert_eq!(
            r.u64(),
            Err(Error::Truncated {
                what: "long",
                need: 8,
                have: 7
            })
        );
    }

    #[test]
    fn sub_reader_cannot_escape_its_length() {
        let mut r = Reader::new("outer", &[0, 1, 2, 3]);
        assert_eq!(
            r.sub("inner", 5).unwrap_err(),
            Error::BadLength {
                what: "inner",
                len: 5
            }
        );
        let mut s = r.sub("inner", 2).unwrap();
        assert_eq!(s.u16().unwrap(), 1);
        assert!(s.u8().is_err());
        assert_eq!(
            r.expect_empty(),
            Err(Error::TrailingData {
                what: "outer",
                extra: 2
            })
        );
        assert_eq!(r.rest(), &[2, 3]);
        r.expect_empty().unwrap();
    }

    #[test]
    fn writer_patches_lengths_and_rejects_overflow() {
        let mut v = Vec::new();
        let mut w = Writer::new(&mut v);
        let start = w.position();
        w.u8(9);
        let at = w.placeholder_u16();
        w.u64(0x0102_0304_0506_0708);
        w.patch_len_u16("x", at, start).unwrap();
        assert_eq!(v, [9, 0, 11, 1, 2, 3, 4, 5, 6, 7, 8]);

        let mut v = Vec::new();
        let mut w = Writer::new(&mut v);
        let at = w.placeholder_u16();
        w.bytes(&[0; 70_000]);
        assert!(matches!(
            w.patch_len_u16("big", at, 0),
            Err(Error::BadLength { what: "big", .. })
        ));
    }
}
