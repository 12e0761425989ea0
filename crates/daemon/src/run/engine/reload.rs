//! `reload` and SIGHUP in the engine: read the configuration file again, compare it with the
//! running one connection by connection ([`Config::diff`]) and apply the difference.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Engine, Keep, system_unix_time};
use crate::config::{Config, ConfigDiff, LoadError, StartAction};
use crate::run::control::error;
use crate::run::log::log;
use crate::run::sockets::Sockets;

impl Engine {
    /// `reload` and SIGHUP: reads the configuration file the daemon was started with again and
    /// applies it. An invalid file changes nothing (the answer carries its `file:line:column`
    /// errors). Otherwise connections that are unchanged ([`Config::diff`]) keep their IKE and
    /// child SAs untouched; removed and changed ones have their IKE SAs deleted; changed and
    /// added ones start per their `start_action`; the data plane's routes follow the children.
    /// Engine-wide settings (`[daemon]` retransmission, the IKE SA lifetime) apply to IKE SAs set
    /// up from now on; a new `control_socket` or a local address without a socket needs a
    /// restart (logged).
    pub(crate) fn reload(&mut self, sockets: &Sockets) -> Value {
        if self.stopping {
            return error("the daemon is shutting down: no reload");
        }
        let path = self.config.file.clone();
        let new = match Config::load(&path) {
            Ok(c) => c,
            Err(e) => {
                log!(Error, "reload: {e}");
                log!(Error, "reload failed: the running configuration stays");
                let mut answer = error(&format!(
                    "reload failed, the running configuration stays:\n{e}"
                ));
                if let LoadError::Invalid(errors) = &e {
                    answer["errors"] = errors.to_json();
                }
                return answer;
            }
        };
        let diff = self.config.diff(&new);
        log!(
            Info,
            "reload of {}: unchanged {:?}, changed {:?}, added {:?}, removed {:?}",
            path.display(),
            diff.unchanged,
            diff.changed,
            diff.added,
            diff.removed
        );
        self.apply(sockets, new, &diff);
        json!({
            "ok": true,
            "unchanged": diff.unchanged,
            "changed": diff.changed,
            "added": diff.added,
            "removed": diff.removed,
        })
    }

    /// Switches to `new`, whose differences from the running configuration are `diff`.
    fn apply(&mut self, sockets: &Sockets, new: Arc<Config>, diff: &ConfigDiff) {
        let unix: rampart_ike::UnixTime = Arc::new(system_unix_time);
        let endpoint_config = Arc::new(new.endpoint_config(&unix));
        self.connections = endpoint_config.connections.clone();
        self.endpoint.set_config(endpoint_config);
        if new.daemon.control_socket != self.config.daemon.control_socket {
            log!(
                Warn,
                "reload: a new control_socket takes effect when the daemon restarts"
            );
        }
        for name in diff.removed.iter().chain(&diff.changed) {
            self.keep.remove(name);
            self.trapped.remove(name);
            let n = self.delete_connection(sockets, name);
            log!(
                Info,
                "{name}: removed or changed by the reload: deleting {n} IKE SA(s)"
            );
        }
        if let Some(dp) = &mut self.dataplane {
            dp.reconfigure(&new);
        }
        self.config = new;
        self.sync_traps();
        for name in diff.changed.iter().chain(&diff.added) {
            let Some(c) = self.config.connection(name) else {
                continue;
            };
            let unbound = c
                .local_addrs
                .iter()
                .find(|a| !sockets.iter().any(|s| covers(s.local_addr().ip(), **a)));
            if let Some(a) = unbound {
                log!(
                    Warn,
                    "{name}: no IKE socket on {a} until the daemon restarts"
                );
            }
            let on_demand = c
                .children
                .iter()
                .any(|ch| ch.start_action == StartAction::Trap);
            if let Some(k) = Keep::for_start_children(c) {
                let first = k.children.first().cloned();
                self.keep.insert(name.clone(), k);
                if let Some(child) = first {
                    let _ = self.initiate(sockets, name, Some(&child));
                }
            }
            if on_demand {
                self.arm_traps(name);
            }
        }
    }
}

/// Whether a socket bound to `bound` receives for local address `addr`.
fn covers(bound: std::net::IpAddr, addr: std::net::IpAddr) -> bool {
    bound == addr || (bound.is_unspecified() && bound.is_ipv4() == addr.is_ipv4())
}
