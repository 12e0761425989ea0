//! The *schema* of a security association database entry (RFC 4301 §4.4.2): what an SA is, as
//! the IKE engine hands it to the data plane. The per-packet state (sequence numbers, replay
//! bitmap, byte and packet counters) lives in the data plane; this is the immutable part.

use core::time::Duration;
use std::net::IpAddr;

use crate::addr_range::Family;
use crate::error::PolicyError;
use crate::packet::{Direction, PacketSelector};
use crate::selector::Selector;
use crate::spd::{IpsecMode, IpsecProtocol, ReqId};

/// The largest anti-replay window accepted, in packets.
pub const MAX_REPLAY_WINDOW: u32 = 1 << 16;

/// A Security Parameters Index (RFC 4303 §2.1, RFC 4302 §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Spi(pub u32);

impl Spi {
    /// Whether the value may name an SA: 0 is reserved for local use and 1-255 are reserved by
    /// IANA (RFC 4303 §2.1).
    pub fn is_assignable(self) -> bool {
        self.0 > 255
    }
}

/// One set of lifetime limits; `None` means no limit of that kind (RFC 4301 §4.4.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LifetimeLimits {
    /// Bytes protected.
    pub bytes: Option<u64>,
    /// Packets protected.
    pub packets: Option<u64>,
    /// Time since the SA was installed, on a clock that counts through suspend.
    pub time: Option<Duration>,
}

/// Soft limits (start a rekey) and hard limits (the SA dies) (RFC 4301 §4.4.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Lifetimes {
    /// Reaching any soft limit raises a "soft expired" event.
    pub soft: LifetimeLimits,
    /// Reaching any hard limit removes the SA.
    pub hard: LifetimeLimits,
}

/// UDP encapsulation for NAT traversal (RFC 3948): the outer UDP ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpEncap {
    /// Our port (normally 4500).
    pub local_port: u16,
    /// The peer's port as seen from here.
    pub remote_port: u16,
}

/// One SA, one direction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SadEntry {
    /// The SPI: chosen by us for inbound SAs, by the peer for outbound ones.
    pub spi: Spi,
    /// Inbound or outbound.
    pub direction: Direction,
    /// ESP or AH.
    pub protocol: IpsecProtocol,
    /// Transport or tunnel.
    pub mode: IpsecMode,
    /// Our address: the outer source outbound, the outer destination inbound.
    pub local_addr: IpAddr,
    /// The peer's address.
    pub peer_addr: IpAddr,
    /// NAT-T encapsulation, if any.
    pub udp_encap: Option<UdpEncap>,
    /// The traffic the SA may carry, local/remote as in the SPD (RFC 4301 §4.4.2.1); inbound,
    /// decrypted packets outside them are dropped (RFC 4301 §5.2).
    pub selectors: Vec<Selector>,
    /// Soft and hard lifetimes.
    pub lifetimes: Lifetimes,
    /// Anti-replay window in packets, 0 for none; only used inbound (RFC 4303 §3.4.3).
    pub replay_window: u32,
    /// Extended (64-bit) sequence numbers (RFC 4303 §2.2.1).
    pub esn: bool,
    /// Links the SA (and its partner in the other direction) to its SPD entry; a rekeyed SA
    /// keeps the reqid so the old and new SA can coexist.
    pub reqid: ReqId,
}

impl SadEntry {
    /// Checks the description is consistent: an assignable SPI, one address family for the
    /// outer addresses, soft limits not above hard ones, a bounded replay window.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let bad = |reason| Err(PolicyError::BadSadEntry { reason });
        if !self.spi.is_assignable() {
            return bad("SPI 0-255 is reserved (RFC 4303 §2.1)");
        }
        if Family::of(self.local_addr) != Family::of(self.peer_addr) {
            return bad("local and peer address families differ");
        }
        if self.replay_window > MAX_REPLAY_WINDOW {
            return bad("replay window too large");
        }
        let (s, h) = (&self.lifetimes.soft, &self.lifetimes.hard);
        let above = |soft: Option<u64>, hard: Option<u64>| matches!((soft, hard), (Some(s), Some(h)) if s > h);
        if above(s.bytes, h.bytes)
            || above(s.packets, h.packets)
            || matches!((s.time, h.time), (Some(s), Some(h)) if s > h)
        {
            return bad("a soft lifetime exceeds its hard lifetime");
        }
        Ok(())
    }

    /// Whether a packet lies within the SA's selectors (the check of RFC 4301 §5.2 step 4 for
    /// inbound packets after decryption, and of the outbound SA choice).
    pub fn allows(&self, packet: &PacketSelector) -> bool {
        self.selectors.iter().any(|s| s.matches(packet))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port_range::PortValue;
    use crate::protocol::IpProtocol;
    use crate::selector::tests::sel;

    fn sa() -> SadEntry {
        SadEntry {
            spi: Spi(0x1234_5678),
            direction: Direction::Inbound,
            protocol: IpsecProtocol::Esp,
            mode: IpsecMode::Tunnel,
            local_addr: "192.0.2.1".parse().unwrap(),
            peer_addr: "192.0.2.2".parse().unwrap(),
            udp_encap: None,
            selectors: vec![sel("10.1.0.0/16", "10.2.0.0/16")],
            lifetimes: Lifetimes {
                soft: LifetimeLimits {
                    bytes: Some(900),
                    packets: None,
                    time: Some(Duration::from_secs(3000)),
                },
                hard: LifetimeLimits {
                    bytes: Some(1000),
                    packets: None,
                    time: Some(Duration::from_secs(3600)),
                },
            },
            replay_window: 64,
            esn: true,
            reqid: ReqId(7),
        }
    }

    #[test]
    fn validation() {
        assert_eq!(sa().validate(), Ok(()));
        assert!(
            SadEntry {
                spi: Spi(255),
                ..sa()
            }
            .validate()
            .is_err()
        );
        assert!(
            SadEntry {
                peer_addr: "::1".parse().unwrap(),
                ..sa()
            }
            .validate()
            .is_err()
        );
        assert!(
            SadEntry {
                replay_window: MAX_REPLAY_WINDOW + 1,
                ..sa()
            }
            .validate()
            .is_err()
        );
        let mut bad = sa();
        bad.lifetimes.soft.time = Some(Duration::from_secs(4000));
        assert!(bad.validate().is_err());
    }

    #[test]
    fn selector_check_after_decryption() {
        let inner = |src: &str| {
            PacketSelector::from_packet(
                Direction::Inbound,
                src.parse().unwrap(),
                "10.1.0.9".parse().unwrap(),
                IpProtocol::UDP,
                PortValue::Port(53),
                PortValue::Port(5353),
            )
        };
        assert!(sa().allows(&inner("10.2.3.4")));
        assert!(!sa().allows(&inner("10.3.3.4")));
    }
}
