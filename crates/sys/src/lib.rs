//! Rampart's system interface: everything that talks to the Linux kernel.
//!
//! This is the only crate of the workspace allowed `unsafe` (DESIGN.md §1, STYLE.md guideline 8);
//! every `unsafe` block carries a `// SAFETY:` comment and the public API is safe. It sits below
//! the daemon, which owns the event loop and worker threads; the protocol crates never see it.
//!
//! Where it sits in a packet's path (DESIGN.md §2):
//!
//! - outbound, the kernel routes the remote subnet into a [`tun::Tun`] device; a worker reads a
//!   batch (with [`tun::VnetMode`] one read can return a TSO/USO super-packet, split by
//!   [`gso::Segments`]), encrypts, and sends through [`raw::RawEspSocket`] or, with NAT-T,
//!   [`udp::UdpSocket`] (batched with `sendmmsg`, optionally UDP GSO);
//! - inbound, ESP arrives on the raw socket or UDP 4500 (batched with `recvmmsg`, optionally
//!   UDP GRO), is decrypted, and the inner packet is written to the TUN device;
//! - IKE datagrams arrive on UDP 500/4500 with their destination address ([`RecvMeta`]),
//!   so replies leave from the address the request came to;
//! - interface setup (address, MTU, up, routes into a table) goes over rtnetlink
//!   ([`netlink::Netlink`], messages encoded in [`rtnl`]);
//! - a worker waits on its fds and a wake-up [`poll::Waker`] with [`poll::Poller`].
#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod fd;
pub mod gso;
mod mmsg;
pub mod netlink;
pub mod netns;
pub mod poll;
pub mod raw;
pub mod rtnl;
pub mod signal;
mod sockaddr;
pub mod tun;
pub mod udp;
pub mod vnet;

pub use fd::if_index;
pub use mmsg::{BATCH_MAX, GATHER_MAX, RecvMeta, Transmit};
