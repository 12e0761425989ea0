//! IKEv2 (RFC 7296) message formats: the fixed header, every payload, SK and SKF (RFC 7383).
//!
//! [`iana`] holds the IANA registries as newtypes that keep unknown values; everything above this
//! crate (crypto, policy, ike) names algorithms through them.

pub mod iana;
