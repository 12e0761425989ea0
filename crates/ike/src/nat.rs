//! NAT traversal (RFC 7296 §2.23, RFC 3948) and stateless cookies (§2.6).
//!
//! IKE_SA_INIT's NAT_DETECTION hashes tell each side whether a NAT sits before it or before
//! the peer ([`NatState`]); then IKE floats to UDP 4500, where every IKE message starts with
//! the non-ESP marker ([`ike_payload`] strips it from what arrives, [`with_marker`] adds it to
//! what leaves) and the side behind the NAT sends keepalives (RFC 3948 §2.3).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use rampart_wire::natt::{NON_ESP_MARKER, Udp4500Kind, classify_udp4500};

use aws_lc_rs::digest;
use rampart_crypto::{Prf, PrfAlg, SecretBytes};

/// NAT_DETECTION_*_IP data: `SHA-1(SPIi | SPIr | IP | Port)` (RFC 7296 §2.23), with the SPIs
/// as in the message header (SPIr is zero in the initial request).
pub(crate) fn nat_hash(spi_i: u64, spi_r: u64, addr: SocketAddr) -> Vec<u8> {
    let mut ctx = digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(&spi_i.to_be_bytes());
    ctx.update(&spi_r.to_be_bytes());
    match addr.ip() {
        IpAddr::V4(a) => ctx.update(&a.octets()),
        IpAddr::V6(a) => ctx.update(&a.octets()),
    }
    ctx.update(&addr.port().to_be_bytes());
    ctx.finish().as_ref().to_vec()
}

/// The UDP port IKE floats to and ESP-in-UDP uses (RFC 7296 §2.23, RFC 3948 §2).
pub(crate) const NATT_PORT: u16 = 4500;

/// What NAT detection found (RFC 7296 §2.23).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct NatState {
    /// The peer's NAT_DETECTION_DESTINATION_IP did not match our address: we are behind a NAT
    /// (and send keepalives).
    pub(crate) local_behind: bool,
    /// The peer's NAT_DETECTION_SOURCE_IP did not match the address its message came from: the
    /// peer is behind a NAT (or forces encapsulation by faking the hash).
    pub(crate) remote_behind: bool,
    /// We forced encapsulation by sending a source hash that cannot match.
    pub(crate) forced: bool,
}

impl NatState {
    /// Whether IKE floats to 4500 and ESP is UDP-encapsulated.
    pub(crate) fn encapsulate(self) -> bool {
        self.local_behind || self.remote_behind || self.forced
    }

    /// Whether we send NAT keepalives: we are behind a NAT, or told the peer so by forcing
    /// encapsulation (a NAT we could not detect may still be there).
    pub(crate) fn keepalives(self) -> bool {
        self.local_behind || self.forced
    }
}

/// The NAT_DETECTION_SOURCE_IP hash we send to force encapsulation (strongSwan's
/// `encap = yes`): the hash of 0.0.0.0:0, which no real source address matches.
pub(crate) fn forced_source_hash(spi_i: u64, spi_r: u64) -> Vec<u8> {
    nat_hash(
        spi_i,
        spi_r,
        SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
    )
}

/// The IKE message in a UDP payload that arrived at `local`: on the NAT-T port it must start
/// with the non-ESP marker, which is removed (RFC 3948 §2.2); ESP and keepalives there are not
/// IKE (`None`). On any other port the payload is the message.
pub(crate) fn ike_payload(local: SocketAddr, payload: &[u8]) -> Option<&[u8]> {
    if local.port() != NATT_PORT {
        return Some(payload);
    }
    match classify_udp4500(payload) {
        Ok(Udp4500Kind::Ike(message)) => Some(message),
        _ => None,
    }
}

/// The UDP payload for an IKE `message` sent from `local`: with the non-ESP marker in front on
/// the NAT-T port (RFC 3948 §2.2), as is otherwise.
pub(crate) fn with_marker(local: SocketAddr, message: Vec<u8>) -> Vec<u8> {
    if local.port() != NATT_PORT {
        return message;
    }
    let mut out = Vec::with_capacity(NON_ESP_MARKER.len() + message.len());
    out.extend_from_slice(&NON_ESP_MARKER);
    out.extend_from_slice(&message);
    out
}

/// A stateless cookie (RFC 7296 §2.6): `prf(secret, Ni | IPi | SPIi)` with HMAC-SHA-256, so
/// only we can make it and it binds the initiator's nonce, address and SPI.
pub(crate) fn cookie(
    secret: &SecretBytes,
    ni: &[u8],
    initiator: SocketAddr,
    spi_i: u64,
) -> Vec<u8> {
    let ip = match initiator.ip() {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    Prf::new(PrfAlg::HmacSha256, secret.expose())
        .compute(&[ni, &ip, &spi_i.to_be_bytes()])
        .expose()
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::python_oracle;

    /// The NAT detection hash against python's hashlib, written from the RFC's formula.
    #[test]
    fn nat_hash_matches_python_oracle() {
        let addr: SocketAddr = "192.0.2.1:500".parse().unwrap();
        let ours = hex::encode(nat_hash(0x0102030405060708, 0, addr));
        let Some(expected) = python_oracle(
            "import hashlib, struct, ipaddress\n\
             d = struct.pack('>QQ', 0x0102030405060708, 0) + ipaddress.ip_address('192.0.2.1').packed + struct.pack('>H', 500)\n\
             print(hashlib.sha1(d).hexdigest())",
        ) else {
            return;
        };
        assert_eq!(ours, expected);
    }

    #[test]
    fn marker_is_added_and_stripped_on_4500_only() {
        let nat: SocketAddr = "192.0.2.1:4500".parse().unwrap();
        let plain: SocketAddr = "192.0.2.1:500".parse().unwrap();
        let msg = vec![0x11; 28];
        let wrapped = with_marker(nat, msg.clone());
        assert_eq!(&wrapped[..4], &[0, 0, 0, 0]);
        assert_eq!(ike_payload(nat, &wrapped), Some(msg.as_slice()));
        assert_eq!(with_marker(plain, msg.clone()), msg);
        assert_eq!(ike_payload(plain, &msg), Some(msg.as_slice()));
        // ESP and keepalives on 4500 are not IKE.
        assert_eq!(ike_payload(nat, &[0xff]), None);
        assert_eq!(ike_payload(nat, &[0, 0, 0, 1, 0, 0, 0, 1]), None);
    }

    #[test]
    fn nat_state_decides_encapsulation_and_keepalives() {
        let none = NatState::default();
        assert!(!none.encapsulate() && !none.keepalives());
        let peer = NatState {
            remote_behind: true,
            ..none
        };
        assert!(peer.encapsulate() && !peer.keepalives());
        let us = NatState {
            local_behind: true,
            ..none
        };
        assert!(us.encapsulate() && us.keepalives());
        let forced = NatState {
            forced: true,
            ..none
        };
        assert!(forced.encapsulate() && forced.keepalives());
    }

    #[test]
    fn cookie_binds_its_inputs() {
        let s = SecretBytes::from_slice(&[7; 32]);
        let a: SocketAddr = "192.0.2.1:500".parse().unwrap();
        let b: SocketAddr = "192.0.2.2:500".parse().unwrap();
        let c = cookie(&s, &[1; 32], a, 5);
        assert_eq!(c.len(), 32);
        assert_eq!(c, cookie(&s, &[1; 32], a, 5));
        assert_ne!(c, cookie(&s, &[1; 32], b, 5));
        assert_ne!(c, cookie(&s, &[2; 32], a, 5));
        assert_ne!(c, cookie(&s, &[1; 32], a, 6));
        assert_ne!(
            c,
            cookie(&SecretBytes::from_slice(&[8; 32]), &[1; 32], a, 5)
        );
    }
}
