//! Liveness (RFC 7296 §2.4) in the engine: what happens when an established IKE SA's peer is
//! declared dead — the connection's `dpd_action` (strongSwan's semantics, see the
//! [engine docs](super)) — and the liveness settings `status` shows.

use std::time::Duration;

use rampart_ike::{IkeSaHandle, Instant};
use serde_json::{Value, json};

use super::{Engine, Keep};
use crate::config::DpdAction;
use crate::run::log::log;

impl Engine {
    /// The retransmission schedule IKE SAs set up from now on use, and how long a request may
    /// go unanswered before the peer is declared dead (RFC 7296 §2.4).
    pub(super) fn retransmission_json(&self) -> Value {
        let r = self.endpoint.config().retransmission;
        let dead_after: Duration = (1..=r.tries).map(|n| r.wait_after(n)).sum();
        json!({
            "timeout_ms": r.initial.as_millis(),
            "tries": r.tries,
            "peer_dead_after_ms": dead_after.as_millis(),
        })
    }

    /// Each connection's liveness settings.
    pub(super) fn connections_json(&self) -> Value {
        let list: Vec<Value> = self
            .config
            .connections
            .iter()
            .map(|c| {
                json!({
                    "name": c.name,
                    "dpd_delay_ms": c.dpd_delay.map(|d| d.as_millis()),
                    "dpd_action": match c.dpd_action {
                        DpdAction::Clear => "clear",
                        DpdAction::Restart => "restart",
                        DpdAction::Trap => "trap",
                    },
                    "trapped": self.trapped.contains(&c.name),
                })
            })
            .collect();
        Value::Array(list)
    }
    /// A restart's first child came up (or was refused while its IKE SA came up): the
    /// connection is no longer kept up, unless it has `start` children.
    pub(super) fn restarted(&mut self, conn: &str, first: &str) {
        let done = self.keep.get(conn).is_some_and(|k| {
            !k.persistent && k.children.first().map(String::as_str) == Some(first)
        });
        if done {
            self.keep.remove(conn);
        }
    }

    /// RFC 7296 §2.4: the peer of established IKE SA `h` stopped answering. Acts per the
    /// connection's `dpd_action` (see the [module docs](self)).
    pub(super) fn peer_dead(&mut self, conn: &str, h: IkeSaHandle, now: Instant) {
        let Some(c) = self.config.connection(conn) else {
            return;
        };
        match c.dpd_action {
            DpdAction::Clear => {
                log!(
                    Info,
                    "{conn}: peer dead, dpd_action = clear: not starting it again"
                );
                if let Some(k) = self.keep.get_mut(conn) {
                    k.retry_at = None;
                }
            }
            DpdAction::Trap => {
                log!(
                    Info,
                    "{conn}: peer dead, dpd_action = trap: starting it on demand"
                );
                self.arm_traps(conn);
            }
            DpdAction::Restart => {
                // The children the SA had, in configuration order; else the `start` ones or the
                // first.
                let had: Vec<String> = c
                    .children
                    .iter()
                    .filter(|ch| {
                        self.table
                            .children
                            .values()
                            .any(|e| e.ike == h && e.name == ch.name)
                    })
                    .map(|ch| ch.name.clone())
                    .collect();
                let fallback = c.children.first().map(|ch| vec![ch.name.clone()]);
                let others = self.has_other_live_sa(conn, h);
                let keep = self
                    .keep
                    .entry(conn.to_owned())
                    .or_insert_with(|| Keep::new(Vec::new(), false));
                if !keep.persistent {
                    keep.children = if had.is_empty() {
                        fallback.unwrap_or_default()
                    } else {
                        had
                    };
                }
                if keep.held_down || others || keep.children.is_empty() {
                    return;
                }
                log!(
                    Info,
                    "{conn}: peer dead, dpd_action = restart: initiating again"
                );
                // At once: the event loop runs due restarts right after this drain.
                keep.retry_at = Some(now);
            }
        }
    }

    /// The connection's children are to come up on demand, when traffic for them arrives:
    /// `start_action = "trap"` (at start and after a reload) and `dpd_action = "trap"` (after
    /// its peer died). The connection is recorded in `trapped` (shown by `status`, cleared when a
    /// reload removes or changes it) and its traps go to the data plane.
    pub(super) fn arm_traps(&mut self, conn: &str) {
        self.trapped.insert(conn.to_owned());
        self.sync_traps();
    }

    /// Hands the data plane the traps of every trapped connection.
    pub(super) fn sync_traps(&mut self) {
        if let Some(dp) = &mut self.dataplane {
            dp.set_traps(super::traps_of(&self.config, &self.trapped));
        }
    }
}
