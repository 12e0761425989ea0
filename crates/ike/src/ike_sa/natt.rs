//! NAT traversal for one IKE SA (RFC 7296 §2.23, RFC 3948): floating to UDP 4500 after
//! IKE_SA_INIT, following the peer to a new address after an authenticated request (a NAT
//! rebinding), NAT keepalives from the side behind the NAT, and the UDP encapsulation its
//! child SAs report.

use std::net::SocketAddr;

use rampart_policy::sad::UdpEncap;

use super::IkeSa;
use crate::event::{EndpointEvent, Event, Transmit, TransmitKind};
use crate::nat::{NATT_PORT, NatState};
use crate::sa_init::Path;
use crate::time::Instant;
use crate::timer::Timer;

impl IkeSa {
    /// What NAT detection found; nothing before IKE_SA_INIT completes.
    pub(super) fn nat(&self) -> NatState {
        self.keyed.as_ref().map(|k| k.nat).unwrap_or_default()
    }

    /// The initiator after IKE_SA_INIT: with a NAT detected (or forced), IKE_AUTH and all
    /// later messages go from and to port 4500 (§2.23 "port floating").
    pub(super) fn float_if_nat(&mut self) {
        if self.nat().encapsulate() {
            self.local.set_port(NATT_PORT);
            self.remote.set_port(NATT_PORT);
        }
    }

    /// The UDP encapsulation of child SAs made now: our port and the peer's (RFC 3948).
    pub(super) fn udp_encap(&self) -> Option<UdpEncap> {
        self.nat().encapsulate().then_some(UdpEncap {
            local_port: self.local.port(),
            remote_port: self.remote.port(),
        })
    }

    /// Whether a datagram that reached `local` from an address other than the peer's known
    /// one may be processed (and, once it verifies as a request, move the SA there): only
    /// after IKE_SA_INIT, when a NAT was detected or the peer floated to the NAT-T port.
    pub(super) fn may_move(&self, local: SocketAddr) -> bool {
        self.keyed.is_some() && (self.nat().encapsulate() || local.port() == NATT_PORT)
    }

    /// A request from `path` verified (§2.23: a host not behind the NAT follows the peer to
    /// the address of its latest authenticated request). Reports the move once children exist.
    pub(super) fn moved_to(&mut self, path: Path) {
        if (path.local, path.remote) == (self.local, self.remote) {
            return;
        }
        let peer_moved = path.remote != self.remote;
        self.local = path.local;
        self.remote = path.remote;
        if self.is_established() && peer_moved {
            self.events.push_back(Event::PeerAddressChanged {
                spi_i: self.spi_i,
                spi_r: self.spi_r,
                local: self.local,
                remote: self.remote,
            });
            self.endpoint_events
                .push_back(EndpointEvent::PeerAddressChanged {
                    remote: self.remote.ip(),
                });
        }
    }

    /// Arms the keepalive timer when we are behind a NAT and on the NAT-T port (RFC 3948
    /// §2.3); the interval is `EndpointConfig::nat_keepalive`.
    pub(super) fn arm_keepalive(&mut self, now: Instant) {
        let Some(every) = self.shared.config.nat_keepalive else {
            return;
        };
        if self.nat().keepalives() && self.local.port() == NATT_PORT {
            self.timers.set(Timer::NatKeepalive, now + every);
        }
    }

    /// The keepalive timer: one 0xFF byte to the peer, then again after the interval.
    pub(super) fn on_keepalive_timer(&mut self, now: Instant) {
        if !self.is_established() {
            return;
        }
        self.transmits.push_back(Transmit {
            local: self.local,
            remote: self.remote,
            kind: TransmitKind::NatKeepalive,
            payload: vec![rampart_wire::natt::KEEPALIVE],
        });
        self.arm_keepalive(now);
    }
}
