//! The IKE sockets: UDP 500 and 4500 (RFC 7296 §2.23, RFC 3948) on every local address the
//! connections name, or on the wildcard addresses when one names none. Each datagram reports the
//! address it reached (`IP_PKTINFO`), so a reply leaves from that address. Every socket of the
//! daemon, the raw ESP ones too ([`raw_esp`]), carries the firewall mark
//! [`routing::FWMARK`](super::routing::FWMARK), so that its packets skip the rule that routes
//! the traffic selectors into the TUN device.

use std::collections::BTreeSet;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use rampart_ike::Connection;
use rampart_sys::raw::RawEspSocket;
use rampart_sys::udp::{UdpOptions, UdpSocket};
use rampart_sys::{RecvMeta, Transmit};

/// The IKE port (RFC 7296 §2).
pub(crate) const IKE_PORT: u16 = 500;
/// The NAT-T port (RFC 3948 §2).
pub(crate) const NATT_PORT: u16 = 4500;

/// Socket buffer size of the NAT-T sockets, which carry ESP: room for bursts of super-packets.
const NATT_BUFFER_BYTES: usize = 8 << 20;

/// Every IKE socket, in token order (socket `i` is registered with token `i`).
#[derive(Debug)]
pub(crate) struct Sockets {
    list: Vec<UdpSocket>,
}

/// One received datagram.
#[derive(Debug)]
pub(crate) struct Datagram {
    /// Our address and port it reached.
    pub(crate) local: SocketAddr,
    /// The sender.
    pub(crate) remote: SocketAddr,
    /// The UDP payload.
    pub(crate) bytes: Vec<u8>,
}

/// Binds a UDP socket with the daemon's mark; without `CAP_NET_ADMIN` (no `SO_MARK`), binds it
/// unmarked and warns: routing then only works while no selector covers a peer's address.
fn bind_marked(addr: SocketAddr, natt: bool) -> io::Result<UdpSocket> {
    let plain = UdpOptions {
        gro: natt,
        buffer_bytes: natt.then_some(NATT_BUFFER_BYTES),
        ..UdpOptions::default()
    };
    let marked = UdpOptions {
        mark: Some(super::routing::FWMARK),
        ..plain
    };
    match UdpSocket::bind(addr, &marked) {
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            super::log::log!(Warn, "UDP {addr}: no SO_MARK ({e}): socket unmarked");
            UdpSocket::bind(addr, &plain)
        }
        r => r,
    }
}

/// Opens the raw ESP socket of one family, marked like the UDP sockets (a mark that cannot be
/// set is logged, the socket still used).
pub(crate) fn raw_esp(ipv6: bool) -> io::Result<RawEspSocket> {
    let s = if ipv6 {
        RawEspSocket::open_v6(None)?
    } else {
        RawEspSocket::open_v4(None)?
    };
    if let Err(e) = s.set_mark(super::routing::FWMARK) {
        super::log::log!(Warn, "raw ESP socket: no SO_MARK ({e}): socket unmarked");
    }
    Ok(s)
}

impl Sockets {
    /// Binds 500 and 4500 on the addresses `connections` use.
    pub(crate) fn bind(connections: &[std::sync::Arc<Connection>]) -> io::Result<Self> {
        let mut addrs = BTreeSet::new();
        for c in connections {
            if c.local_addrs.is_empty() {
                addrs.insert(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
                addrs.insert(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
            }
            addrs.extend(c.local_addrs.iter().copied());
        }
        // A wildcard of a family covers that family's addresses.
        let wild4 = addrs.contains(&IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let wild6 = addrs.contains(&IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        addrs.retain(|a| a.is_unspecified() || !(if a.is_ipv4() { wild4 } else { wild6 }));
        let mut list = Vec::new();
        for ip in addrs {
            for port in [IKE_PORT, NATT_PORT] {
                let addr = SocketAddr::new(ip, port);
                // GRO and big buffers on the NAT-T port: ESP arrives there in trains (the data
                // plane splits them, and so does `recv_all`).
                let s = bind_marked(addr, port == NATT_PORT).map_err(|e| {
                    io::Error::new(e.kind(), format!("cannot bind UDP {addr}: {e}"))
                })?;
                list.push(s);
            }
        }
        Ok(Self { list })
    }

    /// The sockets, indexed by token.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &UdpSocket> {
        self.list.iter()
    }

    /// Reads every datagram waiting on socket `token` (until `WouldBlock`, at most 64).
    pub(crate) fn recv_all(&self, token: usize) -> Vec<Datagram> {
        let Some(s) = self.list.get(token) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut buf = vec![0u8; 65536];
        for _ in 0..64 {
            let mut meta = [RecvMeta::default()];
            let mut bufs = [buf.as_mut_slice()];
            match s.recv_batch(&mut meta, &mut bufs) {
                Ok(1) if !meta[0].truncated => {
                    let bound = s.local_addr();
                    let ip = meta[0].dst.unwrap_or(bound.ip());
                    // With GRO the buffer may hold a train of datagrams of one size.
                    let step = meta[0].segment_size.unwrap_or(meta[0].len).max(1);
                    out.extend(buf[..meta[0].len].chunks(step).map(|d| Datagram {
                        local: SocketAddr::new(ip, bound.port()),
                        remote: meta[0].src,
                        bytes: d.to_vec(),
                    }));
                }
                Ok(1) => {}
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    super::log::log!(Warn, "receive on {}: {e}", s.local_addr());
                    break;
                }
            }
        }
        out
    }

    /// Sends `payload` from `local` (address and port) to `remote`.
    pub(crate) fn send(
        &self,
        local: SocketAddr,
        remote: SocketAddr,
        payload: &[u8],
    ) -> io::Result<()> {
        let exact = self.list.iter().find(|s| s.local_addr() == local);
        let s = exact
            .or_else(|| {
                self.list.iter().find(|s| {
                    let a = s.local_addr();
                    a.port() == local.port()
                        && a.ip().is_unspecified()
                        && a.is_ipv4() == local.is_ipv4()
                })
            })
            .ok_or_else(|| io::Error::other(format!("no socket bound to {local}")))?;
        let mut t = Transmit::new(remote, payload);
        if s.local_addr().ip().is_unspecified() && !local.ip().is_unspecified() {
            t.src = Some(local.ip());
        }
        s.send(&t)?;
        Ok(())
    }
}

/// RFC 3948 §2.2: on the NAT-T port a datagram whose first four bytes are not zero is ESP (the
/// one-byte keepalive and the zero non-ESP marker of IKE are not).
pub(crate) fn is_esp(d: &Datagram) -> bool {
    d.local.port() == NATT_PORT && d.bytes.len() >= 8 && d.bytes[..4] != [0, 0, 0, 0]
}
