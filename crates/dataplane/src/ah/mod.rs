//! AH, the IP Authentication Header (RFC 4302): the outbound and inbound transforms.
//!
//! Position in the path (DESIGN.md §2): the SAD hands a packet to [`OutboundAhSa::protect`]
//! (after SPD classification) or [`InboundAhSa::unprotect`] (after the SPI lookup); both follow
//! the buffer contract of [`crate::transform`] and work in place in the [`PacketBuf`], moving
//! only the IP header (transport mode) and never allocating.
//!
//! AH authenticates but does not encrypt. Its ICV covers the IP header with the fields that
//! change in transit counted as zero, the AH header with the ICV zeroed (its padding included
//! as sent), and everything after AH (the private `icv` module has the exact rules, RFC 4302
//! §3.3.3). The ICV field is padded so that AH is a multiple of 4 bytes over IPv4 and 8 bytes
//! over IPv6 (§3.3.3.2.1): e.g. HMAC-SHA2-256-128's 16-byte ICV gives a 28-byte AH over IPv4
//! and 32 bytes over IPv6; we send zero padding.
//!
//! # Outbound
//!
//! - **Transport** (RFC 4302 §3.1.1): AH goes right after the IPv4 header (options included),
//!   or in IPv6 after the Hop-by-Hop, Routing and Fragment headers and any Destination Options
//!   header that precedes a Routing header (RFC 8200 §4.1 order). A Destination Options header
//!   meant for the final destination goes *after* AH, protected as payload (§3.1.1 allows
//!   either place; Linux and scapy put one that is not followed by a Routing header before
//!   AH; receivers accept both). Protocol / Next Header and the lengths are rewritten, the IPv4
//!   header checksum recomputed. Fragments are refused (§3.3.4: AH applies to whole packets),
//!   as are packets whose ICV the receiver would compute over values the sender cannot
//!   reproduce simply: IPv4 loose/strict source route options (131, 137) and IPv6 Routing
//!   headers with Segments Left ≠ 0 (both dropped as [`DropReason::Malformed`]; source routing
//!   is deprecated, RFC 5095 and RFC 7126).
//! - **Tunnel** (§3.1.2): a new outer header from the SA's addresses, TTL / Hop Limit 64,
//!   DSCP and ECN copied from the inner header (RFC 4301 §5.1.2.1, RFC 6040 normal mode), DF
//!   copied from an inner IPv4 header, the IPv4 Identification taken from the low 16 bits of the
//!   sequence number, flow label 0. The inner packet may be IPv4 or IPv6 under either.
//!
//! Order: parse → account lifetimes (a refused packet burns no sequence number) → next sequence
//! number → build headers → ICV (with ESN, over the high 32 bits too, §3.3.3.2).
//!
//! # Inbound
//!
//! Parse the outer header (fragments refused, §3.4.1) and find AH → SPI check → ICV field
//! length check (the ICV plus at most 7 bytes of padding) → anti-replay check, which infers the
//! ESN high bits (§3.4.3) → ICV verification in constant time (§3.4.4) → anti-replay commit →
//! strip AH (transport: move the IP header up, restore Protocol / Next Header and the lengths;
//! tunnel: expose the inner packet, whose version must match AH's Next Header) → account
//! lifetimes. Every drop is counted on the SA.

mod icv;
mod inbound;
mod outbound;

use rampart_crypto::Integ;
use rampart_wire::ike::iana::ProtocolId;
use rampart_wire::ip::IpVersion;

use crate::drop::DropReason;
use crate::packet::PacketBuf;
use crate::sa::{InboundSaState, OutboundSaState, SaConfig, SaConfigError};
use crate::time::Timestamp;
use crate::transform::{InboundTransform, OutboundTransform};
use crate::verdict::{InboundVerdict, OutboundVerdict, SaEvent};

/// An outbound AH SA: its shared state (sequence counter, lifetimes, counters) and its keyed
/// integrity transform. `Send + Sync`; shared by workers behind an `Arc`.
#[derive(Debug)]
pub struct OutboundAhSa {
    state: OutboundSaState,
    integ: Integ,
}

/// An inbound AH SA: its shared state (replay window, lifetimes, counters) and its keyed
/// integrity transform. `Send + Sync`; shared by workers behind an `Arc`.
#[derive(Debug)]
pub struct InboundAhSa {
    state: InboundSaState,
    integ: Integ,
}

/// Checks that an SA configuration is for AH.
fn check_ah(config: &SaConfig) -> Result<(), SaConfigError> {
    if config.protocol == ProtocolId::AH {
        Ok(())
    } else {
        Err(SaConfigError::UnsupportedProtocol(config.protocol))
    }
}

/// The AH length (header, ICV and padding) for `icv_len` over `version` (RFC 4302 §3.3.3.2.1).
pub fn ah_len(icv_len: usize, version: IpVersion) -> usize {
    let align = match version {
        IpVersion::V4 => 4,
        IpVersion::V6 => 8,
    };
    (rampart_wire::ah::HEADER_LEN + icv_len).next_multiple_of(align)
}

/// Maps a wire parser's refusal to a drop reason.
fn wire_drop(e: rampart_wire::Error) -> DropReason {
    match e {
        rampart_wire::Error::Truncated { .. } => DropReason::Truncated,
        _ => DropReason::Malformed,
    }
}

impl OutboundAhSa {
    /// An outbound AH SA. Fails if the state's configuration is not for AH.
    pub fn new(state: OutboundSaState, integ: Integ) -> Result<Self, SaConfigError> {
        check_ah(state.config())?;
        Ok(Self { state, integ })
    }

    /// The SA's shared state.
    pub fn state(&self) -> &OutboundSaState {
        &self.state
    }

    /// The integrity transform.
    pub fn integ(&self) -> &Integ {
        &self.integ
    }

    fn try_protect(
        &self,
        pkt: &mut PacketBuf,
        now: Timestamp,
        events: &mut Vec<SaEvent>,
    ) -> Result<(), DropReason> {
        let plan = outbound::plan(pkt, self.state.config(), self.integ.alg().icv_len())?;
        self.state
            .account(pkt.len() as u64, now)
            .report(self.state.spi(), events)?;
        let seq = self.state.next_seq().map_err(|(reason, event)| {
            events.extend(event);
            reason
        })?;
        let layout = outbound::build(pkt, self.state.config(), plan, &self.integ, seq)?;
        let seq_hi = self.state.config().esn.then_some((seq >> 32) as u32);
        let icv_len = self.integ.alg().icv_len();
        let mut icv = [0u8; rampart_crypto::integ::MAX_ICV_LEN];
        icv::compute(&self.integ, pkt.data(), layout, seq_hi, &mut icv[..icv_len])?;
        let start = layout.ah_off + rampart_wire::ah::HEADER_LEN;
        pkt.data_mut()[start..start + icv_len].copy_from_slice(&icv[..icv_len]);
        Ok(())
    }
}

impl OutboundTransform for OutboundAhSa {
    fn protect(
        &self,
        pkt: &mut PacketBuf,
        now: Timestamp,
        events: &mut Vec<SaEvent>,
    ) -> OutboundVerdict {
        OutboundVerdict::counted(self.try_protect(pkt, now, events), self.state.counters())
    }
}

impl InboundAhSa {
    /// An inbound AH SA. Fails if the state's configuration is not for AH.
    pub fn new(state: InboundSaState, integ: Integ) -> Result<Self, SaConfigError> {
        check_ah(state.config())?;
        Ok(Self { state, integ })
    }

    /// The SA's shared state.
    pub fn state(&self) -> &InboundSaState {
        &self.state
    }

    /// The integrity transform.
    pub fn integ(&self) -> &Integ {
        &self.integ
    }

    fn try_unprotect(
        &self,
        pkt: &mut PacketBuf,
        now: Timestamp,
        events: &mut Vec<SaEvent>,
    ) -> Result<(), DropReason> {
        let found = inbound::locate(pkt, self.state.config(), self.integ.alg().icv_len())?;
        let candidate = self.state.replay_check(found.seq_lo)?;
        let seq_hi = self.state.config().esn.then_some(candidate.seq_hi());
        icv::verify(&self.integ, pkt.data(), found.layout, seq_hi)?;
        self.state.replay_commit(candidate)?;
        inbound::strip(pkt, self.state.config(), &found)?;
        self.state
            .account(pkt.len() as u64, now)
            .report(self.state.spi(), events)
    }
}

impl InboundTransform for InboundAhSa {
    fn unprotect(
        &self,
        pkt: &mut PacketBuf,
        now: Timestamp,
        events: &mut Vec<SaEvent>,
    ) -> InboundVerdict {
        InboundVerdict::counted(self.try_unprotect(pkt, now, events), self.state.counters())
    }
}
