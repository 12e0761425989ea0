//! The child SA records of an IKE SA: KEYMAT for a new agreement (RFC 7296 §2.17), what is
//! reported to the data plane (established, rekeyed, deleted) and the lifetimes armed for each
//! child SA and for the IKE SA itself (§2.8, §2.18).

use rampart_crypto::SecretBytes;

use super::{ChildState, IkeSa, InstalledChild};
use crate::child::{KeyContext, Negotiated};
use crate::event::{ChildSa, Event};
use crate::failure::Failure;
use crate::lifetime::deadlines;
use crate::time::Instant;
use crate::timer::Timer;

impl IkeSa {
    pub(super) fn child_outcome(
        &mut self,
        now: Instant,
        child: Option<Result<Negotiated, Failure>>,
    ) {
        match child {
            None => {}
            Some(Err(reason)) => {
                let name = self
                    .connection
                    .as_ref()
                    .and_then(|c| c.children.first())
                    .map(|c| c.name.clone())
                    .unwrap_or_default();
                self.events.push_back(Event::ChildSaFailed { name, reason });
            }
            Some(Ok(n)) => {
                // §2.17: the first child SA's KEYMAT uses the IKE_SA_INIT nonces.
                let Some((ni, nr)) = self.keyed.as_deref().map(|k| (k.ni.clone(), k.nr.clone()))
                else {
                    return;
                };
                let initiator = self.initiator;
                if let Some(sa) = self.derive_child(&n, &ni, &nr, None, initiator) {
                    self.add_child(now, sa, n, None, initiator);
                }
            }
        }
    }

    /// KEYMAT and the event's SA for an agreement (§2.17); `initiator`: whether we initiated
    /// the exchange that made it. Reports `ChildSaFailed` if the keys cannot be derived.
    pub(super) fn derive_child(
        &mut self,
        n: &Negotiated,
        ni: &[u8],
        nr: &[u8],
        g_ir: Option<&SecretBytes>,
        initiator: bool,
    ) -> Option<ChildSa> {
        let keyed = self.keyed.as_deref()?;
        let ctx = KeyContext {
            prf: keyed.algs.prf,
            sk_d: &keyed.keys.sk_d,
            ni,
            nr,
            initiator,
            g_ir,
            local: self.local,
            remote: self.remote,
            udp_encap: self.udp_encap(),
        };
        let sa = n.clone().into_child_sa(ctx);
        if sa.is_none() {
            self.events.push_back(Event::ChildSaFailed {
                name: n.config.name.clone(),
                reason: Failure::Config {
                    what: "child SA keys could not be derived".into(),
                },
            });
        }
        sa
    }

    /// Records a new child SA, arms its lifetimes and reports it: `ChildSaEstablished`, or
    /// `ChildSaRekeyed` when it replaces `replaces` (inbound SPI) and that one is still known.
    pub(super) fn add_child(
        &mut self,
        now: Instant,
        sa: ChildSa,
        n: Negotiated,
        replaces: Option<u32>,
        initiator: bool,
    ) {
        self.children.push(InstalledChild {
            name: sa.name.clone(),
            inbound_spi: sa.inbound.spi,
            outbound_spi: sa.outbound.spi,
            state: ChildState::Installed,
            reported: false,
            negotiated: n,
            parked: None,
            local_ts: sa.local_ts.clone(),
            remote_ts: sa.remote_ts.clone(),
        });
        self.report_child(now, sa, replaces, initiator);
    }

    /// Reports a recorded child SA to the data plane and arms its lifetimes; `initiator`: we
    /// sent the request that made it (see [`Event::ChildSaRekeyed`]).
    pub(super) fn report_child(
        &mut self,
        now: Instant,
        sa: ChildSa,
        replaces: Option<u32>,
        initiator: bool,
    ) {
        let spi = sa.inbound.spi;
        let (soft, hard) = deadlines(now, &sa.lifetimes, self.shared.rng.as_ref());
        self.timers.set(Timer::ChildSoft(spi), soft);
        self.timers.set(Timer::ChildHard(spi), hard);
        if let Some(c) = self.child_mut(spi) {
            c.state = ChildState::Installed;
            c.reported = true;
            c.parked = None;
        }
        let old = replaces
            .and_then(|old| self.child(old))
            .filter(|c| c.reported)
            .map(|c| (c.inbound_spi, c.outbound_spi));
        self.events.push_back(match old {
            Some((old_inbound_spi, old_outbound_spi)) => Event::ChildSaRekeyed {
                old_inbound_spi,
                old_outbound_spi,
                new: sa,
                initiator,
            },
            None => Event::ChildSaEstablished(sa),
        });
    }

    /// Forgets a child SA (reporting its deletion if it was installed) and its timers.
    pub(super) fn remove_child(&mut self, inbound_spi: u32) {
        let Some(at) = self
            .children
            .iter()
            .position(|c| c.inbound_spi == inbound_spi)
        else {
            return;
        };
        let c = self.children.remove(at);
        self.timers.stop(Timer::ChildSoft(inbound_spi));
        self.timers.stop(Timer::ChildHard(inbound_spi));
        if c.reported {
            self.events.push_back(Event::ChildSaDeleted {
                name: c.name,
                inbound_spi: c.inbound_spi,
                outbound_spi: c.outbound_spi,
            });
        }
    }

    /// Arms the IKE SA's own lifetimes (§2.18), if configured: its connection's, else the
    /// endpoint's.
    pub(super) fn arm_ike_lifetimes(&mut self, now: Instant) {
        let own = self.connection.as_ref().and_then(|c| c.ike_lifetimes);
        if let Some(l) = own.or(self.shared.config.ike_lifetimes) {
            let (soft, hard) = deadlines(now, &l, self.shared.rng.as_ref());
            self.timers.set(Timer::IkeSoft, soft);
            self.timers.set(Timer::IkeHard, hard);
        }
    }
}
