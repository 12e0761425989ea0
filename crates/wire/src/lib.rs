//! Rampart's wire formats: bytes to structs and back, for everything that crosses the wire.
//!
//! This crate sits at the bottom of the dependency graph (DESIGN.md §1). It does no crypto, no IO
//! and reads no clock. Two shapes are used throughout (STYLE.md guideline 4):
//!
//! - fixed headers (IPv4, IPv6, UDP, ESP, AH, IKE header) are zero-copy *views*,
//!   `Packet<T: AsRef<[u8]>>` with byte ranges in a `field` module, `new_checked` for untrusted
//!   input, and an owned `Repr` with `parse` / `buffer_len` / `emit`;
//! - IKEv2 payload chains are read through a [`ike::reader::Reader`] with `sub(len)` and a
//!   "no trailing data" check, into owned payload structs.
//!
//! Malformed input returns an [`Error`] naming what is wrong; nothing here panics on bad bytes or
//! reads out of bounds. Views allocate nothing.
#![forbid(unsafe_code)]

pub mod ah;
pub mod checksum;
pub mod error;
pub mod esp;
pub mod ike;
pub mod ip;
pub mod ipv4;
pub mod ipv6;
pub mod natt;
pub mod udp;

pub use error::{Error, Result};
