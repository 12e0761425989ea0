//! Inbound ESP (RFC 4303 §3.4): [`InboundEspSa`] verifies and removes ESP in place and hands
//! back the inner packet (tunnel mode) or the reconstructed original packet (transport mode).
//!
//! Path (DESIGN.md §2), in this order:
//!
//! 1. find the ESP header (outer IPv4 header or IPv6 extension headers, optional UDP header);
//!    check the SPI is this SA's ([`DropReason::BadSpi`]);
//! 2. anti-replay pre-check (RFC 4303 §3.4.3), which also infers the ESN high bits;
//! 3. verify the ICV and decrypt (§3.4.4) ([`DropReason::IcvFailure`]);
//! 4. anti-replay commit, only now that the packet is authentic;
//! 5. trailer: pad length and the default padding bytes 1, 2, 3, … (§2.4,
//!    [`DropReason::BadPadding`]); Next Header 59 is a dummy packet (§2.6), dropped silently
//!    and counted ([`DropReason::DummyPacket`]);
//! 6. strip ESP: tunnel mode keeps the inner packet (its version must match Next Header) and
//!    applies the ECN decapsulation rule; transport mode slides the original header back over
//!    the ESP header and rewrites protocol, lengths and the IPv4 checksum;
//! 7. the inner packet is checked against the SA's traffic selectors (RFC 4301 §5.2 step 4)
//!    through the [`InnerPolicy`] hook the daemon installs ([`DropReason::PolicyMismatch`]);
//! 8. the lifetime is accounted with the delivered length; a hard limit drops the packet.
//!
//! Outer header checks: the IP header lengths are checked; the IPv4 header checksum and the UDP
//! checksum are not re-verified (the kernel verified both before the socket delivered the
//! datagram, and the ESP ICV covers everything that matters). Transport mode with UDP
//! encapsulation does not fix inner TCP/UDP checksums after a NAT (RFC 3948 §3.1.2): the TUN
//! side is expected to offload them.

use rampart_wire::esp::{HEADER_LEN, Trailer};
use rampart_wire::ike::iana::ProtocolId;
use rampart_wire::ip::IpProtocol;

use super::headers::{self, Located};
use super::suite::{EspConfigError, EspTransform};
use crate::drop::DropReason;
use crate::packet::PacketBuf;
use crate::sa::{InboundSaState, Mode};
use crate::time::Timestamp;
use crate::transform::InboundTransform;
use crate::verdict::{InboundVerdict, SaEvent};

/// The traffic-selector check of a decapsulated packet (RFC 4301 §5.2 step 4): does this inner
/// packet belong on the SA it arrived on? The daemon installs one per inbound SA, built from the
/// SA's negotiated traffic selectors.
pub trait InnerPolicy: Send + Sync {
    /// Whether `packet` (a complete, length-checked IPv4 or IPv6 packet) may be delivered.
    fn allows(&self, packet: &[u8]) -> bool;
}

impl<F: Fn(&[u8]) -> bool + Send + Sync> InnerPolicy for F {
    fn allows(&self, packet: &[u8]) -> bool {
        self(packet)
    }
}

/// An inbound ESP SA: its shared state (replay window, lifetimes, counters), its transform and
/// the optional traffic-selector check.
pub struct InboundEspSa {
    state: InboundSaState,
    transform: EspTransform,
    policy: Option<Box<dyn InnerPolicy>>,
}

impl core::fmt::Debug for InboundEspSa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("InboundEspSa")
            .field("state", &self.state)
            .field("transform", &self.transform)
            .field("policy", &self.policy.is_some())
            .finish()
    }
}

impl InboundEspSa {
    /// Composes an inbound ESP SA without a traffic-selector check. Fails if the state is not
    /// for ESP.
    pub fn new(state: InboundSaState, transform: EspTransform) -> Result<Self, EspConfigError> {
        if state.config().protocol != ProtocolId::ESP {
            return Err(EspConfigError::NotEsp);
        }
        Ok(Self {
            state,
            transform,
            policy: None,
        })
    }

    /// Installs the traffic-selector check run on every decapsulated packet.
    pub fn with_policy(mut self, policy: Box<dyn InnerPolicy>) -> Self {
        self.policy = Some(policy);
        self
    }

    /// The SA's shared state.
    pub fn state(&self) -> &InboundSaState {
        &self.state
    }

    /// The SA's algorithms and keys.
    pub fn transform(&self) -> &EspTransform {
        &self.transform
    }

    fn decapsulate(
        &self,
        pkt: &mut PacketBuf,
        now: Timestamp,
        events: &mut Vec<SaEvent>,
    ) -> Result<(), DropReason> {
        if self.state.counters().lifetime().is_hard_expired() {
            return Err(DropReason::SaExpired);
        }
        let cfg = self.state.config();
        let loc = headers::locate(pkt.data())?;
        if loc.protocol != IpProtocol::ESP {
            return Err(DropReason::UnsupportedNextHeader);
        }
        pkt.trim_back(pkt.len() - loc.end)?;
        let esp = &mut pkt.data_mut()[loc.esp_start..];
        if esp.len() < HEADER_LEN {
            return Err(DropReason::Truncated);
        }
        let spi = u32::from_be_bytes([esp[0], esp[1], esp[2], esp[3]]);
        if spi != cfg.spi.0 {
            return Err(DropReason::BadSpi);
        }
        let seq_lo = u32::from_be_bytes([esp[4], esp[5], esp[6], esp[7]]);
        let candidate = self.state.replay_check(seq_lo)?;
        let seq_hi = cfg.esn.then_some(candidate.seq_hi());
        let pt_len = self.transform.open(esp, seq_hi)?;
        self.state.replay_commit(candidate)?;

        let body_start = HEADER_LEN + self.transform.iv_len();
        let trailer =
            Trailer::parse(&esp[body_start..body_start + pt_len], 0).map_err(|e| match e {
                rampart_wire::Error::Truncated { .. } => DropReason::Truncated,
                _ => DropReason::BadPadding,
            })?;
        if trailer.next_header == IpProtocol::NO_NEXT_HEADER {
            return Err(DropReason::DummyPacket);
        }
        // Bytes after the payload: trailer, plus the ICV (and nothing else: `pt_len` ends where
        // the ICV begins).
        let tail = esp.len() - body_start - trailer.payload_len;
        let front = loc.esp_start + body_start;
        match cfg.mode {
            Mode::Tunnel => self.strip_tunnel(pkt, &loc, front, tail, trailer)?,
            _ => strip_transport(pkt, &loc, front - loc.ip_len, tail, trailer.next_header)?,
        }
        if let Some(policy) = &self.policy {
            if !policy.allows(pkt.data()) {
                return Err(DropReason::PolicyMismatch);
            }
        }
        self.state
            .account(pkt.len() as u64, now)
            .report(cfg.spi, events)
    }

    /// Tunnel mode: keep only the inner packet.
    fn strip_tunnel(
        &self,
        pkt: &mut PacketBuf,
        loc: &Located,
        front: usize,
        tail: usize,
        trailer: Trailer,
    ) -> Result<(), DropReason> {
        let inner = &mut pkt.data_mut()[front..][..trailer.payload_len];
        let family = headers::check_inner(inner, trailer.next_header)?;
        headers::propagate_ce(inner, family, loc.ecn);
        pkt.pull_front(front)?;
        pkt.trim_back(tail)
    }
}

/// Transport mode: remove `gap` bytes (UDP?, ESP header, IV) between the IP headers and the
/// payload, and the trailer and ICV after it; restore the protocol and lengths.
fn strip_transport(
    pkt: &mut PacketBuf,
    loc: &Located,
    gap: usize,
    tail: usize,
    next_header: IpProtocol,
) -> Result<(), DropReason> {
    let data = pkt.data_mut();
    data.copy_within(..loc.ip_len, gap);
    pkt.pull_front(gap)?;
    pkt.trim_back(tail)?;
    headers::rewrite_transport_header(pkt.data_mut(), loc.family, loc.nh_offset, next_header)
}

impl InboundTransform for InboundEspSa {
    fn unprotect(
        &self,
        pkt: &mut PacketBuf,
        now: Timestamp,
        events: &mut Vec<SaEvent>,
    ) -> InboundVerdict {
        InboundVerdict::counted(self.decapsulate(pkt, now, events), self.state.counters())
    }
}
