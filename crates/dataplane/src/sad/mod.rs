//! The security association database as the data plane reads it (RFC 4301 §4.4.2): inbound SAs
//! by SPI, outbound SAs by the request id their SPD entry carries, and the SA pairs of each
//! request id — generic over the stored SA types, so that it holds whatever the owner composes
//! (e.g. `Arc<InboundEspSa>` = state + transform) without knowing the transform.
//!
//! Path of a packet (DESIGN.md §2): inbound, an ESP/AH datagram's SPI is looked up with
//! [`SadSnapshot::inbound`]; outbound, a PROTECT [`crate::spd::Verdict`] carries a [`ReqId`] and
//! [`SadSnapshot::outbound`] gives the SA to send with (none yet: ACQUIRE).
//!
//! [`Sad`] is the control plane's editable copy. Edits are batched and [`Sad::commit`] publishes
//! them as a new immutable [`SadSnapshot`] through a [`SnapshotCell`]; workers read it through a
//! [`SadReader`] with one atomic load per batch and no lock (see [`crate::snapshot`]). A commit
//! copies the maps (their values are `Arc`s): O(SAs) per commit, fine for batched IKE events; a
//! persistent map would make it O(log n) if it ever matters.
//!
//! Make-before-break rekeying (RFC 7296 §2.8) keeps the request id: the new inbound SA is added
//! beside the old one (both receive until the old is deleted), and a new outbound SA for a request
//! id becomes the one used for sending while the old one stays listed, no longer used, until it is
//! deleted. If the newest outbound SA is deleted first, the next newest takes over.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;
use std::sync::Arc;

use rampart_policy::{IpsecProtocol, ReqId};
use thiserror::Error;

use crate::sa::Spi;
use crate::snapshot::{SnapshotCell, SnapshotReader};

/// A fast hasher for the SAD's `u32` keys (SPIs and request ids). Both are chosen by us (SPIs of
/// inbound SAs we allocate, request ids we assign), so a peer cannot pick keys that collide; a
/// packet with an unknown SPI costs one probe, like any other.
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }
    fn write_u64(&mut self, v: u64) {
        // Multiply-rotate (a Fibonacci-hashing step); the high bits end up well mixed.
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<KeyHasher>>;

/// Why a SAD edit was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SadError {
    /// SPIs 0–255 never name an SA (RFC 4303 §2.1).
    #[error("SPI {spi} is reserved")]
    ReservedSpi {
        /// The SPI.
        spi: Spi,
    },
    /// Another SA already answers to this lookup key.
    #[error("SPI {spi} is already in use")]
    SpiInUse {
        /// The SPI.
        spi: Spi,
    },
    /// A multicast key's protocol differs from the SA's.
    #[error("SPI {spi}: the multicast key names another protocol")]
    ProtocolMismatch {
        /// The SPI.
        spi: Spi,
    },
    /// No such SA.
    #[error("no SA with SPI {spi}")]
    NoSuchSa {
        /// The SPI.
        spi: Spi,
    },
}

/// The destination (and optionally source) that, with the SPI and protocol, names a multicast SA
/// (RFC 4301 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MulticastKey {
    /// The SPI.
    pub spi: Spi,
    /// ESP or AH.
    pub protocol: IpsecProtocol,
    /// The group (destination) address.
    pub dst: IpAddr,
    /// The sender, for source-specific SAs.
    pub src: Option<IpAddr>,
}

/// An inbound SA as stored.
#[derive(Debug)]
pub struct InboundEntry<In> {
    /// Its SPI.
    pub spi: Spi,
    /// ESP or AH: one SPI space serves both, so a packet of the other protocol does not match.
    pub protocol: IpsecProtocol,
    /// The request id of its SPD entry.
    pub reqid: ReqId,
    /// The SA.
    pub sa: Arc<In>,
}

impl<In> Clone for InboundEntry<In> {
    fn clone(&self) -> Self {
        Self {
            sa: Arc::clone(&self.sa),
            ..*self
        }
    }
}

/// An outbound SA as stored.
#[derive(Debug)]
pub struct OutboundEntry<Out> {
    /// Its SPI (chosen by the peer).
    pub spi: Spi,
    /// The SA.
    pub sa: Arc<Out>,
}

impl<Out> Clone for OutboundEntry<Out> {
    fn clone(&self) -> Self {
        Self {
            spi: self.spi,
            sa: Arc::clone(&self.sa),
        }
    }
}

/// The outbound SAs of one request id, newest last; the newest is the one used for sending.
#[derive(Debug)]
pub struct OutboundSet<Out> {
    sas: Vec<OutboundEntry<Out>>,
}

impl<Out> Clone for OutboundSet<Out> {
    fn clone(&self) -> Self {
        Self {
            sas: self.sas.clone(),
        }
    }
}

impl<Out> OutboundSet<Out> {
    /// The SA used for sending: the most recently installed.
    pub fn current(&self) -> Option<&OutboundEntry<Out>> {
        self.sas.last()
    }

    /// Every SA of the request id, oldest first (older ones await deletion after a rekey).
    pub fn all(&self) -> &[OutboundEntry<Out>] {
        &self.sas
    }
}

/// The two SAs of one child SA (RFC 4301 §4.1: SAs come in pairs), by SPI; a side is `None` while
/// it is not installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SaPair {
    /// Our inbound SA's SPI.
    pub inbound: Option<Spi>,
    /// The outbound SA's SPI.
    pub outbound: Option<Spi>,
}

/// One published, immutable SAD.
#[derive(Debug)]
pub struct SadSnapshot<In, Out> {
    inbound: FastMap<Spi, InboundEntry<In>>,
    multicast: HashMap<MulticastKey, InboundEntry<In>>,
    outbound: FastMap<ReqId, OutboundSet<Out>>,
    pairs: FastMap<ReqId, Vec<SaPair>>,
}

impl<In, Out> Clone for SadSnapshot<In, Out> {
    fn clone(&self) -> Self {
        Self {
            inbound: self.inbound.clone(),
            multicast: self.multicast.clone(),
            outbound: self.outbound.clone(),
            pairs: self.pairs.clone(),
        }
    }
}

impl<In, Out> Default for SadSnapshot<In, Out> {
    fn default() -> Self {
        Self {
            inbound: FastMap::default(),
            multicast: HashMap::new(),
            outbound: FastMap::default(),
            pairs: FastMap::default(),
        }
    }
}

impl<In, Out> SadSnapshot<In, Out> {
    /// The SA for an arriving ESP/AH packet (RFC 4301 §4.1, the receiver's three steps): a
    /// multicast SA on SPI, protocol, destination and source, then on SPI, protocol and
    /// destination, then the unicast SA on the SPI alone — one SPI space for ESP and AH, so the
    /// found SA must be of the packet's protocol. The multicast steps are skipped while there are
    /// no multicast SAs.
    #[inline]
    pub fn inbound(
        &self,
        spi: Spi,
        protocol: IpsecProtocol,
        dst: IpAddr,
        src: IpAddr,
    ) -> Option<&InboundEntry<In>> {
        if !self.multicast.is_empty() {
            let mut key = MulticastKey {
                spi,
                protocol,
                dst,
                src: Some(src),
            };
            if let Some(e) = self.multicast.get(&key) {
                return Some(e);
            }
            key.src = None;
            if let Some(e) = self.multicast.get(&key) {
                return Some(e);
            }
        }
        self.inbound_unicast(spi, protocol)
    }

    /// The unicast inbound SA with `spi`, if it is of `protocol`.
    #[inline]
    pub fn inbound_unicast(&self, spi: Spi, protocol: IpsecProtocol) -> Option<&InboundEntry<In>> {
        self.inbound.get(&spi).filter(|e| e.protocol == protocol)
    }

    /// The outbound SA to send with for a PROTECT entry's request id.
    #[inline]
    pub fn outbound(&self, reqid: ReqId) -> Option<&OutboundEntry<Out>> {
        self.outbound.get(&reqid).and_then(OutboundSet::current)
    }

    /// All outbound SAs of a request id.
    pub fn outbound_set(&self, reqid: ReqId) -> Option<&OutboundSet<Out>> {
        self.outbound.get(&reqid)
    }

    /// The SA pairs of a request id, oldest first.
    pub fn pairs(&self, reqid: ReqId) -> &[SaPair] {
        self.pairs.get(&reqid).map_or(&[], Vec::as_slice)
    }

    /// Number of inbound SAs (unicast and multicast).
    pub fn inbound_len(&self) -> usize {
        self.inbound.len() + self.multicast.len()
    }

    /// Number of outbound SAs.
    pub fn outbound_len(&self) -> usize {
        self.outbound.values().map(|s| s.sas.len()).sum()
    }
}

/// A worker's lock-free handle on the published SAD.
pub type SadReader<In, Out> = SnapshotReader<SadSnapshot<In, Out>>;

/// Where an inbound SA is found: by SPI alone (unicast) or as a multicast SA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InboundKey {
    /// A unicast SA: the SPI alone names it.
    Unicast(Spi),
    /// A multicast SA (RFC 4301 §4.1).
    Multicast(MulticastKey),
}

impl InboundKey {
    fn spi(&self) -> Spi {
        match self {
            Self::Unicast(spi) => *spi,
            Self::Multicast(k) => k.spi,
        }
    }
}

/// The control plane's editable SAD; [`Sad::commit`] publishes it to the workers.
#[derive(Debug)]
pub struct Sad<In, Out> {
    tables: SadSnapshot<In, Out>,
    cell: SnapshotCell<SadSnapshot<In, Out>>,
}

impl<In, Out> Default for Sad<In, Out> {
    fn default() -> Self {
        Self::new()
    }
}

impl<In, Out> Sad<In, Out> {
    /// An empty SAD, published empty.
    pub fn new() -> Self {
        Self {
            tables: SadSnapshot::default(),
            cell: SnapshotCell::new(SadSnapshot::default()),
        }
    }

    /// A reader for one worker.
    pub fn reader(&self) -> SadReader<In, Out> {
        self.cell.reader()
    }

    /// The edited (not yet published) tables.
    pub fn pending(&self) -> &SadSnapshot<In, Out> {
        &self.tables
    }

    /// Publishes the edits made so far; returns the new generation.
    pub fn commit(&mut self) -> u64 {
        self.cell.publish(Arc::new(self.tables.clone()))
    }

    /// Adds an inbound SA under `key` for `reqid`.
    pub fn install_inbound(
        &mut self,
        key: InboundKey,
        protocol: IpsecProtocol,
        reqid: ReqId,
        sa: Arc<In>,
    ) -> Result<(), SadError> {
        let spi = key.spi();
        if spi.is_reserved() {
            return Err(SadError::ReservedSpi { spi });
        }
        let entry = InboundEntry {
            spi,
            protocol,
            reqid,
            sa,
        };
        let slot = match key {
            InboundKey::Unicast(spi) => self.tables.inbound.entry(spi).or_insert(entry.clone()),
            InboundKey::Multicast(k) if k.protocol == protocol => {
                self.tables.multicast.entry(k).or_insert(entry.clone())
            }
            // A multicast key names the protocol too; it must agree.
            InboundKey::Multicast(_) => return Err(SadError::ProtocolMismatch { spi }),
        };
        if Arc::ptr_eq(&slot.sa, &entry.sa) {
            Ok(())
        } else {
            Err(SadError::SpiInUse { spi })
        }
    }

    /// Adds an outbound SA for `reqid`; it becomes the one used for sending, and the request id's
    /// earlier outbound SAs stay listed until removed.
    pub fn install_outbound(
        &mut self,
        reqid: ReqId,
        spi: Spi,
        sa: Arc<Out>,
    ) -> Result<(), SadError> {
        if spi.is_reserved() {
            return Err(SadError::ReservedSpi { spi });
        }
        let set = self
            .tables
            .outbound
            .entry(reqid)
            .or_insert_with(|| OutboundSet { sas: Vec::new() });
        if set.sas.iter().any(|e| e.spi == spi) {
            return Err(SadError::SpiInUse { spi });
        }
        set.sas.push(OutboundEntry { spi, sa });
        Ok(())
    }

    /// Installs both SAs of a child SA (unicast inbound) and records them as a pair of `reqid`.
    /// Nothing is installed if either side is refused.
    pub fn install_pair(
        &mut self,
        reqid: ReqId,
        protocol: IpsecProtocol,
        inbound: (Spi, Arc<In>),
        outbound: (Spi, Arc<Out>),
    ) -> Result<(), SadError> {
        let (in_spi, out_spi) = (inbound.0, outbound.0);
        if out_spi.is_reserved() {
            return Err(SadError::ReservedSpi { spi: out_spi });
        }
        if self.outbound_set_has(reqid, out_spi) {
            return Err(SadError::SpiInUse { spi: out_spi });
        }
        self.install_inbound(InboundKey::Unicast(in_spi), protocol, reqid, inbound.1)?;
        self.install_outbound(reqid, out_spi, outbound.1)?;
        self.tables.pairs.entry(reqid).or_default().push(SaPair {
            inbound: Some(in_spi),
            outbound: Some(out_spi),
        });
        Ok(())
    }

    fn outbound_set_has(&self, reqid: ReqId, spi: Spi) -> bool {
        self.tables
            .outbound
            .get(&reqid)
            .is_some_and(|s| s.sas.iter().any(|e| e.spi == spi))
    }

    /// Removes an inbound SA; returns it.
    pub fn remove_inbound(&mut self, key: InboundKey) -> Result<InboundEntry<In>, SadError> {
        let removed = match key {
            InboundKey::Unicast(spi) => self.tables.inbound.remove(&spi),
            InboundKey::Multicast(k) => self.tables.multicast.remove(&k),
        };
        let e = removed.ok_or(SadError::NoSuchSa { spi: key.spi() })?;
        self.forget_side(e.reqid, |p| &mut p.inbound, e.spi);
        Ok(e)
    }

    /// Removes one outbound SA of `reqid`; if it was the one used for sending, the next newest
    /// takes over. Returns it.
    pub fn remove_outbound(
        &mut self,
        reqid: ReqId,
        spi: Spi,
    ) -> Result<OutboundEntry<Out>, SadError> {
        let set = self
            .tables
            .outbound
            .get_mut(&reqid)
            .ok_or(SadError::NoSuchSa { spi })?;
        let at = set
            .sas
            .iter()
            .position(|e| e.spi == spi)
            .ok_or(SadError::NoSuchSa { spi })?;
        let e = set.sas.remove(at);
        if set.sas.is_empty() {
            self.tables.outbound.remove(&reqid);
        }
        self.forget_side(reqid, |p| &mut p.outbound, spi);
        Ok(e)
    }

    /// Removes both SAs of the pair of `reqid` whose inbound SA has `inbound_spi`.
    pub fn remove_pair(&mut self, reqid: ReqId, inbound_spi: Spi) -> Result<SaPair, SadError> {
        let pair = self
            .pairs_of(reqid)
            .iter()
            .find(|p| p.inbound == Some(inbound_spi))
            .copied()
            .ok_or(SadError::NoSuchSa { spi: inbound_spi })?;
        if let Some(spi) = pair.inbound {
            self.remove_inbound(InboundKey::Unicast(spi))?;
        }
        if let Some(spi) = pair.outbound {
            // The pair was recorded with its outbound SA; a separate removal may have come first.
            let _ = self.remove_outbound(reqid, spi);
        }
        Ok(pair)
    }

    /// Removes every SA and pair of `reqid` (its SPD entry went away, or the IKE SA died);
    /// returns how many SAs were removed.
    pub fn remove_reqid(&mut self, reqid: ReqId) -> usize {
        let before = self.tables.inbound_len() + self.tables.outbound_len();
        self.tables.inbound.retain(|_, e| e.reqid != reqid);
        self.tables.multicast.retain(|_, e| e.reqid != reqid);
        self.tables.outbound.remove(&reqid);
        self.tables.pairs.remove(&reqid);
        before - (self.tables.inbound_len() + self.tables.outbound_len())
    }

    fn pairs_of(&self, reqid: ReqId) -> &[SaPair] {
        self.tables.pairs(reqid)
    }

    /// Clears one side of the pair holding `spi`; drops pairs with no side left.
    fn forget_side(&mut self, reqid: ReqId, side: fn(&mut SaPair) -> &mut Option<Spi>, spi: Spi) {
        let Some(pairs) = self.tables.pairs.get_mut(&reqid) else {
            return;
        };
        for p in pairs.iter_mut() {
            let s = side(p);
            if *s == Some(spi) {
                *s = None;
            }
        }
        pairs.retain(|p| p.inbound.is_some() || p.outbound.is_some());
        if pairs.is_empty() {
            self.tables.pairs.remove(&reqid);
        }
    }
}

#[cfg(test)]
mod tests;
