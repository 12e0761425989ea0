//! Key exchange methods for IKE_SA_INIT and CREATE_CHILD_SA (RFC 7296 §1.2, §2.14): ECP
//! groups 19/20 (RFC 5903), Curve25519 (RFC 8031) and MODP groups 14/15/16 (RFC 3526).
//!
//! Private keys come from the injected [`SecureRandom`], so a simulation with a seeded
//! generator replays the same exchange. Every peer value is validated before use.

mod bn;
mod modp;

use aws_lc_rs::agreement::{self, ECDH_P256, ECDH_P384, PrivateKey, UnparsedPublicKey, X25519};
use rampart_wire::ike::iana::KeId;
use zeroize::Zeroize;

use crate::{CryptoError, SecretBytes, SecureRandom};
use modp::ModpGroup;

/// How many private scalars to draw before giving up on an ECP key (a draw is rejected only
/// if it is zero or not below the group order: probability < 2^-32 per draw).
const ECP_DRAWS: usize = 8;

/// One side of a key exchange: our ephemeral private key and public value.
///
/// ```text
///   let ke = KeyExchange::new(KeId::CURVE25519, &rng)?;
///   send(ke.public_value());              // KE payload data
///   let g_ir = ke.complete(peer_ke_data)?; // consumes the private key
/// ```
pub struct KeyExchange {
    id: KeId,
    public: Vec<u8>,
    inner: Inner,
}

enum Inner {
    Ecdh {
        alg: &'static agreement::Algorithm,
        private: PrivateKey,
        what: &'static str,
    },
    Modp {
        group: &'static ModpGroup,
        private: SecretBytes,
    },
}

impl core::fmt::Debug for KeyExchange {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyExchange")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The key exchange methods this crate implements, in preference order.
pub const SUPPORTED_KE: &[KeId] = &[
    KeId::CURVE25519,
    KeId::ECP_256,
    KeId::ECP_384,
    KeId::MODP_3072,
    KeId::MODP_4096,
    KeId::MODP_2048,
];

/// Curve parameters: algorithm, coordinate length (0 for X25519, whose value is the raw
/// 32-byte u-coordinate), private scalar length, name.
fn ecdh_params(id: KeId) -> Option<(&'static agreement::Algorithm, usize, usize, &'static str)> {
    match id {
        KeId::ECP_256 => Some((&ECDH_P256, 32, 32, "ECP_256")),
        KeId::ECP_384 => Some((&ECDH_P384, 48, 48, "ECP_384")),
        KeId::CURVE25519 => Some((&X25519, 0, 32, "Curve25519")),
        _ => None,
    }
}

impl KeyExchange {
    /// Generates an ephemeral key pair for `id`, drawing the private key from `rng`.
    pub fn new(id: KeId, rng: &dyn SecureRandom) -> Result<Self, CryptoError> {
        if let Some((alg, coord_len, scalar_len, what)) = ecdh_params(id) {
            return Self::new_ecdh(id, alg, coord_len, scalar_len, what, rng);
        }
        let group = match id {
            KeId::MODP_2048 => &modp::GROUP_14,
            KeId::MODP_3072 => &modp::GROUP_15,
            KeId::MODP_4096 => &modp::GROUP_16,
            other => {
                return Err(CryptoError::Unsupported {
                    what: "KE",
                    id: other.0,
                });
            }
        };
        let (private, public) = group.generate(rng)?;
        Ok(Self {
            id,
            public,
            inner: Inner::Modp { group, private },
        })
    }

    fn new_ecdh(
        id: KeId,
        alg: &'static agreement::Algorithm,
        coord_len: usize,
        scalar_len: usize,
        what: &'static str,
        rng: &dyn SecureRandom,
    ) -> Result<Self, CryptoError> {
        let mut scalar = [0u8; 48];
        let scalar = &mut scalar[..scalar_len];
        let mut private = None;
        for _ in 0..ECP_DRAWS {
            rng.fill(scalar)?;
            // aws-lc rejects 0 and values >= the group order; X25519 takes any 32 bytes
            // (clamped inside, RFC 7748 §5).
            if let Ok(key) = PrivateKey::from_private_key(alg, scalar) {
                private = Some(key);
                break;
            }
        }
        scalar.zeroize();
        let private = private.ok_or(CryptoError::RandomFailed)?;
        let point = private
            .compute_public_key()
            .map_err(|_| CryptoError::Backend("ECDH public key"))?;
        let point = point.as_ref();
        // RFC 5903 §7: the KE data is x | y, without SEC1's 0x04 prefix.
        let public = if coord_len == 0 {
            point.to_vec()
        } else {
            point.get(1..).unwrap_or_default().to_vec()
        };
        Ok(Self {
            id,
            public,
            inner: Inner::Ecdh { alg, private, what },
        })
    }

    /// The key exchange method.
    pub fn id(&self) -> KeId {
        self.id
    }

    /// Our public value in IKE's KE payload encoding: `x | y` for ECP (RFC 5903 §7), the
    /// 32-byte u-coordinate for Curve25519 (RFC 8031 §2), `g^x mod p` padded to the prime's
    /// length for MODP (RFC 7296 §3.4).
    pub fn public_value(&self) -> &[u8] {
        &self.public
    }

    /// The length the peer's KE data must have.
    pub fn public_value_len(&self) -> usize {
        self.public.len()
    }

    /// Checks the peer's KE data and returns the shared secret g^ir: the x-coordinate for ECP
    /// (RFC 5903 §7), 32 bytes for Curve25519 (an all-zero result is rejected, RFC 8031 §2),
    /// the prime-length value for MODP. Consumes the private key.
    pub fn complete(self, peer: &[u8]) -> Result<SecretBytes, CryptoError> {
        match self.inner {
            Inner::Modp { group, private } => group.complete(&private, peer),
            Inner::Ecdh { alg, private, what } => {
                let bad = CryptoError::InvalidPublicValue { what };
                if peer.len() != self.public.len() {
                    return Err(bad);
                }
                // Rebuild the SEC1 uncompressed point for ECP; aws-lc checks it is on the
                // curve (RFC 5903 §7 / SP 800-56A partial validation).
                let mut encoded = [0u8; 1 + 2 * 48];
                let encoded = if alg == &X25519 {
                    peer
                } else {
                    encoded[0] = 0x04;
                    encoded[1..=peer.len()].copy_from_slice(peer);
                    &encoded[..=peer.len()]
                };
                let shared = agreement::agree(
                    &private,
                    UnparsedPublicKey::new(alg, encoded),
                    bad,
                    |secret| Ok(SecretBytes::from_slice(secret)),
                )?;
                if shared.expose().iter().all(|b| *b == 0) {
                    return Err(bad);
                }
                Ok(shared)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DeterministicRandom;

    #[test]
    fn both_sides_agree_for_every_supported_group() {
        let rng = DeterministicRandom::from_u64(1);
        for &id in SUPPORTED_KE {
            let a = KeyExchange::new(id, &rng).unwrap();
            let b = KeyExchange::new(id, &rng).unwrap();
            let (pa, pb) = (a.public_value().to_vec(), b.public_value().to_vec());
            assert_ne!(pa, pb, "{id}");
            let sa = a.complete(&pb).unwrap();
            let sb = b.complete(&pa).unwrap();
            assert_eq!(sa, sb, "{id}");
        }
    }

    #[test]
    fn same_seed_gives_same_public_value() {
        for &id in SUPPORTED_KE {
            let a = KeyExchange::new(id, &DeterministicRandom::from_u64(9)).unwrap();
            let b = KeyExchange::new(id, &DeterministicRandom::from_u64(9)).unwrap();
            assert_eq!(a.public_value(), b.public_value(), "{id}");
        }
    }

    #[test]
    fn modp_peer_values_out_of_range_are_rejected() {
        let rng = DeterministicRandom::from_u64(2);
        let p = modp::MODP_2048_PRIME;
        let mut p_minus_1 = p;
        p_minus_1[255] -= 1;
        let mut one = [0u8; 256];
        one[255] = 1;
        for bad in [
            &[0u8; 256][..],
            &one,
            &p_minus_1,
            &p,
            &[0xff; 256],
            &[2u8; 255],
        ] {
            let ke = KeyExchange::new(KeId::MODP_2048, &rng).unwrap();
            assert_eq!(
                ke.complete(bad),
                Err(CryptoError::InvalidPublicValue { what: "MODP_2048" })
            );
        }
    }

    #[test]
    fn ecp_point_off_the_curve_is_rejected() {
        let rng = DeterministicRandom::from_u64(3);
        for id in [KeId::ECP_256, KeId::ECP_384] {
            let peer = KeyExchange::new(id, &rng).unwrap();
            let mut value = peer.public_value().to_vec();
            let last = value.len() - 1;
            value[last] ^= 1;
            let ke = KeyExchange::new(id, &rng).unwrap();
            assert!(matches!(
                ke.complete(&value),
                Err(CryptoError::InvalidPublicValue { .. })
            ));
            let ke = KeyExchange::new(id, &rng).unwrap();
            assert!(ke.complete(&value[1..]).is_err(), "short value");
        }
    }

    #[test]
    fn x25519_low_order_point_gives_zero_secret_and_is_rejected() {
        // u = 0 and u = 1 are points of small order: the X25519 result is all zeros
        // (RFC 7748 §6.1), which RFC 8031 §2 requires us to reject.
        let rng = DeterministicRandom::from_u64(4);
        for u in [[0u8; 32], {
            let mut one = [0u8; 32];
            one[0] = 1;
            one
        }] {
            let ke = KeyExchange::new(KeId::CURVE25519, &rng).unwrap();
            assert!(matches!(
                ke.complete(&u),
                Err(CryptoError::InvalidPublicValue { .. })
            ));
        }
    }

    #[test]
    fn unimplemented_groups_are_unsupported() {
        let rng = DeterministicRandom::from_u64(5);
        for id in [KeId::MODP_1024, KeId::CURVE448, KeId(999)] {
            assert_eq!(
                KeyExchange::new(id, &rng).err(),
                Some(CryptoError::Unsupported {
                    what: "KE",
                    id: id.0
                })
            );
        }
    }
}

#[cfg(test)]
mod known_answers {
    use super::*;
    use crate::testutil::{FixedRandom, python_oracle, records, unhex};

    #[test]
    fn ecp_and_x25519_match_rfc5903_and_rfc7748() {
        let recs = records(include_str!("../../testdata/ke_rfc7748_rfc5903.txt"));
        assert_eq!(recs.len(), 3);
        for r in &recs {
            let id = KeId(r["group"].parse().unwrap());
            let i = KeyExchange::new(id, &FixedRandom::new(unhex(r["i"]))).unwrap();
            let rr = KeyExchange::new(id, &FixedRandom::new(unhex(r["r"]))).unwrap();
            assert_eq!(i.public_value(), unhex(r["gi"]), "{id} g^i");
            assert_eq!(rr.public_value(), unhex(r["gr"]), "{id} g^r");
            assert_eq!(
                i.complete(&unhex(r["gr"])).unwrap().expose(),
                unhex(r["gir"])
            );
            assert_eq!(
                rr.complete(&unhex(r["gi"])).unwrap().expose(),
                unhex(r["gir"])
            );
        }
    }

    fn exponent(value: &[u8]) -> Vec<u8> {
        let mut x = vec![0u8; 64];
        x[64 - value.len()..].copy_from_slice(value);
        x
    }

    #[test]
    fn modp_small_exponents_give_powers_of_two() {
        // With x = 1 the public value is g = 2; with x = 10 it is 2^10 = 1024 (no reduction).
        for id in [KeId::MODP_2048, KeId::MODP_3072, KeId::MODP_4096] {
            let ke = KeyExchange::new(id, &FixedRandom::new(exponent(&[1]))).unwrap();
            let v = ke.public_value();
            assert!(v[..v.len() - 1].iter().all(|b| *b == 0) && v[v.len() - 1] == 2);
            let ke = KeyExchange::new(id, &FixedRandom::new(exponent(&[10]))).unwrap();
            let v = ke.public_value();
            assert_eq!(&v[v.len() - 2..], &[0x04, 0x00]);
            assert!(v[..v.len() - 2].iter().all(|b| *b == 0));
        }
    }

    #[test]
    fn modp_primes_have_rfc3526_shape() {
        // p = 2^n - 2^(n-64) - 1 + 2^64 * {...}: top 64 bits and low 64 bits are all ones, and
        // the RFC's hex starts FFFFFFFF FFFFFFFF C90FDAA2 2168C234 (the bits of pi).
        for p in [
            &modp::MODP_2048_PRIME[..],
            &modp::MODP_3072_PRIME,
            &modp::MODP_4096_PRIME,
        ] {
            assert_eq!(&p[..8], &[0xff; 8]);
            assert_eq!(&p[p.len() - 8..], &[0xff; 8]);
            assert_eq!(&p[8..16], &[0xC9, 0x0F, 0xDA, 0xA2, 0x21, 0x68, 0xC2, 0x34]);
        }
    }

    #[test]
    fn modp_primes_match_rfc3526_formula() {
        // Oracle: python recomputes each prime from RFC 3526's formula, with pi from Machin's
        // formula, independently of the hex in modp.rs.
        let script = "\
def pi_fixed(bits):
    g = bits + 64; one = 1 << g
    def atan_inv(x):
        total = term = one // x; x2 = x * x; n = 1; sign = -1
        while term:
            term //= x2; total += sign * (term // (2 * n + 1)); sign = -sign; n += 1
        return total
    return (4 * (4 * atan_inv(5) - atan_inv(239))) >> 64
for n, k in ((2048, 124476), (3072, 1690314), (4096, 240904)):
    print(format(2**n - 2**(n-64) - 1 + 2**64 * (pi_fixed(n - 130) + k), 'X'))";
        let Some(out) = python_oracle(script) else {
            return;
        };
        let ours = [
            &modp::MODP_2048_PRIME[..],
            &modp::MODP_3072_PRIME,
            &modp::MODP_4096_PRIME,
        ];
        for (line, p) in out.lines().zip(ours) {
            assert_eq!(line, hex::encode_upper(p));
        }
    }

    #[test]
    fn modp_exchange_matches_python_pow() {
        let xi = exponent(&[0x5a; 64]);
        let xr = exponent(&[0xc3, 0x01, 0x77]);
        for id in [KeId::MODP_2048, KeId::MODP_3072] {
            let i = KeyExchange::new(id, &FixedRandom::new(xi.clone())).unwrap();
            let r = KeyExchange::new(id, &FixedRandom::new(xr.clone())).unwrap();
            let p = match id {
                KeId::MODP_2048 => &modp::MODP_2048_PRIME[..],
                _ => &modp::MODP_3072_PRIME[..],
            };
            let script = format!(
                "p = int('{}', 16); xi = int('{}', 16); xr = int('{}', 16); n = {}\n\
                 for v in (pow(2, xi, p), pow(2, xr, p), pow(pow(2, xr, p), xi, p)):\n    \
                 print(v.to_bytes(n, 'big').hex())",
                hex::encode(p),
                hex::encode(&xi),
                hex::encode(&xr),
                p.len()
            );
            let Some(out) = python_oracle(&script) else {
                return;
            };
            let lines: Vec<&str> = out.lines().collect();
            assert_eq!(hex::encode(i.public_value()), lines[0]);
            assert_eq!(hex::encode(r.public_value()), lines[1]);
            let gr = r.public_value().to_vec();
            let gi = i.public_value().to_vec();
            assert_eq!(hex::encode(i.complete(&gr).unwrap().expose()), lines[2]);
            assert_eq!(hex::encode(r.complete(&gi).unwrap().expose()), lines[2]);
        }
    }
}
