//! UDP encapsulation of ESP for NAT traversal (RFC 3948): telling IKE, ESP and NAT keepalives
//! apart on port 4500.
//!
//! The daemon's UDP 4500 socket hands each datagram's payload to [`classify_udp4500`]: IKE goes
//! to the IKE engine without its non-ESP marker, ESP goes to the data plane (the ESP header
//! starts at offset 0 of the UDP payload), keepalives are dropped (RFC 3948 §2.3).

use crate::{Error, Result};

/// The non-ESP marker: four zero bytes where ESP would have its SPI (RFC 3948 §2.2).
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |        Source Port            |      Destination Port         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Length              |           Checksum            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                      Non-ESP Marker                           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                      IKE header [RFC4306]                     |
/// ~                                                               ~
/// ```
pub const NON_ESP_MARKER: [u8; 4] = [0; 4];

/// The NAT-keepalive payload: one byte, 0xFF (RFC 3948 §2.3).
///
/// ```text
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |        Source Port            |      Destination Port         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Length              |           Checksum            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |    0xFF       |
/// +-+-+-+-+-+-+-+-+
/// ```
pub const KEEPALIVE: u8 = 0xff;

/// Length of the IKE header (RFC 7296 §3.1): the least an IKE message after the marker can be.
const IKE_HEADER_LEN: usize = 28;
/// Length of the ESP header (SPI and sequence number): the least an ESP packet can be.
const ESP_HEADER_LEN: usize = 8;

/// What a UDP 4500 payload carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Udp4500Kind<'a> {
    /// An IKE message; the slice is the message with the non-ESP marker removed.
    Ike(&'a [u8]),
    /// An ESP packet, starting at offset 0 of the payload (its SPI is non-zero).
    Esp,
    /// A NAT keepalive, to be dropped.
    Keepalive,
}

/// Classifies a UDP port 4500 payload (RFC 3948 §2.2, §2.3).
///
/// Errors: [`Error::Truncated`] if the payload is empty, shorter than the 4 bytes that tell IKE
/// from ESP, shorter than marker + IKE header, or shorter than an ESP header;
/// [`Error::BadValue`] for a one-byte payload other than 0xFF.
pub fn classify_udp4500(payload: &[u8]) -> Result<Udp4500Kind<'_>> {
    let truncated = |what, need| Error::Truncated {
        what,
        need,
        have: payload.len(),
    };
    match payload {
        [] => Err(truncated("UDP 4500 payload", 1)),
        [KEEPALIVE] => Ok(Udp4500Kind::Keepalive),
        [byte] => Err(Error::BadValue {
            what: "NAT keepalive",
            value: u32::from(*byte),
        }),
        [_, _] | [_, _, _] => Err(truncated("UDP 4500 payload", NON_ESP_MARKER.len())),
        [0, 0, 0, 0, ike @ ..] => {
            if ike.len() < IKE_HEADER_LEN {
                Err(truncated(
                    "IKE on UDP 4500",
                    NON_ESP_MARKER.len() + IKE_HEADER_LEN,
                ))
            } else {
                Ok(Udp4500Kind::Ike(ike))
            }
        }
        _ if payload.len() < ESP_HEADER_LEN => Err(truncated("ESP in UDP", ESP_HEADER_LEN)),
        _ => Ok(Udp4500Kind::Esp),
    }
}

/// Writes the non-ESP marker into the first 4 bytes of `buf` (the IKE message follows).
///
/// Errors: [`Error::BufferTooSmall`].
pub fn emit_non_esp_marker(buf: &mut [u8]) -> Result<()> {
    let have = buf.len();
    let marker = buf
        .get_mut(..NON_ESP_MARKER.len())
        .ok_or(Error::BufferTooSmall {
            what: "non-ESP marker",
            need: NON_ESP_MARKER.len(),
            have,
        })?;
    marker.copy_from_slice(&NON_ESP_MARKER);
    Ok(())
}

/// Writes a NAT keepalive into the first byte of `buf`; it is the whole UDP payload.
///
/// Errors: [`Error::BufferTooSmall`] on an empty buffer.
pub fn emit_keepalive(buf: &mut [u8]) -> Result<()> {
    let first = buf.first_mut().ok_or(Error::BufferTooSmall {
        what: "NAT keepalive",
        need: 1,
        have: 0,
    })?;
    *first = KEEPALIVE;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn classifies_the_three_kinds() {
        assert_eq!(classify_udp4500(&[0xff]), Ok(Udp4500Kind::Keepalive));
        let mut ike = vec![0u8; 4 + 28];
        ike[4] = 0x11; // initiator SPI starts
        assert_eq!(classify_udp4500(&ike), Ok(Udp4500Kind::Ike(&ike[4..])));
        let esp = [0, 0, 0x10, 0x01, 0, 0, 0, 1];
        assert_eq!(classify_udp4500(&esp), Ok(Udp4500Kind::Esp));
    }

    #[test]
    fn short_payloads_are_errors() {
        assert!(matches!(
            classify_udp4500(&[]),
            Err(Error::Truncated { need: 1, .. })
        ));
        assert_eq!(
            classify_udp4500(&[0x00]),
            Err(Error::BadValue {
                what: "NAT keepalive",
                value: 0
            })
        );
        for len in 2..4 {
            assert!(matches!(
                classify_udp4500(&[0xff; 3][..len]),
                Err(Error::Truncated { need: 4, .. })
            ));
        }
        for len in 4..32 {
            assert!(matches!(
                classify_udp4500(&vec![0u8; len]),
                Err(Error::Truncated { need: 32, .. })
            ));
        }
        for len in 4..8 {
            assert!(matches!(
                classify_udp4500(&[1u8; 8][..len]),
                Err(Error::Truncated { need: 8, .. })
            ));
        }
    }

    #[test]
    fn emitters() {
        let mut buf = [0xaau8; 6];
        emit_non_esp_marker(&mut buf).unwrap();
        assert_eq!(buf, [0, 0, 0, 0, 0xaa, 0xaa]);
        emit_keepalive(&mut buf).unwrap();
        assert_eq!(buf[0], 0xff);
        assert!(emit_non_esp_marker(&mut buf[..3]).is_err());
        assert!(emit_keepalive(&mut []).is_err());
    }

    proptest! {
        #[test]
        fn never_panics_and_is_consistent(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            match classify_udp4500(&bytes) {
                Ok(Udp4500Kind::Ike(ike)) => prop_assert_eq!(ike, &bytes[4..]),
                Ok(Udp4500Kind::Esp) => prop_assert!(bytes.len() >= 8 && bytes[..4] != [0; 4]),
                Ok(Udp4500Kind::Keepalive) => prop_assert_eq!(&bytes[..], &[0xff]),
                Err(_) => {}
            }
        }
    }
}
