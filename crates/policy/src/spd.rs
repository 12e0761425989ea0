//! The security policy database (RFC 4301 §4.4.1): ordered entries that map selectors to BYPASS,
//! DISCARD or PROTECT, for each direction, and the reference matcher [`Spd::lookup`].
//!
//! Order is explicit: entries are matched by ascending `priority`, ties broken by insertion order
//! (RFC 4301 §4.4.1: the SPD is ordered and the first match wins). A packet no entry matches is
//! discarded (RFC 4301 §5.1, §5.2). IKE's own traffic — UDP to or from ports 500 and 4500 on one of
//! the gateway's addresses — bypasses the SPD ahead of every entry, so that policy can never cut
//! off the key exchange that would set it up (RFC 4301 §5.1 "IKE traffic").
//!
//! [`Spd::lookup`] is deliberately a plain linear scan: it defines what a compiled classifier in the
//! data plane must answer, and that classifier is property-tested against it.

use core::fmt;
use std::net::IpAddr;

use rampart_wire::ike::iana::ProtocolId;

use crate::addr_range::AddrRange;
use crate::error::PolicyError;
use crate::packet::{Direction, PacketSelector};
use crate::port_range::PortSelector;
use crate::protocol::{IpProtocol, ProtocolSelector};
use crate::selector::{Pfp, Selector};

/// The IKE ports the built-in bypass lets through (RFC 7296 §2; RFC 3948 for 4500).
pub const IKE_PORTS: [u16; 2] = [500, 4500];

/// The IPsec protocol a PROTECT entry applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpsecProtocol {
    /// ESP (RFC 4303).
    Esp,
    /// AH (RFC 4302).
    Ah,
}

impl IpsecProtocol {
    /// The IKEv2 Security Protocol Identifier (RFC 7296 §3.3.1).
    pub fn protocol_id(self) -> ProtocolId {
        match self {
            Self::Esp => ProtocolId::ESP,
            Self::Ah => ProtocolId::AH,
        }
    }

    /// The IP protocol number of its packets.
    pub fn ip_protocol(self) -> IpProtocol {
        match self {
            Self::Esp => IpProtocol::ESP,
            Self::Ah => IpProtocol::AH,
        }
    }
}

/// IPsec mode (RFC 4301 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpsecMode {
    /// Transport mode: protects the payload of the original packet.
    Transport,
    /// Tunnel mode: protects a whole inner packet inside an outer one.
    Tunnel,
}

/// The request id linking an SPD entry to the SAs negotiated for it; inbound and outbound SA of a
/// pair share it, and a rekeyed SA reuses it so that new and old SA can overlap (make before break).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReqId(pub u32);

/// The child SA template of a PROTECT entry: what to negotiate when traffic needs an SA.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProtectTemplate {
    /// ESP or AH.
    pub protocol: IpsecProtocol,
    /// Transport or tunnel.
    pub mode: IpsecMode,
    /// Proposal strings (strongSwan syntax, e.g. `aes128gcm16`), parsed by the crypto crate.
    pub proposals: Vec<String>,
    /// How SA selectors derive from the triggering packet (RFC 4301 §4.4.1.2).
    pub pfp: Pfp,
    /// The request id the SAs for this entry carry.
    pub reqid: ReqId,
}

/// What an SPD entry does with matching packets (RFC 4301 §4.4.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    /// Pass without IPsec.
    Bypass,
    /// Drop.
    Discard,
    /// Apply IPsec as the template says.
    Protect(ProtectTemplate),
}

/// The three action kinds, without the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    /// BYPASS.
    Bypass,
    /// DISCARD.
    Discard,
    /// PROTECT.
    Protect,
}

impl Action {
    /// The kind of action.
    pub fn kind(&self) -> ActionKind {
        match self {
            Self::Bypass => ActionKind::Bypass,
            Self::Discard => ActionKind::Discard,
            Self::Protect(_) => ActionKind::Protect,
        }
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Bypass => "BYPASS",
            Self::Discard => "DISCARD",
            Self::Protect => "PROTECT",
        })
    }
}

/// One SPD entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SpdEntry {
    /// A unique name, used in reports.
    pub name: String,
    /// Lower values match first.
    pub priority: u32,
    /// Which side of the SPD the entry lives in.
    pub direction: Direction,
    /// Selector sets; a packet matching any of them matches the entry.
    pub selectors: Vec<Selector>,
    /// What to do.
    pub action: Action,
}

impl SpdEntry {
    /// Whether a packet matches any of the entry's selector sets.
    pub fn matches(&self, p: &PacketSelector) -> bool {
        self.selectors.iter().any(|s| s.matches(p))
    }
}

/// Which rule decided a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule<'a> {
    /// An SPD entry, with its position in [`Spd::entries`].
    Entry {
        /// Position in [`Spd::entries`].
        index: usize,
        /// The entry.
        entry: &'a SpdEntry,
    },
    /// The built-in IKE bypass.
    IkeBypass,
    /// No entry matched: the default DISCARD.
    NoMatch,
}

/// The SPD's answer for one packet. Only PROTECT comes from an entry every time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision<'a> {
    /// Let the packet through unprotected.
    Bypass(Rule<'a>),
    /// Drop it.
    Discard(Rule<'a>),
    /// Protect it (outbound) or require that it arrived protected (inbound).
    Protect {
        /// Position in [`Spd::entries`].
        index: usize,
        /// The entry.
        entry: &'a SpdEntry,
        /// Its template.
        template: &'a ProtectTemplate,
    },
}

impl Decision<'_> {
    /// The action kind decided.
    pub fn kind(&self) -> ActionKind {
        match self {
            Self::Bypass(_) => ActionKind::Bypass,
            Self::Discard(_) => ActionKind::Discard,
            Self::Protect { .. } => ActionKind::Protect,
        }
    }

    /// The deciding entry's position in [`Spd::entries`], if an entry decided.
    pub fn index(&self) -> Option<usize> {
        match self {
            Self::Bypass(Rule::Entry { index, .. })
            | Self::Discard(Rule::Entry { index, .. })
            | Self::Protect { index, .. } => Some(*index),
            _ => None,
        }
    }
}

/// The SPD: entries for both directions in match order, and the gateway's own addresses for the
/// IKE bypass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spd {
    entries: Vec<SpdEntry>,
    ike_addrs: Vec<IpAddr>,
}

impl Spd {
    /// An empty SPD: everything is discarded (apart from IKE once addresses are set).
    pub fn new() -> Self {
        Self::default()
    }

    /// An SPD holding `entries`, ordered as if inserted one by one with [`insert`](Self::insert)
    /// (by priority, ties in the given order), in O(n log n): for loading a whole configuration.
    pub fn from_entries(entries: impl IntoIterator<Item = SpdEntry>) -> Result<Self, PolicyError> {
        let mut entries: Vec<SpdEntry> = entries.into_iter().collect();
        let mut names = std::collections::HashSet::with_capacity(entries.len());
        for e in &entries {
            if !names.insert(e.name.as_str()) {
                return Err(PolicyError::DuplicateName {
                    name: e.name.clone(),
                });
            }
        }
        // A stable sort keeps insertion order among equal priorities, as `insert` does.
        entries.sort_by_key(|e| e.priority);
        Ok(Self {
            entries,
            ike_addrs: Vec::new(),
        })
    }

    /// Adds an entry after every entry of lower or equal priority. Names must be unique.
    pub fn insert(&mut self, entry: SpdEntry) -> Result<(), PolicyError> {
        if self.entries.iter().any(|e| e.name == entry.name) {
            return Err(PolicyError::DuplicateName { name: entry.name });
        }
        let at = self
            .entries
            .partition_point(|e| e.priority <= entry.priority);
        self.entries.insert(at, entry);
        Ok(())
    }

    /// Removes the entry called `name`.
    pub fn remove(&mut self, name: &str) -> Option<SpdEntry> {
        let at = self.entries.iter().position(|e| e.name == name)?;
        Some(self.entries.remove(at))
    }

    /// Every entry, both directions, in match order.
    pub fn entries(&self) -> &[SpdEntry] {
        &self.entries
    }

    /// The entries of one direction in match order, with their positions in [`Self::entries`].
    pub fn entries_for(&self, direction: Direction) -> impl Iterator<Item = (usize, &SpdEntry)> {
        self.entries
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.direction == direction)
    }

    /// Sets the gateway's own addresses, for which IKE traffic is bypassed.
    pub fn set_ike_addrs(&mut self, addrs: Vec<IpAddr>) {
        self.ike_addrs = addrs;
    }

    /// The gateway's own addresses.
    pub fn ike_addrs(&self) -> &[IpAddr] {
        &self.ike_addrs
    }

    /// The built-in IKE bypass as selectors (both directions): UDP with local port 500 or 4500
    /// on one of the gateway's addresses, any remote address and port (the peer may sit behind a
    /// NAT that changed its port).
    pub fn ike_bypass_selectors(&self) -> Vec<Selector> {
        let mut out = Vec::with_capacity(self.ike_addrs.len() * IKE_PORTS.len());
        for &addr in &self.ike_addrs {
            let any_remote = AddrRange::any(crate::addr_range::Family::of(addr));
            for port in IKE_PORTS {
                let s = Selector::new(AddrRange::host(addr), any_remote)
                    .expect("a host and the whole space of its own family share the family")
                    .with_protocol(ProtocolSelector::Only(IpProtocol::UDP))
                    .with_local_port(PortSelector::port(port));
                out.push(s);
            }
        }
        out
    }

    /// The reference decision for a packet (RFC 4301 §5.1, §5.2): the IKE bypass first, then the
    /// first entry of `direction` in match order whose selectors match, else DISCARD.
    pub fn lookup(&self, direction: Direction, packet: &PacketSelector) -> Decision<'_> {
        if self
            .ike_bypass_selectors()
            .iter()
            .any(|s| s.matches(packet))
        {
            return Decision::Bypass(Rule::IkeBypass);
        }
        for (index, entry) in self.entries_for(direction) {
            if !entry.matches(packet) {
                continue;
            }
            let rule = Rule::Entry { index, entry };
            return match &entry.action {
                Action::Bypass => Decision::Bypass(rule),
                Action::Discard => Decision::Discard(rule),
                Action::Protect(template) => Decision::Protect {
                    index,
                    entry,
                    template,
                },
            };
        }
        Decision::Discard(Rule::NoMatch)
    }
}

#[cfg(test)]
pub(crate) mod tests;
