//! The initial exchanges of one IKE SA (RFC 7296 §1.2): the IKE_SA_INIT and IKE_AUTH handlers of
//! both roles, up to the SA being established with its first child SA.

use rampart_policy::pad::Identity;
use rampart_wire::ike::iana::ExchangeType;
use rampart_wire::ike::{Message, NotifyPayload, Payload};

use crate::event::{DownReason, EndpointEvent, Event};
use crate::exchange::RequestKind;
use crate::sa_init::InitStep;
use crate::time::Instant;
use crate::timer::Timer;

use super::{IkeSa, State};

impl IkeSa {
    pub(super) fn on_sa_init_response(&mut self, now: Instant, msg: &Message, bytes: &[u8]) {
        let State::InitiatorInit { init, child } =
            core::mem::replace(&mut self.state, State::Closed)
        else {
            return;
        };
        let path = self.path();
        match init.handle_response(msg, bytes, path, &self.shared.rng) {
            InitStep::Ignore(init) => self.state = State::InitiatorInit { init, child },
            InitStep::Retry(init) => {
                let request = init.request.clone();
                self.state = State::InitiatorInit { init, child };
                self.send_request(now, request, RequestKind::SaInit);
            }
            InitStep::Failed(f) => {
                self.exchanges.response_done();
                self.close(DownReason::Failed(f));
            }
            InitStep::Keyed(keyed) => {
                self.exchanges.response_done();
                self.timers.stop(Timer::Retransmit);
                self.spi_r = keyed.spi_r;
                let encap = keyed.nat.encapsulate();
                let conn = self
                    .connection
                    .clone()
                    .expect("an initiator has its connection from the start");
                let payloads = crate::ike_auth::request(&conn, &keyed, child.as_ref());
                self.keyed = Some(keyed);
                if encap {
                    self.float_if_nat();
                }
                self.state = State::InitiatorAuth { child };
                match payloads {
                    Ok(p) => self.send_encrypted_request(
                        now,
                        RequestKind::Auth,
                        ExchangeType::IKE_AUTH,
                        &p,
                    ),
                    Err(f) => self.close(DownReason::Failed(f)),
                }
            }
        }
    }

    pub(super) fn on_auth_response(&mut self, now: Instant, payloads: &[Payload]) {
        let State::InitiatorAuth { child } = core::mem::replace(&mut self.state, State::Closed)
        else {
            return;
        };
        let (Some(conn), Some(keyed)) = (self.connection.clone(), self.keyed.as_deref()) else {
            return;
        };
        match crate::ike_auth::complete(&conn, keyed, payloads, child) {
            Ok((peer, child)) => {
                self.establish(now, peer.clone());
                if crate::notify::has_initial_contact(payloads) {
                    self.events
                        .push_back(Event::InitialContact { peer_id: peer });
                }
                self.child_outcome(now, child);
            }
            Err(f) => {
                self.state = State::InitiatorAuth { child: None };
                if let Some(n) = crate::notify::after_failed_auth_response(&f) {
                    // §2.21.2: tell the responder in a separate INFORMATIONAL, sent once.
                    self.send_encrypted_request(
                        now,
                        RequestKind::Dpd,
                        ExchangeType::INFORMATIONAL,
                        &[Payload::Notify(n)],
                    );
                }
                self.close(DownReason::Failed(f));
            }
        }
    }

    /// IKE_AUTH done, either role.
    pub(super) fn establish(&mut self, now: Instant, peer: Identity) {
        self.state = State::Established;
        self.timers.stop(Timer::HalfOpen);
        let (connection, nat_detected) = (
            self.connection
                .as_ref()
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            self.nat().encapsulate(),
        );
        self.endpoint_events.push_back(EndpointEvent::Connection {
            name: connection.clone(),
        });
        self.events.push_back(Event::IkeSaUp {
            connection,
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            initiator: self.initiator,
            peer_id: peer.clone(),
            nat_detected,
        });
        self.peer_id = Some(peer);
        self.endpoint_events.push_back(EndpointEvent::Established);
        self.heard(now);
        self.arm_ike_lifetimes(now);
        self.arm_keepalive(now);
        // The SA_INIT messages were only needed for AUTH.
        if let Some(k) = self.keyed.as_mut() {
            k.init_request = Vec::new();
            k.init_response = Vec::new();
        }
    }

    pub(super) fn on_sa_init_request(&mut self, msg: &Message, bytes: &[u8]) {
        let config = self.shared.config.clone();
        let ours: Vec<_> = config
            .connections
            .iter()
            .filter(|c| c.accepts_remote(self.remote.ip()))
            .flat_map(|c| c.ike_proposals.iter().cloned())
            .collect();
        let certreq = crate::cert::certreq_for(&config, self.remote.ip());
        let force = config
            .connections
            .iter()
            .any(|c| c.force_encap && c.accepts_remote(self.remote.ip()));
        let offer = crate::sa_init::ResponderOffer {
            proposals: &ours,
            certreq: &certreq,
            force_encap: force,
        };
        let (spi_r, path, rng) = (self.spi_r, self.path(), &self.shared.rng);
        match crate::sa_init::respond(offer, msg, bytes, spi_r, path, rng) {
            Ok((keyed, response)) => {
                self.keyed = Some(Box::new(keyed));
                self.state = State::ResponderAuth;
                self.exchanges.responded(msg.message_id, response.clone());
                self.transmit(response);
            }
            Err(refusal) => {
                self.transmit(refusal.response);
                match refusal.failure {
                    Some(f) => self.close(DownReason::Failed(f)),
                    None => self.close_silently(),
                }
            }
        }
    }

    pub(super) fn on_auth_request(&mut self, now: Instant, msg: &Message, bytes: &[u8]) {
        let Some(payloads) = self.open(msg, bytes, now) else {
            return;
        };
        let Some(keyed) = self.keyed.as_deref() else {
            return;
        };
        let spis = self.shared.spis.clone();
        let outcome = crate::ike_auth::respond(
            &self.shared.config,
            self.remote.ip(),
            keyed,
            &payloads,
            || spis.child_spi().ok(),
        );
        match outcome {
            Ok(accepted) => {
                self.respond_encrypted(msg, &accepted.response);
                self.connection = Some(accepted.connection);
                let peer = accepted.peer.clone();
                self.establish(now, accepted.peer);
                if accepted.initial_contact {
                    self.events
                        .push_back(Event::InitialContact { peer_id: peer });
                }
                self.child_outcome(now, accepted.child);
            }
            Err(f) => {
                let ty = f
                    .notify()
                    .unwrap_or(rampart_wire::ike::iana::NotifyType::AUTHENTICATION_FAILED);
                self.respond_encrypted(msg, &[Payload::Notify(NotifyPayload::new(ty, Vec::new()))]);
                self.close(DownReason::Failed(f));
            }
        }
    }
}
