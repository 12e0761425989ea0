//! CERTREQ "Certification Authority" data (RFC 7296 §3.7): a concatenation of 20-octet SHA-1
//! hashes, each over a trust anchor's DER SubjectPublicKeyInfo. Used both to ask the peer for
//! a certificate under our anchors and to pick which of our certificates answers the peer's.
//!
//! ```text
//!   Certification Authority (variable length) = SHA-1(SPKI_1) | SHA-1(SPKI_2) | ...
//! ```

use aws_lc_rs::digest;

use super::{CertError, Certificate};

/// Length of one CA hash.
pub const CA_HASH_LEN: usize = 20;

/// SHA-1 over a DER SubjectPublicKeyInfo (RFC 7296 §3.7's CA hash).
pub fn spki_sha1(spki: &[u8]) -> [u8; CA_HASH_LEN] {
    let d = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, spki);
    let mut out = [0; CA_HASH_LEN];
    out.copy_from_slice(d.as_ref());
    out
}

/// Splits CERTREQ Certification Authority data into its hashes; the length must be a multiple
/// of 20 (an empty list is allowed: "any CA").
pub fn parse_ca_hashes(data: &[u8]) -> Result<Vec<[u8; CA_HASH_LEN]>, CertError> {
    let chunks = data.chunks_exact(CA_HASH_LEN);
    if !chunks.remainder().is_empty() {
        return Err(CertError::Malformed(
            "CERTREQ: CA hash list is not a multiple of 20 octets",
        ));
    }
    Ok(chunks
        .map(|c| <[u8; CA_HASH_LEN]>::try_from(c).expect("chunks_exact yields 20-octet chunks"))
        .collect())
}

/// Picks the first of `candidates` (our own chains, each given by the CA certificate at its
/// top) whose CA the peer's CERTREQ names; `None` when none does. An empty CERTREQ names no CA
/// in particular, so the first candidate is chosen.
pub fn pick_by_certreq<'a>(
    certreq_data: &[u8],
    candidates: &'a [Certificate],
) -> Result<Option<&'a Certificate>, CertError> {
    let hashes = parse_ca_hashes(certreq_data)?;
    if hashes.is_empty() {
        return Ok(candidates.first());
    }
    Ok(candidates.iter().find(|c| hashes.contains(&c.ca_hash())))
}
