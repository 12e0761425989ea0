//! The inbound packet path (DESIGN.md §2): wire → SA by SPI → verify + decrypt → TUN device.
//!
//! ESP-in-UDP arrives on the NAT-T sockets, read with `recvmmsg` and UDP GRO, so one call can
//! return several buffers each holding a train of datagrams of one size. Each datagram is told
//! apart (RFC 3948 §2.2: the zero non-ESP marker of IKE and the one-byte keepalive go to the
//! main thread as [`ToMain::Ike`]), framed behind the outer IP and UDP header it had on the
//! wire ([`frame_udp_esp`]), unprotected in place and written to the TUN device. Raw ESP
//! arrives with its IPv4 header straight into the packet buffers, a batch per `recvmmsg`.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use rampart_dataplane::lifetime::SaEvent;
use rampart_dataplane::snapshot::SnapshotReader;
use rampart_dataplane::{InboundTransform, InboundVerdict, PacketBuf, Timestamp};
use rampart_sys::raw::RawEspSocket;
use rampart_sys::tun::Tun;
use rampart_sys::udp::UdpSocket;
use rampart_sys::{BATCH_MAX, RecvMeta};

use super::coalesce::{Coalescer, Frame};
use super::headers::frame_udp_esp;
use super::tables::Tables;
use super::{BUF_LEN, HEADROOM, MainLink, Shared, Stats, ToMain, report_sa_events};
use crate::run::framing::push_ipv6_esp_header;
use crate::run::log::log;
use crate::run::sockets::{Datagram, NATT_PORT};

/// Receive buffers per `recvmmsg` on a NAT-T socket (each up to 64 KiB of GRO train).
const UDP_BATCH: usize = 8;
/// Receive buffers per `recvmmsg` on the raw socket.
const RAW_BATCH: usize = 32;
/// `recvmmsg` calls per wake-up before going back to the poller (bounded work).
const RECVS_PER_WAKE: usize = 16;

/// The wire → TUN path: its buffers and its view of the shared state.
pub(super) struct RxPath {
    ctx: Deliver,
    udp_bufs: Vec<Vec<u8>>,
    raw_bufs: Vec<PacketBuf>,
    /// The one buffer a UDP datagram is framed into for its SA.
    buf: PacketBuf,
}

/// What delivering a datagram needs, apart from the buffers.
struct Deliver {
    tun: Arc<Tun>,
    tables: SnapshotReader<Tables>,
    shared: Arc<Shared>,
    to_main: MainLink,
    sa_events: Vec<SaEvent>,
    coalesce: Coalescer,
}

impl RxPath {
    pub(super) fn new(
        tun: Arc<Tun>,
        tables: SnapshotReader<Tables>,
        shared: Arc<Shared>,
        to_main: MainLink,
    ) -> Self {
        Self {
            ctx: Deliver {
                tun,
                tables,
                shared,
                to_main,
                sa_events: Vec::new(),
                coalesce: Coalescer::new(),
            },
            udp_bufs: vec![vec![0; 65536]; UDP_BATCH],
            raw_bufs: (0..RAW_BATCH)
                .map(|_| PacketBuf::new(BUF_LEN, HEADROOM))
                .collect(),
            buf: PacketBuf::new(BUF_LEN, HEADROOM),
        }
    }

    /// Whether anything went to the main thread since the last call.
    pub(super) fn take_notified(&mut self) -> bool {
        self.ctx.to_main.take_notified()
    }

    /// Reads what NAT-T socket `sock` has (bounded): ESP is delivered, the rest handed to the
    /// main thread. Returns whether the socket was drained.
    pub(super) fn udp_readable(&mut self, sock: &UdpSocket, now: Timestamp) -> bool {
        let bound = sock.local_addr();
        for _ in 0..RECVS_PER_WAKE {
            let mut meta = [RecvMeta::default(); UDP_BATCH];
            let got = {
                let mut it = self.udp_bufs.iter_mut();
                let mut views: [&mut [u8]; UDP_BATCH] =
                    std::array::from_fn(|_| it.next().map_or(&mut [][..], |b| b.as_mut_slice()));
                sock.recv_batch(&mut meta, &mut views)
            };
            let got = match got {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if e.kind() != io::ErrorKind::WouldBlock {
                        log!(Warn, "receive on {bound}: {e}");
                    }
                    return true;
                }
            };
            for (m, b) in meta.iter().zip(&self.udp_bufs).take(got) {
                if m.truncated {
                    continue;
                }
                let local = SocketAddr::new(m.dst.unwrap_or(bound.ip()), bound.port());
                let step = m.segment_size.unwrap_or(m.len).max(1);
                for d in b[..m.len].chunks(step) {
                    udp_datagram(&mut self.ctx, &mut self.buf, local, m.src, d, now);
                }
            }
            self.ctx.flush();
            if got < UDP_BATCH {
                return true;
            }
        }
        false
    }

    /// Reads what the raw ESP socket has (bounded) and delivers it; returns whether it was
    /// drained.
    pub(super) fn raw_readable(&mut self, raw: &RawEspSocket, now: Timestamp) -> bool {
        for _ in 0..RECVS_PER_WAKE {
            let mut meta = [RecvMeta::default(); RAW_BATCH];
            let got = {
                let mut it = self.raw_bufs.iter_mut();
                let mut views: [&mut [u8]; RAW_BATCH] = std::array::from_fn(|_| {
                    it.next().map_or(&mut [][..], |b| {
                        b.reset(HEADROOM);
                        b.spare_mut()
                    })
                });
                raw.recv_batch(&mut meta, &mut views)
            };
            let got = match got {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return true,
            };
            for (m, b) in meta.iter().zip(self.raw_bufs.iter_mut()).take(got) {
                if m.truncated {
                    continue;
                }
                b.set_len(m.len);
                // A raw IPv6 socket strips the outer header: rebuild it (run/framing.rs).
                if raw.is_ipv6() {
                    let (IpAddr::V6(src), Some(IpAddr::V6(dst))) = (m.src.ip(), m.dst) else {
                        continue;
                    };
                    if push_ipv6_esp_header(b, src, dst).is_none() {
                        continue;
                    }
                }
                self.ctx.deliver(b, now);
            }
            self.ctx.flush();
            if got < RAW_BATCH.min(BATCH_MAX) {
                return true;
            }
        }
        false
    }
}

/// RFC 3948 §2.2: on the NAT-T port a datagram whose first four bytes are not zero is ESP (the
/// one-byte keepalive and the zero non-ESP marker of IKE are not).
fn udp_datagram(
    ctx: &mut Deliver,
    buf: &mut PacketBuf,
    local: SocketAddr,
    remote: SocketAddr,
    d: &[u8],
    now: Timestamp,
) {
    if !(local.port() == NATT_PORT && d.len() >= 8 && d[..4] != [0, 0, 0, 0]) {
        ctx.to_main.send(ToMain::Ike(Datagram {
            local,
            remote,
            bytes: d.to_vec(),
        }));
        return;
    }
    if frame_udp_esp(buf, local, remote, d).is_some() {
        ctx.deliver(buf, now);
    }
}

/// Writes what the coalescer produced to the TUN device.
fn write_frame(tun: &Tun, stats: &Stats, f: Frame<'_>) -> io::Result<()> {
    match f {
        Frame::Plain(p) => tun.write_packet(p).map(|_| ()),
        Frame::Super(p) => {
            stats.tun_gso_writes.fetch_add(1, Ordering::Relaxed);
            tun.write(p).map(|_| ())
        }
    }
}

impl Deliver {
    /// Writes what the coalescer still holds (at the end of each received batch).
    fn flush(&mut self) {
        let (tun, st) = (&self.tun, &self.shared.stats);
        if let Err(e) = self.coalesce.flush(&mut |f| write_frame(tun, st, f)) {
            log!(Debug, "write {}: {e}", tun.name());
        }
    }

    /// Unprotects the outer datagram in `buf` and writes the inner packet to the TUN device.
    fn deliver(&mut self, buf: &mut PacketBuf, now: Timestamp) {
        let spi = match rampart_dataplane::batch::inbound_spi(buf.data()) {
            Ok(spi) => spi,
            Err(reason) => {
                log!(Debug, "inbound ESP dropped: {reason}");
                return;
            }
        };
        let tables = self.tables.current();
        let Some(sa) = tables.inbound.get(&spi.0) else {
            self.shared
                .stats
                .unknown_spi_in
                .fetch_add(1, Ordering::Relaxed);
            return;
        };
        let verdict = sa.unprotect(buf, now, &mut self.sa_events);
        if !self.sa_events.is_empty() {
            report_sa_events(&mut self.sa_events, &mut self.to_main, |spi| spi);
        }
        // The peer sends on the new SA of a rekey we answered: it has it, so may we (asked of
        // the main thread once, which edits the tables).
        if verdict == InboundVerdict::Deliver && tables.standby.contains(&spi.0) {
            let asked = tables
                .outbound_of(spi.0)
                .is_some_and(|o| o.activation_asked.swap(true, Ordering::Relaxed));
            if !asked {
                self.to_main.send(ToMain::EndStandby(spi.0));
            }
        }
        match verdict {
            InboundVerdict::Deliver => {
                let (tun, st) = (&self.tun, &self.shared.stats);
                if let Err(e) = self
                    .coalesce
                    .push(buf.data(), &mut |f| write_frame(tun, st, f))
                {
                    log!(Debug, "write {}: {e}", tun.name());
                }
            }
            InboundVerdict::Drop(reason) => log!(Debug, "SA {spi} dropped a packet: {reason}"),
        }
    }
}
