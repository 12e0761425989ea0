//! CREATE_CHILD_SA for child SAs (RFC 7296 §1.3.1, §1.3.3), both roles, with PFS (§2.17),
//! INVALID_KE_PAYLOAD retries (§1.3), simultaneous rekeys (§2.8.1) and rekeys that collide
//! with deletes (§2.25.1).
//!
//! ```text
//! Initiator                         Responder
//! -------------------------------------------------------------------
//! HDR, SK {[N(REKEY_SA)], [N(USE_TRANSPORT_MODE)], SA, Ni, [KEi], TSi, TSr}  -->
//!                 <--  HDR, SK {[N(USE_TRANSPORT_MODE)], SA, Nr, [KEr], TSi, TSr}
//! ```
//!
//! KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) with this exchange's nonces; "initiator" in the
//! key order and in TSi is the initiator of this exchange (§2.17).
//!
//! A rekey is make-before-break: the new SA is reported ([`Event::ChildSaRekeyed`]) as soon as
//! it exists, then the initiator of the rekey deletes the old one. When both peers rekey the
//! same SA at once (§2.8.1), each answers the other's request but holds the SA it made back
//! ([`ChildState::Parked`]) until its own answer arrives; then the new SA created with the
//! lowest of the four nonces is redundant and its creator deletes it, and the creator of the
//! survivor deletes the old SA. The redundant SA is never reported.

use rampart_crypto::{KeyExchange, SecretBytes};
use rampart_wire::ike::iana::{ExchangeType, KeId, NotifyType, ProtocolId};
use rampart_wire::ike::{KePayload, Message, NoncePayload, NotifyPayload, Payload};

use super::{ChildState, IkeSa, InstalledChild, MAX_CHILDREN, Pending, State, Task};
use crate::child::{ChildRequest, Negotiated, Refused};
use crate::event::{ChildSa, Event};
use crate::exchange::RequestKind;
use crate::failure::Failure;
use crate::lifetime::retry_delay;
use crate::time::Instant;
use crate::timer::Timer;

/// INVALID_KE_PAYLOAD retries before the initiator gives up.
const MAX_KE_RETRIES: u32 = 2;

/// Whether the lowest of the four nonces of two exchanges is in `ours` (§2.8.1): "lowest" is an
/// octet-by-octet comparison where a nonce that is a prefix of another is the lower, exactly
/// the order of byte slices.
pub(super) fn lowest_nonce_in(ours: [&[u8]; 2], theirs: [&[u8]; 2]) -> bool {
    ours.iter().min() < theirs.iter().min()
}

pub(super) fn find_nonce(payloads: &[Payload]) -> Option<&[u8]> {
    payloads.iter().find_map(|p| match p {
        Payload::Nonce(n) => Some(n.data.as_slice()),
        _ => None,
    })
}

pub(super) fn find_ke(payloads: &[Payload]) -> Option<&KePayload> {
    payloads.iter().find_map(|p| match p {
        Payload::Ke(k) => Some(k),
        _ => None,
    })
}

/// The first error notify of a response, with its data.
pub(super) fn error_notify(payloads: &[Payload]) -> Option<&NotifyPayload> {
    payloads.iter().find_map(|p| match p {
        Payload::Notify(n) if n.is_error() => Some(n),
        _ => None,
    })
}

/// The group an INVALID_KE_PAYLOAD notify asks for (§3.10.1: two octets).
pub(super) fn asked_group(n: &NotifyPayload) -> Option<KeId> {
    <[u8; 2]>::try_from(n.data.as_slice())
        .ok()
        .map(|b| KeId(u16::from_be_bytes(b)))
}

/// Inserts `Nonce` and, with a key exchange, `KE` right after the SA payload.
fn with_nonce_and_ke(
    mut payloads: Vec<Payload>,
    nonce: &[u8],
    ke: Option<&KeyExchange>,
) -> Vec<Payload> {
    let at = payloads
        .iter()
        .position(|p| matches!(p, Payload::Sa(_)))
        .map_or(payloads.len(), |i| i + 1);
    let mut extra = vec![Payload::Nonce(NoncePayload {
        data: nonce.to_vec(),
    })];
    if let Some(ke) = ke {
        extra.push(Payload::Ke(KePayload {
            group: ke.id(),
            data: ke.public_value().to_vec(),
        }));
    }
    payloads.splice(at..at, extra);
    payloads
}

/// Our CREATE_CHILD_SA for a child SA, in flight.
pub(crate) struct ChildInit {
    request: ChildRequest,
    /// The inbound SPI of the SA this request rekeys.
    rekey_of: Option<u32>,
    nonce: Vec<u8>,
    ke: Option<KeyExchange>,
    retries: u32,
    /// The peer's rekey of the same SA, answered meanwhile (§2.8.1): the nonces of that
    /// exchange.
    collision: Option<[Vec<u8>; 2]>,
}

impl core::fmt::Debug for ChildInit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ChildInit")
            .field("child", &self.request.config.name)
            .field("rekey_of", &self.rekey_of)
            .finish_non_exhaustive()
    }
}

impl ChildInit {
    fn payloads(&self) -> Vec<Payload> {
        let mut p = Vec::new();
        if let Some(spi) = self.rekey_of {
            p.push(Payload::Notify(NotifyPayload::with_child_spi(
                ProtocolId::ESP,
                spi,
                NotifyType::REKEY_SA,
            )));
        }
        p.extend(self.request.payloads());
        with_nonce_and_ke(p, &self.nonce, self.ke.as_ref())
    }
}

/// A key exchange for `group`, or none for `KeId::NONE`.
fn key_exchange(group: Option<KeId>, sa: &IkeSa) -> Result<Option<KeyExchange>, Failure> {
    match group.filter(|&g| g != KeId::NONE) {
        None => Ok(None),
        Some(g) => KeyExchange::new(g, sa.shared.rng.as_ref())
            .map(Some)
            .map_err(|e| Failure::Config {
                what: format!("key exchange {g}: {e}"),
            }),
    }
}

impl IkeSa {
    /// On-demand child SA creation (an acquire: a packet found no SA): like
    /// [`create_child_for`](Self::create_child_for) with the packet's selectors `local_ts`
    /// (source) and `remote_ts` (destination) first in TSi/TSr (§2.9). On an initiator SA that
    /// is still being set up the request waits until IKE_AUTH completes. A request identical to
    /// one already waiting (or to the child IKE_AUTH is creating) is not queued twice.
    pub fn acquire(
        &mut self,
        now: Instant,
        child_name: &str,
        local_ts: rampart_policy::TrafficSelector,
        remote_ts: rampart_policy::TrafficSelector,
    ) -> Result<(), Failure> {
        if self.acquire_pending(child_name, &local_ts, &remote_ts) {
            return Ok(());
        }
        self.queue_create(now, child_name, Some((local_ts, remote_ts)))
    }

    /// Whether an acquire for `name` with these packet selectors is already waiting: queued,
    /// in flight, or the child that IKE_AUTH is creating.
    fn acquire_pending(
        &self,
        name: &str,
        local: &rampart_policy::TrafficSelector,
        remote: &rampart_policy::TrafficSelector,
    ) -> bool {
        let same = |r: &ChildRequest| {
            r.config.name == name
                && r.local_ts.first() == Some(local)
                && r.remote_ts.first() == Some(remote)
        };
        let in_auth = match &self.state {
            State::InitiatorInit { child, .. } | State::InitiatorAuth { child } => {
                child.as_ref().is_some_and(same)
            }
            _ => false,
        };
        let in_flight = match &self.pending {
            Some(Pending::Child(init)) => init.rekey_of.is_none() && same(&init.request),
            _ => false,
        };
        in_auth
            || in_flight
            || self.queued.iter().any(|t| match t {
                Task::CreateChild(r) => same(r.as_ref()),
                _ => false,
            })
    }

    /// Queues a CREATE_CHILD_SA for the child configuration `name`.
    pub(super) fn queue_create(
        &mut self,
        now: Instant,
        name: &str,
        packet: Option<(
            rampart_policy::TrafficSelector,
            rampart_policy::TrafficSelector,
        )>,
    ) -> Result<(), Failure> {
        // An initiator still setting up keeps the request until IKE_AUTH is done (`drive`).
        let setting_up = matches!(
            self.state,
            State::InitiatorInit { .. } | State::InitiatorAuth { .. }
        );
        if !self.is_established() && !setting_up {
            return Err(Failure::Config {
                what: "the IKE SA is not established".into(),
            });
        }
        let conn = self.connection.clone().ok_or_else(|| Failure::Config {
            what: "the IKE SA has no connection".into(),
        })?;
        let config = conn.child(name).cloned().ok_or_else(|| Failure::Config {
            what: format!("connection {} has no child {name}", conn.name),
        })?;
        let spi = self.shared.spis.child_spi().map_err(|e| Failure::Config {
            what: e.to_string(),
        })?;
        let mut request = ChildRequest::new(config, spi, true);
        if let Some((local, remote)) = packet {
            // §2.9: the triggering packet's selectors first, then the policy's.
            request.local_ts.insert(0, local);
            request.remote_ts.insert(0, remote);
        }
        self.queued.push_back(Task::CreateChild(Box::new(request)));
        self.drive(now);
        Ok(())
    }

    /// Sends the CREATE_CHILD_SA for `request` (rekeying `rekey_of` if given).
    pub(super) fn start_create_child(
        &mut self,
        now: Instant,
        request: ChildRequest,
        rekey_of: Option<u32>,
    ) {
        let name = request.config.name.clone();
        let group = request
            .proposals()
            .first()
            .and_then(|p| p.key_exchange.first().copied());
        let init = self.exchange_nonce().and_then(|nonce| {
            Ok(ChildInit {
                ke: key_exchange(group, self)?,
                request,
                rekey_of,
                nonce,
                retries: 0,
                collision: None,
            })
        });
        match init {
            Ok(init) => self.send_child_init(now, init),
            Err(reason) => self.child_failed(now, rekey_of, name, reason, false),
        }
    }

    fn send_child_init(&mut self, now: Instant, init: ChildInit) {
        let kind = match init.rekey_of {
            Some(spi) => {
                if let Some(c) = self.child_mut(spi) {
                    c.state = ChildState::Rekeying;
                }
                RequestKind::RekeyChild(spi)
            }
            None => RequestKind::CreateChild,
        };
        let payloads = init.payloads();
        self.pending = Some(Pending::Child(Box::new(init)));
        self.send_encrypted_request(now, kind, ExchangeType::CREATE_CHILD_SA, &payloads);
    }

    /// Starts rekeying the child SA with inbound SPI `spi` (§1.3.3): the same configuration,
    /// algorithms and selectors, a new SPI.
    pub(super) fn start_rekey_child(&mut self, now: Instant, spi: u32) {
        let Some(c) = self
            .child(spi)
            .filter(|c| c.state == ChildState::Installed && c.reported)
        else {
            return;
        };
        let (config, local_ts, remote_ts) = (
            c.negotiated.config.clone(),
            c.local_ts.clone(),
            c.remote_ts.clone(),
        );
        let Ok(inbound_spi) = self.shared.spis.child_spi() else {
            return self.child_failed(
                now,
                Some(spi),
                config.name,
                Failure::Config {
                    what: "no child SPI available".into(),
                },
                false,
            );
        };
        let mut request = ChildRequest::new(config, inbound_spi, true);
        request.local_ts = local_ts;
        request.remote_ts = remote_ts;
        self.start_create_child(now, request, Some(spi));
    }

    /// The answer to our CREATE_CHILD_SA for a child SA.
    pub(super) fn on_child_response(&mut self, now: Instant, payloads: &[Payload]) {
        let Some(Pending::Child(init)) = self.pending.take() else {
            return;
        };
        let mut init = *init;
        if let Some(n) = error_notify(payloads) {
            let name = init.request.config.name.clone();
            let rekey = init.rekey_of;
            match n.notify_type {
                NotifyType::INVALID_KE_PAYLOAD => {
                    // §1.3: retry with the group the responder asks for, if we offered it.
                    let offered = asked_group(n).filter(|g| {
                        init.request
                            .proposals()
                            .iter()
                            .any(|p| p.key_exchange.contains(g))
                    });
                    match (offered, init.retries < MAX_KE_RETRIES) {
                        (Some(g), true) => match key_exchange(Some(g), self) {
                            Ok(ke) => {
                                init.ke = ke;
                                init.retries += 1;
                                return self.send_child_init(now, init);
                            }
                            Err(f) => return self.child_failed(now, rekey, name, f, false),
                        },
                        _ => {
                            let f = Failure::refused(ExchangeType::CREATE_CHILD_SA, n.notify_type);
                            return self.child_failed(now, rekey, name, f, false);
                        }
                    }
                }
                // §2.25: the peer is busy with this SA (deleting or rekeying it): retry later.
                NotifyType::TEMPORARY_FAILURE if rekey.is_some() => {
                    return self.child_failed(
                        now,
                        rekey,
                        name,
                        Failure::Config {
                            what: String::new(),
                        },
                        true,
                    );
                }
                // §2.25.1: the peer no longer has the SA: neither do we.
                NotifyType::CHILD_SA_NOT_FOUND if rekey.is_some() => {
                    if let Some(old) = rekey {
                        self.release_parked(now, old);
                        self.remove_child(old);
                    }
                    return;
                }
                ty => {
                    let f = Failure::refused(ExchangeType::CREATE_CHILD_SA, ty);
                    return self.child_failed(now, rekey, name, f, false);
                }
            }
        }
        match self.complete_child(&mut init, payloads) {
            Ok((n, sa, nr)) => self.child_created(now, init, n, sa, &nr),
            Err(f) => {
                let name = init.request.config.name.clone();
                self.child_failed(now, init.rekey_of, name, f, false);
            }
        }
    }

    /// Checks the responder's answer and derives the new SA.
    fn complete_child(
        &mut self,
        init: &mut ChildInit,
        payloads: &[Payload],
    ) -> Result<(Negotiated, ChildSa, Vec<u8>), Failure> {
        let bad = |what: &str| Failure::Malformed { what: what.into() };
        let nr = find_nonce(payloads).ok_or_else(|| bad("CREATE_CHILD_SA answer without Nr"))?;
        let g_ir: Option<SecretBytes> = match init.ke.take() {
            None => None,
            Some(ke) => {
                let theirs = find_ke(payloads)
                    .filter(|k| k.group == ke.id())
                    .ok_or_else(|| bad("CREATE_CHILD_SA answer without KEr of our group"))?;
                Some(
                    ke.complete(&theirs.data)
                        .map_err(|e| bad(&format!("responder's KE: {e}")))?,
                )
            }
        };
        let n = init
            .request
            .clone()
            .complete(ExchangeType::CREATE_CHILD_SA, payloads)?;
        let sa = self
            .derive_child(&n, &init.nonce, nr, g_ir.as_ref(), true)
            .ok_or_else(|| Failure::Config {
                what: "child SA keys could not be derived".into(),
            })?;
        Ok((n, sa, nr.to_vec()))
    }

    /// Our CREATE_CHILD_SA succeeded: report the new SA, or settle a rekey (§2.8, §2.8.1).
    fn child_created(
        &mut self,
        now: Instant,
        init: ChildInit,
        n: Negotiated,
        sa: ChildSa,
        nr: &[u8],
    ) {
        let Some(old) = init.rekey_of else {
            return self.add_child(now, sa, n, None, true);
        };
        let ours_redundant = init
            .collision
            .as_ref()
            .is_some_and(|theirs| lowest_nonce_in([&init.nonce, nr], [&theirs[0], &theirs[1]]));
        self.finish_rekey(now, old, n, sa, ours_redundant);
    }

    /// §2.8.1: the SA created with the lowest nonce is deleted by whoever created it; the
    /// initiator of the surviving one deletes the old SA.
    fn finish_rekey(
        &mut self,
        now: Instant,
        old: u32,
        n: Negotiated,
        sa: ChildSa,
        ours_redundant: bool,
    ) {
        let new_spi = sa.inbound.spi;
        if ours_redundant {
            // Never installed: only the IKE-level record, deleted by us at once.
            self.children.push(InstalledChild {
                name: sa.name.clone(),
                inbound_spi: new_spi,
                outbound_spi: sa.outbound.spi,
                state: ChildState::Redundant,
                reported: false,
                negotiated: n,
                parked: None,
                local_ts: sa.local_ts.clone(),
                remote_ts: sa.remote_ts.clone(),
            });
            self.release_parked(now, old);
            if let Some(c) = self.child_mut(old) {
                c.state = ChildState::Replaced;
            }
            self.queued.push_front(Task::DeleteChild(new_spi));
            return;
        }
        // Ours survives; a parked SA of the peer's is redundant and the peer deletes it.
        let linger = self.linger();
        let parked: Vec<u32> = self
            .children
            .iter()
            .filter(|c| {
                c.state == ChildState::Parked && c.parked.as_ref().is_some_and(|p| p.0 == old)
            })
            .map(|c| c.inbound_spi)
            .collect();
        for spi in parked {
            if let Some(c) = self.child_mut(spi) {
                c.state = ChildState::Redundant;
                c.parked = None;
            }
            // Bounded: gone when the peer's Delete comes, or after a while without it.
            self.timers.set(Timer::ChildHard(spi), now + linger);
        }
        self.add_child(now, sa, n, Some(old), true);
        if let Some(c) = self.child_mut(old) {
            c.state = ChildState::Replaced;
            self.queued.push_front(Task::DeleteChild(old));
        }
    }

    /// Our CREATE_CHILD_SA failed. For a rekey the old SA stays (retried later after
    /// TEMPORARY_FAILURE, §2.25), unless the peer's rekey of it, answered meanwhile, replaces it.
    fn child_failed(
        &mut self,
        now: Instant,
        rekey: Option<u32>,
        name: String,
        reason: Failure,
        retry: bool,
    ) {
        let Some(old) = rekey else {
            return self.events.push_back(Event::ChildSaFailed { name, reason });
        };
        if self.release_parked(now, old) {
            return;
        }
        if let Some(c) = self
            .child_mut(old)
            .filter(|c| c.state == ChildState::Rekeying)
        {
            c.state = ChildState::Installed;
            if retry {
                let at = now + retry_delay(self.shared.rng.as_ref());
                self.timers.set(Timer::ChildSoft(old), at);
            }
        }
        if !retry {
            self.events.push_back(Event::ChildSaFailed { name, reason });
        }
    }

    /// Reports the SA parked for a rekey of `old` (§2.8.1) as its replacement; `old` is then
    /// the peer's to delete. Returns whether there was one.
    pub(super) fn release_parked(&mut self, now: Instant, old: u32) -> bool {
        let Some(c) = self.children.iter_mut().find(|c| {
            c.state == ChildState::Parked && c.parked.as_ref().is_some_and(|p| p.0 == old)
        }) else {
            return false;
        };
        let Some((_, sa)) = c.parked.take() else {
            return false;
        };
        // The peer's rekey won the collision (§2.8.1): we answered its request.
        self.report_child(now, *sa, Some(old), false);
        if let Some(c) = self.child_mut(old) {
            c.state = ChildState::Replaced;
        }
        self.timers.stop(Timer::ChildSoft(old));
        true
    }

    /// A CREATE_CHILD_SA request from the peer.
    pub(super) fn on_create_child_request(&mut self, now: Instant, msg: &Message, bytes: &[u8]) {
        let Some(payloads) = self.open(msg, bytes, now) else {
            return;
        };
        // §2.25.2: nothing new on an IKE SA we are closing (replaced, or redundant).
        if self.quiet || !self.live() {
            return self.refuse(msg, NotifyType::TEMPORARY_FAILURE, Vec::new());
        }
        if super::rekey::is_ike_rekey(&payloads) {
            return self.on_rekey_ike_request(now, msg, &payloads);
        }
        let rekey = payloads.iter().find_map(|p| match p {
            Payload::Notify(n) if n.notify_type == NotifyType::REKEY_SA => {
                Some(<[u8; 4]>::try_from(n.spi.as_slice()).map(u32::from_be_bytes))
            }
            _ => None,
        });
        match rekey {
            None => self.respond_child(now, msg, &payloads, None),
            Some(Err(_)) => self.refuse(msg, NotifyType::INVALID_SYNTAX, Vec::new()),
            Some(Ok(peer_spi)) => self.respond_rekey_child(now, msg, &payloads, peer_spi),
        }
    }

    /// Answers with one error notify.
    pub(super) fn refuse(&mut self, msg: &Message, ty: NotifyType, data: Vec<u8>) {
        self.respond_encrypted(msg, &[Payload::Notify(NotifyPayload::new(ty, data))]);
    }

    /// §1.3.3 responder, with the collision rules of §2.25.1.
    fn respond_rekey_child(
        &mut self,
        now: Instant,
        msg: &Message,
        payloads: &[Payload],
        peer_spi: u32,
    ) {
        // The peer names its inbound SPI: our outbound.
        let Some(c) = self.children.iter().find(|c| c.outbound_spi == peer_spi) else {
            let n = NotifyPayload::with_child_spi(
                ProtocolId::ESP,
                peer_spi,
                NotifyType::CHILD_SA_NOT_FOUND,
            );
            return self.respond_encrypted(msg, &[Payload::Notify(n)]);
        };
        match c.state {
            ChildState::Installed => {
                let old = c.inbound_spi;
                self.respond_child(now, msg, payloads, Some((old, false)));
            }
            // §2.8.1: rekeying it ourselves: answer as usual, decide when our answer comes.
            ChildState::Rekeying => {
                let old = c.inbound_spi;
                self.respond_child(now, msg, payloads, Some((old, true)));
            }
            // §2.25.1: closing it (or it is already replaced, its deletion pending).
            ChildState::Deleting | ChildState::Replaced => {
                self.refuse(msg, NotifyType::TEMPORARY_FAILURE, Vec::new())
            }
            ChildState::Parked | ChildState::Redundant => {
                let n = NotifyPayload::with_child_spi(
                    ProtocolId::ESP,
                    peer_spi,
                    NotifyType::CHILD_SA_NOT_FOUND,
                );
                self.respond_encrypted(msg, &[Payload::Notify(n)]);
            }
        }
    }

    /// §1.3.1 / §1.3.3 responder: negotiate, answer, and record the new SA. `rekey`: the old
    /// SA's inbound SPI and whether our own rekey of it is in flight (then the new SA is
    /// parked until ours is answered).
    fn respond_child(
        &mut self,
        now: Instant,
        msg: &Message,
        payloads: &[Payload],
        rekey: Option<(u32, bool)>,
    ) {
        let live = self.children.iter().filter(|c| c.reported).count();
        if self.children.len() >= 2 * MAX_CHILDREN || (rekey.is_none() && live >= MAX_CHILDREN) {
            return self.refuse(msg, NotifyType::NO_ADDITIONAL_SAS, Vec::new());
        }
        let (Some(conn), Some(peer)) = (self.connection.clone(), self.peer_id.clone()) else {
            return;
        };
        let configs = match rekey.and_then(|(old, _)| self.child(old)) {
            Some(c) => vec![c.negotiated.config.clone()],
            None => conn.children.clone(),
        };
        let Some(ni) = find_nonce(payloads).map(<[u8]>::to_vec) else {
            return self.refuse(msg, NotifyType::INVALID_SYNTAX, Vec::new());
        };
        let peer_ke = find_ke(payloads).cloned();
        let group = peer_ke.as_ref().map_or(KeId::NONE, |k| k.group);
        let spis = self.shared.spis.clone();
        let pad = self.shared.config.pad.clone();
        let outcome = crate::child::respond_with(
            &configs,
            &pad,
            &peer,
            payloads,
            || spis.child_spi().ok(),
            Some(group),
        );
        let (n, answer) = match outcome {
            Ok(x) => x,
            Err(Refused::InvalidKe(g)) => {
                return self.refuse(
                    msg,
                    NotifyType::INVALID_KE_PAYLOAD,
                    g.0.to_be_bytes().to_vec(),
                );
            }
            Err(Refused::Failure(f)) => {
                let ty = f.notify().unwrap_or(NotifyType::NO_PROPOSAL_CHOSEN);
                self.refuse(msg, ty, Vec::new());
                let name = configs.first().map(|c| c.name.clone()).unwrap_or_default();
                return self
                    .events
                    .push_back(Event::ChildSaFailed { name, reason: f });
            }
        };
        let chosen_group = n.chosen.key_exchange.first().copied();
        let exchange =
            key_exchange(chosen_group, self).and_then(|ke| Ok((ke, self.exchange_nonce()?)));
        let peer_public = peer_ke.map(|k| k.data);
        let (ke, nr) = match exchange {
            Ok(x) => x,
            Err(f) => {
                self.refuse(msg, NotifyType::NO_PROPOSAL_CHOSEN, Vec::new());
                let name = n.config.name.clone();
                return self
                    .events
                    .push_back(Event::ChildSaFailed { name, reason: f });
            }
        };
        let answer = with_nonce_and_ke(answer, &nr, ke.as_ref());
        let g_ir = match (ke, peer_public) {
            (Some(ke), Some(public)) => match ke.complete(&public) {
                Ok(g) => Some(g),
                Err(_) => return self.refuse(msg, NotifyType::INVALID_SYNTAX, Vec::new()),
            },
            _ => None,
        };
        self.respond_encrypted(msg, &answer);
        let Some(sa) = self.derive_child(&n, &ni, &nr, g_ir.as_ref(), false) else {
            return;
        };
        match rekey {
            None => self.add_child(now, sa, n, None, false),
            Some((old, false)) => {
                self.add_child(now, sa, n, Some(old), false);
                if let Some(c) = self.child_mut(old) {
                    c.state = ChildState::Replaced;
                }
                self.timers.stop(Timer::ChildSoft(old));
            }
            Some((old, true)) => self.park(old, n, sa, [ni, nr]),
        }
    }

    /// Holds back the SA made by answering the peer's rekey of `old` while ours is in flight.
    fn park(&mut self, old: u32, n: Negotiated, sa: ChildSa, nonces: [Vec<u8>; 2]) {
        if let Some(Pending::Child(init)) = self.pending.as_mut() {
            init.collision = Some(nonces);
        }
        self.children.push(InstalledChild {
            name: sa.name.clone(),
            inbound_spi: sa.inbound.spi,
            outbound_spi: sa.outbound.spi,
            state: ChildState::Parked,
            reported: false,
            negotiated: n,
            local_ts: sa.local_ts.clone(),
            remote_ts: sa.remote_ts.clone(),
            parked: Some((old, Box::new(sa))),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::lowest_nonce_in;

    /// §2.8.1: octet by octet, and a nonce that ends first is the lower.
    #[test]
    fn lowest_nonce_compares_octet_by_octet() {
        assert!(lowest_nonce_in([&[1, 9], &[7]], [&[2, 0], &[3]]));
        assert!(!lowest_nonce_in([&[5], &[4, 0]], [&[4], &[9]]));
        // [2] is a prefix of [2, 0]: it is the lower.
        assert!(lowest_nonce_in([&[2], &[9]], [&[2, 0], &[9]]));
        assert!(!lowest_nonce_in(
            [&[0x80; 32], &[0x90; 32]],
            [&[0x7f; 32], &[0xff; 32]]
        ));
    }
}
