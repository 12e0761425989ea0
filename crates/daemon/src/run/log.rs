//! Logging for `rampart run`, over `tracing`: the event loop and its parts say
//! `log!(Info, "...")` (levels `Error`, `Warn`, `Info`, `Debug`), which becomes a `tracing`
//! event at that level with the calling module as its target. [`init_from_env`] installs a
//! `tracing-subscriber` formatter on stderr, filtered by `RAMPART_LOG` (`error`, `warn`,
//! `info` — the default —, `debug`, `trace`, or per-module directives such as
//! `rampart_daemon::run::dataplane=debug,info`). Written for systemd: when stderr is not a
//! terminal, no colours and no timestamps (journald adds its own); one write per line, so that
//! lines of processes sharing stderr do not interleave.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// The environment variable holding the filter.
const ENV: &str = "RAMPART_LOG";

/// Installs the stderr logger, filtered by `RAMPART_LOG` (default `info`; an invalid filter
/// keeps `info` and says so). A second call, or a process that already has a global
/// subscriber, keeps the first one.
pub(crate) fn init_from_env() {
    let (filter, bad) = match EnvFilter::try_from_env(ENV) {
        Ok(f) => (f, None),
        Err(e) => (
            EnvFilter::new("info"),
            std::env::var(ENV).ok().map(|v| (v, e)),
        ),
    };
    let tty = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_ansi(tty)
        .with_target(false);
    let installed = if tty {
        builder.try_init().is_ok()
    } else {
        builder.without_time().try_init().is_ok()
    };
    if let (true, Some((value, e))) = (installed, bad) {
        tracing::warn!("{ENV}={value:?} is not a valid filter ({e}); logging at info");
    }
}

/// `log!(Level, "format", args...)`: a `tracing` event at `Error`, `Warn`, `Info` or `Debug`.
macro_rules! log {
    (Error, $($arg:tt)*) => { ::tracing::error!($($arg)*) };
    (Warn, $($arg:tt)*) => { ::tracing::warn!($($arg)*) };
    (Info, $($arg:tt)*) => { ::tracing::info!($($arg)*) };
    (Debug, $($arg:tt)*) => { ::tracing::debug!($($arg)*) };
}
pub(crate) use log;

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    /// A writer into a shared buffer, for a test subscriber.
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("not poisoned").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buf {
        type Writer = Self;
        fn make_writer(&'a self) -> Self {
            self.clone()
        }
    }

    /// What `f` logs under `filter`, formatted as the daemon formats it off a terminal.
    fn capture(filter: &str, f: impl FnOnce()) -> String {
        let buf = Buf::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(buf.clone())
            .with_env_filter(EnvFilter::new(filter))
            .with_ansi(false)
            .with_target(false)
            .without_time()
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        let out = buf.0.lock().expect("not poisoned").clone();
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn levels_map_to_tracing_levels() {
        let n = 3;
        let out = capture("debug", || {
            log!(Error, "e {n}");
            log!(Warn, "w {}", n + 1);
            log!(Info, "i");
            log!(Debug, "d {n:02}");
        });
        let lines: Vec<&str> = out.lines().map(str::trim).collect();
        assert_eq!(lines, ["ERROR e 3", "WARN w 4", "INFO i", "DEBUG d 03"]);
    }

    #[test]
    fn the_filter_drops_lower_levels() {
        let out = capture("warn", || {
            log!(Warn, "kept");
            log!(Info, "dropped");
            log!(Debug, "dropped");
        });
        assert_eq!(out.trim(), "WARN kept");
    }

    #[test]
    fn per_module_directives_use_the_calling_module() {
        let out = capture("info,rampart_daemon::run::log=debug", || {
            log!(Debug, "here")
        });
        assert_eq!(out.trim(), "DEBUG here");
        let out = capture("info,rampart_daemon::run::engine=debug", || {
            log!(Debug, "no")
        });
        assert_eq!(out, "");
    }
}
