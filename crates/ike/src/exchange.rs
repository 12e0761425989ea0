//! The exchange layer of one IKE SA (RFC 7296 §2.1, §2.2, §2.3): message IDs, a window of one
//! request in each direction, retransmission of our request with exponential back-off, and the
//! cache that answers a retransmitted peer request with the same response, unprocessed.
//!
//! The IKE SA asks this layer what an incoming message is ([`Exchanges::classify`]) before it
//! processes anything, and hands it every request it sends and response it makes.

use crate::config::Retransmission;
use crate::time::Instant;

/// What we are waiting for an answer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestKind {
    /// IKE_SA_INIT.
    SaInit,
    /// IKE_AUTH.
    Auth,
    /// INFORMATIONAL deleting the IKE SA.
    DeleteIke,
    /// INFORMATIONAL deleting the child SA with this inbound SPI.
    DeleteChild(u32),
    /// Empty INFORMATIONAL: liveness check.
    Dpd,
    /// CREATE_CHILD_SA for a new child SA (RFC 7296 §1.3.1).
    CreateChild,
    /// CREATE_CHILD_SA rekeying the child SA with this inbound SPI (§1.3.3).
    RekeyChild(u32),
    /// CREATE_CHILD_SA rekeying the IKE SA (§1.3.2).
    RekeyIke,
}

/// Our request in flight.
#[derive(Debug, Clone)]
struct Outstanding {
    message_id: u32,
    bytes: Vec<u8>,
    sent: u32,
    kind: RequestKind,
}

/// What an incoming message is, as far as message IDs go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Incoming {
    /// The peer's next request: process it.
    NewRequest,
    /// The peer retransmitted the request we last answered: send these bytes again (§2.1).
    Retransmitted(Vec<u8>),
    /// The response to our request in flight, of this kind.
    Response(RequestKind),
    /// Anything else: drop (old, duplicate or out of window).
    Drop,
}

/// What the retransmission timer says to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Retransmit {
    /// Send these bytes again; the next deadline is set.
    Resend(Vec<u8>, Instant),
    /// Every transmission went unanswered (§2.4): the peer is unreachable.
    GiveUp(RequestKind),
}

/// Message IDs, window and caches.
#[derive(Debug, Clone, Default)]
pub(crate) struct Exchanges {
    next_request_id: u32,
    outstanding: Option<Outstanding>,
    peer_next_id: u32,
    cached_response: Option<(u32, Vec<u8>)>,
}

impl Exchanges {
    /// Classifies a message by its Message ID and Response flag (§2.2: responses match our
    /// outstanding request's ID; requests must be the next ID, or the last one retransmitted).
    pub(crate) fn classify(&self, message_id: u32, is_response: bool) -> Incoming {
        if is_response {
            return match &self.outstanding {
                Some(o) if o.message_id == message_id => Incoming::Response(o.kind),
                _ => Incoming::Drop,
            };
        }
        if message_id == self.peer_next_id {
            return Incoming::NewRequest;
        }
        match &self.cached_response {
            Some((id, bytes)) if *id == message_id => Incoming::Retransmitted(bytes.clone()),
            _ => Incoming::Drop,
        }
    }

    /// Whether a new request may be sent now (window size 1, §2.3).
    pub(crate) fn can_send(&self) -> bool {
        self.outstanding.is_none()
    }

    /// The Message ID our next request will carry.
    pub(crate) fn next_request_id(&self) -> u32 {
        self.next_request_id
    }

    /// Records that `bytes` (carrying [`next_request_id`](Self::next_request_id)) went out at
    /// `now`; returns the retransmission deadline. Replaces an outstanding request with the same
    /// ID (an IKE_SA_INIT retried with a cookie or another KE group).
    pub(crate) fn sent_request(
        &mut self,
        now: Instant,
        bytes: Vec<u8>,
        kind: RequestKind,
        policy: &Retransmission,
    ) -> Instant {
        self.outstanding = Some(Outstanding {
            message_id: self.next_request_id,
            bytes,
            sent: 1,
            kind,
        });
        now + policy.wait_after(1)
    }

    /// The response to the outstanding request arrived and was accepted: the window moves on.
    pub(crate) fn response_done(&mut self) {
        if self.outstanding.take().is_some() {
            self.next_request_id = self.next_request_id.wrapping_add(1);
        }
    }

    /// The retransmission timer fired.
    pub(crate) fn on_timer(&mut self, now: Instant, policy: &Retransmission) -> Option<Retransmit> {
        let o = self.outstanding.as_mut()?;
        if o.sent >= policy.tries {
            let kind = o.kind;
            self.outstanding = None;
            return Some(Retransmit::GiveUp(kind));
        }
        o.sent += 1;
        Some(Retransmit::Resend(
            o.bytes.clone(),
            now + policy.wait_after(o.sent),
        ))
    }

    /// We answered the peer's request `message_id` with `bytes`; cache them for retransmissions.
    pub(crate) fn responded(&mut self, message_id: u32, bytes: Vec<u8>) {
        self.peer_next_id = message_id.wrapping_add(1);
        self.cached_response = Some((message_id, bytes));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;

    #[test]
    fn retransmits_with_back_off_then_gives_up() {
        let policy = Retransmission {
            initial: Duration::from_secs(1),
            tries: 3,
        };
        let mut x = Exchanges::default();
        let t0 = Instant::ZERO;
        assert_eq!(
            x.sent_request(t0, vec![1], RequestKind::Dpd, &policy),
            t0 + Duration::from_secs(1)
        );
        assert!(!x.can_send());
        let at = t0 + Duration::from_secs(1);
        assert_eq!(
            x.on_timer(at, &policy),
            Some(Retransmit::Resend(vec![1], at + Duration::from_secs(2)))
        );
        let at = at + Duration::from_secs(2);
        assert_eq!(
            x.on_timer(at, &policy),
            Some(Retransmit::Resend(vec![1], at + Duration::from_secs(4)))
        );
        assert_eq!(
            x.on_timer(at, &policy),
            Some(Retransmit::GiveUp(RequestKind::Dpd))
        );
        assert!(x.can_send());
        assert_eq!(x.on_timer(at, &policy), None);
    }

    #[test]
    fn responses_match_and_requests_are_cached() {
        let policy = Retransmission::default();
        let mut x = Exchanges::default();
        x.sent_request(Instant::ZERO, vec![1], RequestKind::SaInit, &policy);
        assert_eq!(x.classify(1, true), Incoming::Drop);
        assert_eq!(x.classify(0, true), Incoming::Response(RequestKind::SaInit));
        x.response_done();
        assert_eq!(x.next_request_id(), 1);
        assert_eq!(x.classify(0, true), Incoming::Drop);
        // Peer requests: 0 is new; after answering, 0 again is a retransmission, 1 is new.
        assert_eq!(x.classify(0, false), Incoming::NewRequest);
        x.responded(0, vec![9]);
        assert_eq!(x.classify(0, false), Incoming::Retransmitted(vec![9]));
        assert_eq!(x.classify(1, false), Incoming::NewRequest);
        assert_eq!(x.classify(2, false), Incoming::Drop);
    }
}
