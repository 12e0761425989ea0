//! Rampart's algorithm registry: IANA transform IDs to implementations, over aws-lc-rs.
//!
//! Sits beside `rampart-wire` at the bottom of the graph (DESIGN.md §1). Every secret lives in a
//! type that zeroizes on drop and never prints.
#![forbid(unsafe_code)]

pub mod proposal;
