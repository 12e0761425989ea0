//! NAT detection (RFC 7296 §2.23) and stateless cookies (§2.6): the two hashes of IKE_SA_INIT.

use std::net::{IpAddr, SocketAddr};

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
