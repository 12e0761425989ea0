//! SA payloads (RFC 7296 §3.3) to and from the crypto crate's [`ProposalSpec`], and the
//! responder's choice among the peer's proposals (§2.7).

use rampart_crypto::proposal::{ProposalSpec, Transform};
use rampart_wire::ike::iana::{KeId, ProtocolId};
use rampart_wire::ike::{Proposal, SaPayload, TransformAttribute};

/// An SA payload offering `specs` in order, numbered from 1, each with `spi`.
pub(crate) fn sa_payload(specs: &[ProposalSpec], spi: &[u8]) -> SaPayload {
    let proposals = specs
        .iter()
        .zip(1u8..)
        .map(|(spec, number)| proposal(spec, number, spi))
        .collect();
    SaPayload { proposals }
}

/// One Proposal substructure for `spec`.
pub(crate) fn proposal(spec: &ProposalSpec, number: u8, spi: &[u8]) -> Proposal {
    let transforms = spec
        .transforms()
        .map(|t| rampart_wire::ike::Transform {
            transform_type: t.transform_type(),
            id: t.id(),
            attributes: t
                .key_bits()
                .map(TransformAttribute::KeyLength)
                .into_iter()
                .collect(),
        })
        .collect();
    Proposal {
        number,
        protocol: spec.protocol,
        spi: spi.to_vec(),
        transforms,
    }
}

/// The proposals of a peer's SA payload, as specs (unknown transforms are left out of the spec,
/// so they can never be chosen).
pub(crate) fn offered(sa: &SaPayload) -> Vec<(&Proposal, ProposalSpec)> {
    sa.proposals
        .iter()
        .map(|p| {
            let transforms = p
                .transforms
                .iter()
                .filter_map(|t| Transform::from_wire(t.transform_type, t.id, t.key_length()));
            (p, ProposalSpec::from_transforms(p.protocol, transforms))
        })
        .collect()
}

/// The responder's choice (RFC 7296 §2.7): our proposals in our order of preference, against
/// the peer's in its order; `usable` rejects a choice we cannot implement. When the peer's KE
/// payload used `peer_ke` and a proposal allows it, that group is preferred, avoiding an
/// INVALID_KE_PAYLOAD round trip (§1.2).
pub(crate) fn choose<'a>(
    ours: &[ProposalSpec],
    sa: &'a SaPayload,
    peer_ke: Option<KeId>,
    usable: impl Fn(&ProposalSpec) -> bool,
) -> Option<(&'a Proposal, ProposalSpec)> {
    let offered = offered(sa);
    for spec in ours {
        let mut spec = spec.clone();
        if let Some(at) = peer_ke.and_then(|ke| spec.key_exchange.iter().position(|&k| k == ke)) {
            let k = spec.key_exchange.remove(at);
            spec.key_exchange.insert(0, k);
        }
        for (wire, theirs) in &offered {
            if let Some(chosen) = spec.select(theirs).filter(|c| usable(c)) {
                return Some((*wire, chosen));
            }
        }
    }
    None
}

/// The peer's offer in keyword form for a diagnosis: `aes256-sha1-modp1024, ...`.
pub(crate) fn describe_offer(sa: &SaPayload, protocol: ProtocolId) -> String {
    let specs: Vec<ProposalSpec> = offered(sa)
        .into_iter()
        .filter(|(p, _)| p.protocol == protocol)
        .map(|(_, s)| s)
        .collect();
    if specs.is_empty() {
        return "nothing".into();
    }
    rampart_crypto::proposal::describe_all(&specs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sa_payload_round_trips_and_choice_prefers_peer_ke() {
        let ours = [ProposalSpec::parse_ike("aes128gcm16-prfsha256-x25519-ecp256").unwrap()];
        let peer = [
            ProposalSpec::parse_ike("aes256-sha1-modp2048").unwrap(),
            ProposalSpec::parse_ike("aes128gcm16-prfsha256-ecp256-x25519").unwrap(),
        ];
        let sa = sa_payload(&peer, &[]);
        assert_eq!(
            offered(&sa).into_iter().map(|(_, s)| s).collect::<Vec<_>>(),
            peer
        );
        let (p, chosen) = choose(&ours, &sa, Some(KeId::ECP_256), |_| true).unwrap();
        assert_eq!(p.number, 2);
        assert_eq!(chosen.key_exchange, vec![KeId::ECP_256]);
        let (_, chosen) = choose(&ours, &sa, None, |_| true).unwrap();
        assert_eq!(chosen.key_exchange, vec![KeId::CURVE25519]);
        assert!(choose(&ours, &sa, None, |_| false).is_none());
        assert_eq!(
            describe_offer(&sa, ProtocolId::IKE),
            "aes256-sha1-modp2048, aes128gcm16-prfsha256-ecp256-x25519"
        );
    }
}
