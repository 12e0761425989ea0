//! `rampart run`: the IKE control plane over real sockets (DESIGN.md §1). One thread runs an
//! event loop over a [`Poller`]: the UDP 500/4500 sockets ([`sockets`]), the control socket
//! ([`control`]), a signalfd for SIGTERM/SIGINT (shut down) and SIGHUP (reload the configuration
//! file, as the control request `reload` does) and a [`Waker`] for the threads that join later.
//! Datagrams go to the [`Endpoint`](rampart_ike::Endpoint) and the [`IkeSa`](rampart_ike::IkeSa)
//! it names, in the engine's call order ([`engine`]); the loop sleeps until the earliest
//! `poll_timeout`. Child SAs are kept in the [`table`] for display and installed in the
//! [`dataplane`] (TUN device, ESP over UDP 4500 or raw IP), whose packet paths run in two worker
//! threads (or inline in this loop); they hand IKE datagrams from port 4500 back through the waker.

mod clock;
mod control;
mod dataplane;
mod engine;
mod framing;
pub(crate) mod log;
mod policy;
mod routing;
mod sockets;
mod table;
mod trap;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rampart_sys::poll::{Interest, Poller, Waker};
use rampart_sys::signal::{SIGHUP, SignalFd};

use crate::config::Config;
use clock::Clock;
use control::{ControlServer, Request};
use engine::Engine;
use log::log;
use sockets::Sockets;

/// Poller tokens: sockets take `0..SOCKETS_END`, then the fixed ones, then control clients.
const SIGNAL: u64 = 1 << 32;
const WAKER: u64 = SIGNAL + 1;
const LISTENER: u64 = SIGNAL + 2;
const TUN: u64 = SIGNAL + 3;
const RAW_ESP: u64 = SIGNAL + 4;
const RAW_ESP6: u64 = SIGNAL + 5;
const FIRST_CLIENT: u64 = SIGNAL + 6;

/// How long shutdown waits for IKE deletes to be answered.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Setting up a socket, the poller or the signals failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being set up.
        what: String,
        /// The error.
        source: io::Error,
    },
    /// The configuration has nothing the engine can run.
    #[error("{0}")]
    Engine(String),
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> RunError {
    let what = what.into();
    move |source| RunError::Io { what, source }
}

/// Runs the daemon in the foreground until SIGTERM or SIGINT, with the control socket at
/// `socket` (or the configuration's `[daemon] control_socket`). Logs to stderr (`RAMPART_LOG`).
/// SIGHUP re-reads `config.file` and applies it (see `Engine::reload`).
pub fn run(config: Arc<Config>, socket: Option<&Path>) -> Result<(), RunError> {
    log::init_from_env();
    // Before any thread exists, so that every thread keeps SIGTERM/SIGINT/SIGHUP blocked.
    let signals = SignalFd::daemon().map_err(io_err("signalfd"))?;
    let clock = Clock::start();
    let mut engine = Engine::new(Arc::clone(&config), clock).map_err(RunError::Engine)?;
    let sockets = Sockets::bind(engine.connections()).map_err(io_err("IKE sockets"))?;
    let socket_path: PathBuf =
        socket.map_or_else(|| config.daemon.control_socket.clone(), Path::to_path_buf);
    let mut control =
        ControlServer::bind(&socket_path, FIRST_CLIENT).map_err(io_err("control socket"))?;
    let mut poller = Poller::new(64).map_err(io_err("epoll"))?;
    let waker = Arc::new(Waker::new().map_err(io_err("eventfd"))?);
    let dp = dataplane::DataPlane::open(&config, &sockets, clock, Some(Arc::clone(&waker)))
        .inspect_err(|e| {
            log!(
                Warn,
                "no data plane (TUN device {}): {e}",
                dataplane::TUN_NAME
            );
        })
        .ok();
    // Worker threads read the NAT-T sockets themselves and hand IKE over (WAKER).
    let workers = dp.as_ref().is_some_and(dataplane::DataPlane::threaded);
    for (i, s) in sockets.iter().enumerate() {
        if !(workers && s.local_addr().port() == sockets::NATT_PORT) {
            poller
                .add(s, i as u64, Interest::READABLE)
                .map_err(io_err("epoll add"))?;
        }
        log!(Info, "listening on UDP {}", s.local_addr());
    }
    poller
        .add(&signals, SIGNAL, Interest::READABLE)
        .map_err(io_err("epoll add"))?;
    poller
        .add(&*waker, WAKER, Interest::READABLE)
        .map_err(io_err("epoll add"))?;
    poller
        .add(control.listener(), LISTENER, Interest::READABLE)
        .map_err(io_err("epoll add"))?;
    log!(Info, "control socket {}", socket_path.display());
    if let Some(dp) = dp {
        if !workers {
            poller
                .add(dp.tun(), TUN, Interest::READABLE)
                .map_err(io_err("epoll add"))?;
            for (raw, token) in [(dp.raw4(), RAW_ESP), (dp.raw6(), RAW_ESP6)] {
                if let Some(raw) = raw {
                    poller
                        .add(raw, token, Interest::READABLE)
                        .map_err(io_err("epoll add"))?;
                }
            }
        }
        log!(Info, "data plane on {}", dp.tun().name());
        engine.set_dataplane(dp);
    }

    engine.start(&sockets);
    let mut shutdown_until = None;
    loop {
        let timeout = engine.next_deadline().map(|d| clock.until(d));
        let timeout = match shutdown_until {
            Some(end) => Some(clock.until(end).min(timeout.unwrap_or(Duration::MAX))),
            None => timeout,
        };
        let ready: Vec<u64> = poller
            .wait(timeout)
            .map_err(io_err("epoll wait"))?
            .map(|e| e.token)
            .collect();
        for token in ready {
            match token {
                SIGNAL => {
                    while let Ok(Some(signo)) = signals.read() {
                        if signo == SIGHUP {
                            log!(Info, "SIGHUP: reloading the configuration");
                            engine.reload(&sockets);
                            continue;
                        }
                        log!(Info, "signal {signo}: deleting IKE SAs and exiting");
                        if shutdown_until.is_none() {
                            shutdown_until = Some(clock.now().saturating_add(SHUTDOWN_GRACE));
                            engine.terminate_all(&sockets);
                        }
                    }
                }
                WAKER => {
                    let _ = waker.drain();
                    let datagrams = engine
                        .dataplane_mut()
                        .map(dataplane::DataPlane::take_ike)
                        .unwrap_or_default();
                    for d in datagrams {
                        engine.handle_datagram(&sockets, d);
                    }
                }
                LISTENER => {
                    for (t, fd) in control.accept() {
                        if let Err(e) = poller.add(&fd, t, Interest::READABLE) {
                            log!(Warn, "control client: {e}");
                            control.drop_client(t);
                        }
                    }
                }
                TUN => {
                    let now = engine.now();
                    if let Some(dp) = engine.dataplane_mut() {
                        dp.tun_readable(now);
                    }
                }
                RAW_ESP | RAW_ESP6 => {
                    let now = engine.now();
                    if let Some(dp) = engine.dataplane_mut() {
                        dp.raw_readable(token == RAW_ESP6, now);
                    }
                }
                t if control.is_client(t) => serve(&mut control, &mut engine, &sockets, t),
                t => {
                    let Ok(i) = usize::try_from(t) else { continue };
                    let natt = sockets
                        .iter()
                        .nth(i)
                        .filter(|s| s.local_addr().port() == sockets::NATT_PORT);
                    let now = engine.now();
                    let datagrams = match (natt, engine.dataplane_mut()) {
                        // ESP stays in the data plane; IKE and keepalives come back.
                        (Some(s), Some(dp)) => dp.udp_readable(s, now),
                        _ => sockets.recv_all(i),
                    };
                    // Without a data plane, ESP on the NAT-T port has nowhere to go.
                    let datagrams = datagrams.into_iter().filter(|d| !sockets::is_esp(d));
                    for d in datagrams {
                        engine.handle_datagram(&sockets, d);
                    }
                }
            }
        }
        engine.handle_timeouts(&sockets);
        engine.dataplane_events(&sockets);
        let now = engine.now();
        if let Some(dp) = engine.dataplane_mut() {
            dp.flush_held(now);
        }
        if let Some(end) = shutdown_until {
            if engine.is_idle() || clock.now() >= end {
                log!(Info, "exiting");
                return Ok(());
            }
        }
    }
}

/// Answers every complete request line client `token` sent.
fn serve(control: &mut ControlServer, engine: &mut Engine, sockets: &Sockets, token: u64) {
    let Some(lines) = control.read(token) else {
        control.drop_client(token);
        return;
    };
    for line in lines {
        let response = match Request::parse(&line) {
            Ok(req) => engine.control(req, sockets),
            Err(e) => control::error(&e),
        };
        control.respond(token, &response);
    }
}
