//! A daemon's signals as a readable fd: [`SignalFd`] blocks SIGTERM and SIGINT (and SIGHUP, the
//! conventional "reload your configuration", with [`SignalFd::daemon`]) for the calling thread
//! (and the threads it spawns afterwards) and delivers them through a `signalfd(2)`, so an event
//! loop waits for them with its sockets in one [`crate::poll::Poller`] instead of running code in
//! a signal handler.

use crate::fd;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// SIGHUP's number, as [`SignalFd::read`] returns it.
pub const SIGHUP: i32 = libc::SIGHUP;

/// A non-blocking signalfd for SIGTERM and SIGINT, and SIGHUP if asked for (register it as
/// readable).
#[derive(Debug)]
pub struct SignalFd {
    fd: OwnedFd,
}

impl SignalFd {
    /// Blocks SIGTERM and SIGINT in this thread's signal mask and opens a signalfd for them.
    /// Call it on the main thread before spawning threads, so that none of them takes the
    /// signals in the default way.
    pub fn termination() -> io::Result<Self> {
        Self::open(&[libc::SIGTERM, libc::SIGINT])
    }

    /// [`SignalFd::termination`] plus SIGHUP ([`SIGHUP`]), which a daemon reads as "reload".
    pub fn daemon() -> io::Result<Self> {
        Self::open(&[libc::SIGTERM, libc::SIGINT, libc::SIGHUP])
    }

    fn open(signals: &[libc::c_int]) -> io::Result<Self> {
        // SAFETY: an all-zero sigset_t is a valid value; sigemptyset initializes it anyway.
        let mut set: libc::sigset_t = unsafe { core::mem::zeroed() };
        // SAFETY: `set` is a live sigset_t; these calls only write into it.
        unsafe {
            libc::sigemptyset(&raw mut set);
            for &signo in signals {
                libc::sigaddset(&raw mut set, signo);
            }
        }
        // SAFETY: `set` is initialized; the old mask is not asked for (null).
        let rc = unsafe {
            libc::pthread_sigmask(libc::SIG_BLOCK, &raw const set, core::ptr::null_mut())
        };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        // SAFETY: -1 asks for a new fd; `set` is initialized and only read.
        let raw = fd::cvt(unsafe {
            libc::signalfd(-1, &raw const set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC)
        })?;
        // SAFETY: `raw` is a fresh fd owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(Self { fd })
    }

    /// The next pending signal's number, or `None` when none is pending.
    pub fn read(&self) -> io::Result<Option<i32>> {
        let mut buf = [0u8; core::mem::size_of::<libc::signalfd_siginfo>()];
        match fd::read(self.fd.as_raw_fd(), &mut buf) {
            Ok(n) if n == buf.len() => {
                // ssi_signo is the first field, a u32 in native byte order.
                let signo = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]);
                Ok(Some(i32::try_from(signo).unwrap_or(0)))
            }
            Ok(_) => Err(io::Error::other("short read from signalfd")),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl AsRawFd for SignalFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raised_sigterm_is_read_not_delivered() {
        let s = SignalFd::termination().expect("signalfd");
        assert_eq!(s.read().expect("read"), None);
        // SAFETY: raise sends SIGTERM to this thread, which has it blocked: it stays pending
        // for the signalfd instead of terminating the process.
        assert_eq!(unsafe { libc::raise(libc::SIGTERM) }, 0);
        assert_eq!(s.read().expect("read"), Some(libc::SIGTERM));
        assert_eq!(s.read().expect("read"), None);
    }

    #[test]
    fn a_raised_sighup_is_read_by_the_daemon_set() {
        let s = SignalFd::daemon().expect("signalfd");
        // SAFETY: raise sends SIGHUP to this thread, which has it blocked now: it stays pending
        // for the signalfd instead of terminating the process.
        assert_eq!(unsafe { libc::raise(libc::SIGHUP) }, 0);
        assert_eq!(s.read().expect("read"), Some(SIGHUP));
        assert_eq!(s.read().expect("read"), None);
    }
}
