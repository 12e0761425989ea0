//! IKEv2 (RFC 7296) message formats: the fixed header, every payload, SK and SKF (RFC 7383).
//!
//! [`iana`] holds the IANA registries as newtypes that keep unknown values; everything above this
//! crate (crypto, policy, ike) names algorithms through them. [`header`] is the zero-copy view of
//! the 28-byte IKE header; one module per payload holds its owned struct with `parse(&mut
//! Reader)` / `emit(&mut Writer)`; [`message`] walks the payload chain and emits whole messages.
//! No crypto happens here: SK/SKF bodies are split into IV, ciphertext and ICV, nothing more.

pub mod auth;
pub mod cert;
pub mod cp;
pub mod delete;
pub mod eap;
pub mod header;
pub mod iana;
pub mod id;
pub mod ke;
pub mod message;
pub mod nonce;
pub mod notify;
pub mod payload;
pub mod reader;
pub mod sa;
pub mod sk;
pub mod ts;
pub mod vendor;

pub use auth::AuthPayload;
pub use cert::{CertPayload, CertReqPayload};
pub use cp::{ConfigAttribute, CpPayload};
pub use delete::DeletePayload;
pub use eap::EapPayload;
pub use header::{IkeFlags, IkeHeader, IkeHeaderRepr};
pub use id::IdPayload;
pub use ke::KePayload;
pub use message::{Message, emit_payload_chain, parse_payload_chain};
pub use nonce::NoncePayload;
pub use notify::NotifyPayload;
pub use payload::{Payload, UnknownPayload};
pub use reader::{Reader, Writer};
pub use sa::{Proposal, SaPayload, Transform, TransformAttribute};
pub use sk::{SkParts, SkPayload, SkfPayload};
pub use ts::{TrafficSelector, TsPayload, TsRange};
pub use vendor::VendorIdPayload;

#[cfg(test)]
mod strategies;

#[cfg(test)]
pub(crate) mod testutil {
    //! Helpers shared by the payload unit tests.
    use super::reader::{Reader, Writer};
    use crate::error::Result;

    /// Runs an emitter on a fresh buffer and returns what it wrote.
    pub(crate) fn emit_body(f: impl FnOnce(&mut Writer<'_>) -> Result<()>) -> Vec<u8> {
        let mut v = Vec::new();
        f(&mut Writer::new(&mut v)).expect("test emitter input is valid");
        v
    }

    /// Asserts that `parse` fails on every proper prefix of `bytes`.
    pub(crate) fn body_truncations_fail<T: core::fmt::Debug>(
        bytes: &[u8],
        parse: impl Fn(&mut Reader<'_>) -> Result<T>,
    ) {
        for n in 0..bytes.len() {
            let r = parse(&mut Reader::new("test", &bytes[..n]));
            assert!(r.is_err(), "prefix of {n} bytes parsed: {r:?}");
        }
    }
}
