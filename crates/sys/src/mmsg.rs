//! Batched datagram IO shared by [`crate::udp`] and [`crate::raw`]: `recvmmsg`/`sendmmsg` with
//! the control messages the data plane needs — the local address a datagram came to
//! (`IP_PKTINFO` / `IPV6_PKTINFO`), the source address to send from, and UDP GSO/GRO segment
//! sizes (`UDP_SEGMENT` / `UDP_GRO`).
//!
//! One system call moves up to [`BATCH_MAX`] datagrams; per-packet syscalls (~1 µs each) are the
//! data plane's limit, not crypto (DESIGN.md §3).

use crate::fd;
use crate::sockaddr::{RawSockAddr, to_socket_addr};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::RawFd;

/// Most datagrams moved by one `recvmmsg`/`sendmmsg` call; longer slices are cut into calls of
/// this size (send) or truncated to it (receive).
pub const BATCH_MAX: usize = 64;

/// Room for the control messages of one datagram (pktinfo + a segment size), 8-byte aligned.
#[repr(C, align(8))]
#[derive(Clone, Copy)]
struct CmsgBuf([u8; 128]);

/// What arrived with one received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvMeta {
    /// Bytes written into the buffer.
    pub len: usize,
    /// The sender (for raw IPv4 sockets the port is 0; the IP header is in the buffer).
    pub src: SocketAddr,
    /// The local address it was sent to, from `IP_PKTINFO` / `IPV6_PKTINFO`; reply from it.
    pub dst: Option<IpAddr>,
    /// The interface it arrived on (0 if unknown).
    pub ifindex: u32,
    /// With UDP GRO: the buffer holds several datagrams of this size (the last may be shorter).
    pub segment_size: Option<usize>,
    /// The datagram was longer than the buffer and was cut (`MSG_TRUNC`).
    pub truncated: bool,
}

impl Default for RecvMeta {
    fn default() -> Self {
        Self {
            len: 0,
            src: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
            dst: None,
            ifindex: 0,
            segment_size: None,
            truncated: false,
        }
    }
}

/// One datagram to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit<'a> {
    /// Destination (port 0 for raw sockets).
    pub dst: SocketAddr,
    /// Source address to send from (`IP_PKTINFO` / `IPV6_PKTINFO`); `None` lets the kernel
    /// choose. Must be the same family as `dst`.
    pub src: Option<IpAddr>,
    /// UDP GSO: cut `payload` into datagrams of this many bytes (`UDP_SEGMENT`; at most 64
    /// segments and 64 KiB in all).
    pub segment_size: Option<u16>,
    /// The datagram (for raw IPv4 sockets with `IP_HDRINCL`: the whole IP packet).
    pub payload: &'a [u8],
}

impl<'a> Transmit<'a> {
    /// A datagram to `dst` with no options.
    pub fn new(dst: SocketAddr, payload: &'a [u8]) -> Self {
        Self {
            dst,
            src: None,
            segment_size: None,
            payload,
        }
    }
}

impl Transmit<'_> {
    /// The same datagram sent from `src` (`None`: the kernel chooses).
    #[must_use]
    pub fn with_src(self, src: Option<IpAddr>) -> Self {
        Self { src, ..self }
    }
}

/// Receives up to `min(meta.len(), bufs.len(), BATCH_MAX)` datagrams without blocking.
pub(crate) fn recv_batch(
    fd: RawFd,
    meta: &mut [RecvMeta],
    bufs: &mut [&mut [u8]],
) -> io::Result<usize> {
    let n = meta.len().min(bufs.len()).min(BATCH_MAX);
    if n == 0 {
        return Ok(0);
    }
    // SAFETY: mmsghdr is plain old data; all-zero (null pointers, zero lengths) is valid.
    let mut hdrs: [libc::mmsghdr; BATCH_MAX] = unsafe { std::mem::zeroed() };
    let mut iovs = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; BATCH_MAX];
    let mut names: [RawSockAddr; BATCH_MAX] = std::array::from_fn(|_| RawSockAddr::zeroed());
    let mut cmsgs = [CmsgBuf([0; 128]); BATCH_MAX];
    for i in 0..n {
        iovs[i] = libc::iovec {
            iov_base: bufs[i].as_mut_ptr().cast(),
            iov_len: bufs[i].len(),
        };
        let h = &mut hdrs[i].msg_hdr;
        h.msg_name = (&raw mut names[i].storage).cast();
        h.msg_namelen = names[i].len;
        h.msg_iov = &raw mut iovs[i];
        h.msg_iovlen = 1;
        h.msg_control = cmsgs[i].0.as_mut_ptr().cast();
        h.msg_controllen = cmsgs[i].0.len();
    }
    // SAFETY: every header points at a live iovec (over a live, writable caller buffer), name
    // storage and control buffer, all of the lengths given, and all outlive the call.
    let got = fd::cvt(unsafe {
        libc::recvmmsg(
            fd,
            hdrs.as_mut_ptr(),
            n as libc::c_uint,
            libc::MSG_DONTWAIT,
            std::ptr::null_mut(),
        )
    })? as usize;
    for i in 0..got {
        let h = &hdrs[i].msg_hdr;
        let mut m = RecvMeta {
            len: (hdrs[i].msg_len as usize).min(bufs[i].len()),
            src: to_socket_addr(&names[i].storage, h.msg_namelen)
                .unwrap_or(RecvMeta::default().src),
            truncated: h.msg_flags & libc::MSG_TRUNC != 0,
            ..RecvMeta::default()
        };
        parse_cmsgs(h, &mut m);
        meta[i] = m;
    }
    Ok(got)
}

/// Reads the control messages the kernel put in `h` into `m`.
fn parse_cmsgs(h: &libc::msghdr, m: &mut RecvMeta) {
    // SAFETY: `h` was filled by recvmmsg; msg_control/msg_controllen describe our control
    // buffer, and CMSG_FIRSTHDR/CMSG_NXTHDR stay inside the length the kernel set.
    let mut c = unsafe { libc::CMSG_FIRSTHDR(h) };
    while !c.is_null() {
        // SAFETY: `c` is non-null and points at a cmsghdr inside the control buffer.
        let cm = unsafe { &*c };
        // SAFETY: CMSG_DATA points just past the header, inside the same message.
        let data = unsafe { libc::CMSG_DATA(c) };
        let data_len = (cm.cmsg_len as usize).saturating_sub(data as usize - c as usize);
        match (cm.cmsg_level, cm.cmsg_type) {
            (libc::IPPROTO_IP, libc::IP_PKTINFO) if data_len >= size_of::<libc::in_pktinfo>() => {
                // SAFETY: the kernel wrote an in_pktinfo here (length checked); read unaligned.
                let p = unsafe { data.cast::<libc::in_pktinfo>().read_unaligned() };
                m.dst = Some(IpAddr::V4(Ipv4Addr::from(p.ipi_addr.s_addr.to_ne_bytes())));
                m.ifindex = p.ipi_ifindex as u32;
            }
            (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO)
                if data_len >= size_of::<libc::in6_pktinfo>() =>
            {
                // SAFETY: the kernel wrote an in6_pktinfo here (length checked); read unaligned.
                let p = unsafe { data.cast::<libc::in6_pktinfo>().read_unaligned() };
                m.dst = Some(IpAddr::V6(Ipv6Addr::from(p.ipi6_addr.s6_addr)));
                m.ifindex = p.ipi6_ifindex;
            }
            (libc::SOL_UDP, libc::UDP_GRO) if data_len >= size_of::<libc::c_int>() => {
                // SAFETY: the kernel wrote an int here (length checked); read unaligned.
                let size = unsafe { data.cast::<libc::c_int>().read_unaligned() };
                m.segment_size = usize::try_from(size).ok().filter(|&s| s > 0);
            }
            _ => {}
        }
        // SAFETY: as for CMSG_FIRSTHDR; returns null after the last header.
        c = unsafe { libc::CMSG_NXTHDR(h, c) };
    }
}

/// Sends `pkts` in calls of up to [`BATCH_MAX`]; returns how many went out (fewer when the
/// socket buffer fills: `WouldBlock` only if none did).
pub(crate) fn send_batch(fd: RawFd, pkts: &[Transmit<'_>]) -> io::Result<usize> {
    let mut sent = 0;
    for chunk in pkts.chunks(BATCH_MAX) {
        match send_chunk(fd, chunk) {
            Ok(n) => {
                sent += n;
                if n < chunk.len() {
                    break;
                }
            }
            Err(e) if sent > 0 && e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}

fn send_chunk(fd: RawFd, pkts: &[Transmit<'_>]) -> io::Result<usize> {
    let n = pkts.len();
    // SAFETY: mmsghdr is plain old data; all-zero (null pointers, zero lengths) is valid.
    let mut hdrs: [libc::mmsghdr; BATCH_MAX] = unsafe { std::mem::zeroed() };
    let mut iovs = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; BATCH_MAX];
    let mut names: [RawSockAddr; BATCH_MAX] = std::array::from_fn(|_| RawSockAddr::zeroed());
    let mut cmsgs = [CmsgBuf([0; 128]); BATCH_MAX];
    for (i, t) in pkts.iter().enumerate() {
        names[i] = RawSockAddr::from_socket_addr(t.dst);
        iovs[i] = libc::iovec {
            iov_base: t.payload.as_ptr().cast_mut().cast(),
            iov_len: t.payload.len(),
        };
        let h = &mut hdrs[i].msg_hdr;
        h.msg_name = (&raw mut names[i].storage).cast();
        h.msg_namelen = names[i].len;
        h.msg_iov = &raw mut iovs[i];
        h.msg_iovlen = 1;
        fill_cmsgs(h, &mut cmsgs[i], t)?;
    }
    // SAFETY: every header points at a live iovec over a caller buffer that sendmmsg only reads,
    // a live name and control buffer, of the lengths given; all outlive the call.
    let sent = fd::cvt(unsafe {
        libc::sendmmsg(fd, hdrs.as_mut_ptr(), n as libc::c_uint, libc::MSG_DONTWAIT)
    })?;
    Ok(sent as usize)
}

/// Sends one datagram with `sendmsg` (the same control messages as a batch).
pub(crate) fn send_one(fd: RawFd, t: &Transmit<'_>) -> io::Result<usize> {
    let name = RawSockAddr::from_socket_addr(t.dst);
    let mut iov = libc::iovec {
        iov_base: t.payload.as_ptr().cast_mut().cast(),
        iov_len: t.payload.len(),
    };
    let mut cmsg = CmsgBuf([0; 128]);
    // SAFETY: msghdr is plain old data; all-zero is valid.
    let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
    h.msg_name = name.as_ptr().cast_mut().cast();
    h.msg_namelen = name.len;
    h.msg_iov = &raw mut iov;
    h.msg_iovlen = 1;
    fill_cmsgs(&mut h, &mut cmsg, t)?;
    // SAFETY: `h` points at live name, iovec (over a buffer sendmsg only reads) and control
    // buffer of the lengths given.
    fd::cvt_size(unsafe { libc::sendmsg(fd, &raw const h, libc::MSG_DONTWAIT) })
}

/// Most buffers one [`send_gather`] call takes (a GSO send holds at most 64 or 128 segments,
/// depending on the kernel; 64 is safe everywhere).
pub const GATHER_MAX: usize = 64;

/// Sends the concatenation of `parts` as one `sendmsg` (an iovec per part) with the options of
/// `t` (its `payload` is ignored). With `t.segment_size` the kernel cuts it into datagrams of
/// that size (UDP GSO). At most [`GATHER_MAX`] parts.
pub(crate) fn send_gather(fd: RawFd, t: &Transmit<'_>, parts: &[&[u8]]) -> io::Result<usize> {
    if parts.len() > GATHER_MAX {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "too many buffers for one send",
        ));
    }
    let name = RawSockAddr::from_socket_addr(t.dst);
    let mut iovs = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; GATHER_MAX];
    for (iov, p) in iovs.iter_mut().zip(parts) {
        *iov = libc::iovec {
            iov_base: p.as_ptr().cast_mut().cast(),
            iov_len: p.len(),
        };
    }
    let mut cmsg = CmsgBuf([0; 128]);
    // SAFETY: msghdr is plain old data; all-zero is valid.
    let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
    h.msg_name = name.as_ptr().cast_mut().cast();
    h.msg_namelen = name.len;
    h.msg_iov = iovs.as_mut_ptr();
    h.msg_iovlen = parts.len();
    fill_cmsgs(&mut h, &mut cmsg, t)?;
    // SAFETY: `h` points at a live name, `parts.len()` live iovecs (over buffers sendmsg only
    // reads) and a live control buffer, of the lengths given.
    fd::cvt_size(unsafe { libc::sendmsg(fd, &raw const h, libc::MSG_DONTWAIT) })
}

/// Writes the source-address and GSO control messages of `t` into `buf` and points `h` at them.
fn fill_cmsgs(h: &mut libc::msghdr, buf: &mut CmsgBuf, t: &Transmit<'_>) -> io::Result<()> {
    let mut used = 0usize;
    let mut push = |level: libc::c_int, ty: libc::c_int, data: &[u8]| {
        // SAFETY: CMSG_SPACE/CMSG_LEN are pure arithmetic on the length.
        let (space, len) = unsafe {
            (
                libc::CMSG_SPACE(data.len() as u32),
                libc::CMSG_LEN(data.len() as u32),
            )
        };
        let hdr = libc::cmsghdr {
            cmsg_len: len as usize,
            cmsg_level: level,
            cmsg_type: ty,
        };
        let at = &mut buf.0[used..used + space as usize];
        // SAFETY: `at` is 8-byte aligned (buffer alignment, and every CMSG_SPACE is a multiple
        // of 8) and at least CMSG_SPACE bytes long, enough for the header and the data.
        unsafe {
            at.as_mut_ptr().cast::<libc::cmsghdr>().write(hdr);
            let d = libc::CMSG_DATA(at.as_mut_ptr().cast());
            std::ptr::copy_nonoverlapping(data.as_ptr(), d, data.len());
        }
        used += space as usize;
    };
    match (t.src, t.dst) {
        (None, _) => {}
        (Some(IpAddr::V4(src)), SocketAddr::V4(_)) => {
            let p = libc::in_pktinfo {
                ipi_ifindex: 0,
                ipi_spec_dst: libc::in_addr {
                    s_addr: u32::from_ne_bytes(src.octets()),
                },
                ipi_addr: libc::in_addr { s_addr: 0 },
            };
            push(libc::IPPROTO_IP, libc::IP_PKTINFO, as_bytes(&p));
        }
        (Some(IpAddr::V6(src)), SocketAddr::V6(_)) => {
            let p = libc::in6_pktinfo {
                ipi6_addr: libc::in6_addr {
                    s6_addr: src.octets(),
                },
                ipi6_ifindex: 0,
            };
            push(libc::IPPROTO_IPV6, libc::IPV6_PKTINFO, as_bytes(&p));
        }
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "source and destination families differ",
            ));
        }
    }
    if let Some(size) = t.segment_size {
        push(libc::SOL_UDP, libc::UDP_SEGMENT, &size.to_ne_bytes());
    }
    if used > 0 {
        h.msg_control = buf.0.as_mut_ptr().cast();
        h.msg_controllen = used;
    }
    Ok(())
}

/// The bytes of a plain-old-data kernel struct.
fn as_bytes<T: Copy>(v: &T) -> &[u8] {
    // SAFETY: callers pass libc pktinfo structs, which have no padding bytes; the slice covers
    // exactly `v` and borrows it.
    unsafe { std::slice::from_raw_parts((v as *const T).cast::<u8>(), size_of::<T>()) }
}
