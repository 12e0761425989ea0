//! Key derivation (RFC 7296 §2.14, §2.17): SKEYSEED and the seven SK_* keys of an IKE SA, and
//! KEYMAT for child SAs. Every key lives in a zeroizing [`SecretBytes`].

use rampart_crypto::proposal::ProposalSpec;
use rampart_crypto::{CryptoError, EncrAlg, IntegAlg, Prf, PrfAlg, SecretBytes};
use rampart_wire::ike::iana::KeId;

/// The algorithms of an IKE SA, from the chosen proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IkeAlgs {
    pub(crate) encr: EncrAlg,
    pub(crate) integ: Option<IntegAlg>,
    pub(crate) prf: PrfAlg,
    pub(crate) ke: KeId,
}

impl IkeAlgs {
    /// The implementations of a chosen IKE proposal (one transform per type), or `None` if one
    /// of them is not implemented.
    pub(crate) fn from_chosen(chosen: &ProposalSpec) -> Option<Self> {
        let &(encr_id, bits) = chosen.encryption.first()?;
        let encr = EncrAlg::from_id(encr_id, bits).ok()?;
        let integ = match chosen.integrity.first() {
            Some(&id) => Some(IntegAlg::from_id(id).ok()?),
            None => None,
        };
        if encr.is_aead() == integ.is_some() {
            return None;
        }
        Some(Self {
            encr,
            integ,
            prf: PrfAlg::from_id(*chosen.prf.first()?).ok()?,
            ke: *chosen.key_exchange.first()?,
        })
    }
}

/// The keys of an IKE SA (RFC 7296 §2.14).
#[derive(Debug, Clone)]
pub(crate) struct IkeKeys {
    /// SK_d: the key child SA keys are derived from.
    pub(crate) sk_d: SecretBytes,
    /// SK_ai / SK_ar: integrity (empty for AEADs).
    pub(crate) sk_ai: SecretBytes,
    pub(crate) sk_ar: SecretBytes,
    /// SK_ei / SK_er: encryption (AEAD: key and salt).
    pub(crate) sk_ei: SecretBytes,
    pub(crate) sk_er: SecretBytes,
    /// SK_pi / SK_pr: for the AUTH payloads.
    pub(crate) sk_pi: SecretBytes,
    pub(crate) sk_pr: SecretBytes,
}

/// The seed of the IKE SA's keys:
///
/// ```text
/// SKEYSEED = prf(Ni | Nr, g^ir)
/// {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
///                 = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr)
/// ```
///
/// SK_d, SK_pi and SK_pr are as long as the PRF's output; SK_a* as the integrity key (none for
/// AEADs, RFC 5282 §7.1); SK_e* as the cipher's key material (AEADs: key plus salt).
pub(crate) fn derive_ike_keys(
    algs: &IkeAlgs,
    g_ir: &SecretBytes,
    ni: &[u8],
    nr: &[u8],
    spi_i: u64,
    spi_r: u64,
) -> Result<IkeKeys, CryptoError> {
    let skeyseed = Prf::new(algs.prf, &[ni, nr].concat()).compute(&[g_ir.expose()]);
    keys_from_seed(algs, &skeyseed, ni, nr, spi_i, spi_r)
}

/// The keys of a new IKE SA made by rekeying (RFC 7296 §2.18):
///
/// ```text
/// SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)
/// {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
///                 = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr)
/// ```
///
/// SKEYSEED uses the old IKE SA's PRF (`old_prf`), prf+ the new SA's; the nonces and SPIs are
/// those of the CREATE_CHILD_SA exchange.
#[allow(clippy::too_many_arguments)]
pub(crate) fn derive_rekeyed_ike_keys(
    old_prf: PrfAlg,
    old_sk_d: &SecretBytes,
    algs: &IkeAlgs,
    g_ir: &SecretBytes,
    ni: &[u8],
    nr: &[u8],
    spi_i: u64,
    spi_r: u64,
) -> Result<IkeKeys, CryptoError> {
    let skeyseed = Prf::new(old_prf, old_sk_d.expose()).compute(&[g_ir.expose(), ni, nr]);
    keys_from_seed(algs, &skeyseed, ni, nr, spi_i, spi_r)
}

fn keys_from_seed(
    algs: &IkeAlgs,
    skeyseed: &SecretBytes,
    ni: &[u8],
    nr: &[u8],
    spi_i: u64,
    spi_r: u64,
) -> Result<IkeKeys, CryptoError> {
    let prf_len = algs.prf.output_len();
    let a_len = algs.integ.map_or(0, IntegAlg::key_len);
    let e_len = algs.encr.key_material_len();
    let total = 3 * prf_len + 2 * a_len + 2 * e_len;
    let stream = Prf::new(algs.prf, skeyseed.expose())
        .prf_plus(&[ni, nr, &spi_i.to_be_bytes(), &spi_r.to_be_bytes()], total)?;
    let mut rest = stream.expose();
    let mut take = |n: usize| {
        let (head, tail) = rest.split_at(n);
        rest = tail;
        SecretBytes::from_slice(head)
    };
    Ok(IkeKeys {
        sk_d: take(prf_len),
        sk_ai: take(a_len),
        sk_ar: take(a_len),
        sk_ei: take(e_len),
        sk_er: take(e_len),
        sk_pi: take(prf_len),
        sk_pr: take(prf_len),
    })
}

/// One direction's keys of a child SA.
#[derive(Debug, Clone)]
pub(crate) struct DirectionKeys {
    pub(crate) encr: SecretBytes,
    pub(crate) integ: SecretBytes,
}

/// KEYMAT for a child SA (RFC 7296 §2.17):
///
/// ```text
/// KEYMAT = prf+(SK_d, Ni | Nr)                  (no PFS, and the first child SA)
/// KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr)     (PFS)
/// ```
///
/// taken as initiator→responder encryption then integrity key, then responder→initiator.
/// Returns `(initiator_to_responder, responder_to_initiator)`.
pub(crate) fn derive_child_keys(
    prf: PrfAlg,
    sk_d: &SecretBytes,
    pfs_g_ir: Option<&SecretBytes>,
    ni: &[u8],
    nr: &[u8],
    encr: EncrAlg,
    integ: Option<IntegAlg>,
) -> Result<(DirectionKeys, DirectionKeys), CryptoError> {
    let e_len = encr.key_material_len();
    let a_len = integ.map_or(0, IntegAlg::key_len);
    let g = pfs_g_ir.map_or(&[][..], SecretBytes::expose);
    let stream = Prf::new(prf, sk_d.expose()).prf_plus(&[g, ni, nr], 2 * (e_len + a_len))?;
    let bytes = stream.expose();
    let part = |at: usize, n: usize| SecretBytes::from_slice(&bytes[at..at + n]);
    Ok((
        DirectionKeys {
            encr: part(0, e_len),
            integ: part(e_len, a_len),
        },
        DirectionKeys {
            encr: part(e_len + a_len, e_len),
            integ: part(2 * e_len + a_len, a_len),
        },
    ))
}

#[cfg(test)]
mod tests;
