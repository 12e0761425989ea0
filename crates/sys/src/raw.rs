//! Raw IP sockets for ESP (IP protocol 50, RFC 4303) when no NAT is in the path.
//!
//! The data plane builds the whole outer packet itself, so:
//!
//! - **IPv4** sockets set `IP_HDRINCL`: a send's payload is the complete IPv4 packet (outer header
//!   and ESP) and goes out as it is — the kernel only fills the header checksum, the total length,
//!   and the identification when it is 0. [`Transmit::dst`] must still be the header's
//!   destination (port 0), for routing. A receive returns the IPv4 header followed by ESP; the
//!   addresses are in the header ([`RecvMeta::dst`] repeats the destination from `IP_PKTINFO`).
//! - **IPv6** sockets set `IPV6_HDRINCL` (Linux 4.5+): a send's payload is the complete IPv6
//!   packet, sent as it is (the kernel fills nothing; [`Transmit::dst`] is the header's
//!   destination, port 0, for routing). So the transform's outer header (traffic class copied
//!   from the inner packet, RFC 4301 §5.1.2.1; in transport mode the original header) leaves
//!   unchanged, as over IPv4. `IPV6_HDRINCL` has no effect on receive: a receive returns the
//!   ESP bytes only. The caller rebuilds the outer header from [`RecvMeta::src`] (the sender,
//!   port 0) and [`RecvMeta::dst`] (our address it came to, from `IPV6_RECVPKTINFO`); hop
//!   limit and flow label are not available (and not needed by ESP).
//!
//! Both may carry a firewall mark (`SO_MARK`, [`RawEspSocket::set_mark`]) for policy routing.
//!
//! The kernel on the test machines has no ESP handler; it still copies every protocol-50 packet
//! to matching raw sockets and, because a raw socket took it, sends no ICMP error.

use crate::fd;
use crate::mmsg::{self, RecvMeta, Transmit};
use crate::sockaddr::RawSockAddr;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// IP protocol number of ESP (IANA "Assigned Internet Protocol Numbers").
pub const IPPROTO_ESP: u8 = 50;

/// A non-blocking raw ESP socket of one address family.
#[derive(Debug)]
pub struct RawEspSocket {
    fd: OwnedFd,
    ipv6: bool,
}

impl RawEspSocket {
    /// Opens an IPv4 raw ESP socket (`IP_HDRINCL`, `IP_PKTINFO`), optionally bound to a local
    /// address so it only receives packets sent to it.
    pub fn open_v4(local: Option<std::net::Ipv4Addr>) -> io::Result<Self> {
        let fd = fd::socket(
            libc::AF_INET,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK,
            libc::c_int::from(IPPROTO_ESP),
        )?;
        fd::setsockopt_int(&fd, libc::IPPROTO_IP, libc::IP_HDRINCL, 1)?;
        fd::setsockopt_int(&fd, libc::IPPROTO_IP, libc::IP_PKTINFO, 1)?;
        let sock = Self { fd, ipv6: false };
        if let Some(ip) = local {
            sock.bind(IpAddr::V4(ip))?;
        }
        Ok(sock)
    }

    /// Opens an IPv6 raw ESP socket (`IPV6_HDRINCL`, `IPV6_RECVPKTINFO`), optionally bound to a
    /// local address.
    pub fn open_v6(local: Option<std::net::Ipv6Addr>) -> io::Result<Self> {
        let fd = fd::socket(
            libc::AF_INET6,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK,
            libc::c_int::from(IPPROTO_ESP),
        )?;
        fd::setsockopt_int(&fd, libc::IPPROTO_IPV6, libc::IPV6_HDRINCL, 1)?;
        fd::setsockopt_int(&fd, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, 1)?;
        let sock = Self { fd, ipv6: true };
        if let Some(ip) = local {
            sock.bind(IpAddr::V6(ip))?;
        }
        Ok(sock)
    }

    fn bind(&self, ip: IpAddr) -> io::Result<()> {
        let raw = RawSockAddr::from_socket_addr(SocketAddr::new(ip, 0));
        // SAFETY: the pointer and length describe a valid sockaddr of the socket's family.
        fd::cvt(unsafe { libc::bind(self.fd.as_raw_fd(), raw.as_ptr(), raw.len) })?;
        Ok(())
    }

    /// Sets the receive and send buffer sizes (`SO_RCVBUFFORCE`/`SO_SNDBUFFORCE` where
    /// privileged, else the capped `SO_RCVBUF`/`SO_SNDBUF`); best effort. The data plane wants
    /// a few MiB: raw ESP has no GRO, so bursts arrive packet by packet.
    pub fn set_buffer_bytes(&self, bytes: usize) {
        crate::udp::set_buffers(&self.fd, bytes);
    }

    /// Marks every packet the socket sends (`SO_MARK`, needs `CAP_NET_ADMIN`).
    pub fn set_mark(&self, mark: u32) -> io::Result<()> {
        fd::set_mark(&self.fd, mark)
    }

    /// Whether this is the IPv6 socket (header included on send only) rather than IPv4.
    pub fn is_ipv6(&self) -> bool {
        self.ipv6
    }

    /// Receives up to `min(meta.len(), bufs.len(), BATCH_MAX)` packets; see the module docs for
    /// what the buffer holds per family.
    pub fn recv_batch(&self, meta: &mut [RecvMeta], bufs: &mut [&mut [u8]]) -> io::Result<usize> {
        mmsg::recv_batch(self.fd.as_raw_fd(), meta, bufs)
    }

    /// Sends packets with `sendmmsg`; returns how many went.
    pub fn send_batch(&self, pkts: &[Transmit<'_>]) -> io::Result<usize> {
        check_no_gso(pkts)?;
        mmsg::send_batch(self.fd.as_raw_fd(), pkts)
    }

    /// Sends one packet.
    pub fn send(&self, t: &Transmit<'_>) -> io::Result<usize> {
        check_no_gso(std::slice::from_ref(t))?;
        mmsg::send_one(self.fd.as_raw_fd(), t)
    }
}

fn check_no_gso(pkts: &[Transmit<'_>]) -> io::Result<()> {
    if pkts.iter().any(|t| t.segment_size.is_some()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "segment_size is for UDP sockets",
        ));
    }
    Ok(())
}

impl AsRawFd for RawEspSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
