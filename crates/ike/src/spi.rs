//! SPI allocation, injected so that the daemon can keep SPIs unique across threads and the
//! simulator can make them reproducible (DESIGN.md §1).

use std::sync::Arc;

use rampart_crypto::{CryptoError, SecureRandom};

/// Hands out SPIs. IKE SPIs must be nonzero (RFC 7296 §3.1); child SPIs nonzero and not in the
/// reserved range 1..=255 (RFC 4303 §2.1).
///
/// Shared as `Arc<dyn SpiAllocator>` by the endpoint and every IKE SA (which may run on other
/// threads), hence `&self` and `Sync`.
pub trait SpiAllocator: Send + Sync {
    /// A fresh IKE SPI.
    fn ike_spi(&self) -> Result<u64, CryptoError>;
    /// A fresh inbound child SA SPI.
    fn child_spi(&self) -> Result<u32, CryptoError>;
}

/// Draws SPIs from a random source, skipping the reserved values. Uniqueness is left to the
/// caller's check (a 64-bit random IKE SPI collides with negligible probability; the endpoint
/// redraws on collision).
#[derive(Clone)]
pub struct RandomSpis {
    rng: Arc<dyn SecureRandom>,
}

impl RandomSpis {
    /// SPIs drawn from `rng`.
    pub fn new(rng: Arc<dyn SecureRandom>) -> Self {
        Self { rng }
    }
}

impl core::fmt::Debug for RandomSpis {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("RandomSpis")
    }
}

impl SpiAllocator for RandomSpis {
    fn ike_spi(&self) -> Result<u64, CryptoError> {
        loop {
            let mut b = [0u8; 8];
            self.rng.fill(&mut b)?;
            let spi = u64::from_be_bytes(b);
            if spi != 0 {
                return Ok(spi);
            }
        }
    }

    fn child_spi(&self) -> Result<u32, CryptoError> {
        loop {
            let mut b = [0u8; 4];
            self.rng.fill(&mut b)?;
            let spi = u32::from_be_bytes(b);
            if spi > 255 {
                return Ok(spi);
            }
        }
    }
}
