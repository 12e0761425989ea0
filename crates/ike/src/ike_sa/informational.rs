//! INFORMATIONAL exchanges of one IKE SA (RFC 7296 §1.4): deletes of child and IKE SAs,
//! liveness checks (an empty request), and the notifies that arrive in them.

use rampart_wire::ike::iana::ProtocolId;
use rampart_wire::ike::{DeletePayload, Message, Payload};

use crate::event::DownReason;
use crate::time::Instant;

use super::{ChildState, IkeSa, rekey};

impl IkeSa {
    /// INFORMATIONAL requests (RFC 7296 §1.4): deletes and liveness checks.
    pub(super) fn on_informational(&mut self, now: Instant, msg: &Message, bytes: &[u8]) {
        let Some(payloads) = self.open(msg, bytes, now) else {
            return;
        };
        if let Some(f) = crate::notify::auth_refused_after_the_fact(&payloads) {
            self.respond_encrypted(msg, &[]);
            self.close(DownReason::Failed(f));
            return;
        }
        let deletes: Vec<&DeletePayload> = payloads
            .iter()
            .filter_map(|p| match p {
                Payload::Delete(d) => Some(d),
                _ => None,
            })
            .collect();
        if deletes.iter().any(|d| d.protocol == ProtocolId::IKE) {
            // §1.4.1: answer with an empty INFORMATIONAL; the IKE SA and its children are gone.
            // §2.8.2: if we answered the peer's rekey while ours was in flight, the peer did not
            // see the collision and deletes the old SA: the SA we answered for is the successor.
            self.respond_encrypted(msg, &[]);
            if let Some(parked) = self.parked_ike.take() {
                self.pending = None;
                self.hand_off(now, *parked, rekey::Role::Successor);
            }
            self.close(DownReason::DeletedByPeer);
            return;
        }
        // §1.4.1: the peer names its inbound SPIs (our outbound); we answer with ours.
        let mut ours = Vec::new();
        let mut gone = Vec::new();
        for spi in deletes
            .iter()
            .filter(|d| d.protocol == ProtocolId::ESP)
            .filter_map(|d| d.child_spis())
            .flatten()
        {
            let Some(c) = self.children.iter().find(|c| c.outbound_spi == spi) else {
                continue;
            };
            let (inbound, state) = (c.inbound_spi, c.state);
            // §2.25.1: closing one we are closing too: no Delete payload in the answer.
            if state != ChildState::Deleting {
                ours.push(inbound);
            }
            if state == ChildState::Rekeying {
                // §2.25.1: closing one we are rekeying: answer as usual. The peer's rekey of it
                // that we answered (if any) is now the survivor (§2.8.1).
                self.release_parked(now, inbound);
            }
            gone.push(inbound);
        }
        let response: Vec<Payload> = if ours.is_empty() {
            Vec::new()
        } else {
            vec![Payload::Delete(DeletePayload::child(
                ProtocolId::ESP,
                &ours,
            ))]
        };
        self.respond_encrypted(msg, &response);
        for spi in gone {
            self.remove_child(spi);
        }
    }
}
