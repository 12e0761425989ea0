//! The outbound packet path (DESIGN.md §2): TUN device → SPD → SA → ESP → wire, in batches.
//!
//! The TUN device runs with a virtio-net header and TSO/checksum offloads, so one read returns
//! up to 64 KiB of one TCP flow (a super-packet). It is cut into MTU-sized IP packets
//! ([`Segments`], the job a NIC does), each written at [`HEADROOM`] into a buffer of the batch
//! and protected in place. The batch leaves with as few system calls as possible: consecutive
//! ESP-in-UDP datagrams to the same peer that share a length (the last may be shorter) go as
//! one UDP GSO `sendmsg` gathering the buffers ([`UdpSocket::send_segments`]), so a 64 KiB
//! super-packet costs about one read and one send; raw ESP packets go with one `sendmmsg`.
//!
//! Packets the SPD drops are counted there; packets with no SA go to the main thread
//! ([`ToMain::NoSa`]), which holds them for a trap; lifetime events go the same way.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use rampart_dataplane::lifetime::SaEvent;
use rampart_dataplane::snapshot::SnapshotReader;
use rampart_dataplane::{OutboundTransform, OutboundVerdict, PacketBuf, Timestamp};
use rampart_sys::gso::Segments;
use rampart_sys::raw::RawEspSocket;
use rampart_sys::tun::Tun;
use rampart_sys::udp::UdpSocket;
use rampart_sys::vnet::VnetHdr;
use rampart_sys::{GATHER_MAX, Transmit};

use super::tables::Tables;
use super::{HEADROOM, MainLink, Shared, ToMain, report_sa_events};
use crate::run::framing::udp_payload_offset;
use crate::run::log::log;
use crate::run::policy::Outbound as PolicyVerdict;

/// TUN reads per wake-up before going back to the poller (bounded work, STYLE.md 9).
const READS_PER_WAKE: usize = 64;
/// The largest UDP payload one GSO send may carry (65535 less the IPv6/UDP headers, rounded).
const GSO_BYTES_MAX: usize = 65_000;

/// Where a protected packet goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dest {
    /// ESP in UDP from `local` to `remote` (the buffer holds the ESP bytes only).
    Udp(SocketAddr, SocketAddr),
    /// A whole IP datagram (raw ESP, or a BYPASS packet as it came) to this address, by the
    /// raw socket of its family.
    Raw(IpAddr),
}

/// The sockets ESP leaves by: handles on the NAT-T sockets (shared with the IKE engine, which
/// reads them) and the raw ESP sockets of both families (marked: they also carry BYPASS
/// traffic, which must not enter the tunnel routes again).
pub(super) struct Senders {
    pub(super) natt: Vec<UdpSocket>,
    pub(super) raw4: Option<Arc<RawEspSocket>>,
    pub(super) raw6: Option<Arc<RawEspSocket>>,
}

impl Senders {
    /// The NAT-T socket to send from `local` by, and the source address to ask for when it is
    /// bound to a wildcard.
    fn natt_for(&self, local: SocketAddr) -> Option<(&UdpSocket, Option<IpAddr>)> {
        if let Some(s) = self.natt.iter().find(|s| s.local_addr() == local) {
            return Some((s, None));
        }
        self.natt
            .iter()
            .find(|s| {
                let a = s.local_addr();
                a.port() == local.port()
                    && a.ip().is_unspecified()
                    && a.is_ipv4() == local.is_ipv4()
            })
            .map(|s| (s, (!local.ip().is_unspecified()).then_some(local.ip())))
    }
}

/// The TUN → wire path: its buffers and its view of the shared state.
pub(super) struct TxPath {
    tun: Arc<Tun>,
    senders: Senders,
    tables: SnapshotReader<Tables>,
    shared: Arc<Shared>,
    to_main: MainLink,
    /// One TUN read (virtio-net header + up to 64 KiB).
    read_buf: Vec<u8>,
    /// The batch: protected packets `bufs[..len]` and where each goes.
    bufs: Vec<PacketBuf>,
    dests: Vec<Dest>,
    len: usize,
    sa_events: Vec<SaEvent>,
}

impl TxPath {
    pub(super) fn new(
        tun: Arc<Tun>,
        senders: Senders,
        tables: SnapshotReader<Tables>,
        shared: Arc<Shared>,
        to_main: MainLink,
    ) -> Self {
        Self {
            tun,
            senders,
            tables,
            shared,
            to_main,
            read_buf: vec![0; VnetHdr::LEN + 65536],
            bufs: (0..GATHER_MAX)
                .map(|_| PacketBuf::new(2048, HEADROOM))
                .collect(),
            dests: vec![Dest::Raw(IpAddr::from([0, 0, 0, 0])); GATHER_MAX],
            len: 0,
            sa_events: Vec::new(),
        }
    }

    /// The TUN queue this path reads.
    pub(super) fn tun(&self) -> &Tun {
        &self.tun
    }

    /// Whether anything went to the main thread since the last call.
    pub(super) fn take_notified(&mut self) -> bool {
        self.to_main.take_notified()
    }

    /// Reads, protects and sends what the TUN device has (bounded); returns whether it stopped
    /// because the device was empty.
    pub(super) fn tun_readable(&mut self, now: Timestamp) -> bool {
        let mut drained = false;
        for _ in 0..READS_PER_WAKE {
            let n = match self.tun.read(&mut self.read_buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if e.kind() != io::ErrorKind::WouldBlock {
                        log!(Warn, "read {}: {e}", self.tun.name());
                    }
                    drained = true;
                    break;
                }
            };
            self.take_read(n, now);
        }
        self.flush();
        drained
    }

    /// Protects and sends plaintext packets that waited for their SA (a trap's queue).
    pub(super) fn send_plain(&mut self, packets: &[Vec<u8>], now: Timestamp) {
        for p in packets {
            if self.len == GATHER_MAX {
                self.flush();
            }
            let buf = &mut self.bufs[self.len];
            buf.reset(HEADROOM);
            if buf.spare_mut().len() < p.len() {
                continue;
            }
            buf.spare_mut()[..p.len()].copy_from_slice(p);
            buf.set_len(p.len());
            self.protect_last(now);
        }
        self.flush();
    }

    /// Cuts the super-packet in `read_buf[..n]` into the batch, protecting each segment.
    fn take_read(&mut self, n: usize, now: Timestamp) {
        let read = std::mem::take(&mut self.read_buf);
        let segments = read
            .get(..n)
            .ok_or(rampart_sys::vnet::OffloadError::Truncated("read"))
            .and_then(VnetHdr::parse)
            .and_then(|(hdr, pkt)| Segments::new(&hdr, pkt));
        match segments {
            Ok(mut segs) => {
                if segs.count() > 1 {
                    let st = &self.shared.stats;
                    st.tun_gso_reads.fetch_add(1, Ordering::Relaxed);
                }
                if self.len + segs.count() > GATHER_MAX {
                    self.flush();
                }
                loop {
                    if self.len == GATHER_MAX {
                        self.flush();
                    }
                    let buf = &mut self.bufs[self.len];
                    buf.reset(HEADROOM);
                    match segs.next_into(buf.spare_mut()) {
                        None => break,
                        Some(Ok(len)) => {
                            buf.set_len(len);
                            self.protect_last(now);
                        }
                        Some(Err(e)) => {
                            log!(Debug, "TUN packet dropped: {e}");
                            self.shared
                                .stats
                                .bad_tun_packets
                                .fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                    }
                }
            }
            Err(e) => {
                log!(Debug, "TUN packet dropped: {e}");
                self.shared
                    .stats
                    .bad_tun_packets
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
        self.read_buf = read;
    }

    /// Classifies and protects `bufs[len]`; on success it joins the batch.
    fn protect_last(&mut self, now: Timestamp) {
        let buf = &mut self.bufs[self.len];
        let tables = self.tables.current();
        // RFC 4301 §5.1 step 1: DISCARD entries (and no entry) stop it here, BYPASS sends it on
        // as it is.
        let (src, dst) = match tables.policies.outbound(buf.data()) {
            PolicyVerdict::Protect { src, dst, .. } => (src, dst),
            PolicyVerdict::Dropped => return,
            PolicyVerdict::Bypass { dst } => {
                self.dests[self.len] = Dest::Raw(dst);
                self.len += 1;
                return;
            }
        };
        let Some(o) = tables.outbound_for(src, dst) else {
            self.to_main.send(ToMain::NoSa {
                packet: buf.data().to_vec(),
                src,
                dst,
            });
            return;
        };
        let verdict = o.sa.protect(buf, now, &mut self.sa_events);
        if !self.sa_events.is_empty() {
            let in_spi = o.in_spi;
            report_sa_events(&mut self.sa_events, &mut self.to_main, |_| in_spi);
        }
        if let OutboundVerdict::Drop(reason) = verdict {
            log!(Debug, "outbound packet dropped: {reason}");
            return;
        }
        let dest = match o.encap {
            Some((local, remote)) => {
                // Outer IP (with IPv6 extension headers in transport mode) and UDP headers.
                let Some(hl) = udp_payload_offset(buf.data()) else {
                    return;
                };
                if buf.pull_front(hl).is_err() {
                    return;
                }
                Dest::Udp(local, remote)
            }
            None => Dest::Raw(o.sa.state().config().dst),
        };
        self.dests[self.len] = dest;
        self.len += 1;
    }

    /// Sends the batch: runs of same-size ESP-in-UDP datagrams to one peer as one GSO send,
    /// raw packets with `sendmmsg`.
    pub(super) fn flush(&mut self) {
        let mut i = 0;
        while i < self.len {
            let end = self.run_end(i);
            let sent = match self.dests[i] {
                Dest::Udp(local, remote) => self.send_udp(i, end, local, remote),
                Dest::Raw(_) => self.send_raw(i, end),
            };
            if let Err(e) = sent {
                let lost = (end - i) as u64;
                self.shared
                    .stats
                    .send_errors
                    .fetch_add(lost, Ordering::Relaxed);
                log!(Debug, "send ESP: {e}");
            }
            i = end;
        }
        self.len = 0;
    }

    /// The end of the run of packets starting at `i` that one send can carry.
    fn run_end(&self, i: usize) -> usize {
        let dest = self.dests[i];
        let size = self.bufs[i].len();
        let mut total = size;
        let mut j = i + 1;
        while j < self.len && self.dests[j] == dest {
            let l = self.bufs[j].len();
            if let Dest::Udp(..) = dest {
                // GSO: every datagram of `size` bytes but the last, which may be shorter.
                if l > size || total + l > GSO_BYTES_MAX {
                    break;
                }
                total += l;
                j += 1;
                if l < size {
                    break;
                }
            } else {
                j += 1;
            }
        }
        j
    }

    fn send_udp(
        &self,
        i: usize,
        end: usize,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> io::Result<()> {
        let (sock, src) = self
            .senders
            .natt_for(local)
            .ok_or_else(|| io::Error::other(format!("no socket bound to {local}")))?;
        let mut parts: [&[u8]; GATHER_MAX] = [&[]; GATHER_MAX];
        for (p, b) in parts.iter_mut().zip(&self.bufs[i..end]) {
            *p = b.data();
        }
        let n = end - i;
        let sent = sock.send_segments(remote, src, &parts[..n])?;
        if sent < n {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "socket buffer full",
            ));
        }
        Ok(())
    }

    fn send_raw(&self, i: usize, end: usize) -> io::Result<()> {
        let Dest::Raw(first) = self.dests[i] else {
            return Ok(());
        };
        let raw = if first.is_ipv4() {
            &self.senders.raw4
        } else {
            &self.senders.raw6
        };
        let Some(raw) = raw else {
            return Err(io::Error::other("no raw socket for this family"));
        };
        let mut pkts = [Transmit::new(SocketAddr::from(([0, 0, 0, 0], 0)), &[]); GATHER_MAX];
        for (p, b) in pkts.iter_mut().zip(&self.bufs[i..end]) {
            *p = Transmit::new(SocketAddr::new(first, 0), b.data());
        }
        let n = end - i;
        let sent = raw.send_batch(&pkts[..n])?;
        if sent < n {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "socket buffer full",
            ));
        }
        Ok(())
    }
}
