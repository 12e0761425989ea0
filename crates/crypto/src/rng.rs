//! Randomness: the [`SecureRandom`] trait is the only way protocol crates get random bytes
//! (STYLE.md guideline 1). The daemon injects [`SystemRandom`]; tests and the simulator inject
//! [`DeterministicRandom`] so that every run of a seed is the same.

use std::sync::Mutex;

use aws_lc_rs::hmac;
use zeroize::Zeroize;

use crate::CryptoError;

/// A source of cryptographically secure random bytes (nonces, SPIs, IVs, private keys).
pub trait SecureRandom: Send + Sync {
    /// Fills `dest` entirely with random bytes.
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError>;
}

/// The operating system's CSPRNG, through aws-lc's `RAND_bytes`.
///
/// This is the one real provider: the place the clippy rule against OS randomness in protocol
/// crates is meant to funnel to.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRandom;

impl SystemRandom {
    /// The system random source.
    pub fn new() -> Self {
        Self
    }
}

impl SecureRandom for SystemRandom {
    // The real provider: reading the OS RNG here is the point (clippy.toml funnels protocol
    // crates to this trait instead).
    #[allow(clippy::disallowed_methods)]
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError> {
        aws_lc_rs::rand::fill(dest).map_err(|_| CryptoError::RandomFailed)
    }
}

/// A seeded, reproducible random source for tests and simulation: HMAC-DRBG with SHA-256
/// (NIST SP 800-90A §10.1.2), instantiated from the seed, never reseeded.
///
/// Never use it outside tests: its output is a pure function of the seed.
pub struct DeterministicRandom {
    state: Mutex<DrbgState>,
}

struct DrbgState {
    key: [u8; 32],
    value: [u8; 32],
}

impl Drop for DrbgState {
    fn drop(&mut self) {
        self.key.zeroize();
        self.value.zeroize();
    }
}

impl DrbgState {
    fn hmac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.key);
        let mut ctx = hmac::Context::with_key(&key);
        for part in parts {
            ctx.update(part);
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    /// HMAC_DRBG_Update (SP 800-90A §10.1.2.2).
    fn update(&mut self, provided: &[u8]) {
        self.key = self.hmac(&[&self.value, &[0x00], provided]);
        self.value = self.hmac(&[&self.value]);
        if provided.is_empty() {
            return;
        }
        self.key = self.hmac(&[&self.value, &[0x01], provided]);
        self.value = self.hmac(&[&self.value]);
    }
}

impl DeterministicRandom {
    /// A generator whose whole output stream is determined by `seed`.
    pub fn from_seed(seed: &[u8]) -> Self {
        let mut state = DrbgState {
            key: [0x00; 32],
            value: [0x01; 32],
        };
        state.update(seed);
        Self {
            state: Mutex::new(state),
        }
    }

    /// Convenience for simulations that number their seeds.
    pub fn from_u64(seed: u64) -> Self {
        Self::from_seed(&seed.to_be_bytes())
    }
}

impl core::fmt::Debug for DeterministicRandom {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("DeterministicRandom { .. }")
    }
}

impl SecureRandom for DeterministicRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError> {
        let mut state = self.state.lock().map_err(|_| CryptoError::RandomFailed)?;
        // HMAC_DRBG_Generate (SP 800-90A §10.1.2.5), no additional input.
        for chunk in dest.chunks_mut(32) {
            state.value = state.hmac(&[&state.value]);
            chunk.copy_from_slice(&state.value[..chunk.len()]);
        }
        state.update(&[]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_random_is_reproducible_per_seed() {
        let (a, b, c) = (
            DeterministicRandom::from_u64(7),
            DeterministicRandom::from_u64(7),
            DeterministicRandom::from_u64(8),
        );
        let (mut x, mut y, mut z) = ([0u8; 80], [0u8; 80], [0u8; 80]);
        a.fill(&mut x).unwrap();
        b.fill(&mut y).unwrap();
        c.fill(&mut z).unwrap();
        assert_eq!(x, y);
        assert_ne!(x, z);
        // The stream moves on: a second draw differs from the first.
        let mut x2 = [0u8; 80];
        a.fill(&mut x2).unwrap();
        assert_ne!(x, x2);
    }

    #[test]
    fn system_random_fills_and_varies() {
        let rng = SystemRandom::new();
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        rng.fill(&mut a).unwrap();
        rng.fill(&mut b).unwrap();
        assert_ne!(a, b);
    }
}
