//! `PacketBuf`: one packet in a fixed buffer with headroom and tailroom, so transforms work in
//! place (DESIGN.md §3): ESP/AH headers are pushed into the headroom in front of the payload,
//! padding, trailer and ICV are appended into the tailroom, and nothing is copied or allocated
//! per packet. Buffers are allocated once (by the IO shell's pool) and reused.
//!
//! The valid bytes are `buf[start..end]`; `start` is the headroom, `buf.len() - end` the
//! tailroom.

use crate::drop::DropReason;

/// Headroom that fits the largest outer headers we prepend: IPv6 (40) + UDP (8) + ESP (8) +
/// IV (16), or IPv6 + AH with a 32-byte ICV (40 + 12 + 32), rounded up.
pub const DEFAULT_HEADROOM: usize = 128;

/// Tailroom that fits the largest ESP trailer: padding (up to 255) + pad length + next header +
/// ICV (up to 32 bytes).
pub const DEFAULT_TAILROOM: usize = 512;

/// One packet in a reusable buffer; see the module docs.
#[derive(Clone)]
pub struct PacketBuf {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
}

impl core::fmt::Debug for PacketBuf {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PacketBuf")
            .field("len", &self.len())
            .field("headroom", &self.headroom())
            .field("tailroom", &self.tailroom())
            .finish()
    }
}

impl PacketBuf {
    /// A buffer of `capacity` bytes, empty, with `headroom` bytes reserved in front.
    ///
    /// # Panics
    /// If `headroom > capacity` (a configuration bug, never input-driven).
    pub fn new(capacity: usize, headroom: usize) -> Self {
        assert!(
            headroom <= capacity,
            "headroom {headroom} exceeds capacity {capacity}"
        );
        Self {
            buf: vec![0; capacity].into_boxed_slice(),
            start: headroom,
            end: headroom,
        }
    }

    /// A buffer holding `data`, with [`DEFAULT_HEADROOM`] and [`DEFAULT_TAILROOM`] around it.
    /// Allocates: for tests and setup, not the per-packet path.
    pub fn from_slice(data: &[u8]) -> Self {
        let mut p = Self::new(
            DEFAULT_HEADROOM + data.len() + DEFAULT_TAILROOM,
            DEFAULT_HEADROOM,
        );
        p.end = p.start + data.len();
        p.buf[p.start..p.end].copy_from_slice(data);
        p
    }

    /// Empties the buffer and sets the headroom again, for reuse.
    ///
    /// # Panics
    /// If `headroom` exceeds the capacity (a configuration bug).
    pub fn reset(&mut self, headroom: usize) {
        assert!(headroom <= self.buf.len(), "headroom exceeds capacity");
        self.start = headroom;
        self.end = headroom;
    }

    /// Replaces the contents with `data` after `headroom` bytes, e.g. after a read into
    /// [`spare_mut`](Self::spare_mut) was not possible. Fails if it does not fit.
    pub fn set(&mut self, headroom: usize, data: &[u8]) -> Result<(), DropReason> {
        let end = headroom
            .checked_add(data.len())
            .ok_or(DropReason::BufferTooSmall)?;
        if end > self.buf.len() {
            return Err(DropReason::BufferTooSmall);
        }
        self.buf[headroom..end].copy_from_slice(data);
        self.start = headroom;
        self.end = end;
        Ok(())
    }

    /// The space after the headroom, for an IO read to fill; follow with
    /// [`set_len`](Self::set_len).
    pub fn spare_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..]
    }

    /// Sets the packet length after a read into [`spare_mut`](Self::spare_mut); clamps to the
    /// capacity.
    pub fn set_len(&mut self, len: usize) {
        self.end = self.start.saturating_add(len).min(self.buf.len());
    }

    /// The packet bytes.
    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// The packet bytes, mutable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..self.end]
    }

    /// Packet length.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the packet is empty.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Free bytes in front of the packet.
    pub fn headroom(&self) -> usize {
        self.start
    }

    /// Free bytes after the packet.
    pub fn tailroom(&self) -> usize {
        self.buf.len() - self.end
    }

    /// Grows the packet by `n` bytes at the front and returns the whole packet (the new bytes
    /// first, with stale contents for the caller to overwrite).
    pub fn push_front(&mut self, n: usize) -> Result<&mut [u8], DropReason> {
        if n > self.start {
            return Err(DropReason::BufferTooSmall);
        }
        self.start -= n;
        Ok(self.data_mut())
    }

    /// Removes `n` bytes from the front.
    pub fn pull_front(&mut self, n: usize) -> Result<(), DropReason> {
        if n > self.len() {
            return Err(DropReason::Truncated);
        }
        self.start += n;
        Ok(())
    }

    /// Grows the packet by `n` bytes at the back and returns the whole packet (the new bytes
    /// last, with stale contents for the caller to overwrite).
    pub fn push_back(&mut self, n: usize) -> Result<&mut [u8], DropReason> {
        if n > self.tailroom() {
            return Err(DropReason::BufferTooSmall);
        }
        self.end += n;
        Ok(self.data_mut())
    }

    /// Removes `n` bytes from the back.
    pub fn trim_back(&mut self, n: usize) -> Result<(), DropReason> {
        if n > self.len() {
            return Err(DropReason::Truncated);
        }
        self.end -= n;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_and_pull_move_the_window_without_copying() {
        let mut p = PacketBuf::new(64, 16);
        p.set(16, b"payload").unwrap();
        p.push_front(4).unwrap()[..4].copy_from_slice(b"HDR:");
        p.push_back(3).unwrap()[11..].copy_from_slice(b"!!!");
        assert_eq!(p.data(), b"HDR:payload!!!");
        assert_eq!((p.headroom(), p.tailroom()), (12, 64 - 26));
        p.pull_front(4).unwrap();
        p.trim_back(3).unwrap();
        assert_eq!(p.data(), b"payload");
    }

    #[test]
    fn overruns_are_errors_not_panics() {
        let mut p = PacketBuf::new(16, 2);
        assert_eq!(p.push_front(3).unwrap_err(), DropReason::BufferTooSmall);
        assert_eq!(p.push_back(15).unwrap_err(), DropReason::BufferTooSmall);
        assert_eq!(p.pull_front(1).unwrap_err(), DropReason::Truncated);
        assert_eq!(p.trim_back(1).unwrap_err(), DropReason::Truncated);
        assert_eq!(p.set(10, &[0; 7]).unwrap_err(), DropReason::BufferTooSmall);
        assert_eq!(
            p.set(usize::MAX, &[0; 7]).unwrap_err(),
            DropReason::BufferTooSmall
        );
    }

    #[test]
    fn read_into_spare_then_set_len() {
        let mut p = PacketBuf::new(32, 8);
        p.spare_mut()[..3].copy_from_slice(b"abc");
        p.set_len(3);
        assert_eq!(p.data(), b"abc");
        p.set_len(1000);
        assert_eq!(p.len(), 24, "clamped to capacity");
    }
}
