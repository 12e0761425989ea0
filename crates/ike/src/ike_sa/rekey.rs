//! Rekeying the IKE SA (RFC 7296 §1.3.2, §2.18), both roles, with simultaneous rekeys
//! (§2.8.2) and the collisions of §2.25.2.
//!
//! ```text
//! Initiator                         Responder
//! -------------------------------------------------------------------
//! HDR, SK {SA, Ni, KEi}  -->
//!                              <--  HDR, SK {SA, Nr, KEr}
//! ```
//!
//! The SA payload's proposals carry the sender's new 8-octet IKE SPI. Both sides derive
//!
//! ```text
//! SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)
//! ```
//!
//! and the new SK_* from it with the new SPIs (§2.18). The new IKE SA is a new [`IkeSa`] that
//! takes every child SA and queued request of the old one and is handed to the caller
//! ([`IkeSa::poll_new_ike_sa`]); the initiator of the rekey is its original initiator and
//! deletes the old SA. The old one lingers only to finish that deletion.
//!
//! Collisions: while our rekey is in flight we answer the peer's as usual but park the SA it
//! makes; when our answer comes, the new IKE SA containing the lowest of the four nonces is
//! redundant and deleted by its creator, and the other inherits the children (§2.8.2). If the
//! peer finished first it answers ours with TEMPORARY_FAILURE or deletes the old SA; either
//! way the parked SA is the successor. A rekey request is answered with TEMPORARY_FAILURE when
//! another of our requests is in flight (a child SA half made must not be stranded on the old
//! SA) or when we are closing the SA.

use rampart_crypto::KeyExchange;
use rampart_crypto::proposal::ProposalSpec;
use rampart_wire::ike::iana::{ExchangeType, NotifyType, ProtocolId};
use rampart_wire::ike::{Payload, SaPayload};

use super::create_child::{asked_group, error_notify, find_ke, find_nonce, lowest_nonce_in};
use super::{IkeSa, Pending, State, Task};
use crate::event::{EndpointEvent, Event};
use crate::exchange::RequestKind;
use crate::failure::Failure;
use crate::keys::{IkeAlgs, derive_rekeyed_ike_keys};
use crate::lifetime::retry_delay;
use crate::sa_init::Keyed;
use crate::sk::SkCrypto;
use crate::time::Instant;
use crate::timer::Timer;

/// INVALID_KE_PAYLOAD retries before the initiator gives up.
const MAX_KE_RETRIES: u32 = 2;

/// Whether a CREATE_CHILD_SA request rekeys the IKE SA: an SA payload for protocol IKE (§1.3.2,
/// no traffic selectors).
pub(super) fn is_ike_rekey(payloads: &[Payload]) -> bool {
    payloads.iter().any(|p| match p {
        Payload::Sa(sa) => sa.proposals.iter().any(|p| p.protocol == ProtocolId::IKE),
        _ => false,
    }) && !payloads.iter().any(|p| matches!(p, Payload::TsI(_)))
}

/// Our IKE SA rekey in flight.
pub(crate) struct IkeRekeyInit {
    proposals: Vec<ProposalSpec>,
    /// Our SPI in the new IKE SA.
    spi: u64,
    nonce: Vec<u8>,
    ke: KeyExchange,
    retries: u32,
}

impl core::fmt::Debug for IkeRekeyInit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IkeRekeyInit")
            .field("spi", &format_args!("{:016x}", self.spi))
            .finish_non_exhaustive()
    }
}

impl IkeRekeyInit {
    fn payloads(&self) -> Vec<Payload> {
        vec![
            Payload::Sa(crate::proposal::sa_payload(
                &self.proposals,
                &self.spi.to_be_bytes(),
            )),
            Payload::Nonce(rampart_wire::ike::NoncePayload {
                data: self.nonce.clone(),
            }),
            Payload::Ke(rampart_wire::ike::KePayload {
                group: self.ke.id(),
                data: self.ke.public_value().to_vec(),
            }),
        ]
    }
}

/// A new IKE SA's keys and SPIs, before it becomes an [`IkeSa`].
#[derive(Debug)]
pub(crate) struct ParkedIke {
    keyed: Keyed,
    spi_i: u64,
    spi_r: u64,
    /// Whether we initiated the rekey that made it.
    initiator: bool,
    /// Ni and Nr of that rekey.
    nonces: [Vec<u8>; 2],
}

/// What a new IKE SA is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// It takes over the children; the old SA winds down.
    Successor,
    /// Redundant (§2.8.2) and ours: it deletes itself.
    DeleteIt,
    /// Redundant and the peer's: it waits for the peer's Delete.
    AwaitDelete,
}

impl IkeSa {
    /// Sends our rekey of the IKE SA.
    pub(super) fn start_rekey_ike(&mut self, now: Instant) {
        if self.parked_ike.is_some() || self.quiet {
            return;
        }
        let Some(conn) = self.connection.clone() else {
            return;
        };
        let group = conn
            .ike_proposals
            .first()
            .and_then(|p| p.key_exchange.first().copied());
        let rng = self.shared.rng.clone();
        let init = (|| {
            let group = group.ok_or("no key exchange method")?;
            let ke = KeyExchange::new(group, rng.as_ref()).map_err(|_| "key exchange failed")?;
            let spi = self.shared.spis.ike_spi().map_err(|_| "no IKE SPI")?;
            let nonce = self.exchange_nonce().map_err(|_| "no nonce")?;
            Ok::<_, &str>(IkeRekeyInit {
                proposals: conn.ike_proposals.clone(),
                spi,
                nonce,
                ke,
                retries: 0,
            })
        })();
        // Without a key exchange there is nothing to rekey with; the hard lifetime ends the SA.
        if let Ok(init) = init {
            self.send_rekey_ike(now, init);
        }
    }

    fn send_rekey_ike(&mut self, now: Instant, init: IkeRekeyInit) {
        let payloads = init.payloads();
        self.pending = Some(Pending::Ike(Box::new(init)));
        self.send_encrypted_request(
            now,
            RequestKind::RekeyIke,
            ExchangeType::CREATE_CHILD_SA,
            &payloads,
        );
    }

    /// The answer to our rekey of the IKE SA.
    pub(super) fn on_rekey_ike_response(&mut self, now: Instant, payloads: &[Payload]) {
        let Some(Pending::Ike(init)) = self.pending.take() else {
            return;
        };
        let mut init = *init;
        if let Some(n) = error_notify(payloads) {
            if n.notify_type == NotifyType::INVALID_KE_PAYLOAD && init.retries < MAX_KE_RETRIES {
                let offered = asked_group(n)
                    .filter(|g| init.proposals.iter().any(|p| p.key_exchange.contains(g)));
                if let Some(ke) =
                    offered.and_then(|g| KeyExchange::new(g, self.shared.rng.as_ref()).ok())
                {
                    init.ke = ke;
                    init.retries += 1;
                    return self.send_rekey_ike(now, init);
                }
            }
            if let Some(parked) = self.parked_ike.take() {
                // §2.8.2: the peer finished its rekey first; the SA we answered for survives.
                return self.hand_off(now, *parked, Role::Successor);
            }
            if n.notify_type == NotifyType::TEMPORARY_FAILURE {
                let at = now + retry_delay(self.shared.rng.as_ref());
                self.timers.set(Timer::IkeSoft, at);
            }
            // Otherwise the hard lifetime ends the SA.
            return;
        }
        let ours = match self.complete_rekey_ike(init, payloads) {
            Ok(p) => p,
            Err(_) => {
                if let Some(parked) = self.parked_ike.take() {
                    self.hand_off(now, *parked, Role::Successor);
                }
                return;
            }
        };
        match self.parked_ike.take() {
            Some(theirs)
                if lowest_nonce_in(
                    [&ours.nonces[0], &ours.nonces[1]],
                    [&theirs.nonces[0], &theirs.nonces[1]],
                ) =>
            {
                // Ours holds the lowest nonce: redundant, deleted by us; the peer's survives
                // and the peer deletes the old SA.
                self.hand_off(now, *theirs, Role::Successor);
                self.hand_off(now, ours, Role::DeleteIt);
            }
            theirs => {
                self.hand_off(now, ours, Role::Successor);
                if let Some(theirs) = theirs {
                    self.hand_off(now, *theirs, Role::AwaitDelete);
                }
                // We initiated the surviving rekey: we delete the old SA (§2.18).
                self.start(now, Task::DeleteIke);
            }
        }
    }

    /// Checks the responder's choice and derives the new SA's keys (§2.18).
    fn complete_rekey_ike(
        &mut self,
        init: IkeRekeyInit,
        payloads: &[Payload],
    ) -> Result<ParkedIke, Failure> {
        let bad = |what: &str| Failure::Malformed { what: what.into() };
        let sa = payloads
            .iter()
            .find_map(|p| match p {
                Payload::Sa(s) => Some(s),
                _ => None,
            })
            .ok_or_else(|| bad("IKE rekey answer without SA"))?;
        let [proposal] = sa.proposals.as_slice() else {
            return Err(bad("IKE rekey answer must choose exactly one proposal"));
        };
        let spi_r = <[u8; 8]>::try_from(proposal.spi.as_slice())
            .map(u64::from_be_bytes)
            .map_err(|_| bad("IKE SPI must be 8 octets"))?;
        let chosen = crate::proposal::offered(&SaPayload {
            proposals: vec![proposal.clone()],
        })
        .pop()
        .map(|(_, s)| s)
        .ok_or_else(|| bad("empty SA"))?;
        let acceptable = init
            .proposals
            .iter()
            .any(|o| o.select(&chosen).as_ref() == Some(&chosen));
        let algs = IkeAlgs::from_chosen(&chosen)
            .filter(|a| acceptable && a.ke == init.ke.id() && spi_r != 0)
            .ok_or_else(|| bad("responder chose a proposal we did not offer"))?;
        let nr = find_nonce(payloads).ok_or_else(|| bad("IKE rekey answer without Nr"))?;
        let ke = find_ke(payloads)
            .filter(|k| k.group == init.ke.id())
            .ok_or_else(|| bad("IKE rekey answer without KEr of our group"))?;
        let g_ir = init
            .ke
            .complete(&ke.data)
            .map_err(|e| bad(&format!("responder's KE: {e}")))?;
        self.rekeyed_keys(
            algs,
            &g_ir,
            [init.nonce, nr.to_vec()],
            (init.spi, spi_r),
            true,
        )
    }

    /// The new SA's keys from the old SK_d (§2.18).
    fn rekeyed_keys(
        &self,
        algs: IkeAlgs,
        g_ir: &rampart_crypto::SecretBytes,
        nonces: [Vec<u8>; 2],
        (spi_i, spi_r): (u64, u64),
        initiator: bool,
    ) -> Result<ParkedIke, Failure> {
        let old = self.keyed.as_deref().ok_or_else(|| Failure::Config {
            what: "no keys".into(),
        })?;
        let oops = |e: rampart_crypto::CryptoError| Failure::Config {
            what: e.to_string(),
        };
        let [ni, nr] = nonces;
        let keys = derive_rekeyed_ike_keys(
            old.algs.prf,
            &old.keys.sk_d,
            &algs,
            g_ir,
            &ni,
            &nr,
            spi_i,
            spi_r,
        )
        .map_err(oops)?;
        let sk = SkCrypto::new(&algs, &keys, initiator, self.shared.rng.clone()).map_err(oops)?;
        Ok(ParkedIke {
            keyed: Keyed {
                algs,
                keys,
                sk,
                ni: ni.clone(),
                nr: nr.clone(),
                init_request: Vec::new(),
                init_response: Vec::new(),
                spi_r,
                nat: old.nat,
                peer_hashes: old.peer_hashes.clone(),
                // INITIAL_CONTACT belongs to IKE_AUTH only (§2.4); a rekey never sends it.
                initial_contact: false,
                rng: self.shared.rng.clone(),
            },
            spi_i,
            spi_r,
            initiator,
            nonces: [ni, nr],
        })
    }

    /// The peer's rekey of the IKE SA (§1.3.2), answered unless §2.25.2 says to wait.
    pub(super) fn on_rekey_ike_request(
        &mut self,
        now: Instant,
        msg: &rampart_wire::ike::Message,
        payloads: &[Payload],
    ) {
        let ours_in_flight = matches!(self.pending, Some(Pending::Ike(_)));
        let busy = !self.exchanges.can_send() && !ours_in_flight;
        if busy || self.parked_ike.is_some() {
            return self.refuse(msg, NotifyType::TEMPORARY_FAILURE, Vec::new());
        }
        match self.answer_rekey_ike(payloads) {
            Ok((parked, answer)) => {
                self.respond_encrypted(msg, &answer);
                if ours_in_flight {
                    self.parked_ike = Some(Box::new(parked));
                } else {
                    self.hand_off(now, parked, Role::Successor);
                }
            }
            Err((ty, data)) => self.refuse(msg, ty, data),
        }
    }

    /// Chooses, completes the key exchange and derives the new SA's keys (responder).
    fn answer_rekey_ike(
        &mut self,
        payloads: &[Payload],
    ) -> Result<(ParkedIke, Vec<Payload>), (NotifyType, Vec<u8>)> {
        let syntax = (NotifyType::INVALID_SYNTAX, Vec::new());
        let conn = self.connection.clone().ok_or(syntax.clone())?;
        let sa = payloads
            .iter()
            .find_map(|p| match p {
                Payload::Sa(s) => Some(s),
                _ => None,
            })
            .ok_or(syntax.clone())?;
        let (ni, ke) = (find_nonce(payloads), find_ke(payloads));
        let (Some(ni), Some(ke)) = (ni, ke) else {
            return Err(syntax);
        };
        let usable = |c: &ProposalSpec| IkeAlgs::from_chosen(c).is_some();
        let (proposal, chosen) =
            crate::proposal::choose(&conn.ike_proposals, sa, Some(ke.group), usable)
                .ok_or((NotifyType::NO_PROPOSAL_CHOSEN, Vec::new()))?;
        let algs = IkeAlgs::from_chosen(&chosen).ok_or(syntax.clone())?;
        if algs.ke != ke.group {
            // §1.3: the group we want, so the peer can retry.
            return Err((
                NotifyType::INVALID_KE_PAYLOAD,
                algs.ke.0.to_be_bytes().to_vec(),
            ));
        }
        let spi_i = <[u8; 8]>::try_from(proposal.spi.as_slice())
            .map(u64::from_be_bytes)
            .ok()
            .filter(|&s| s != 0)
            .ok_or(syntax.clone())?;
        let failed = (NotifyType::NO_PROPOSAL_CHOSEN, Vec::new());
        let spi_r = self.shared.spis.ike_spi().map_err(|_| failed.clone())?;
        let ours =
            KeyExchange::new(algs.ke, self.shared.rng.as_ref()).map_err(|_| failed.clone())?;
        let nr = self.exchange_nonce().map_err(|_| failed.clone())?;
        let public = ours.public_value().to_vec();
        let g_ir = ours.complete(&ke.data).map_err(|_| syntax.clone())?;
        let parked = self
            .rekeyed_keys(
                algs,
                &g_ir,
                [ni.to_vec(), nr.clone()],
                (spi_i, spi_r),
                false,
            )
            .map_err(|_| failed)?;
        let mut answer = crate::proposal::proposal(&chosen, proposal.number, &spi_r.to_be_bytes());
        answer.protocol = ProtocolId::IKE;
        let payloads = vec![
            Payload::Sa(SaPayload {
                proposals: vec![answer],
            }),
            Payload::Nonce(rampart_wire::ike::NoncePayload { data: nr }),
            Payload::Ke(rampart_wire::ike::KePayload {
                group: algs.ke,
                data: public,
            }),
        ];
        Ok((parked, payloads))
    }

    /// Makes the new IKE SA and hands it to the caller. A successor takes the children, queued
    /// requests and child lifetimes; this SA then only winds down.
    pub(super) fn hand_off(&mut self, now: Instant, p: ParkedIke, role: Role) {
        let (spi_i, spi_r) = (p.spi_i, p.spi_r);
        let mut sa = Self::new(
            self.shared.clone(),
            p.initiator,
            spi_i,
            spi_r,
            self.path(),
            now,
        );
        sa.timers.clear();
        sa.connection = self.connection.clone();
        sa.state = State::Established;
        sa.keyed = Some(Box::new(p.keyed));
        sa.peer_id = self.peer_id.clone();
        sa.endpoint_events.push_back(EndpointEvent::Created {
            remote: self.remote.ip(),
        });
        if let Some(c) = &self.connection {
            sa.endpoint_events.push_back(EndpointEvent::Connection {
                name: c.name.clone(),
            });
        }
        match role {
            Role::Successor => {
                sa.children = core::mem::take(&mut self.children);
                sa.queued = core::mem::take(&mut self.queued);
                sa.forced_nonces = core::mem::take(&mut self.forced_nonces);
                let moved = self
                    .timers
                    .take(|t| matches!(t, Timer::ChildSoft(_) | Timer::ChildHard(_)));
                for (t, at) in moved {
                    sa.timers.set(t, at);
                }
                sa.heard(now);
                sa.arm_ike_lifetimes(now);
                sa.arm_keepalive(now);
                self.events.push_back(Event::IkeSaRekeyed {
                    old_spi_i: self.spi_i,
                    old_spi_r: self.spi_r,
                    new_spi_i: spi_i,
                    new_spi_r: spi_r,
                });
                self.wind_down(now);
                sa.drive(now);
            }
            Role::DeleteIt => {
                sa.quiet = true;
                sa.queued.push_back(Task::DeleteIke);
                sa.drive(now);
            }
            Role::AwaitDelete => {
                sa.quiet = true;
                let at = now + sa.linger();
                sa.timers.set(Timer::Linger, at);
            }
        }
        self.spawned.push_back(sa);
    }

    /// Replaced by a rekey: answer the last messages, close quietly when the old SA is deleted
    /// or after a while.
    fn wind_down(&mut self, now: Instant) {
        self.state = State::Rekeyed;
        self.quiet = true;
        for t in [Timer::Dpd, Timer::IkeSoft, Timer::IkeHard] {
            self.timers.stop(t);
        }
        let at = now + self.linger();
        self.timers.set(Timer::Linger, at);
    }
}
