//! Running code inside a named network namespace (`/run/netns/NAME`, as `ip netns add` makes).
//!
//! Sockets, TUN devices and netlink sockets belong to the namespace of the thread that created
//! them and stay there when used from elsewhere. [`run_in`] therefore creates them on a fresh
//! thread that has entered the namespace with `setns(2)`, and hands them back. Used by the
//! root-only integration tests, and by a daemon that serves several namespaces.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

/// Runs `f` on a new thread inside network namespace `name` and returns its result.
pub fn run_in<T, F>(name: &str, f: F) -> io::Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    if name.is_empty() || name.contains('/') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "bad namespace name",
        ));
    }
    let ns = File::open(format!("/run/netns/{name}"))?;
    let handle = std::thread::spawn(move || -> io::Result<T> {
        // SAFETY: setns only changes this thread's network namespace; `ns` is an open nsfs fd.
        crate::fd::cvt(unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) })?;
        Ok(f())
    });
    handle
        .join()
        .map_err(|_| io::Error::other("thread in namespace panicked"))?
}
