//! The error and status notifies of RFC 7296 §2.21 / §3.10.1 as another implementation would
//! see them: unprotected answers outside any IKE SA (INVALID_IKE_SPI, INVALID_MAJOR_VERSION,
//! UNSUPPORTED_CRITICAL_PAYLOAD), their rate limit and their silence towards responses;
//! protected answers to requests that verify but do not parse (UNSUPPORTED_CRITICAL_PAYLOAD,
//! INVALID_SYNTAX), built here with the exported keys rather than through the engine's own SK
//! code; and INITIAL_CONTACT (§2.4).

mod cert_pair;

use std::net::SocketAddr;
use std::sync::Arc;

use cert_pair::{A, B, Side, run_pair, secs};
use rampart_crypto::{Aead, AeadAlg, DeterministicRandom, EncrAlg};
use rampart_ike::{DatagramEvent, Endpoint, Event, IkeKeyExport, Instant, RandomSpis, Transmit};
use rampart_policy::pad::Identity;
use rampart_wire::ike::iana::{ExchangeType, NotifyType, PayloadType};
use rampart_wire::ike::{IkeFlags, Message, Payload, parse_payload_chain};

fn addr(ip: &str) -> SocketAddr {
    SocketAddr::new(ip.parse().unwrap(), 500)
}

fn endpoint() -> Endpoint {
    let rng = Arc::new(DeterministicRandom::from_u64(7));
    let spis = Arc::new(RandomSpis::new(rng.clone()));
    Endpoint::new(Arc::new(Side::psk_b().config()), rng, spis).unwrap()
}

/// An IKE header (RFC 7296 §3.1) with `version`, then `body` as the first payload's bytes.
fn raw(spi_r: u64, version: u8, exchange: u8, flags: u8, next: u8, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&0x0102_0304_0506_0708u64.to_be_bytes());
    m.extend_from_slice(&spi_r.to_be_bytes());
    m.extend_from_slice(&[next, version, exchange, flags]);
    m.extend_from_slice(&5u32.to_be_bytes());
    let len = u32::try_from(28 + body.len()).unwrap();
    m.extend_from_slice(&len.to_be_bytes());
    m.extend_from_slice(body);
    m
}

fn answers(ep: &mut Endpoint) -> Vec<Transmit> {
    std::iter::from_fn(|| ep.poll_transmit()).collect()
}

fn only_notify(t: &Transmit) -> (Message, NotifyType, Vec<u8>) {
    let m = Message::parse(&t.payload).unwrap();
    let [Payload::Notify(n)] = m.payloads.as_slice() else {
        panic!("one notify expected: {m:?}");
    };
    let (ty, data) = (n.notify_type, n.data.clone());
    (m, ty, data)
}

/// §2.21.4 / §1.5: a request to an unknown SPI is answered, unprotected, with INVALID_IKE_SPI,
/// SPIs, exchange type and Message ID copied; a response is never answered; at most 10 answers
/// per second go out.
#[test]
fn invalid_ike_spi_for_requests_only_and_rate_limited() {
    let mut ep = endpoint();
    let req = raw(0xdead, 0x20, 37, IkeFlags::INITIATOR.bits(), 0, &[]);
    assert!(
        ep.handle_datagram(Instant::ZERO, addr(B), addr(A), &req)
            .is_none()
    );
    let out = answers(&mut ep);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].remote, addr(A));
    let (m, ty, _) = only_notify(&out[0]);
    assert_eq!(ty, NotifyType::INVALID_IKE_SPI);
    assert_eq!(
        (m.spi_i, m.spi_r, m.message_id),
        (0x0102_0304_0506_0708, 0xdead, 5)
    );
    assert_eq!(m.exchange_type, ExchangeType::INFORMATIONAL);
    assert!(m.flags.response() && !m.flags.initiator());

    let resp = raw(0xdead, 0x20, 37, IkeFlags::RESPONSE.bits(), 0, &[]);
    ep.handle_datagram(Instant::ZERO, addr(B), addr(A), &resp);
    assert!(answers(&mut ep).is_empty(), "responses are never answered");

    let t = Instant::ZERO + std::time::Duration::from_millis(1500);
    for _ in 0..50 {
        ep.handle_datagram(t, addr(B), addr(A), &req);
    }
    assert_eq!(answers(&mut ep).len(), 10, "rate limit");
}

/// §2.5: a request of a higher major version gets INVALID_MAJOR_VERSION in a 2.0 header; an
/// IKEv1 message (major 1) gets nothing.
#[test]
fn invalid_major_version() {
    let mut ep = endpoint();
    let v3 = raw(0, 0x30, 34, IkeFlags::INITIATOR.bits(), 0, &[]);
    ep.handle_datagram(Instant::ZERO, addr(B), addr(A), &v3);
    let out = answers(&mut ep);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].payload[17], 0x20, "answered as version 2.0");
    let (m, ty, _) = only_notify(&out[0]);
    assert_eq!(ty, NotifyType::INVALID_MAJOR_VERSION);
    assert_eq!(m.exchange_type, ExchangeType::IKE_SA_INIT);
    let v1 = raw(0, 0x10, 34, 0, 0, &[]);
    ep.handle_datagram(Instant::ZERO, addr(B), addr(A), &v1);
    assert!(answers(&mut ep).is_empty());
}

/// §2.5: an IKE_SA_INIT request with an unknown payload whose critical bit is set is rejected
/// with UNSUPPORTED_CRITICAL_PAYLOAD naming its type, and no SA is created.
#[test]
fn unsupported_critical_payload_in_ike_sa_init() {
    let mut ep = endpoint();
    // Generic payload header: Next Payload 0, C=1, length 8, then 4 octets.
    let body = [0, 0x80, 0, 8, 1, 2, 3, 4];
    let m = raw(0, 0x20, 34, IkeFlags::INITIATOR.bits(), 200, &body);
    assert!(
        ep.handle_datagram(Instant::ZERO, addr(B), addr(A), &m)
            .is_none()
    );
    let (_, ty, data) = only_notify(&answers(&mut ep)[0]);
    assert_eq!(
        (ty, data),
        (NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD, vec![200])
    );
    assert_eq!(ep.sa_count(), 0);
    // Without the critical bit the payload is skipped (and the request, lacking SA/KE/Ni,
    // refused otherwise): no UNSUPPORTED_CRITICAL_PAYLOAD.
    let body = [0, 0, 0, 8, 1, 2, 3, 4];
    let m = raw(0, 0x20, 34, IkeFlags::INITIATOR.bits(), 200, &body);
    ep.handle_datagram(Instant::ZERO, addr(B), addr(A), &m);
    for t in answers(&mut ep) {
        assert_ne!(only_notify(&t).1, NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD);
    }
}

/// AES-GCM SK payload (RFC 5282) sealed by hand with `key` (SK_ei or SK_er: key then salt):
/// header, SK header as AAD, 8-octet explicit IV, `inner` then a zero Pad Length, 16-octet tag.
fn seal(h: (u64, u64, u32, u8), key: &[u8], first: u8, inner: &[u8]) -> Vec<u8> {
    let (spi_i, spi_r, message_id, flags) = h;
    let aead = Aead::new(AeadAlg::AES_128_GCM_16, key).unwrap();
    let mut plain = inner.to_vec();
    plain.push(0);
    let sk_len = u16::try_from(4 + 8 + plain.len() + 16).unwrap();
    let mut m = Vec::new();
    m.extend_from_slice(&spi_i.to_be_bytes());
    m.extend_from_slice(&spi_r.to_be_bytes());
    m.extend_from_slice(&[46, 0x20, 37, flags]);
    m.extend_from_slice(&message_id.to_be_bytes());
    m.extend_from_slice(
        &u32::try_from(28 + usize::from(sk_len))
            .unwrap()
            .to_be_bytes(),
    );
    m.extend_from_slice(&[first, 0]);
    m.extend_from_slice(&sk_len.to_be_bytes());
    let aad = m.clone();
    let iv = 0x77u64.to_be_bytes();
    m.extend_from_slice(&iv);
    let icv = aead.seal_in_place(&iv, &aad, &mut plain).unwrap();
    m.extend_from_slice(&plain);
    m.extend_from_slice(icv.as_ref());
    m
}

/// Opens the responder's answer with SK_er; returns its inner payloads.
fn open(bytes: &[u8], key: &[u8]) -> Vec<Payload> {
    let aead = Aead::new(AeadAlg::AES_128_GCM_16, key).unwrap();
    let first = PayloadType(bytes[28]);
    let (aad, rest) = bytes.split_at(32);
    let (iv, ct) = rest.split_at(8);
    let mut buf = ct.to_vec();
    let plain = aead.open_in_place(iv, aad, &mut buf).unwrap().to_vec();
    let (&pad, body) = plain.split_last().unwrap();
    parse_payload_chain(first, &body[..body.len() - usize::from(pad)]).unwrap()
}

/// Sends a hand-sealed INFORMATIONAL request (Message ID 2) from A to B's established SA and
/// returns B's decrypted answer.
fn protected_answer(first: u8, inner: &[u8]) -> Vec<Payload> {
    let mut sim = run_pair(&Side::psk_a(), &Side::psk_b());
    let keys: IkeKeyExport = sim.nodes[0]
        .sas
        .values()
        .next()
        .unwrap()
        .dangerous_export_keys()
        .unwrap();
    assert!(matches!(keys.encr, EncrAlg::Aead(_)));
    let m = seal(
        (keys.spi_i, keys.spi_r, 2, IkeFlags::INITIATOR.bits()),
        keys.sk_ei.expose(),
        first,
        inner,
    );
    let now = sim.now;
    let node = &mut sim.nodes[1];
    let Some(DatagramEvent::ForSa(h)) = node.endpoint.handle_datagram(now, addr(B), addr(A), &m)
    else {
        panic!("routed to the SA");
    };
    let before = node.sent.len();
    node.sas
        .get_mut(&h)
        .unwrap()
        .handle_datagram(now, addr(B), addr(A), &m);
    sim.drain(1);
    let sent = &sim.nodes[1].sent;
    assert_eq!(sent.len(), before + 1, "one answer");
    let answer = sent.last().unwrap();
    let hdr = Message::parse(answer).unwrap();
    assert!(hdr.flags.response());
    assert_eq!(hdr.message_id, 2);
    open(answer, keys.sk_er.expose())
}

/// §2.5: inside a verified SK payload, an unknown critical payload is answered with
/// UNSUPPORTED_CRITICAL_PAYLOAD naming its type.
#[test]
fn unsupported_critical_payload_inside_sk() {
    let inner = [0, 0x80, 0, 6, 9, 9];
    let p = protected_answer(201, &inner);
    assert!(
        matches!(&p[..], [Payload::Notify(n)]
            if n.notify_type == NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD && n.data == [201]),
        "{p:?}"
    );
}

/// §3.10.1: a verified request whose payloads do not parse gets INVALID_SYNTAX, encrypted.
#[test]
fn invalid_syntax_inside_sk() {
    // A Notify payload claiming 40 octets where 8 follow.
    let inner = [0, 0, 0, 40, 0, 0, 0, 0];
    let p = protected_answer(41, &inner);
    assert!(
        matches!(&p[..], [Payload::Notify(n)] if n.notify_type == NotifyType::INVALID_SYNTAX),
        "{p:?}"
    );
}

/// §2.4: the first IKE SA with a peer carries INITIAL_CONTACT, reported to the responder's
/// caller with the peer's identity; a second SA while the first lives does not.
#[test]
fn initial_contact_only_for_the_first_sa() {
    let a = Side::psk_a();
    let mut sim = run_pair(&a, &Side::psk_b());
    let contacts = |sim: &cert_pair::Sim| {
        sim.events(1)
            .filter_map(|e| match e {
                Event::InitialContact { peer_id } => Some(peer_id.clone()),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(contacts(&sim), [Identity::Fqdn("gw-a.example".into())]);
    sim.initiate(0, a.connection(), Some("net"));
    sim.run_until(secs(20));
    assert_eq!(sim.established(1).len(), 2);
    assert_eq!(
        contacts(&sim).len(),
        1,
        "no INITIAL_CONTACT for the second SA"
    );
}
