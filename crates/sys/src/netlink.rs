//! A `NETLINK_ROUTE` socket that sends the requests of [`crate::rtnl`] and waits for each ack.
//!
//! The daemon uses it once at start-up (and on SA changes) to configure its TUN device and the
//! routes and rules for remote traffic selectors; nothing here is on the per-packet path. The
//! socket works in the network namespace of the thread that opened it.

use crate::fd;
use crate::rtnl::{self, LinkChange, Op, Prefix, Reply, Route, Rule};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// An rtnetlink socket (blocking; one request at a time).
#[derive(Debug)]
pub struct Netlink {
    fd: OwnedFd,
    seq: u32,
}

impl Netlink {
    /// Opens and binds a `NETLINK_ROUTE` socket.
    pub fn open() -> io::Result<Self> {
        let fd = fd::socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_ROUTE)?;
        // SAFETY: sockaddr_nl is plain old data; all-zero is valid (pid 0: the kernel assigns).
        let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        sa.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        let len = size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        // SAFETY: the pointer and length describe `sa`, a live sockaddr_nl.
        fd::cvt(unsafe { libc::bind(fd.as_raw_fd(), (&raw const sa).cast(), len) })?;
        // Ask for errors only, not the whole request echoed back in them.
        fd::setsockopt_int(&fd, libc::SOL_NETLINK, libc::NETLINK_CAP_ACK, 1)?;
        Ok(Self { fd, seq: 1 })
    }

    /// Sets the link's up flag and/or MTU.
    pub fn set_link(&mut self, ifindex: u32, change: &LinkChange) -> io::Result<()> {
        let seq = self.next_seq();
        self.request(&rtnl::link_message(seq, ifindex, change), seq)
    }

    /// Adds (or replaces) an address on the link.
    pub fn add_addr(&mut self, ifindex: u32, prefix: Prefix) -> io::Result<()> {
        let seq = self.next_seq();
        self.request(&rtnl::addr_message(seq, Op::Add, ifindex, prefix), seq)
    }

    /// Deletes an address from the link.
    pub fn del_addr(&mut self, ifindex: u32, prefix: Prefix) -> io::Result<()> {
        let seq = self.next_seq();
        self.request(&rtnl::addr_message(seq, Op::Delete, ifindex, prefix), seq)
    }

    /// Adds (or replaces) a route.
    pub fn add_route(&mut self, route: &Route) -> io::Result<()> {
        let seq = self.next_seq();
        self.request(&rtnl::route_message(seq, Op::Add, route), seq)
    }

    /// Deletes a route.
    pub fn del_route(&mut self, route: &Route) -> io::Result<()> {
        let seq = self.next_seq();
        self.request(&rtnl::route_message(seq, Op::Delete, route), seq)
    }

    /// Adds a policy-routing rule (`EEXIST` if an equal one is there).
    pub fn add_rule(&mut self, rule: &Rule) -> io::Result<()> {
        let seq = self.next_seq();
        self.request(&rtnl::rule_message(seq, Op::Add, rule), seq)
    }

    /// Deletes a policy-routing rule.
    pub fn del_rule(&mut self, rule: &Rule) -> io::Result<()> {
        let seq = self.next_seq();
        self.request(&rtnl::rule_message(seq, Op::Delete, rule), seq)
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Sends one request and reads replies until its ack or error.
    fn request(&self, msg: &[u8], seq: u32) -> io::Result<()> {
        let sent = fd::write(self.fd.as_raw_fd(), msg)?;
        if sent != msg.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "netlink: short send",
            ));
        }
        let mut buf = vec![0u8; 8192];
        loop {
            let n = fd::read(self.fd.as_raw_fd(), &mut buf)?;
            if rtnl::parse_reply(&buf[..n], seq)? == Reply::Ack {
                return Ok(());
            }
        }
    }
}

impl AsRawFd for Netlink {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
