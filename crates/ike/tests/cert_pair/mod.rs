//! Pair setups shared by the certificate, notify and tshark tests: connections with PSK or
//! certificate authentication (certificates from `crates/crypto/testdata/pki`, see its README),
//! and the deterministic simulator from `tests/sim/harness.rs`.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rampart_crypto::SecretBytes;
use rampart_crypto::cert::{Certificate, TrustAnchors};
use rampart_crypto::proposal::ProposalSpec;
use rampart_crypto::sig::SignatureScheme;
use rampart_ike::{
    AuthError, CertSigner, CertVerifier, ChildConfig, Connection, EndpointConfig, Event, Lifetimes,
    LocalAuth, Mode, PeerProof, RemoteAuth, SignatureVerifier,
};
use rampart_policy::TrafficSelector;
use rampart_policy::pad::{IdPattern, Identity, Pad, PadEntry, PeerAuth};
use rampart_wire::ike::iana::AuthMethod;

#[allow(dead_code, unreachable_pub)]
#[path = "../sim/harness.rs"]
pub(crate) mod harness;

pub(crate) use harness::{Faults, Sim, secs};

pub(crate) const A: &str = "192.0.2.1";
pub(crate) const B: &str = "192.0.2.2";
pub(crate) const PSK: &[u8] = b"correct horse battery staple";
/// The fixed wall-clock time the verifiers check validity at (2033, see the PKI README).
pub(crate) const NOW_UNIX: u64 = 2_000_000_000;

pub(crate) fn pki(name: &str) -> String {
    let path = format!(
        "{}/../crypto/testdata/pki/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The signer of `ALG-leaf` (`rsa`, `p256`, `p384`, `ed25519`), sending leaf and intermediate.
pub(crate) fn leaf_signer(alg: &str) -> LocalAuth {
    signer(
        &format!("{alg}-leaf.key"),
        &[&format!("{alg}-leaf.pem"), &format!("{alg}-int.pem")],
    )
}

pub(crate) fn signer(key: &str, chain: &[&str]) -> LocalAuth {
    let chain: String = chain.iter().map(|c| pki(c)).collect();
    LocalAuth::Signature(Arc::new(
        CertSigner::from_pem(&pki(key), &chain).expect("test PKI key and chain"),
    ))
}

/// What a [`Recording`] verifier saw succeed: AUTH method and scheme.
pub(crate) type Seen = Arc<Mutex<Vec<(AuthMethod, SignatureScheme)>>>;

/// A [`CertVerifier`] that records the method and scheme of each signature it accepted.
pub(crate) struct Recording {
    pub(crate) inner: CertVerifier,
    pub(crate) seen: Seen,
}

impl SignatureVerifier for Recording {
    fn certificate_request(&self) -> Vec<u8> {
        self.inner.certificate_request()
    }

    fn verify(&self, proof: &PeerProof<'_>) -> Result<SignatureScheme, AuthError> {
        let scheme = self.inner.verify(proof)?;
        self.seen.lock().unwrap().push((proof.method, scheme));
        Ok(scheme)
    }
}

/// Trusts the roots `roots` (PEM file names), at [`NOW_UNIX`]; returns the auth and its record.
pub(crate) fn trusting(roots: &[&str]) -> (RemoteAuth, Seen) {
    let anchors: Vec<Certificate> = roots
        .iter()
        .flat_map(|r| Certificate::from_pem(&pki(r)).expect("test root"))
        .collect();
    let seen = Seen::default();
    let v = Recording {
        inner: CertVerifier::new(TrustAnchors::new(anchors), Arc::new(|| NOW_UNIX)),
        seen: seen.clone(),
    };
    (RemoteAuth::Signature(Arc::new(v)), seen)
}

pub(crate) fn ts(s: &str) -> Vec<TrafficSelector> {
    vec![TrafficSelector::from_addrs(s.parse().expect("test prefix"))]
}

/// One side: its addresses, identities, authentication and proposals.
#[derive(Clone)]
pub(crate) struct Side {
    pub(crate) local: &'static str,
    pub(crate) remote: &'static str,
    pub(crate) local_id: Identity,
    pub(crate) remote_id: Identity,
    pub(crate) local_auth: LocalAuth,
    pub(crate) remote_auth: RemoteAuth,
    pub(crate) ike: &'static str,
    pub(crate) esp: &'static str,
    pub(crate) local_ts: &'static str,
    pub(crate) remote_ts: &'static str,
    /// `Connection::force_encap`: float to 4500 without a NAT.
    pub(crate) force_encap: bool,
}

pub(crate) fn fqdn(s: &str) -> Identity {
    Identity::Fqdn(s.into())
}

impl Side {
    /// Node A with PSK, gw-a.example <-> gw-b.example.
    pub(crate) fn psk_a() -> Self {
        Self {
            local: A,
            remote: B,
            local_id: fqdn("gw-a.example"),
            remote_id: fqdn("gw-b.example"),
            local_auth: LocalAuth::Psk(SecretBytes::from_slice(PSK)),
            remote_auth: RemoteAuth::Psk(SecretBytes::from_slice(PSK)),
            ike: "aes128gcm16-prfsha256-x25519",
            esp: "aes128gcm16",
            local_ts: "198.51.100.0/24",
            remote_ts: "203.0.113.0/24",
            force_encap: false,
        }
    }

    /// Node B, the mirror of [`Side::psk_a`].
    pub(crate) fn psk_b() -> Self {
        Self {
            local: B,
            remote: A,
            local_id: fqdn("gw-b.example"),
            remote_id: fqdn("gw-a.example"),
            local_ts: "203.0.113.0/24",
            remote_ts: "198.51.100.0/24",
            ..Self::psk_a()
        }
    }

    pub(crate) fn connection(&self) -> Arc<Connection> {
        Arc::new(Connection {
            name: "site".into(),
            local_addrs: vec![self.local.parse().unwrap()],
            remote_addrs: vec![self.remote.parse().unwrap()],
            port: 500,
            ike_proposals: vec![ProposalSpec::parse_ike(self.ike).unwrap()],
            local_id: self.local_id.clone(),
            local_auth: self.local_auth.clone(),
            remote_id: self.remote_id.clone(),
            remote_auth: self.remote_auth.clone(),
            force_encap: self.force_encap,
            dpd_delay: Some(Duration::from_secs(30)),
            ike_lifetimes: None,
            children: vec![ChildConfig {
                name: "net".into(),
                local_ts: ts(self.local_ts),
                remote_ts: ts(self.remote_ts),
                esp_proposals: vec![ProposalSpec::parse_esp(self.esp).unwrap()],
                mode: Mode::Tunnel,
                lifetimes: Lifetimes::default(),
            }],
        })
    }

    pub(crate) fn config(&self) -> EndpointConfig {
        let id = match &self.remote_id {
            Identity::Fqdn(n) => IdPattern::Fqdn(n.clone()),
            Identity::Dn(d) => IdPattern::Dn(d.clone()),
            Identity::Rfc822(m) => IdPattern::Rfc822(m.clone()),
            _ => IdPattern::Any,
        };
        let mut pad = Pad::new();
        pad.push(PadEntry {
            name: "peer".into(),
            id,
            auth: PeerAuth::Any,
            allowed_ts: ts("0.0.0.0/0"),
        })
        .unwrap();
        EndpointConfig::new(vec![self.connection()], pad)
    }
}

/// Node 0 (`a`) initiates child "net" to node 1 (`b`); runs 10 virtual seconds.
pub(crate) fn run_pair(a: &Side, b: &Side) -> Sim {
    let mut sim = Sim::new(1, Faults::NONE);
    sim.add_node(a.local, a.config());
    sim.add_node(b.local, b.config());
    sim.initiate(0, a.connection(), Some("net"));
    sim.run_until(secs(10));
    sim
}

pub(crate) fn up_count(sim: &Sim, n: usize) -> usize {
    sim.events(n)
        .filter(|e| matches!(e, Event::IkeSaUp { .. }))
        .count()
}

pub(crate) fn down_reasons(sim: &Sim, n: usize) -> Vec<String> {
    sim.events(n)
        .filter_map(|e| match e {
            Event::IkeSaDown { reason, .. } => Some(reason.to_string()),
            _ => None,
        })
        .collect()
}
