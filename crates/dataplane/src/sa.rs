//! Security associations as the data plane holds them: the immutable [`SaConfig`] and the
//! per-packet mutable state ([`InboundSaState`], [`OutboundSaState`]) that workers share.
//!
//! SAs are unidirectional (RFC 4301 §4.1), so inbound and outbound state are different types:
//! only inbound SAs have a replay window, only outbound ones a sequence counter (STYLE.md
//! guideline 5). Neither holds keys or algorithms: the ESP/AH transform is a sibling, composed by
//! the owner, e.g.
//!
//! ```text
//! struct InboundEspSa { state: InboundSaState, transform: EspInbound /* keys, AEAD */ }
//! ```
//!
//! so that this state stays crypto-free and the transform stays stateless per packet. The daemon
//! keeps each composed SA in an `Arc` inside an immutable SAD table that it swaps whole on updates
//! (DESIGN.md §2); everything here takes `&self`.
//!
//! # Inbound per-packet call order (DESIGN.md §2)
//!
//! 1. [`InboundSaState::replay_check`] with the packet's 32-bit sequence number → [`Candidate`]
//!    (its [`Candidate::seq_hi`] feeds the ICV/AAD with ESN);
//! 2. the transform verifies the ICV and decrypts;
//! 3. [`InboundSaState::replay_commit`] (may still refuse: a racing duplicate);
//! 4. [`InboundSaState::account`] with the inner length; drop on a hard verdict;
//! 5. on any refusal, [`SaCounters::record_drop`].
//!
//! # Outbound
//!
//! [`OutboundSaState::account`] first (a refused packet must not burn a sequence number), then
//! [`OutboundSaState::next_seq`], then the transform.
//!
//! # How workers share the replay window
//!
//! The window must be updated by whichever worker processes the packet. Pinning each inbound SA
//! to one worker needs the IO layer to steer by SPI, which the planned sockets do not:
//! `SO_REUSEPORT` spreads UDP 4500 by 4-tuple, and raw ESP and multi-queue TUN do not steer by
//! SPI at all, so one SA's packets reach every worker. [`ReplayWindow`] is therefore shared: its
//! pre-check is lock-free (atomic loads) and only the commit takes a small internal lock, never
//! across the crypto (see [`ReplayWindow`] for why a racing pre-check is safe). It sits on its
//! own cache line so commits do not bounce the counters. This is the "per-SA sequence/replay
//! state" DESIGN.md §3 allows on the fast path.

use crate::drop::{DropCounters, DropReason};
use crate::lifetime::{Lifetime, LifetimeVerdict, Lifetimes, SaEvent};
use crate::replay::{Candidate, ReplayConfigError, ReplayWindow};
use crate::seq::{OutboundSeq, SeqError};
use crate::time::Timestamp;
use core::net::IpAddr;
use rampart_wire::ike::iana::ProtocolId;
use thiserror::Error;

/// A Security Parameters Index (RFC 4303 §2.1), in host order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Spi(pub u32);

impl Spi {
    /// Whether the SPI is one of the values 0..=255 that IANA reserves (RFC 4303 §2.1): 0 for
    /// local use, never on the wire, 1..=255 for future use.
    pub fn is_reserved(self) -> bool {
        self.0 < 256
    }
}

impl core::fmt::Debug for Spi {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Spi({:#010x})", self.0)
    }
}

impl core::fmt::Display for Spi {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// IPsec mode (RFC 4301 §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mode {
    /// Protects the payload of the IP packet; the original IP header stays outside.
    Transport,
    /// Protects a whole inner IP packet inside a new outer IP header.
    Tunnel,
}

/// UDP encapsulation of ESP for NAT traversal (RFC 3948): the outer UDP ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UdpEncap {
    /// Outer UDP source port (4500, or the port a NAT mapped).
    pub src_port: u16,
    /// Outer UDP destination port.
    pub dst_port: u16,
}

/// Everything fixed about an SA, from its establishment to its deletion (RFC 4301 §4.4.2.1,
/// minus the keys and algorithms, which belong to the transform).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaConfig {
    /// The SPI: chosen by the receiving side of this SA.
    pub spi: Spi,
    /// ESP or AH.
    pub protocol: ProtocolId,
    /// Transport or tunnel.
    pub mode: Mode,
    /// UDP encapsulation (ESP only), or `None` for plain IP protocol 50/51.
    pub encap: Option<UdpEncap>,
    /// Outer source address: the sending end of this SA.
    pub src: IpAddr,
    /// Outer destination address: the receiving end of this SA.
    pub dst: IpAddr,
    /// Extended (64-bit) sequence numbers (RFC 4303 §2.2.1).
    pub esn: bool,
    /// Anti-replay window in packets, `0..=`[`crate::replay::MAX_WINDOW`]; 0 turns anti-replay
    /// off (inbound only; ignored for outbound SAs).
    pub replay_window: u32,
    /// Soft and hard lifetimes.
    pub lifetimes: Lifetimes,
}

/// An [`SaConfig`] the data plane cannot install.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SaConfigError {
    /// The protocol is neither ESP nor AH.
    #[error("protocol {0} is not an IPsec data-plane protocol (ESP or AH)")]
    UnsupportedProtocol(ProtocolId),
    /// SPIs 0..=255 are reserved (RFC 4303 §2.1).
    #[error("SPI {0} is reserved")]
    ReservedSpi(Spi),
    /// UDP encapsulation is defined for ESP only (RFC 3948).
    #[error("UDP encapsulation requires ESP")]
    EncapRequiresEsp,
    /// The outer addresses are of different IP versions.
    #[error("outer source and destination address families differ")]
    AddressFamilyMismatch,
    /// The replay window is out of range.
    #[error(transparent)]
    ReplayWindow(#[from] ReplayConfigError),
}

impl SaConfig {
    /// Check the fields that the data plane relies on.
    pub fn validate(&self) -> Result<(), SaConfigError> {
        if self.protocol != ProtocolId::ESP && self.protocol != ProtocolId::AH {
            return Err(SaConfigError::UnsupportedProtocol(self.protocol));
        }
        if self.spi.is_reserved() {
            return Err(SaConfigError::ReservedSpi(self.spi));
        }
        if self.encap.is_some() && self.protocol != ProtocolId::ESP {
            return Err(SaConfigError::EncapRequiresEsp);
        }
        if self.src.is_ipv4() != self.dst.is_ipv4() {
            return Err(SaConfigError::AddressFamilyMismatch);
        }
        if self.replay_window > crate::replay::MAX_WINDOW {
            return Err(ReplayConfigError::WindowTooLarge {
                requested: self.replay_window,
            }
            .into());
        }
        Ok(())
    }
}

/// Aligns its content to a cache line, so hot fields of one SA written by different workers do
/// not share a line.
#[derive(Debug, Default)]
#[repr(align(64))]
struct CachePadded<T>(T);

/// An SA's traffic counters: packets and bytes (exact, kept by its [`Lifetime`]) and drops by
/// reason.
#[derive(Debug)]
pub struct SaCounters {
    lifetime: CachePadded<Lifetime>,
    drops: DropCounters,
}

/// A point-in-time copy of an [`SaCounters`], for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaCountersSnapshot {
    /// Packets that passed.
    pub packets: u64,
    /// Bytes that passed.
    pub bytes: u64,
    /// Drops on this SA, by reason (every reason, zeros included).
    pub drops: [(DropReason, u64); DropReason::COUNT],
}

impl SaCounters {
    fn new(lifetimes: Lifetimes, installed_at: Timestamp) -> Self {
        Self {
            lifetime: CachePadded(Lifetime::new(lifetimes, installed_at)),
            drops: DropCounters::new(),
        }
    }

    /// Packets that passed.
    pub fn packets(&self) -> u64 {
        self.lifetime.0.packets()
    }

    /// Bytes that passed.
    pub fn bytes(&self) -> u64 {
        self.lifetime.0.bytes()
    }

    /// The lifetime state (limits, expiry flags, next deadline).
    pub fn lifetime(&self) -> &Lifetime {
        &self.lifetime.0
    }

    /// The per-reason drop counters.
    pub fn drops(&self) -> &DropCounters {
        &self.drops
    }

    /// Count one packet dropped on this SA.
    pub fn record_drop(&self, reason: DropReason) {
        self.drops.record(reason);
    }

    /// Copy all counters, for display.
    pub fn snapshot(&self) -> SaCountersSnapshot {
        SaCountersSnapshot {
            packets: self.packets(),
            bytes: self.bytes(),
            drops: self.drops.snapshot(),
        }
    }
}

/// The shared mutable state of an inbound SA: replay window and counters. `Send + Sync`.
#[derive(Debug)]
pub struct InboundSaState {
    config: SaConfig,
    replay: CachePadded<ReplayWindow>,
    counters: SaCounters,
}

impl InboundSaState {
    /// State for a newly installed inbound SA (`installed_at` starts its time lifetimes).
    pub fn new(config: SaConfig, installed_at: Timestamp) -> Result<Self, SaConfigError> {
        config.validate()?;
        let window = ReplayWindow::new(config.replay_window, config.esn)?;
        Ok(Self {
            counters: SaCounters::new(config.lifetimes, installed_at),
            replay: CachePadded(window),
            config,
        })
    }

    /// The SA's configuration.
    pub fn config(&self) -> &SaConfig {
        &self.config
    }

    /// The SA's SPI.
    pub fn spi(&self) -> Spi {
        self.config.spi
    }

    /// The SA's counters.
    pub fn counters(&self) -> &SaCounters {
        &self.counters
    }

    /// Step 1: anti-replay pre-check of the packet's sequence number field; infers the ESN high
    /// bits. Changes nothing. See [`ReplayWindow::check`].
    pub fn replay_check(&self, seq_lo: u32) -> Result<Candidate, DropReason> {
        self.replay.0.check(seq_lo).map_err(DropReason::from)
    }

    /// Step 3, after the ICV verified: record the sequence number. See [`ReplayWindow::commit`].
    pub fn replay_commit(&self, candidate: Candidate) -> Result<(), DropReason> {
        self.replay.0.commit(candidate).map_err(DropReason::from)
    }

    /// Step 4: account the delivered packet against the lifetimes. See [`Lifetime::account`].
    pub fn account(&self, bytes: u64, now: Timestamp) -> LifetimeVerdict {
        self.counters.lifetime().account(bytes, now)
    }

    /// The highest sequence number committed so far (for display and tests).
    pub fn replay_top(&self) -> u64 {
        self.replay.0.top()
    }
}

/// The shared mutable state of an outbound SA: sequence counter and counters. `Send + Sync`,
/// lock-free.
#[derive(Debug)]
pub struct OutboundSaState {
    config: SaConfig,
    seq: CachePadded<OutboundSeq>,
    counters: SaCounters,
}

impl OutboundSaState {
    /// State for a newly installed outbound SA (`installed_at` starts its time lifetimes).
    pub fn new(config: SaConfig, installed_at: Timestamp) -> Result<Self, SaConfigError> {
        config.validate()?;
        Ok(Self {
            counters: SaCounters::new(config.lifetimes, installed_at),
            seq: CachePadded(OutboundSeq::new(config.esn)),
            config,
        })
    }

    /// State for an SA whose counter already handed out `last_sent` (the next packet gets
    /// `last_sent + 1`): for moving an SA between data planes, and for tests near the end of
    /// the sequence space. See [`OutboundSeq::after`].
    pub fn resume(
        config: SaConfig,
        installed_at: Timestamp,
        last_sent: u64,
    ) -> Result<Self, SaConfigError> {
        config.validate()?;
        Ok(Self {
            counters: SaCounters::new(config.lifetimes, installed_at),
            seq: CachePadded(OutboundSeq::after(last_sent, config.esn)),
            config,
        })
    }

    /// The SA's configuration.
    pub fn config(&self) -> &SaConfig {
        &self.config
    }

    /// The SA's SPI.
    pub fn spi(&self) -> Spi {
        self.config.spi
    }

    /// The SA's counters.
    pub fn counters(&self) -> &SaCounters {
        &self.counters
    }

    /// The sequence counter itself.
    pub fn seq(&self) -> &OutboundSeq {
        &self.seq.0
    }

    /// Account the packet against the lifetimes, before taking a sequence number.
    pub fn account(&self, bytes: u64, now: Timestamp) -> LifetimeVerdict {
        self.counters.lifetime().account(bytes, now)
    }

    /// The next sequence number. On exhaustion, also returns the [`SaEvent::SequenceExhausted`]
    /// to report when this caller is the first to be refused.
    pub fn next_seq(&self) -> Result<u64, (DropReason, Option<SaEvent>)> {
        self.seq.0.next().map_err(|e| {
            let SeqError::Exhausted { first } = e;
            let event = first.then_some(SaEvent::SequenceExhausted { spi: self.spi() });
            (DropReason::from(e), event)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifetime::{ExpiryReason, LifetimeLimits};
    use core::net::{Ipv4Addr, Ipv6Addr};
    use std::sync::Arc;

    fn config() -> SaConfig {
        SaConfig {
            spi: Spi(0xc0ffee01),
            protocol: ProtocolId::ESP,
            mode: Mode::Tunnel,
            encap: Some(UdpEncap {
                src_port: 4500,
                dst_port: 4500,
            }),
            src: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
            esn: true,
            replay_window: 128,
            lifetimes: Lifetimes::default(),
        }
    }

    #[test]
    fn validate_rejects_what_the_data_plane_cannot_carry() {
        assert_eq!(config().validate(), Ok(()));
        let cases = [
            (
                SaConfig {
                    protocol: ProtocolId::IKE,
                    ..config()
                },
                SaConfigError::UnsupportedProtocol(ProtocolId::IKE),
            ),
            (
                SaConfig {
                    spi: Spi(255),
                    ..config()
                },
                SaConfigError::ReservedSpi(Spi(255)),
            ),
            (
                SaConfig {
                    protocol: ProtocolId::AH,
                    ..config()
                },
                SaConfigError::EncapRequiresEsp,
            ),
            (
                SaConfig {
                    dst: IpAddr::V6(Ipv6Addr::LOCALHOST),
                    ..config()
                },
                SaConfigError::AddressFamilyMismatch,
            ),
            (
                SaConfig {
                    replay_window: 5000,
                    ..config()
                },
                SaConfigError::ReplayWindow(ReplayConfigError::WindowTooLarge { requested: 5000 }),
            ),
        ];
        for (cfg, err) in cases {
            assert_eq!(cfg.validate(), Err(err));
            assert_eq!(
                InboundSaState::new(cfg.clone(), Timestamp::ZERO).err(),
                Some(err)
            );
            assert_eq!(OutboundSaState::new(cfg, Timestamp::ZERO).err(), Some(err));
        }
        let ah = SaConfig {
            protocol: ProtocolId::AH,
            encap: None,
            ..config()
        };
        assert_eq!(ah.validate(), Ok(()));
        assert_eq!(format!("{}", Spi(0xc0ffee01)), "c0ffee01");
    }

    /// The inbound call order from the module docs, with a forged packet and a replay.
    #[test]
    fn inbound_call_order() {
        let cfg = SaConfig {
            lifetimes: Lifetimes {
                hard: LifetimeLimits {
                    packets: Some(2),
                    ..Default::default()
                },
                ..Default::default()
            },
            ..config()
        };
        let sa = InboundSaState::new(cfg, Timestamp::ZERO).expect("valid config");
        let now = Timestamp::from_nanos(1);

        let c = sa.replay_check(1).expect("fresh");
        assert_eq!((c.seq(), c.seq_hi()), (1, 0));
        sa.replay_commit(c).expect("not raced");
        assert!(sa.account(100, now).passes());

        // A forgery: the check passes, the ICV fails, nothing is committed.
        let forged = sa.replay_check(2).expect("fresh number");
        assert_eq!(forged.seq(), 2);
        sa.counters().record_drop(DropReason::IcvFailure);

        // The replay of packet 1.
        let r = sa.replay_check(1);
        assert_eq!(r, Err(DropReason::Replay));
        sa.counters().record_drop(DropReason::Replay);

        let c = sa.replay_check(2).expect("the forgery did not consume 2");
        sa.replay_commit(c).expect("not raced");
        assert!(sa.account(100, now).passes());
        let c = sa.replay_check(3).expect("fresh");
        sa.replay_commit(c).expect("not raced");
        let v = sa.account(100, now);
        assert!(!v.passes(), "third packet is past the hard limit of 2");
        assert_eq!(
            v.events(sa.spi()).last(),
            Some(SaEvent::HardExpired {
                spi: sa.spi(),
                reason: ExpiryReason::Packets
            })
        );
        sa.counters().record_drop(DropReason::SaExpired);

        let snap = sa.counters().snapshot();
        assert_eq!((snap.packets, snap.bytes), (2, 200));
        let nonzero: Vec<_> = snap.drops.iter().copied().filter(|&(_, n)| n > 0).collect();
        assert_eq!(
            nonzero,
            vec![
                (DropReason::Replay, 1),
                (DropReason::IcvFailure, 1),
                (DropReason::SaExpired, 1)
            ]
        );
        assert_eq!(sa.replay_top(), 3);
    }

    /// Several workers share one inbound SA and receive the same packets (duplicated
    /// delivery): each sequence number is accepted exactly once.
    #[test]
    fn shared_inbound_accepts_each_number_once() {
        let sa = Arc::new(InboundSaState::new(config(), Timestamp::ZERO).expect("valid config"));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let sa = Arc::clone(&sa);
                std::thread::spawn(move || {
                    let mut accepted = 0u32;
                    for seq in 1..=5_000u32 {
                        // With ESN, a late copy may be inferred into the next subspace;
                        // the ICV (over the wrong high bits) rejects it, simulated here.
                        let ok = sa
                            .replay_check(seq)
                            .and_then(|c| {
                                if c.seq() == u64::from(seq) {
                                    sa.replay_commit(c)
                                } else {
                                    Err(DropReason::IcvFailure)
                                }
                            })
                            .is_ok();
                        accepted += u32::from(ok);
                    }
                    accepted
                })
            })
            .collect();
        let total: u32 = handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .sum();
        assert_eq!(total, 5_000);
    }

    /// Workers share one inbound SA and each receives its own packets (numbers interleaved
    /// across workers, all within the window): the lock-free pre-check racing the commits must
    /// never refuse one of them, and afterwards every number is a duplicate.
    #[test]
    fn shared_inbound_racing_checks_never_refuse_a_fresh_number() {
        const WORKERS: u32 = 4;
        const LAST: u32 = 4_000; // below the window, so nothing can legitimately be too old
        let cfg = SaConfig {
            replay_window: crate::replay::MAX_WINDOW,
            ..config()
        };
        let sa = Arc::new(InboundSaState::new(cfg, Timestamp::ZERO).expect("valid config"));
        let handles: Vec<_> = (0..WORKERS)
            .map(|w| {
                let sa = Arc::clone(&sa);
                std::thread::spawn(move || {
                    for seq in (1..=LAST).filter(|s| s % WORKERS == w) {
                        let c = sa
                            .replay_check(seq)
                            .expect("fresh number passes the pre-check");
                        assert_eq!(c.seq(), u64::from(seq));
                        sa.replay_commit(c).expect("fresh number commits");
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("no worker saw a false refusal");
        }
        assert_eq!(sa.replay_top(), u64::from(LAST));
        for seq in 1..=LAST {
            assert_eq!(
                sa.replay_check(seq).map(|c| c.seq()),
                Err(DropReason::Replay)
            );
        }
    }

    #[test]
    fn outbound_sequence_and_exhaustion_event() {
        let cfg = SaConfig {
            esn: false,
            ..config()
        };
        let sa = OutboundSaState::new(cfg, Timestamp::ZERO).expect("valid config");
        assert_eq!(sa.next_seq(), Ok(1));
        assert_eq!(sa.next_seq(), Ok(2));
        assert_eq!(sa.seq().last_sent(), 2);

        let sa = OutboundSaState {
            seq: CachePadded(OutboundSeq::after(u64::from(u32::MAX), false)),
            ..OutboundSaState::new(
                SaConfig {
                    esn: false,
                    ..config()
                },
                Timestamp::ZERO,
            )
            .expect("valid config")
        };
        let spi = sa.spi();
        assert_eq!(
            sa.next_seq(),
            Err((
                DropReason::SequenceExhausted,
                Some(SaEvent::SequenceExhausted { spi })
            ))
        );
        assert_eq!(sa.next_seq(), Err((DropReason::SequenceExhausted, None)));
    }

    #[test]
    fn state_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<InboundSaState>();
        assert_send_sync::<OutboundSaState>();
    }
}
