//! A minimal leveled logger to stderr: `RAMPART_LOG=error|warn|info|debug` (default `info`).
//! Lines read `LEVEL message`; the daemon runs in the foreground and leaves timestamps to
//! whatever collects stderr (journald, a test harness).

use std::sync::atomic::{AtomicU8, Ordering};

/// How much to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
}

static MAX: AtomicU8 = AtomicU8::new(Level::Info as u8);

/// Reads `RAMPART_LOG`; unknown values keep `info`.
pub(crate) fn init_from_env() {
    let level = match std::env::var("RAMPART_LOG").as_deref() {
        Ok("error") => Level::Error,
        Ok("warn") => Level::Warn,
        Ok("debug" | "trace") => Level::Debug,
        _ => Level::Info,
    };
    MAX.store(level as u8, Ordering::Relaxed);
}

/// Whether `level` is printed.
pub(crate) fn enabled(level: Level) -> bool {
    level as u8 <= MAX.load(Ordering::Relaxed)
}

/// Prints one line if `level` is enabled.
pub(crate) fn write(level: Level, args: core::fmt::Arguments<'_>) {
    if enabled(level) {
        let tag = match level {
            Level::Error => "ERROR",
            Level::Warn => "WARN ",
            Level::Info => "INFO ",
            Level::Debug => "DEBUG",
        };
        // One write per line, so that lines of processes sharing stderr do not interleave.
        let line = format!("{tag} {args}\n");
        let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
    }
}

macro_rules! log {
    ($level:ident, $($arg:tt)*) => {
        $crate::run::log::write($crate::run::log::Level::$level, format_args!($($arg)*))
    };
}
pub(crate) use log;
