//! The peer authorization database (RFC 4301 §4.4.3): which peers may talk IKE with us, how each
//! must authenticate, and which traffic selectors each may negotiate child SAs for.
//!
//! The IKE engine calls [`Pad::lookup`] when IDi/IDr arrives, to learn how the peer must
//! authenticate, and [`Pad::authorize`] before creating a child SA, to narrow the traffic selectors
//! the peer asked for to those its PAD entry allows — the anti-spoofing rule of RFC 4301
//! §4.4.3.4: an authenticated peer may only claim addresses it is authorized for.

pub mod dn;
pub mod identity;

pub use dn::DistinguishedName;
pub use identity::{IdPattern, Identity};

use crate::error::PolicyError;
use crate::traffic_selector::{TrafficSelector, narrow};

/// How a peer must authenticate (RFC 4301 §4.4.3.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PeerAuth {
    /// A pre-shared key, named by a reference into the secrets store (never the key itself).
    Psk {
        /// The secret's name.
        secret: String,
    },
    /// A certificate chaining to the named trust anchor.
    Certificate {
        /// The trust anchor's name.
        trust_anchor: String,
    },
    /// Any method the IKE configuration accepts.
    Any,
}

/// One PAD entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PadEntry {
    /// A unique name, used in reports.
    pub name: String,
    /// Which identities the entry is for.
    pub id: IdPattern,
    /// How those peers authenticate.
    pub auth: PeerAuth,
    /// The peer-side traffic selectors (its addresses, protocols, ports) the peer may negotiate
    /// child SAs for (RFC 4301 §4.4.3.4). Empty: no child SAs.
    pub allowed_ts: Vec<TrafficSelector>,
}

/// Why [`Pad::authorize`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PadError {
    /// No entry accepts the identity (RFC 4301 §4.4.3: the peer is unknown).
    #[error("no PAD entry matches identity {0}")]
    UnknownPeer(String),
    /// The entry allows none of the requested traffic (RFC 4301 §4.4.3.4).
    #[error("PAD entry {entry:?} allows none of the requested traffic selectors")]
    TrafficSelectorsNotAllowed {
        /// The matching entry.
        entry: String,
    },
}

/// A successful authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorized<'a> {
    /// The entry that matched.
    pub entry: &'a PadEntry,
    /// The requested traffic selectors narrowed to what the entry allows.
    pub ts: Vec<TrafficSelector>,
}

/// The PAD: entries searched in order, first match wins (RFC 4301 §4.4.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pad {
    entries: Vec<PadEntry>,
}

impl Pad {
    /// An empty PAD: no peer is known.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an entry; names must be unique.
    pub fn push(&mut self, entry: PadEntry) -> Result<(), PolicyError> {
        if self.entries.iter().any(|e| e.name == entry.name) {
            return Err(PolicyError::DuplicateName { name: entry.name });
        }
        self.entries.push(entry);
        Ok(())
    }

    /// The entries in search order.
    pub fn entries(&self) -> &[PadEntry] {
        &self.entries
    }

    /// The first entry whose pattern accepts `id`.
    pub fn lookup(&self, id: &Identity) -> Option<&PadEntry> {
        self.entries.iter().find(|e| e.id.matches(id))
    }

    /// The traffic selectors the peer `id` may have out of `requested` (its side of the child
    /// SA: TSi when it initiates, TSr when we do), narrowed (RFC 7296 §2.9) to its entry's
    /// allowance (RFC 4301 §4.4.3.4).
    pub fn authorize(
        &self,
        id: &Identity,
        requested: &[TrafficSelector],
    ) -> Result<Authorized<'_>, PadError> {
        let entry = self
            .lookup(id)
            .ok_or_else(|| PadError::UnknownPeer(id.to_string()))?;
        let ts = narrow(requested, &entry.allowed_ts);
        if ts.is_empty() {
            return Err(PadError::TrafficSelectorsNotAllowed {
                entry: entry.name.clone(),
            });
        }
        Ok(Authorized { entry, ts })
    }
}

#[cfg(test)]
mod tests;
