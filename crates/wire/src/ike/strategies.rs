//! proptest strategies producing valid values of every IKEv2 payload (test-only).

use core::net::{Ipv4Addr, Ipv6Addr};

use proptest::collection::vec;
use proptest::prelude::*;

use super::eap::{EAP_FAILURE, EAP_REQUEST, EAP_RESPONSE, EAP_SUCCESS};
use super::iana::*;
use super::*;

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=max)
}

fn attribute() -> impl Strategy<Value = TransformAttribute> {
    let ty = (0u16..0x8000)
        .prop_filter("not Key Length", |t| *t != 14)
        .prop_map(TransformAttributeType);
    prop_oneof![
        any::<u16>().prop_map(TransformAttribute::KeyLength),
        (ty.clone(), any::<u16>())
            .prop_map(|(attr_type, value)| TransformAttribute::Tv { attr_type, value }),
        (ty, bytes(12)).prop_map(|(attr_type, value)| TransformAttribute::Tlv { attr_type, value }),
    ]
}

fn transform() -> impl Strategy<Value = Transform> {
    (any::<u8>(), any::<u16>(), vec(attribute(), 0..3)).prop_map(|(t, id, attributes)| Transform {
        transform_type: TransformType(t),
        id,
        attributes,
    })
}

fn protocol_and_spi() -> impl Strategy<Value = (ProtocolId, Vec<u8>)> {
    prop_oneof![
        prop_oneof![Just(vec![]), vec(any::<u8>(), 8)].prop_map(|s| (ProtocolId::IKE, s)),
        vec(any::<u8>(), 4).prop_map(|s| (ProtocolId::ESP, s)),
        vec(any::<u8>(), 4).prop_map(|s| (ProtocolId::AH, s)),
        (4u8..=255, bytes(10)).prop_map(|(p, s)| (ProtocolId(p), s)),
    ]
}

pub(crate) fn sa() -> impl Strategy<Value = SaPayload> {
    (
        vec((protocol_and_spi(), vec(transform(), 0..4)), 1..4),
        1u8..=255,
    )
        .prop_map(|(props, single_number)| {
            let n = props.len();
            let proposals = props
                .into_iter()
                .enumerate()
                .map(|(i, ((protocol, spi), transforms))| Proposal {
                    number: if n == 1 { single_number } else { i as u8 + 1 },
                    protocol,
                    spi,
                    transforms,
                })
                .collect();
            SaPayload { proposals }
        })
}

fn id() -> impl Strategy<Value = IdPayload> {
    prop_oneof![
        vec(any::<u8>(), 4).prop_map(|data| IdPayload {
            id_type: IdType::IPV4_ADDR,
            data
        }),
        vec(any::<u8>(), 16).prop_map(|data| IdPayload {
            id_type: IdType::IPV6_ADDR,
            data
        }),
        (
            any::<u8>().prop_filter("not an address type", |t| *t != 1 && *t != 5),
            bytes(40)
        )
            .prop_map(|(t, data)| IdPayload {
                id_type: IdType(t),
                data
            }),
    ]
}

fn ts() -> impl Strategy<Value = TrafficSelector> {
    let v4 = (
        any::<u8>(),
        any::<u16>(),
        any::<u16>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(|(ip_protocol, start_port, end_port, s, e)| {
            TrafficSelector::Ipv4(TsRange {
                ip_protocol,
                start_port,
                end_port,
                start_addr: Ipv4Addr::from(s),
                end_addr: Ipv4Addr::from(e),
            })
        });
    let v6 = (
        any::<u8>(),
        any::<u16>(),
        any::<u16>(),
        any::<u128>(),
        any::<u128>(),
    )
        .prop_map(|(ip_protocol, start_port, end_port, s, e)| {
            TrafficSelector::Ipv6(TsRange {
                ip_protocol,
                start_port,
                end_port,
                start_addr: Ipv6Addr::from(s),
                end_addr: Ipv6Addr::from(e),
            })
        });
    let other = (
        any::<u8>().prop_filter("not 7/8", |t| *t != 7 && *t != 8),
        any::<u8>(),
        bytes(20),
    )
        .prop_map(|(t, ip_protocol, data)| TrafficSelector::Unknown {
            ts_type: TsType(t),
            ip_protocol,
            data,
        });
    prop_oneof![v4, v6, other]
}

fn ts_payload() -> impl Strategy<Value = TsPayload> {
    vec(ts(), 0..4).prop_map(|selectors| TsPayload { selectors })
}

fn delete() -> impl Strategy<Value = DeletePayload> {
    prop_oneof![
        Just(DeletePayload::ike()),
        vec(any::<u32>(), 0..5).prop_map(|s| DeletePayload::child(ProtocolId::ESP, &s)),
        vec(any::<u32>(), 0..5).prop_map(|s| DeletePayload::child(ProtocolId::AH, &s)),
        (4u8..=255, 0u8..6, 0usize..4).prop_flat_map(|(p, size, n)| {
            vec(vec(any::<u8>(), usize::from(size)), n).prop_map(move |spis| DeletePayload {
                protocol: ProtocolId(p),
                spi_size: size,
                spis,
            })
        }),
    ]
}

fn eap() -> impl Strategy<Value = EapPayload> {
    let typed = (
        prop_oneof![Just(EAP_REQUEST), Just(EAP_RESPONSE)],
        any::<u8>(),
        any::<u8>(),
        bytes(30),
    )
        .prop_map(|(code, identifier, t, data)| EapPayload {
            code,
            identifier,
            eap_type: Some(t),
            data,
        });
    let done = (
        prop_oneof![Just(EAP_SUCCESS), Just(EAP_FAILURE)],
        any::<u8>(),
    )
        .prop_map(|(code, identifier)| EapPayload {
            code,
            identifier,
            eap_type: None,
            data: vec![],
        });
    let other =
        (5u8..=255, any::<u8>(), bytes(10)).prop_map(|(code, identifier, data)| EapPayload {
            code,
            identifier,
            eap_type: None,
            data,
        });
    prop_oneof![typed, done, other]
}

fn cp() -> impl Strategy<Value = CpPayload> {
    let attr = (0u16..0x8000, bytes(20)).prop_map(|(t, value)| ConfigAttribute {
        attr_type: ConfigAttributeType(t),
        value,
    });
    (any::<u8>(), vec(attr, 0..4)).prop_map(|(t, attributes)| CpPayload {
        cfg_type: CfgType(t),
        attributes,
    })
}

fn notify() -> impl Strategy<Value = NotifyPayload> {
    (any::<u8>(), bytes(8), any::<u16>(), bytes(40)).prop_map(|(p, spi, t, data)| NotifyPayload {
        protocol: ProtocolId(p),
        spi,
        notify_type: NotifyType(t),
        data,
    })
}

/// Any payload that may appear before the end of a chain (everything but SK/SKF).
pub(crate) fn plain_payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        sa().prop_map(Payload::Sa),
        (any::<u16>(), bytes(64)).prop_map(|(g, data)| Payload::Ke(KePayload {
            group: KeId(g),
            data
        })),
        id().prop_map(Payload::IdI),
        id().prop_map(Payload::IdR),
        (any::<u8>(), bytes(64)).prop_map(|(e, data)| Payload::Cert(CertPayload {
            encoding: CertEncoding(e),
            data
        })),
        (any::<u8>(), bytes(60)).prop_map(|(e, authorities)| Payload::CertReq(CertReqPayload {
            encoding: CertEncoding(e),
            authorities
        })),
        (any::<u8>(), bytes(64)).prop_map(|(m, data)| Payload::Auth(AuthPayload {
            method: AuthMethod(m),
            data
        })),
        vec(any::<u8>(), 16..=256).prop_map(|data| Payload::Nonce(NoncePayload { data })),
        notify().prop_map(Payload::Notify),
        delete().prop_map(Payload::Delete),
        bytes(40).prop_map(|data| Payload::VendorId(VendorIdPayload { data })),
        ts_payload().prop_map(Payload::TsI),
        ts_payload().prop_map(Payload::TsR),
        cp().prop_map(Payload::Cp),
        eap().prop_map(Payload::Eap),
        (prop_oneof![1u8..33, 49u8..53, 54u8..=255], bytes(20)).prop_map(|(t, body)| {
            Payload::Unknown(UnknownPayload {
                payload_type: PayloadType(t),
                body,
            })
        }),
    ]
}

/// An SK or SKF payload (always last in a chain).
pub(crate) fn encrypted_payload() -> impl Strategy<Value = Payload> {
    let first = any::<u8>().prop_map(PayloadType);
    prop_oneof![
        (first.clone(), bytes(80))
            .prop_map(|(first_inner, body)| Payload::Sk(SkPayload { first_inner, body })),
        (first, 1u16..=u16::MAX, bytes(80)).prop_flat_map(|(first_inner, total, body)| {
            (1..=total).prop_map(move |n| {
                Payload::Skf(SkfPayload {
                    first_inner,
                    fragment_number: n,
                    total_fragments: total,
                    body: body.clone(),
                })
            })
        }),
    ]
}

/// A whole message: plain payloads, optionally ending in SK/SKF.
pub(crate) fn message() -> impl Strategy<Value = Message> {
    (
        any::<u64>(),
        any::<u64>(),
        any::<u8>(),
        0u8..8,
        any::<u32>(),
        vec(plain_payload(), 0..6),
        proptest::option::of(encrypted_payload()),
    )
        .prop_map(|(spi_i, spi_r, x, f, message_id, mut payloads, enc)| {
            payloads.extend(enc);
            Message {
                spi_i,
                spi_r,
                exchange_type: ExchangeType(x),
                flags: IkeFlags::from_bits(f << 3),
                message_id,
                payloads,
            }
        })
}
