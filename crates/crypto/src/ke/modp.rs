//! MODP Diffie-Hellman groups 14, 15 and 16 (RFC 3526): the primes, the generator 2, the peer
//! value check, and the exponentiation (through the constant-time [`super::bn`] wrapper).

use super::bn;
use crate::{CryptoError, SecretBytes, SecureRandom};

/// Private exponent length in bytes (512 bits). RFC 3526 §8 estimates 110-160, 130-210 and
/// 150-240 bits of strength for groups 14, 15 and 16 and asks for an exponent of at least
/// twice that; 512 bits covers all three.
const EXPONENT_LEN: usize = 64;

/// Decodes an upper-case hex string at compile time (a bad constant fails the build).
const fn hex<const N: usize>(s: &str) -> [u8; N] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("MODP prime constant: not upper-case hex"),
        }
    }
    let s = s.as_bytes();
    assert!(s.len() == 2 * N, "MODP prime constant: wrong length");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]);
        i += 1;
    }
    out
}

/// RFC 3526 §3 2048-bit MODP prime: 2^2048 - 2^1984 - 1 + 2^64 * { [2^1918 pi] + 124476 }.
pub(crate) const MODP_2048_PRIME: [u8; 256] = hex(concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF",
));

/// RFC 3526 §4 3072-bit MODP prime: 2^3072 - 2^3008 - 1 + 2^64 * { [2^2942 pi] + 1690314 }.
pub(crate) const MODP_3072_PRIME: [u8; 384] = hex(concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
));

/// RFC 3526 §5 4096-bit MODP prime: 2^4096 - 2^4032 - 1 + 2^64 * { [2^3966 pi] + 240904 }.
pub(crate) const MODP_4096_PRIME: [u8; 512] = hex(concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7",
    "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8",
    "DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2",
    "233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9",
    "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF",
));

/// A MODP group: its prime and name. The generator is 2 for all of them (RFC 3526).
#[derive(Debug)]
pub(crate) struct ModpGroup {
    pub(crate) name: &'static str,
    pub(crate) prime: &'static [u8],
}

/// Group 14.
pub(crate) static GROUP_14: ModpGroup = ModpGroup {
    name: "MODP_2048",
    prime: &MODP_2048_PRIME,
};
/// Group 15.
pub(crate) static GROUP_15: ModpGroup = ModpGroup {
    name: "MODP_3072",
    prime: &MODP_3072_PRIME,
};
/// Group 16.
pub(crate) static GROUP_16: ModpGroup = ModpGroup {
    name: "MODP_4096",
    prime: &MODP_4096_PRIME,
};

impl ModpGroup {
    /// Length of public values and of the shared secret: the prime's length (RFC 7296 §3.4:
    /// the KE data is zero-padded to the prime's length).
    pub(crate) fn len(&self) -> usize {
        self.prime.len()
    }

    /// Draws a private exponent and computes the public value `g^x mod p`.
    pub(crate) fn generate(
        &self,
        rng: &dyn SecureRandom,
    ) -> Result<(SecretBytes, Vec<u8>), CryptoError> {
        let mut x = SecretBytes::zeroed(EXPONENT_LEN);
        rng.fill(x.expose_mut())?;
        let mut g = vec![0u8; self.len()];
        if let Some(last) = g.last_mut() {
            *last = 2;
        }
        let mut public = vec![0u8; self.len()];
        bn::mod_exp_consttime(&g, x.expose(), self.prime, &mut public)?;
        Ok((x, public))
    }

    /// Checks the peer's value (`1 < y < p - 1`, exactly the prime's length) and computes the
    /// shared secret `y^x mod p`, padded to the prime's length (RFC 7296 §2.14).
    pub(crate) fn complete(
        &self,
        x: &SecretBytes,
        peer: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        let bad = CryptoError::InvalidPublicValue { what: self.name };
        if !self.peer_value_in_range(peer) {
            return Err(bad);
        }
        let mut shared = SecretBytes::zeroed(self.len());
        bn::mod_exp_consttime(peer, x.expose(), self.prime, shared.expose_mut())?;
        // With 1 < y < p-1 and a safe prime the result cannot be 1 unless y has order 2,
        // which only p-1 has; checking costs nothing and guards the invariant.
        if is_small(shared.expose(), 1) {
            return Err(bad);
        }
        Ok(shared)
    }

    /// `1 < y < p - 1` on big-endian strings of the prime's length (public data, so plain
    /// comparisons are fine). Rejects 0, 1 and p-1, the values that pin the shared secret
    /// to a subgroup of order 1 or 2 (small subgroup confinement).
    fn peer_value_in_range(&self, y: &[u8]) -> bool {
        if y.len() != self.len() || is_small(y, 0) || is_small(y, 1) {
            return false;
        }
        // p is odd, so p - 1 differs from p only in its last byte.
        let mut p_minus_1 = [0u8; 512];
        let p_minus_1 = &mut p_minus_1[..self.len()];
        p_minus_1.copy_from_slice(self.prime);
        if let Some(last) = p_minus_1.last_mut() {
            *last -= 1;
        }
        y < &*p_minus_1
    }
}

/// Whether big-endian `v` equals the small number `n`.
fn is_small(v: &[u8], n: u8) -> bool {
    match v.split_last() {
        Some((last, rest)) => *last == n && rest.iter().all(|b| *b == 0),
        None => n == 0,
    }
}
