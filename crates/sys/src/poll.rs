//! A minimal readiness loop for a worker thread: `epoll` over its TUN queue and sockets, plus an
//! `eventfd` [`Waker`] so the daemon can wake it (new SA table, shutdown). Level-triggered: a
//! worker that stops reading before `WouldBlock` (bounded work per wake-up, STYLE.md guideline 9)
//! is woken again.

use crate::fd;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// What to wait for on an fd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interest {
    /// Wake when readable.
    pub readable: bool,
    /// Wake when writable (e.g. after a send hit `WouldBlock`).
    pub writable: bool,
}

impl Interest {
    /// Readable only.
    pub const READABLE: Self = Self {
        readable: true,
        writable: false,
    };

    fn bits(self) -> u32 {
        let mut e = 0;
        if self.readable {
            e |= libc::EPOLLIN as u32;
        }
        if self.writable {
            e |= libc::EPOLLOUT as u32;
        }
        e
    }
}

/// One ready fd, named by the token it was registered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// The caller's token.
    pub token: u64,
    /// Readable (or hung up / error: a read will say which).
    pub readable: bool,
    /// Writable.
    pub writable: bool,
}

/// An epoll instance.
#[derive(Debug)]
pub struct Poller {
    fd: OwnedFd,
    events: Vec<libc::epoll_event>,
}

impl Poller {
    /// Creates an epoll instance that reports up to `capacity` events per wait.
    pub fn new(capacity: usize) -> io::Result<Self> {
        // SAFETY: epoll_create1 takes flags and returns a new fd or -1.
        let raw = fd::cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: `raw` is a fresh fd owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(Self {
            fd,
            events: vec![libc::epoll_event { events: 0, u64: 0 }; capacity.max(1)],
        })
    }

    /// Registers `fd` with `token`.
    pub fn add(&self, fd: &impl AsRawFd, token: u64, interest: Interest) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd.as_raw_fd(), token, interest)
    }

    /// Changes what `fd` is watched for.
    pub fn modify(&self, fd: &impl AsRawFd, token: u64, interest: Interest) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd.as_raw_fd(), token, interest)
    }

    /// Stops watching `fd`.
    pub fn delete(&self, fd: &impl AsRawFd) -> io::Result<()> {
        self.ctl(
            libc::EPOLL_CTL_DEL,
            fd.as_raw_fd(),
            0,
            Interest {
                readable: false,
                writable: false,
            },
        )
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, token: u64, interest: Interest) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: interest.bits(),
            u64: token,
        };
        // SAFETY: `ev` is a live epoll_event; epoll_ctl only reads it.
        fd::cvt(unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), op, fd, &raw mut ev) })?;
        Ok(())
    }

    /// Waits until an fd is ready or `timeout` passes (`None`: forever); returns the ready
    /// events (empty on timeout or when a signal interrupted the wait).
    pub fn wait(
        &mut self,
        timeout: Option<Duration>,
    ) -> io::Result<impl Iterator<Item = Event> + '_> {
        let ms = timeout.map_or(-1, |d| i32::try_from(d.as_millis()).unwrap_or(i32::MAX));
        let cap = i32::try_from(self.events.len()).unwrap_or(i32::MAX);
        // SAFETY: the pointer and count describe our events vector, writable for the call.
        let n = match fd::cvt(unsafe {
            libc::epoll_wait(self.fd.as_raw_fd(), self.events.as_mut_ptr(), cap, ms)
        }) {
            Ok(n) => n as usize,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
            Err(e) => return Err(e),
        };
        let other = (libc::EPOLLHUP | libc::EPOLLERR) as u32;
        Ok(self.events[..n].iter().map(move |e| {
            let bits = e.events;
            Event {
                token: e.u64,
                readable: bits & (libc::EPOLLIN as u32 | other) != 0,
                writable: bits & libc::EPOLLOUT as u32 != 0,
            }
        }))
    }
}

/// An `eventfd` another thread signals to wake a [`Poller`] (register it as readable).
#[derive(Debug)]
pub struct Waker {
    fd: OwnedFd,
}

impl Waker {
    /// Creates a non-blocking eventfd.
    pub fn new() -> io::Result<Self> {
        // SAFETY: eventfd takes an initial value and flags and returns a new fd or -1.
        let raw = fd::cvt(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })?;
        Ok(Self {
            // SAFETY: `raw` is a fresh fd owned by nobody else.
            fd: unsafe { OwnedFd::from_raw_fd(raw) },
        })
    }

    /// Wakes the poller (counts add up until [`Self::drain`]).
    pub fn wake(&self) -> io::Result<()> {
        match fd::write(self.fd.as_raw_fd(), &1u64.to_ne_bytes()) {
            // The counter is saturated: a wake-up is pending anyway.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            r => r.map(|_| ()),
        }
    }

    /// Resets the counter after a wake-up; returns how many wakes were pending.
    pub fn drain(&self) -> io::Result<u64> {
        let mut buf = [0u8; 8];
        match fd::read(self.fd.as_raw_fd(), &mut buf) {
            Ok(_) => Ok(u64::from_ne_bytes(buf)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            Err(e) => Err(e),
        }
    }
}

impl AsRawFd for Waker {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waker_wakes_poller_across_threads() {
        let mut poller = Poller::new(8).expect("epoll");
        let waker = std::sync::Arc::new(Waker::new().expect("eventfd"));
        poller.add(&*waker, 42, Interest::READABLE).expect("add");
        assert_eq!(
            poller
                .wait(Some(Duration::from_millis(0)))
                .expect("wait")
                .count(),
            0
        );
        let w = waker.clone();
        let t = std::thread::spawn(move || w.wake().expect("wake"));
        let events: Vec<Event> = poller
            .wait(Some(Duration::from_secs(5)))
            .expect("wait")
            .collect();
        t.join().expect("waker thread");
        assert_eq!(
            events,
            vec![Event {
                token: 42,
                readable: true,
                writable: false
            }]
        );
        assert_eq!(waker.drain().expect("drain"), 1);
        assert_eq!(
            poller
                .wait(Some(Duration::from_millis(0)))
                .expect("wait")
                .count(),
            0
        );
        poller.delete(&*waker).expect("delete");
    }
}
