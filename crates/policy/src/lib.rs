//! Rampart's policy model: the traffic-selector algebra IKE negotiates with, the security policy
//! database (SPD), the peer authorization database (PAD) and the schema of a security association
//! database (SAD) entry (RFC 4301 §4.4), plus a static checker that finds dead, redundant and
//! conflicting SPD entries.
//!
//! This crate holds *reference semantics*: plain, obviously-correct data structures and a linear
//! SPD matcher ([`Spd::lookup`]). The data plane compiles the SPD into a fast classifier and
//! property-tests it against this matcher; the IKE engine narrows traffic selectors and
//! authorizes peers through the PAD with the functions here. No IO, no clock, no randomness.
#![forbid(unsafe_code)]

pub mod addr_range;
pub mod check;
pub mod error;
pub mod packet;
pub mod pad;
pub mod port_range;
pub mod protocol;
mod region;
pub mod sad;
pub mod selector;
pub mod spd;
pub mod traffic_selector;

pub use addr_range::{AddrRange, Family};
pub use error::PolicyError;
pub use packet::{Direction, PacketSelector};
pub use port_range::{PortSelector, PortSelectorKind, PortValue};
pub use protocol::{IpProtocol, ProtocolSelector};
pub use selector::{Pfp, Selector, SelectorBox};
pub use spd::{
    Action, Decision, IpsecMode, IpsecProtocol, ProtectTemplate, ReqId, Rule, Spd, SpdEntry,
};
pub use traffic_selector::TrafficSelector;
