//! Why a negotiation failed: the words shown to the operator, kept apart from the notify that
//! goes on the wire (STYLE.md guideline 7).
//!
//! A [`Failure`] is built where the problem is found, with everything needed to act on it (what
//! the peer offered, what we accept, which identity), never secrets. [`Failure::notify`] is the
//! RFC 7296 §3.10.1 error notify we answer with, if any.

use rampart_wire::ike::iana::{ExchangeType, NotifyType};

/// A negotiation failure, printed as an actionable diagnosis.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// No proposal of the peer's is acceptable (we are the responder).
    NoProposalChosen {
        /// "ike" or "esp".
        what: &'static str,
        /// The peer's proposals in keyword form.
        peer_offered: String,
        /// Ours in keyword form.
        we_accept: String,
    },
    /// The peer's traffic selectors have nothing in common with our policy.
    TsUnacceptable {
        /// The peer's TSi and TSr as written.
        peer_asked: String,
        /// Our allowed TSi and TSr.
        policy_allows: String,
    },
    /// The peer's AUTH did not verify.
    AuthenticationFailed {
        /// The identity the peer claimed.
        peer_id: String,
        /// What did not match: "PSK mismatch", "signature ...".
        detail: String,
    },
    /// No connection or PAD entry accepts the peer's identity.
    UnknownPeer {
        /// The identity the peer claimed.
        peer_id: String,
    },
    /// The peer answered our request with an error notify.
    PeerRefused {
        /// The exchange.
        exchange: ExchangeType,
        /// The notify.
        notify: NotifyType,
        /// What to check, in words.
        hint: &'static str,
    },
    /// The peer's message broke the protocol (we answer INVALID_SYNTAX where the RFC says).
    Malformed {
        /// What was wrong.
        what: String,
    },
    /// Our own configuration cannot be used (e.g. an unsupported auth method).
    Config {
        /// What is wrong.
        what: String,
    },
}

impl Failure {
    /// The error notify we send for this failure (RFC 7296 §3.10.1), if any.
    pub fn notify(&self) -> Option<NotifyType> {
        match self {
            Self::NoProposalChosen { .. } => Some(NotifyType::NO_PROPOSAL_CHOSEN),
            Self::TsUnacceptable { .. } => Some(NotifyType::TS_UNACCEPTABLE),
            Self::AuthenticationFailed { .. } | Self::UnknownPeer { .. } => {
                Some(NotifyType::AUTHENTICATION_FAILED)
            }
            Self::Malformed { .. } => Some(NotifyType::INVALID_SYNTAX),
            Self::PeerRefused { .. } | Self::Config { .. } => None,
        }
    }

    /// The failure for an error notify the peer sent in answer to our `exchange` request.
    pub(crate) fn refused(exchange: ExchangeType, notify: NotifyType) -> Self {
        let hint = match notify {
            NotifyType::NO_PROPOSAL_CHOSEN => "compare the proposals configured on both sides",
            NotifyType::AUTHENTICATION_FAILED => {
                "check the identities and credentials (pre-shared key or certificates) on both sides"
            }
            NotifyType::TS_UNACCEPTABLE => "compare the traffic selectors on both sides",
            NotifyType::INVALID_SYNTAX => "the peer could not parse our message",
            _ => "see the peer's log",
        };
        Self::PeerRefused {
            exchange,
            notify,
            hint,
        }
    }
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoProposalChosen {
                what,
                peer_offered,
                we_accept,
            } => {
                let scope = if *what == "esp" { " for child SA" } else { "" };
                write!(
                    f,
                    "no proposal chosen{scope}: peer offered {peer_offered}, we accept {we_accept}"
                )
            }
            Self::TsUnacceptable {
                peer_asked,
                policy_allows,
            } => write!(
                f,
                "traffic selectors unacceptable: peer asked {peer_asked}, policy allows {policy_allows}"
            ),
            Self::AuthenticationFailed { peer_id, detail } => {
                write!(f, "authentication failed: {detail} for {peer_id}")
            }
            Self::UnknownPeer { peer_id } => write!(
                f,
                "authentication failed: no connection or PAD entry for peer identity {peer_id}"
            ),
            Self::PeerRefused {
                exchange,
                notify,
                hint,
            } => write!(f, "peer refused our {exchange} with {notify}: {hint}"),
            Self::Malformed { what } => write!(f, "malformed message from peer: {what}"),
            Self::Config { what } => write!(f, "configuration error: {what}"),
        }
    }
}
