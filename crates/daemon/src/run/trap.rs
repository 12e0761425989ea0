//! On-demand start (`start_action = "trap"`, RFC 4301 §5.2 step 3a / strongSwan's trap
//! policies): an outbound packet that matches a trap child's selectors but finds no SA is held
//! in a small bounded queue and reported as an [`Acquire`]; the engine negotiates the child
//! (RFC 7296 §2.9: the packet's addresses first in TSi/TSr) and, once the SA is installed, the
//! data plane sends what waited.
//!
//! Bounds: [`QUEUE_PER_TRAP`] packets per trap (tail drop, counted) and packets older than
//! [`MAX_WAIT`] are dropped — an SA that takes longer than that to come up would hand the peer
//! stale traffic. An acquire is repeated at most every [`ACQUIRE_INTERVAL`] while packets keep
//! arriving, so a lost IKE exchange is retried by traffic, as the kernel's acquires are.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::Duration;

use rampart_ike::Instant;
use rampart_policy::traffic_selector::list_contains_addr;
use rampart_policy::{AddrRange, TrafficSelector};

/// Packets held per trap while its SA is negotiated.
pub(crate) const QUEUE_PER_TRAP: usize = 32;
/// How long a held packet stays useful.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(5);
/// The shortest time between two acquires for one trap.
pub(crate) const ACQUIRE_INTERVAL: Duration = Duration::from_secs(2);

/// A child whose traffic starts it: its connection, name and selectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Trap {
    /// The connection that negotiates it.
    pub(crate) connection: String,
    /// The child's name within the connection.
    pub(crate) child: String,
    /// Our side's selectors (a packet's source).
    pub(crate) local_ts: Vec<TrafficSelector>,
    /// The peer's side (a packet's destination).
    pub(crate) remote_ts: Vec<TrafficSelector>,
}

impl Trap {
    fn matches(&self, src: IpAddr, dst: IpAddr) -> bool {
        list_contains_addr(&self.local_ts, src) && list_contains_addr(&self.remote_ts, dst)
    }
}

/// What the engine is asked to negotiate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Acquire {
    /// The connection.
    pub(crate) connection: String,
    /// The child.
    pub(crate) child: String,
    /// The packet's source, as a selector.
    pub(crate) local: TrafficSelector,
    /// The packet's destination, as a selector.
    pub(crate) remote: TrafficSelector,
}

/// What became of a packet offered to the traps.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Held {
    /// No trap covers it: the caller drops it as "no SA".
    NoTrap,
    /// Queued; the engine must be told (the first packet, or the last acquire is old).
    Queued(Option<Acquire>),
    /// A trap covers it but its queue is full: dropped.
    QueueFull,
}

struct Slot {
    trap: Trap,
    queue: VecDeque<(Instant, Vec<u8>)>,
    acquired_at: Option<Instant>,
}

/// The traps and their queues.
#[derive(Default)]
pub(crate) struct Traps {
    slots: Vec<Slot>,
    /// Packets dropped because a queue was full or they waited too long.
    pub(crate) dropped: u64,
}

impl Traps {
    /// Replaces the traps; queues of traps that stay are kept.
    pub(crate) fn set(&mut self, traps: Vec<Trap>) {
        let mut old = std::mem::take(&mut self.slots);
        self.slots = traps
            .into_iter()
            .map(|trap| match old.iter().position(|s| s.trap == trap) {
                Some(i) => old.swap_remove(i),
                None => Slot {
                    trap,
                    queue: VecDeque::new(),
                    acquired_at: None,
                },
            })
            .collect();
        self.dropped += old.iter().map(|s| s.queue.len() as u64).sum::<u64>();
    }

    /// The traps.
    pub(crate) fn traps(&self) -> impl Iterator<Item = &Trap> {
        self.slots.iter().map(|s| &s.trap)
    }

    /// Offers `packet` (from `src` to `dst`) that found no SA.
    pub(crate) fn hold(&mut self, packet: &[u8], src: IpAddr, dst: IpAddr, now: Instant) -> Held {
        let Some(slot) = self.slots.iter_mut().find(|s| s.trap.matches(src, dst)) else {
            return Held::NoTrap;
        };
        let before = slot.queue.len();
        slot.queue
            .retain(|(t, _)| now.saturating_duration_since(*t) < MAX_WAIT);
        self.dropped += (before - slot.queue.len()) as u64;
        if slot.queue.len() >= QUEUE_PER_TRAP {
            self.dropped += 1;
            return Held::QueueFull;
        }
        slot.queue.push_back((now, packet.to_vec()));
        let due = slot
            .acquired_at
            .is_none_or(|t| now.saturating_duration_since(t) >= ACQUIRE_INTERVAL);
        if !due {
            return Held::Queued(None);
        }
        slot.acquired_at = Some(now);
        Held::Queued(Some(Acquire {
            connection: slot.trap.connection.clone(),
            child: slot.trap.child.clone(),
            local: TrafficSelector::from_addrs(AddrRange::host(src)),
            remote: TrafficSelector::from_addrs(AddrRange::host(dst)),
        }))
    }

    /// Whether any packet waits.
    pub(crate) fn has_queued(&self) -> bool {
        self.slots.iter().any(|s| !s.queue.is_empty())
    }

    /// Takes the packets still fresh at `now` that `ready` says can be sent now (an SA covers
    /// them), in arrival order per trap; the rest keep waiting. Stale packets are dropped.
    pub(crate) fn release(
        &mut self,
        now: Instant,
        mut ready: impl FnMut(&[u8]) -> bool,
    ) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for slot in &mut self.slots {
            let mut keep = VecDeque::new();
            for (t, p) in slot.queue.drain(..) {
                if now.saturating_duration_since(t) >= MAX_WAIT {
                    self.dropped += 1;
                } else if ready(&p) {
                    out.push(p);
                } else {
                    keep.push_back((t, p));
                }
            }
            if keep.is_empty() {
                slot.acquired_at = None;
            }
            slot.queue = keep;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trap() -> Trap {
        let ts = |s: &str, l: u8| {
            TrafficSelector::from_addrs(AddrRange::prefix(s.parse().unwrap(), l).unwrap())
        };
        Trap {
            connection: "site".into(),
            child: "net".into(),
            local_ts: vec![ts("198.51.100.0", 24)],
            remote_ts: vec![ts("203.0.113.0", 24)],
        }
    }

    fn addr(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn at(ms: u64) -> Instant {
        Instant::from_nanos(ms * 1_000_000)
    }

    #[test]
    fn first_packet_acquires_with_its_addresses_and_later_ones_wait_quietly() {
        let mut t = Traps::default();
        t.set(vec![trap()]);
        let (s, d) = (addr("198.51.100.7"), addr("203.0.113.9"));
        let Held::Queued(Some(a)) = t.hold(b"one", s, d, at(0)) else {
            panic!("expected an acquire");
        };
        assert_eq!((a.connection.as_str(), a.child.as_str()), ("site", "net"));
        assert_eq!(a.local.addrs(), AddrRange::host(s));
        assert_eq!(a.remote.addrs(), AddrRange::host(d));
        assert_eq!(t.hold(b"two", s, d, at(10)), Held::Queued(None));
        // Traffic keeps asking, at the interval, while the SA does not come.
        assert!(matches!(
            t.hold(b"3", s, d, at(2100)),
            Held::Queued(Some(_))
        ));
        assert_eq!(
            t.hold(b"x", addr("198.51.100.7"), addr("192.0.2.9"), at(0)),
            Held::NoTrap
        );
    }

    #[test]
    fn queue_is_bounded_and_released_in_order_when_ready() {
        let mut t = Traps::default();
        t.set(vec![trap()]);
        let (s, d) = (addr("198.51.100.7"), addr("203.0.113.9"));
        for i in 0..QUEUE_PER_TRAP {
            assert!(matches!(t.hold(&[i as u8], s, d, at(1)), Held::Queued(_)));
        }
        assert_eq!(t.hold(b"late", s, d, at(1)), Held::QueueFull);
        assert_eq!(t.dropped, 1);
        // Not ready: everything keeps waiting.
        assert!(t.release(at(2), |_| false).is_empty());
        assert!(t.has_queued());
        let out = t.release(at(3), |_| true);
        assert_eq!(out.len(), QUEUE_PER_TRAP);
        assert!(out.iter().enumerate().all(|(i, p)| p == &[i as u8]));
        assert!(!t.has_queued());
    }

    #[test]
    fn stale_packets_are_dropped_not_sent() {
        let mut t = Traps::default();
        t.set(vec![trap()]);
        let (s, d) = (addr("198.51.100.7"), addr("203.0.113.9"));
        let _ = t.hold(b"old", s, d, at(0));
        let late = at(MAX_WAIT.as_millis() as u64 + 1);
        assert!(t.release(late, |_| true).is_empty());
        assert_eq!(t.dropped, 1);
    }

    #[test]
    fn replacing_traps_keeps_queues_of_unchanged_ones() {
        let mut t = Traps::default();
        t.set(vec![trap()]);
        let _ = t.hold(b"p", addr("198.51.100.7"), addr("203.0.113.9"), at(0));
        t.set(vec![trap()]);
        assert!(t.has_queued());
        t.set(Vec::new());
        assert!(!t.has_queued());
        assert_eq!(t.dropped, 1);
        assert_eq!(t.traps().count(), 0);
    }
}
