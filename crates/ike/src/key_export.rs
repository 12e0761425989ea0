//! Key export for debugging (DESIGN.md §5 layer 2): the SK_* keys of an IKE SA, so that a
//! dissector (tshark's IKEv2 decryption table) can decrypt a capture. Weakens the SA's secrecy by
//! design, hence `dangerous_*`; the daemon offers it only behind `allow_key_export`.

use rampart_crypto::{EncrAlg, IntegAlg, PrfAlg, SecretBytes};

use crate::ike_sa::IkeSa;

/// Every key of an IKE SA (RFC 7296 §2.14) with its algorithms and SPIs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IkeKeyExport {
    /// Initiator's SPI.
    pub spi_i: u64,
    /// Responder's SPI.
    pub spi_r: u64,
    /// Encryption algorithm of the SK payload.
    pub encr: EncrAlg,
    /// Integrity algorithm; `None` for AEADs.
    pub integ: Option<IntegAlg>,
    /// PRF.
    pub prf: PrfAlg,
    /// SK_d.
    pub sk_d: SecretBytes,
    /// SK_ai (empty for AEADs).
    pub sk_ai: SecretBytes,
    /// SK_ar (empty for AEADs).
    pub sk_ar: SecretBytes,
    /// SK_ei (AEADs: key then 4-octet salt, RFC 5282 §7.1).
    pub sk_ei: SecretBytes,
    /// SK_er.
    pub sk_er: SecretBytes,
    /// SK_pi.
    pub sk_pi: SecretBytes,
    /// SK_pr.
    pub sk_pr: SecretBytes,
}

impl IkeSa {
    /// The SA's keys, once IKE_SA_INIT completed and until it closes. Anyone holding them can
    /// read and forge this IKE SA's messages: for debugging captures only.
    pub fn dangerous_export_keys(&self) -> Option<IkeKeyExport> {
        let k = self.keyed()?;
        Some(IkeKeyExport {
            spi_i: self.spi_i(),
            spi_r: self.spi_r(),
            encr: k.algs.encr,
            integ: k.algs.integ,
            prf: k.algs.prf,
            sk_d: k.keys.sk_d.clone(),
            sk_ai: k.keys.sk_ai.clone(),
            sk_ar: k.keys.sk_ar.clone(),
            sk_ei: k.keys.sk_ei.clone(),
            sk_er: k.keys.sk_er.clone(),
            sk_pi: k.keys.sk_pi.clone(),
            sk_pr: k.keys.sk_pr.clone(),
        })
    }
}
