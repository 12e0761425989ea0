//! UDP sockets for IKE (port 500) and NAT-T (port 4500, ESP-in-UDP done in userspace, RFC 3948
//! framing left to the data plane: no `UDP_ENCAP` socket option).
//!
//! Every socket reports the local address each datagram came to (`IP_PKTINFO` /
//! `IPV6_RECVPKTINFO`) so a reply can leave from that address ([`Transmit::src`]), and moves
//! datagrams in batches ([`UdpSocket::recv_batch`], [`UdpSocket::send_batch`]). Optional, with
//! feature detection: `SO_REUSEPORT` (one socket per worker), UDP GSO (one send of up to 64
//! datagrams, [`Transmit::segment_size`]) and UDP GRO (one receive of several coalesced
//! datagrams, [`RecvMeta::segment_size`]).

use crate::fd;
use crate::mmsg::{self, RecvMeta, Transmit};
use crate::sockaddr::{RawSockAddr, to_socket_addr};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// Options for [`UdpSocket::bind`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UdpOptions {
    /// Set `SO_REUSEPORT` so that several sockets (one per worker) share the address.
    pub reuse_port: bool,
    /// Ask for UDP GRO (`UDP_GRO`); see [`UdpSocket::gro_enabled`].
    pub gro: bool,
    /// Receive and send buffer sizes in bytes (`SO_RCVBUFFORCE`/`SO_SNDBUFFORCE` when
    /// privileged, else `SO_RCVBUF`/`SO_SNDBUF`, which `net.core.*mem_max` caps); `None` keeps
    /// the system defaults. A data-plane socket wants a few MiB to ride out bursts.
    pub buffer_bytes: Option<usize>,
    /// Mark every packet the socket sends (`SO_MARK`, needs `CAP_NET_ADMIN`), so that policy
    /// routing (`ip rule ... fwmark`) can tell the daemon's own IKE and ESP packets apart.
    pub mark: Option<u32>,
}

/// A non-blocking UDP socket bound to one address and port. IPv6 sockets are IPv6-only.
#[derive(Debug)]
pub struct UdpSocket {
    fd: OwnedFd,
    local: SocketAddr,
    gso: bool,
    gro: bool,
}

impl UdpSocket {
    /// Creates, configures and binds the socket (port 0: the kernel picks one).
    pub fn bind(addr: SocketAddr, opts: &UdpOptions) -> io::Result<Self> {
        let domain = if addr.is_ipv4() {
            libc::AF_INET
        } else {
            libc::AF_INET6
        };
        let fd = fd::socket(
            domain,
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK,
            libc::IPPROTO_UDP,
        )?;
        if addr.is_ipv4() {
            fd::setsockopt_int(&fd, libc::IPPROTO_IP, libc::IP_PKTINFO, 1)?;
        } else {
            fd::setsockopt_int(&fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 1)?;
            fd::setsockopt_int(&fd, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, 1)?;
        }
        if opts.reuse_port {
            fd::setsockopt_int(&fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
        }
        if let Some(bytes) = opts.buffer_bytes {
            set_buffers(&fd, bytes);
        }
        if let Some(mark) = opts.mark {
            fd::set_mark(&fd, mark)?;
        }
        let raw = RawSockAddr::from_socket_addr(addr);
        // SAFETY: the pointer and length describe a valid sockaddr of `addr`'s family.
        fd::cvt(unsafe { libc::bind(fd.as_raw_fd(), raw.as_ptr(), raw.len) })?;
        // GSO is usable when the kernel knows the option (Linux 4.18+).
        let gso = fd::getsockopt_int(&fd, libc::SOL_UDP, libc::UDP_SEGMENT).is_ok();
        let gro = opts.gro && fd::setsockopt_int(&fd, libc::SOL_UDP, libc::UDP_GRO, 1).is_ok();
        let local = local_addr(&fd)?;
        Ok(Self {
            fd,
            local,
            gso,
            gro,
        })
    }

    /// The bound address (with the port the kernel chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Whether sends may use [`Transmit::segment_size`] (UDP GSO).
    pub fn gso_supported(&self) -> bool {
        self.gso
    }

    /// Whether receives may coalesce datagrams ([`RecvMeta::segment_size`]).
    pub fn gro_enabled(&self) -> bool {
        self.gro
    }

    /// Receives up to `min(meta.len(), bufs.len(), BATCH_MAX)` datagrams with one `recvmmsg`;
    /// `WouldBlock` when none is waiting. With GRO, give buffers of 64 KiB.
    pub fn recv_batch(&self, meta: &mut [RecvMeta], bufs: &mut [&mut [u8]]) -> io::Result<usize> {
        mmsg::recv_batch(self.fd.as_raw_fd(), meta, bufs)
    }

    /// Sends `pkts` with `sendmmsg` (one call per [`crate::BATCH_MAX`]); returns how many went.
    pub fn send_batch(&self, pkts: &[Transmit<'_>]) -> io::Result<usize> {
        if !self.gso && pkts.iter().any(|t| t.segment_size.is_some()) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "UDP GSO not supported",
            ));
        }
        mmsg::send_batch(self.fd.as_raw_fd(), pkts)
    }

    /// Sends `segments` (each a whole datagram payload, all of the first one's length except
    /// the last, which may be shorter; at most [`crate::GATHER_MAX`]) to `dst`, from `src` when
    /// given: with GSO one `sendmsg` gathering them all with `UDP_SEGMENT`, which the kernel
    /// cuts back into these datagrams; without, one `sendmmsg`. Returns how many datagrams went
    /// (all or, on a full socket buffer without GSO, a prefix; `WouldBlock` if none).
    pub fn send_segments(
        &self,
        dst: SocketAddr,
        src: Option<IpAddr>,
        segments: &[&[u8]],
    ) -> io::Result<usize> {
        let Some((first, rest)) = segments.split_first() else {
            return Ok(0);
        };
        let size = first.len();
        let uniform = rest.split_last().is_none_or(|(last, mid)| {
            last.len() <= size && !last.is_empty() && mid.iter().all(|s| s.len() == size)
        });
        if !uniform || segments.len() > mmsg::GATHER_MAX {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "segments must share the first one's length (the last may be shorter)",
            ));
        }
        let base = Transmit {
            src,
            ..Transmit::new(dst, &[])
        };
        if segments.len() == 1 {
            return mmsg::send_one(
                self.fd.as_raw_fd(),
                &Transmit::new(dst, first).with_src(src),
            )
            .map(|_| 1);
        }
        if self.gso {
            let t = Transmit {
                segment_size: Some(u16::try_from(size).map_err(|_| {
                    io::Error::new(io::ErrorKind::InvalidInput, "segment over 64 KiB")
                })?),
                ..base
            };
            mmsg::send_gather(self.fd.as_raw_fd(), &t, segments)?;
            return Ok(segments.len());
        }
        let mut pkts = [base; mmsg::GATHER_MAX];
        for (p, s) in pkts.iter_mut().zip(segments) {
            p.payload = s;
        }
        mmsg::send_batch(self.fd.as_raw_fd(), &pkts[..segments.len()])
    }

    /// A second handle on the same socket (`dup(2)`), e.g. for a worker thread that sends from
    /// this address while another thread receives. Both see the same socket options.
    pub fn try_clone(&self) -> io::Result<Self> {
        Ok(Self {
            fd: self.fd.try_clone()?,
            local: self.local,
            gso: self.gso,
            gro: self.gro,
        })
    }

    /// Sends one datagram with `sendmsg` (no batching; for rare sends such as IKE).
    pub fn send(&self, t: &Transmit<'_>) -> io::Result<usize> {
        mmsg::send_one(self.fd.as_raw_fd(), t)
    }
}

/// Sets both buffer sizes, forcing past the sysctl caps where privileged; best effort (the
/// socket works with any size).
pub(crate) fn set_buffers(fd: &OwnedFd, bytes: usize) {
    let v = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    for (force, plain) in [
        (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF),
        (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF),
    ] {
        if fd::setsockopt_int(fd, libc::SOL_SOCKET, force, v).is_err() {
            let _ = fd::setsockopt_int(fd, libc::SOL_SOCKET, plain, v);
        }
    }
}

/// `getsockname(2)`.
pub(crate) fn local_addr(fd: &OwnedFd) -> io::Result<SocketAddr> {
    let mut raw = RawSockAddr::zeroed();
    // SAFETY: the pointers describe our sockaddr_storage and its length, both live.
    fd::cvt(unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            (&raw mut raw.storage).cast(),
            &raw mut raw.len,
        )
    })?;
    to_socket_addr(&raw.storage, raw.len)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unexpected address family"))
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BATCH_MAX;

    /// Loopback needs no privileges: a batch goes out and comes back with PKTINFO.
    #[test]
    fn loopback_batch_with_pktinfo_v4() {
        let opts = UdpOptions::default();
        let rx = UdpSocket::bind("127.0.0.1:0".parse().expect("literal"), &opts).expect("bind rx");
        let tx = UdpSocket::bind("127.0.0.1:0".parse().expect("literal"), &opts).expect("bind tx");
        let payloads: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i; 100 + usize::from(i)]).collect();
        let pkts: Vec<Transmit<'_>> = payloads
            .iter()
            .map(|p| Transmit {
                src: Some("127.0.0.1".parse().expect("literal")),
                ..Transmit::new(rx.local_addr(), p)
            })
            .collect();
        assert_eq!(tx.send_batch(&pkts).expect("send"), 10);
        let mut storage = vec![[0u8; 2048]; BATCH_MAX];
        let mut bufs: Vec<&mut [u8]> = storage.iter_mut().map(|b| &mut b[..]).collect();
        let mut meta = [RecvMeta::default(); BATCH_MAX];
        let mut got = Vec::new();
        while got.len() < 10 {
            match rx.recv_batch(&mut meta, &mut bufs) {
                Ok(n) => got.extend((0..n).map(|i| (meta[i], bufs[i][..meta[i].len].to_vec()))),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => panic!("recv: {e}"),
            }
        }
        for (i, (m, data)) in got.iter().enumerate() {
            assert_eq!(data, &payloads[i]);
            assert_eq!(m.src, tx.local_addr());
            assert_eq!(m.dst, Some("127.0.0.1".parse().expect("literal")));
            assert!(m.ifindex > 0);
        }
    }

    #[test]
    fn loopback_v6_pktinfo_and_gso_gro() {
        let opts = UdpOptions {
            gro: true,
            ..UdpOptions::default()
        };
        let Ok(rx) = UdpSocket::bind("[::1]:0".parse().expect("literal"), &opts) else {
            eprintln!("warning: no IPv6 loopback; skipping");
            return;
        };
        let tx = UdpSocket::bind("[::1]:0".parse().expect("literal"), &UdpOptions::default())
            .expect("bind tx");
        let payload = vec![7u8; 1000 * 4 + 10];
        let seg = tx.gso_supported().then_some(1000);
        let t = Transmit {
            segment_size: seg,
            ..Transmit::new(rx.local_addr(), &payload)
        };
        tx.send(&t).expect("send");
        let mut storage = vec![0u8; 65536];
        let mut meta = [RecvMeta::default(); 1];
        let mut total = 0;
        while total < payload.len() {
            let mut bufs: [&mut [u8]; 1] = [&mut storage];
            match rx.recv_batch(&mut meta, &mut bufs) {
                Ok(_) => {
                    assert_eq!(meta[0].dst, Some("::1".parse().expect("literal")));
                    if rx.gro_enabled() && tx.gso_supported() && meta[0].len > 1010 {
                        assert_eq!(meta[0].segment_size, Some(1000));
                    }
                    total += meta[0].len;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => panic!("recv: {e}"),
            }
        }
        assert_eq!(total, payload.len());
    }

    /// A GSO train of segments (the last shorter) arrives as the same datagrams, in order,
    /// whether or not the receiver coalesces them (GRO) — the kernel is the oracle for the cut.
    #[test]
    fn send_segments_arrive_as_datagrams() {
        let lo: SocketAddr = "127.0.0.1:0".parse().expect("literal");
        let gro = UdpOptions {
            gro: true,
            ..UdpOptions::default()
        };
        let rx = UdpSocket::bind(lo, &gro).expect("bind rx");
        let tx = UdpSocket::bind(lo, &UdpOptions::default()).expect("bind tx");
        let segs: Vec<Vec<u8>> = (0..20u8)
            .map(|i| vec![i; if i == 19 { 300 } else { 1400 }])
            .collect();
        let parts: Vec<&[u8]> = segs.iter().map(Vec::as_slice).collect();
        let src = Some("127.0.0.1".parse().expect("literal"));
        assert_eq!(
            tx.send_segments(rx.local_addr(), src, &parts)
                .expect("send"),
            20
        );
        let mut storage = vec![0u8; 65536];
        let mut meta = [RecvMeta::default(); 1];
        let mut got: Vec<Vec<u8>> = Vec::new();
        while got.len() < 20 {
            let mut bufs: [&mut [u8]; 1] = [&mut storage];
            match rx.recv_batch(&mut meta, &mut bufs) {
                Ok(_) => {
                    let step = meta[0].segment_size.unwrap_or(meta[0].len);
                    got.extend(storage[..meta[0].len].chunks(step).map(<[u8]>::to_vec));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => panic!("recv: {e}"),
            }
        }
        assert_eq!(got, segs);
        // A middle segment of another length cannot be cut by a segment size.
        let bad = [&segs[0][..], &segs[19][..], &segs[1][..]];
        let err = tx.send_segments(rx.local_addr(), None, &bad);
        assert_eq!(err.map_err(|e| e.kind()), Err(io::ErrorKind::InvalidInput));
        assert_eq!(
            tx.send_segments(rx.local_addr(), None, &[]).expect("empty"),
            0
        );
    }
}
