//! Secret byte strings: every key, SKEYSEED, Diffie-Hellman shared secret and PSK lives in a
//! [`SecretBytes`], which zeroizes on drop, never prints its contents, and compares in constant
//! time.

use zeroize::Zeroize;

/// A heap buffer of secret bytes.
///
/// - Dropping it overwrites the bytes with zeros.
/// - `Debug` prints only the length: `SecretBytes([redacted; 32 bytes])`. There is no `Display`.
/// - `==` runs in time independent of the contents (only the lengths are compared openly).
///
/// The buffer is allocated once at its final size and never grows, so no stale copy is left
/// behind by a reallocation.
#[derive(Clone, Default)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Takes ownership of `bytes` (the vector is zeroized when this value drops).
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// Copies `bytes` into a new secret buffer.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// A buffer of `len` zero bytes, to be filled in place.
    pub fn zeroed(len: usize) -> Self {
        Self(vec![0; len])
    }

    /// The secret bytes. Named so that every read of a secret is easy to find.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The secret bytes, writable.
    pub fn expose_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl core::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SecretBytes([redacted; {} bytes])", self.0.len())
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        aws_lc_rs::constant_time::verify_slices_are_equal(&self.0, &other.0).is_ok()
    }
}

impl Eq for SecretBytes {}

impl From<Vec<u8>> for SecretBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_contents() {
        let s = SecretBytes::from_slice(b"correct horse");
        assert_eq!(format!("{s:?}"), "SecretBytes([redacted; 13 bytes])");
        assert!(!format!("{s:?}").contains("horse"));
    }

    #[test]
    fn equality_compares_contents_and_length() {
        let a = SecretBytes::from_slice(&[1, 2, 3]);
        assert_eq!(a, SecretBytes::new(vec![1, 2, 3]));
        assert_ne!(a, SecretBytes::from_slice(&[1, 2, 4]));
        assert_ne!(a, SecretBytes::from_slice(&[1, 2]));
        assert_eq!(SecretBytes::zeroed(4).expose(), &[0; 4]);
    }
}
