//! TUN devices: where the kernel hands the data plane the packets routed to the remote traffic
//! selectors (outbound), and where decrypted inner packets go back in (inbound), route-based like
//! a VTI (DESIGN.md §2).
//!
//! A device is opened from `/dev/net/tun` with `IFF_TUN | IFF_NO_PI` (bare IP packets), in the
//! network namespace of the calling thread, non-blocking. Options:
//!
//! - multi-queue (`IFF_MULTI_QUEUE`): [`Tun::open_queues`] opens N fds on one device, one per
//!   worker; the kernel spreads flows across them;
//! - virtio-net header (`IFF_VNET_HDR`) with offloads (`TUNSETOFFLOAD`: checksum, TSO4/6, and
//!   USO4/6 where the kernel has them): reads may return a super-packet of up to 64 KiB behind a
//!   [`crate::vnet::VnetHdr`], cut with [`crate::gso::Segments`]; every write needs a header
//!   ([`Tun::write_packet`] adds an empty one).
//!
//! Address, MTU, up and routes are set over rtnetlink ([`crate::netlink::Netlink`]) using
//! [`Tun::ifindex`].

use crate::fd;
use crate::vnet::VnetHdr;
use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// How to open a TUN device.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TunOptions {
    /// Open with `IFF_MULTI_QUEUE` (needed by [`Tun::open_queues`]; implied there).
    pub multi_queue: bool,
    /// Open with `IFF_VNET_HDR` and enable offloads (see [`VnetMode`]).
    pub vnet_hdr: bool,
}

/// The offloads a TUN device in virtio-net header mode accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VnetMode {
    /// TCP segmentation offload (v4 and v6): reads may be TCP super-packets.
    pub tso: bool,
    /// UDP segmentation offload (v4 and v6, Linux 6.2+): reads may be UDP super-packets.
    pub uso: bool,
}

/// One queue of a TUN device.
#[derive(Debug)]
pub struct Tun {
    fd: OwnedFd,
    name: String,
    vnet: Option<VnetMode>,
}

/// `struct ifreq` as TUNSETIFF uses it: a name and the flags (the union is 24 bytes).
#[repr(C)]
struct IfReqFlags {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

impl Tun {
    /// Opens (creating if needed) the device `name` (at most 15 bytes; `%d` lets the kernel
    /// pick a number).
    pub fn open(name: &str, opts: &TunOptions) -> io::Result<Self> {
        if name.is_empty() || name.len() >= libc::IFNAMSIZ || name.contains('\0') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "bad interface name",
            ));
        }
        let path = c"/dev/net/tun";
        let oflags = libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC;
        // SAFETY: `path` is a NUL-terminated string literal.
        let raw = fd::cvt(unsafe { libc::open(path.as_ptr(), oflags) })?;
        // SAFETY: `raw` was just returned by open(2) and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };

        let mut flags = libc::IFF_TUN | libc::IFF_NO_PI;
        if opts.multi_queue {
            flags |= libc::IFF_MULTI_QUEUE;
        }
        if opts.vnet_hdr {
            flags |= libc::IFF_VNET_HDR;
        }
        let mut req = IfReqFlags {
            name: [0; libc::IFNAMSIZ],
            flags: flags as libc::c_short,
            _pad: [0; 22],
        };
        req.name[..name.len()].copy_from_slice(name.as_bytes());
        // SAFETY: TUNSETIFF reads and writes a `struct ifreq`; `req` has its layout and size
        // (16-byte name, then a 24-byte union whose first member is the short flags).
        fd::cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETIFF, &raw mut req) })?;
        let name = CStr::from_bytes_until_nul(&req.name)
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    "kernel returned an unterminated name",
                )
            })?
            .to_string_lossy()
            .into_owned();
        let vnet = if opts.vnet_hdr {
            Some(enable_offloads(&fd)?)
        } else {
            None
        };
        Ok(Self { fd, name, vnet })
    }

    /// Opens `n` queues of the multi-queue device `name`, e.g. one per worker thread.
    pub fn open_queues(name: &str, n: usize, opts: &TunOptions) -> io::Result<Vec<Self>> {
        let opts = TunOptions {
            multi_queue: true,
            ..*opts
        };
        let first = Self::open(name, &opts)?;
        let actual = first.name.clone();
        let mut queues = vec![first];
        for _ in 1..n {
            queues.push(Self::open(&actual, &opts)?);
        }
        Ok(queues)
    }

    /// The interface name (as the kernel chose it when `name` had `%d`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The interface index, for rtnetlink requests.
    pub fn ifindex(&self) -> io::Result<u32> {
        fd::if_index(&self.name)
    }

    /// `Some` when reads and writes carry a virtio-net header, with the offloads accepted.
    pub fn vnet(&self) -> Option<VnetMode> {
        self.vnet
    }

    /// Reads one packet (behind a [`VnetHdr`] in vnet mode; give 64 KiB + 10 bytes of room
    /// then). Non-blocking: `WouldBlock` when the queue is empty.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        fd::read(self.fd.as_raw_fd(), buf)
    }

    /// Writes `buf` as it is (it must start with a [`VnetHdr`] in vnet mode).
    pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
        fd::write(self.fd.as_raw_fd(), buf)
    }

    /// Writes one complete IP packet, adding an empty virtio-net header in vnet mode (gathered
    /// with `writev`, no copy). Returns the IP packet bytes written.
    pub fn write_packet(&self, ip: &[u8]) -> io::Result<usize> {
        if self.vnet.is_none() {
            return self.write(ip);
        }
        let mut hdr = [0u8; VnetHdr::LEN];
        VnetHdr::NONE
            .emit(&mut hdr)
            .map_err(|_| io::Error::other("vnet header buffer"))?;
        let iov = [
            libc::iovec {
                iov_base: hdr.as_mut_ptr().cast(),
                iov_len: hdr.len(),
            },
            libc::iovec {
                iov_base: ip.as_ptr().cast_mut().cast(),
                iov_len: ip.len(),
            },
        ];
        // SAFETY: both iovecs describe live buffers for the duration of the call; writev only
        // reads them (the cast to *mut is what the C type requires).
        let n = fd::cvt_size(unsafe { libc::writev(self.fd.as_raw_fd(), iov.as_ptr(), 2) })?;
        Ok(n.saturating_sub(VnetHdr::LEN))
    }
}

/// Turns on checksum + TSO (+ USO where the kernel knows it) offloads.
fn enable_offloads(fd: &OwnedFd) -> io::Result<VnetMode> {
    let base = libc::TUN_F_CSUM | libc::TUN_F_TSO4 | libc::TUN_F_TSO6 | libc::TUN_F_TSO_ECN;
    let with_uso = base | libc::TUN_F_USO4 | libc::TUN_F_USO6;
    let set = |flags: libc::c_uint| {
        // SAFETY: TUNSETOFFLOAD takes its argument by value (an unsigned long of flags).
        fd::cvt(unsafe {
            libc::ioctl(
                fd.as_raw_fd(),
                libc::TUNSETOFFLOAD,
                libc::c_ulong::from(flags),
            )
        })
    };
    match set(with_uso) {
        Ok(_) => Ok(VnetMode {
            tso: true,
            uso: true,
        }),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            set(base)?;
            Ok(VnetMode {
                tso: true,
                uso: false,
            })
        }
        Err(e) => Err(e),
    }
}

impl AsRawFd for Tun {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
